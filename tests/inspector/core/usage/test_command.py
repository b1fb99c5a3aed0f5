"""`allocdir-inspector usage`: the numbers du gives, per allocation, task and
directory; JSON lines; --config; one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ALLOC_IDS, HOSTILE


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "inspector", "usage", *args],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def du(path, *flags: str) -> int:
    out = subprocess.run(["du", "-sx", *flags, str(path)], check=True, capture_output=True,
                         text=True).stdout
    return int(out.split()[0])


def entries(proc) -> list[dict]:
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_json_per_allocation_matches_du(data_dir):
    found = entries(run(str(data_dir), "--json"))
    fs, total = found[0], found[1]
    assert fs["kind"] == "filesystem" and fs["allocs"] == 2
    assert fs["gc_disk_usage_threshold"] == 80 and fs["thresholds"] == "Nomad's defaults"
    root = data_dir / "alloc"
    assert total["apparent_bytes"] == du(root, "--apparent-size", "-B1")
    assert total["allocated_bytes"] == du(root, "-B1")
    assert total["inodes"] == du(root, "--inodes") and total["complete"]
    allocs = [e for e in found if e["kind"] == "alloc"]
    assert sorted(e["rel"] for e in allocs) == sorted(ALLOC_IDS)
    second = next(e for e in allocs if e["rel"] == ALLOC_IDS[1])
    assert second["apparent_bytes"] == du(root / ALLOC_IDS[1], "--apparent-size", "-B1")
    assert second["allocated_bytes"] == du(root / ALLOC_IDS[1], "-B1")
    tasks = {e["rel"] for e in found if e["kind"] == "task"}
    assert f"{ALLOC_IDS[1]}/web" in tasks and f"{ALLOC_IDS[0]}/sidecar" in tasks
    assert any(e["kind"] == "shared" for e in found)
    # sorted by size within the root: the second allocation holds more
    assert [e["rel"] for e in allocs] == [ALLOC_IDS[1], ALLOC_IDS[0]]


def test_text_output_escapes_what_a_task_named(data_dir):
    proc = run(str(data_dir / "alloc" / ALLOC_IDS[0]), "--depth", "3", "--top", "50")
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "evil\\x1b]0;pwned\\x07name" in proc.stdout
    assert proc.stdout.startswith(f"alloc dir {data_dir / 'alloc' / ALLOC_IDS[0]}:")
    assert "file system: disk" in proc.stdout and "(Nomad's defaults)" in proc.stdout


def test_json_escapes_too(data_dir):
    proc = run(str(data_dir / "alloc" / ALLOC_IDS[0]), "--json", "--top", "50")
    assert "\x1b" not in proc.stdout
    files = [e["rel"] for e in entries(proc) if e["kind"] == "file"]
    assert f"web/local/{HOSTILE}" in files


def test_config_gives_the_path_and_the_thresholds(data_dir, tmp_path):
    conf = tmp_path / "nomad.d"
    conf.mkdir()
    (conf / "base.hcl").write_text(f'data_dir = "{data_dir}"\n')
    (conf / "client.hcl").write_text("client {\n  gc_max_allocs = 1\n"
                                     "  gc_disk_usage_threshold = 0.5\n}\n")
    found = entries(run("--config", str(conf), "--json"))
    fs = found[0]
    assert fs["path"] == str(data_dir / "alloc")
    assert fs["gc_max_allocs"] == 1 and "allocs" in fs["over"] and "disk" in fs["over"]
    assert fs["thresholds"] == "from base.hcl, client.hcl"


def test_a_bad_config_file_is_one_line_and_the_command_still_runs(data_dir, tmp_path):
    conf = tmp_path / "bad.hcl"
    conf.write_text("client {\n  gc_max_allocs = \n")
    proc = run(str(data_dir), "--config", str(conf), "--json")
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "HCL syntax error at line" in lines[0]
    assert entries(proc)[0]["thresholds"] == "Nomad's defaults"


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    for args, needle in (((str(tmp_path / "missing"),), "no such file"),
                         ((), "no PATH"),
                         (("--config", str(tmp_path / "none.hcl")), "no such file"),
                         ((str(tmp_path), "--top", "0"), "at least 1")):
        proc = run(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.splitlines()) == 1 and needle in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_a_symlink_given_as_path_is_one_line(data_dir, tmp_path):
    link = tmp_path / "link-to-alloc"
    link.symlink_to(data_dir / "alloc" / ALLOC_IDS[0])
    proc = run(str(link))
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1
    assert "symbolic link" in proc.stderr and "Traceback" not in proc.stderr
