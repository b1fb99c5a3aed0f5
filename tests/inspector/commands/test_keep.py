"""``allocdir-inspector keep``: the real command. Bad input is one line on
stderr and exit status 2; DIR is refused where a task could steer the
writes; SIGTERM and SIGINT end it with exit status 0 and a consistent
directory; events are one escaped line each."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.keeping import ALLOC, OTHER, claims_hold, make_alloc, wait_for

PROG = "allocdir-inspector keep: "


def run_keep(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "inspector", "keep", *args],
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(PROG), lines[0]
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0]
    assert proc.stdout == ""


@pytest.fixture
def root(tmp_path):
    path = tmp_path / "data" / "alloc"
    path.mkdir(parents=True)
    make_alloc(path)
    return path


def start_keep(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "inspector", "keep", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def read_until(proc: subprocess.Popen, needle: str) -> list[str]:
    """The lines of ``proc``'s stdout up to the first holding ``needle``."""
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} never came: {lines} {proc.stderr.read()}")


def test_help_names_every_option():
    proc = run_keep("--help")
    assert proc.returncode == 0
    for option in ("ROOT", "--to", "--budget", "--include", "--alloc", "--quiet", "--verbose"):
        assert option in proc.stdout


@pytest.mark.parametrize("args, needles", [
    ((), ("--to",)),
    (("ROOT",), ("--to",)),
    (("ROOT", "--to", "KEEP", "--budget", "lots"), ("--budget", "not a size")),
    (("ROOT", "--to", "KEEP", "--include", "logs,secrets"), ("--include", "secrets")),
    (("ROOT", "--to", "KEEP", "--alloc", "../x"), ("--alloc",)),
    (("ROOT", "--to", "KEEP", "--quiet", "--verbose"), ("--verbose",)),
])
def test_bad_options(root, tmp_path, args, needles):
    args = [str(root) if a == "ROOT" else str(tmp_path / "kept") if a == "KEEP" else a
            for a in args]
    assert_one_line_error(run_keep(*args), *needles)
    assert not (tmp_path / "kept").exists()


def test_a_root_that_is_not_one(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    assert_one_line_error(run_keep(str(tmp_path), "--to", str(tmp_path / "k")), "not an alloc dir")
    assert_one_line_error(run_keep(str(tmp_path / "nope"), "--to", str(tmp_path / "k")),
                          "no such file or directory")


def test_dir_inside_the_client_root_or_an_alloc_dir_is_refused(root, tmp_path):
    alloc = root / ALLOC
    elsewhere = tmp_path / "other" / "alloc"
    elsewhere.mkdir(parents=True)
    make_alloc(elsewhere, OTHER)
    for target, needle in [(root / "kept", "is inside"),
                           (alloc / "web" / "local" / "kept", "is inside"),
                           (root, "is inside"),
                           (root.parent.parent, "holds"),
                           (elsewhere / OTHER / "alloc" / "data" / "kept", "alloc dir")]:
        assert_one_line_error(run_keep(str(root), "--to", str(target)), needle)
    # A task that renamed its alloc/data and alloc/tmp away still has a task dir.
    hidden = elsewhere / OTHER / "alloc"
    os.rename(hidden / "data", hidden / "d")
    os.rename(hidden / "tmp", hidden / "t")
    assert_one_line_error(run_keep(str(root), "--to", str(elsewhere / OTHER / "web" / "local" /
                                                        "kept")), "inside the task dir")
    assert not (root / "kept").exists()
    assert not (alloc / "web" / "local" / "kept").exists()
    # The data_dir as ROOT protects the same places.
    assert_one_line_error(run_keep(str(root.parent), "--to", str(root / "kept")), "is inside")


def test_dir_that_is_not_a_keep_directory_is_refused(root, tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("operator data")
    assert_one_line_error(run_keep(str(root), "--to", str(busy)), "not a keep directory")
    assert (busy / "mine.txt").read_text() == "operator data"
    (tmp_path / "file").write_text("x")
    assert_one_line_error(run_keep(str(root), "--to", str(tmp_path / "file")), "not a directory")


def test_dir_where_other_users_can_write_on_the_way_is_refused(root, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)  # anyone could swap what is in it
    assert_one_line_error(run_keep(str(root), "--to", str(shared / "kept")),
                          "can be written by other users")
    assert not (shared / "kept").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_dir_of_another_user_is_refused(root, tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)
    assert_one_line_error(run_keep(str(root), "--to", str(theirs)), "owned by uid 65534")


def test_sigterm_and_sigint_stop_it_cleanly_and_a_second_keeper_is_refused(root, tmp_path):
    keep = tmp_path / "kept"
    log = root / ALLOC / "alloc" / "logs" / "web.stdout.0"
    log.write_bytes(b"line one\n")
    for signum in (signal.SIGTERM, signal.SIGINT):
        proc = start_keep(str(root), "--to", str(keep))
        try:
            started = read_until(proc, "started:")
            assert any(f"new: {ALLOC}: tasks web" in line for line in started)
            assert_one_line_error(run_keep(str(root), "--to", str(keep)),
                                  "another keep process")
            wait_for(lambda: (keep / ALLOC / "alloc/logs/web.stdout.0").exists() and
                     (keep / ALLOC / "alloc/logs/web.stdout.0").read_bytes() == log.read_bytes())
            with open(log, "ab") as f:
                f.write(b"line two\n")
            proc.send_signal(signum)
            assert proc.wait(30) == 0, proc.stderr.read()
        finally:
            proc.kill()
            proc.wait()
        assert "stopped:" in proc.stdout.read()
        manifest = json.loads((keep / ".allocdir-keep").read_text())
        assert manifest["status"] == "stopped"
        assert claims_hold(keep, ALLOC) == []
    assert os.stat(keep).st_mode & 0o777 == 0o700


def test_alloc_prefixes_choose_what_is_kept(root, tmp_path):
    make_alloc(root, OTHER)
    keep = tmp_path / "kept"
    proc = start_keep(str(root), "--to", str(keep), "--alloc", OTHER[:6])
    try:
        lines = read_until(proc, "started:")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        proc.kill()
        proc.wait()
    assert [line for line in lines if "new:" in line] == [
        line for line in lines if f"new: {OTHER}" in line]
    assert sorted(p.name for p in keep.iterdir() if not p.name.startswith(".")) == [OTHER]


def test_one_alloc_dir_as_root_keeps_that_allocation(root, tmp_path):
    make_alloc(root, OTHER)
    keep = tmp_path / "kept"
    proc = start_keep(str(root / ALLOC), "--to", str(keep))
    try:
        read_until(proc, "started:")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        proc.kill()
        proc.wait()
    assert sorted(p.name for p in keep.iterdir() if not p.name.startswith(".")) == [ALLOC]


def test_names_in_event_lines_are_escaped(root, tmp_path):
    os.mkfifo(root / ALLOC / "alloc" / "logs" / "we\x1b[2Jb.stdout.0")
    keep = tmp_path / "kept"
    proc = start_keep(str(root), "--to", str(keep), "--verbose")
    try:
        out = "".join(read_until(proc, "started:"))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        out += proc.stdout.read() + proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
    assert "\x1b" not in out
    assert "we\\x1b[2Jb.stdout.0: fifo, not copied" in out
