"""Keeping allocations past garbage collection (``inspector.core.keep``):
logs kept whole across appends, truncations and rotations, local files,
allocations collected mid-copy, restarts, the budget, and the layout a
reader opens."""

from __future__ import annotations

import os
import random
import stat
import threading

import pytest

from allocdir import AllocDir, PathKind, recognize
from inspector.core.keep import KeepDirError, KeepStore, kept_log_name, kept_log_order, parse_size
from inspector.core.keep import logs as keep_logs
from inspector.core.keep.journal import Journal
from tests.keeping import (
    ALLOC, OTHER, RunningKeeper, claims_hold, kept_set, make_alloc, records, wait_for,
)


@pytest.fixture
def root(tmp_path):
    path = tmp_path / "data" / "alloc"
    path.mkdir(parents=True)
    return path


@pytest.fixture
def keep(tmp_path):
    return tmp_path / "kept"


def _logs(alloc) -> str:
    return os.path.join(alloc.alloc_dir, "alloc", "logs")


def _append(path: str, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def _kept_size(keep, name: str, alloc_id: str = ALLOC) -> int:
    try:
        return os.path.getsize(keep / alloc_id / "alloc" / "logs" / name)
    except FileNotFoundError:
        return -1


def _caught_up(keep, alloc, name: str) -> bool:
    return _kept_size(keep, name) == os.path.getsize(os.path.join(_logs(alloc), name))


# ------------------------------------------------------------------ logs


def test_appends_truncations_and_rotations_are_kept_every_byte_once_in_order(root, keep):
    alloc = make_alloc(root)
    logs = _logs(alloc)
    rng = random.Random(7)
    written = []

    def write(name: str, count: int) -> None:
        for _ in range(count):
            line = b"%06d %s\n" % (len(written), rng.randbytes(rng.randrange(1, 300)).hex().encode())
            written.append(line)
            _append(os.path.join(logs, name), line)

    def all_kept() -> bool:
        return kept_set(keep, ALLOC, "web.stdout") == b"".join(written)

    write("web.stdout.0", 50)
    with RunningKeeper(root, keep) as running:
        for step in range(6):
            name = f"web.stdout.{step // 2}"
            write(name, 200)
            wait_for(all_kept, what="every byte so far kept")
            if step % 2 == 0:  # truncated (as `> file` does), then written again
                os.truncate(os.path.join(logs, name), 0)
                write(name, 30)
            else:  # rotated: the next member appears, the oldest goes (max_files=2)
                write(f"web.stdout.{step // 2 + 1}", 10)
                if step // 2 >= 1:
                    os.unlink(os.path.join(logs, f"web.stdout.{step // 2 - 1}"))
        last = "web.stdout.3"
        wait_for(all_kept, what="every byte kept")
        running.stop()
    assert kept_set(keep, ALLOC, "web.stdout") == b"".join(written)
    assert claims_hold(keep, ALLOC) == []
    recs = records(keep, ALLOC)
    assert recs["log:web.stdout.0.1"]["why"] in ("truncated", "rewritten")
    assert recs["log:web.stdout.0"]["sealed"] is not None
    assert recs["log:web.stdout.0.1"]["source_gone"] is not None  # rotated away
    assert recs["log:web.stdout.3"]["bytes"] == os.path.getsize(os.path.join(logs, last))
    assert sum(r["bytes"] for k, r in recs.items() if k.startswith("log:")) == \
        len(b"".join(written))


def test_a_member_removed_right_after_a_write_keeps_its_last_bytes(root, keep):
    alloc = make_alloc(root)
    path = os.path.join(_logs(alloc), "web.stderr.0")
    _append(path, b"first\n")
    with RunningKeeper(root, keep, spacing=0.5) as running:
        wait_for(lambda: _kept_size(keep, "web.stderr.0") == 6, what="the first line kept")
        _append(path, b"written just before rotation took it away\n")
        os.unlink(path)  # within the keeper's pause between looks
        wait_for(lambda: records(keep, ALLOC).get("log:web.stderr.0", {}).get("source_gone"),
                 what="the member marked gone")
        running.stop()
    assert (keep / ALLOC / "alloc/logs/web.stderr.0").read_bytes() == \
        b"first\nwritten just before rotation took it away\n"


def test_a_member_replaced_by_another_file_starts_a_generation(root, keep):
    alloc = make_alloc(root)
    path = os.path.join(_logs(alloc), "web.stdout.0")
    _append(path, b"old file\n")
    with RunningKeeper(root, keep) as running:
        wait_for(lambda: _kept_size(keep, "web.stdout.0") == 9)
        os.rename(path, path + ".moved")
        _append(path, b"new file with the same name and a longer line\n")
        wait_for(lambda: _kept_size(keep, "web.stdout.0.1") == 46, what="the new file kept")
        running.stop()
    assert (keep / ALLOC / "alloc/logs/web.stdout.0").read_bytes() == b"old file\n"
    assert records(keep, ALLOC)["log:web.stdout.0.1"]["why"] == "replaced"


def test_sparse_logs_stay_sparse(root, keep):
    alloc = make_alloc(root)
    path = os.path.join(_logs(alloc), "web.stdout.0")
    with open(path, "wb") as f:
        f.write(b"start\n")
        f.truncate(1 << 30)  # a task's 1 GiB hole
        f.seek(1 << 30)
        f.write(b"end\n")
    size = os.path.getsize(path)
    with RunningKeeper(root, keep) as running:
        wait_for(lambda: _kept_size(keep, "web.stdout.0") == size, timeout=30)
        running.stop()
    kept = keep / ALLOC / "alloc/logs/web.stdout.0"
    assert os.stat(kept).st_blocks * 512 < 1 << 20
    with open(kept, "rb") as f:
        assert f.read(6) == b"start\n"
        f.seek(1 << 30)
        assert f.read() == b"end\n"


def test_the_allocation_collected_mid_copy_keeps_everything_already_written(
        root, keep, monkeypatch):
    alloc = make_alloc(root)
    path = os.path.join(_logs(alloc), "web.stdout.0")
    content = random.Random(3).randbytes(48 << 20)
    with open(path, "wb") as f:
        f.write(content)
    copied = []
    real_copy = keep_logs.copy_range

    def copy_then_collect(*args, **kwargs):
        done = real_copy(*args, **kwargs)
        copied.append(done)
        if len(copied) == 1:
            alloc.destroy()  # Nomad's GC, between two slices of the copy
        return done

    monkeypatch.setattr(keep_logs, "copy_range", copy_then_collect)
    monkeypatch.setattr("inspector.core.keep.keeper.SLICE_BYTES", 4 << 20)
    with RunningKeeper(root, keep) as running:
        gone = running.wait_event("gone", ALLOC, timeout=30)
        running.stop()
    assert not os.path.exists(alloc.alloc_dir)
    assert len(copied) > 1
    assert (keep / ALLOC / "alloc/logs/web.stdout.0").read_bytes() == content
    summary = (keep / ALLOC / ".keep/alloc.json").read_text()
    assert '"gone": null' not in summary
    assert "last seen" in gone.text
    assert records(keep, ALLOC)["log:web.stdout.0"]["source_gone"] is not None


# ------------------------------------------------------------------ local files


def test_local_files_are_kept_whole_when_they_change_and_specials_are_notes(root, keep):
    alloc = make_alloc(root)
    local = os.path.join(alloc.alloc_dir, "web", "local")
    os.makedirs(os.path.join(local, "conf.d"))
    with open(os.path.join(local, "conf.d", "app.hcl"), "w") as f:
        f.write("port = 80\n")
    os.symlink("/etc/shadow", os.path.join(local, "link"))
    os.mkfifo(os.path.join(local, "pipe"))
    kept = keep / ALLOC / "web" / "local"
    with RunningKeeper(root, keep, include=frozenset({"local"})) as running:
        wait_for(lambda: (kept / "conf.d" / "app.hcl").is_file(), what="the template kept")
        with open(os.path.join(local, "conf.d", "app.hcl.new"), "w") as f:
            f.write("port = 8080\n")
        os.rename(os.path.join(local, "conf.d", "app.hcl.new"),
                  os.path.join(local, "conf.d", "app.hcl"))  # as consul-template renders
        wait_for(lambda: (kept / "conf.d" / "app.hcl").read_text() == "port = 8080\n",
                 what="the new rendering kept")
        os.unlink(os.path.join(local, "link"))
        wait_for(lambda: records(keep, ALLOC).get("file:web/local/link", {}).get("source_gone"),
                 what="the link marked gone")
        running.stop()
    recs = records(keep, ALLOC)
    assert recs["file:web/local/link"]["kind"] == "symlink"
    assert recs["file:web/local/link"]["target"] == "/etc/shadow"
    assert recs["file:web/local/pipe"]["kind"] == "fifo"
    assert recs["file:web/local/conf.d/app.hcl"]["size"] == 12
    assert not (kept / "link").exists() and not os.path.lexists(kept / "pipe")
    assert not os.path.exists(keep / ALLOC / "alloc" / "logs" / "web.stdout.0")  # logs not asked
    assert sorted(os.listdir(keep / ALLOC / ".keep" / "tmp")) == []


def test_a_file_written_deep_in_local_is_kept_on_its_event(root, keep):
    alloc = make_alloc(root)
    deep = os.path.join(alloc.alloc_dir, "web", "local", "config", "nginx")
    os.makedirs(deep)
    kept = keep / ALLOC / "web" / "local" / "config" / "nginx" / "site.conf"
    # No periodic scan within the test: only the directory's own event can bring it.
    with RunningKeeper(root, keep, tree_interval=3600, safety_interval=3600) as running:
        wait_for(lambda: (keep / ALLOC / "web" / "local" / "config" / "nginx").is_dir())
        with open(os.path.join(deep, "site.conf"), "w") as f:
            f.write("listen 80;\n")
        wait_for(lambda: kept.exists() and kept.read_text() == "listen 80;\n", timeout=5)
        running.stop()


def test_data_is_kept_only_when_asked(root, keep):
    alloc = make_alloc(root)
    with open(os.path.join(alloc.alloc_dir, "alloc", "data", "db"), "wb") as f:
        f.write(b"rows")
    with RunningKeeper(root, keep) as running:
        wait_for(lambda: (keep / ALLOC / ".keep" / "alloc.json").exists())
        running.stop()
    assert not (keep / ALLOC / "alloc" / "data" / "db").exists()
    with RunningKeeper(root, keep, include=frozenset({"logs", "data"})) as running:
        wait_for(lambda: (keep / ALLOC / "alloc" / "data" / "db").exists())
        running.stop()
    assert (keep / ALLOC / "alloc" / "data" / "db").read_bytes() == b"rows"


# ------------------------------------------------------------------ restarts


def _kept_once(root, keep, content: bytes):
    """An allocation whose ``web.stdout.0`` holds ``content``, kept by a
    keeper now stopped; returns it and the log's path."""
    alloc = make_alloc(root)
    path = os.path.join(_logs(alloc), "web.stdout.0")
    _append(path, content)
    with RunningKeeper(root, keep) as running:
        wait_for(lambda: _caught_up(keep, alloc, "web.stdout.0"), what="the log kept")
        running.stop()
    return alloc, path


def test_a_restart_resumes_without_copying_again(root, keep):
    alloc, path = _kept_once(root, keep, b"a" * 100_000)
    assert records(keep, ALLOC)["log:web.stdout.0"]["bytes"] == 100_000
    _append(path, b"b" * 5_000)  # while nothing keeps it
    with RunningKeeper(root, keep) as running:
        assert running.wait_event("new", ALLOC).text.endswith("(taking up its earlier copy)")
        wait_for(lambda: _caught_up(keep, alloc, "web.stdout.0"))
        running.stop()
    assert running.keeper.stats.log_bytes == 5_000
    assert (keep / ALLOC / "alloc/logs/web.stdout.0").read_bytes() == b"a" * 100_000 + b"b" * 5_000


def test_a_truncation_while_stopped_starts_a_generation_at_restart(root, keep):
    alloc, path = _kept_once(root, keep, b"before the restart\n")
    with open(path, "wb") as f:
        f.write(b"rewritten while nothing was keeping, and longer\n")
    with RunningKeeper(root, keep) as running:
        wait_for(lambda: _kept_size(keep, "web.stdout.0.1") > 0)
        running.stop()
    assert kept_set(keep, ALLOC, "web.stdout") == (
        b"before the restart\nrewritten while nothing was keeping, and longer\n")


@pytest.mark.parametrize("extra, kept_after", [
    (b"tail", b"head-tail"),  # the source's own bytes: counted, not copied again
    (b"XXXX", b"head-tail"),  # not the source's: cut off and copied again
])
def test_bytes_a_killed_run_wrote_past_its_records(root, keep, extra, kept_after):
    alloc, path = _kept_once(root, keep, b"head-")
    _append(path, b"tail")
    _append(str(keep / ALLOC / "alloc/logs/web.stdout.0"), extra)  # written, never recorded
    with RunningKeeper(root, keep) as running:
        wait_for(lambda: records(keep, ALLOC)["log:web.stdout.0"]["bytes"] == 9)
        running.stop()
    assert (keep / ALLOC / "alloc/logs/web.stdout.0").read_bytes() == kept_after
    assert running.keeper.stats.log_bytes == (0 if extra == b"tail" else 4)


def test_unreadable_records_are_set_aside_and_nothing_is_copied_again(root, keep):
    alloc, _ = _kept_once(root, keep, b"kept before\n")
    (keep / ALLOC / ".keep" / "state.json").write_text("{not json")
    _append(os.path.join(_logs(alloc), "web.stdout.0"), b"and after\n")
    with RunningKeeper(root, keep) as running:
        note = wait_for(lambda: [e for e in running.kinds("note") if "set aside" in e.text])
        wait_for(lambda: _caught_up(keep, alloc, "web.stdout.0"))
        running.stop()
    assert "state.json: not valid JSON" in note[0].text
    assert (keep / ALLOC / "alloc/logs/web.stdout.0").read_bytes() == b"kept before\nand after\n"
    assert running.keeper.stats.log_bytes == len(b"and after\n")
    assert [p.name for p in (keep / ALLOC).iterdir() if p.name.startswith(".keep.unreadable")]


def test_gone_while_stopped_is_marked_at_restart(root, keep):
    alloc, _ = _kept_once(root, keep, b"x\n")
    alloc.destroy()
    with RunningKeeper(root, keep) as running:
        running.wait_event("gone", ALLOC)
        running.stop()
    assert (keep / ALLOC / "alloc/logs/web.stdout.0").read_bytes() == b"x\n"


# ------------------------------------------------------------------ budget


def _usage(top) -> int:
    """Bytes on disk below ``top`` (entries the keeper removes meanwhile not counted)."""
    total = 0
    for dirpath, dirnames, filenames in os.walk(top):
        for name in [""] + filenames + dirnames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except FileNotFoundError:
                continue
    return total


def test_the_budget_removes_gone_copies_first_then_the_least_recently_written(root, keep):
    third = "3c3c3c3c-0000-1111-2222-333344445555"
    old = make_alloc(root, OTHER)
    quiet = make_alloc(root, third)
    busy = make_alloc(root, ALLOC)
    for alloc in (old, quiet):
        _append(os.path.join(_logs(alloc), "web.stdout.0"), os.urandom(600_000))
    with RunningKeeper(root, keep) as running:
        for alloc in (old, quiet):
            wait_for(lambda alloc=alloc: _kept_size(keep, "web.stdout.0", alloc.alloc_id)
                     == 600_000)
        running.stop()
    old.destroy()  # collected while nothing was keeping: its copy is the oldest
    budget = _usage(keep) + 700_000
    peak = [0]
    done = threading.Event()

    def sample() -> None:  # the keep directory's size, all along
        while not done.wait(0.005):
            peak[0] = max(peak[0], _usage(keep))

    sampler = threading.Thread(target=sample, daemon=True)
    path = os.path.join(_logs(busy), "web.stdout.0")
    with RunningKeeper(root, keep, budget=budget) as running:
        sampler.start()
        for _ in range(12):
            _append(path, os.urandom(200_000))
            wait_for(lambda: _caught_up(keep, busy, "web.stdout.0") or running.kinds("note"))
        running.stop()
    done.set()
    sampler.join()
    evicted = [e.alloc_id for e in running.kinds("evicted")]
    assert evicted[:2] == [OTHER, third]
    assert peak[0] <= budget
    assert _usage(keep) <= budget
    assert not (keep / OTHER).exists()
    # The quiet allocation, still running, is kept again from the eviction on.
    assert (keep / third / ".keep").is_dir()


def test_a_copy_alone_over_the_budget_pauses_with_a_note(root, keep):
    alloc = make_alloc(root)
    _append(os.path.join(_logs(alloc), "web.stdout.0"), os.urandom(4 << 20))
    with RunningKeeper(root, keep, budget=2 << 20) as running:
        note = wait_for(lambda: [e for e in running.kinds("note") if "budget" in e.text])
        running.stop()
    assert "copying paused" in note[0].text
    assert _usage(keep) <= 2 << 20
    assert claims_hold(keep, ALLOC) == []


# ------------------------------------------------------------------ layout


def test_the_keep_directory_opens_as_a_root_of_allocations(root, keep):
    alloc = make_alloc(root)
    _append(os.path.join(_logs(alloc), "web.stdout.0"), b"x\n")
    with open(os.path.join(alloc.alloc_dir, "web", "local", "run.sh"), "w") as f:
        f.write("exec app\n")
    with RunningKeeper(root, keep) as running:
        wait_for(lambda: (keep / ALLOC / "web" / "local" / "run.sh").exists())
        running.stop()
    assert recognize(keep).kind is PathKind.CLIENT_ROOT
    kept = AllocDir.discover(keep / ALLOC)
    assert sorted(kept.task_dirs) == ["web"]  # .keep is not a task
    assert kept.read_at("web/local/run.sh", 0).read() == b"exec app\n"
    assert stat.S_IMODE(os.stat(keep).st_mode) == 0o700
    manifest = (keep / ".allocdir-keep").read_text()
    assert '"format": "allocdir-keep"' in manifest and '"status": "stopped"' in manifest


def test_kept_log_names_sort_in_the_order_bytes_were_written():
    names = ["web.stdout.1", "web.stdout.0.2", "web.stdout.10", "web.stdout.0", "web.stdout.0.1"]
    assert sorted(names, key=kept_log_order) == [
        "web.stdout.0", "web.stdout.0.1", "web.stdout.0.2", "web.stdout.1", "web.stdout.10"]
    assert kept_log_name("web.stdout.0", 0) == "web.stdout.0"
    assert kept_log_name("web.stdout.0", 3) == "web.stdout.0.3"
    assert kept_log_order("web.stdout.²") is None
    assert kept_log_order("notes.txt") is None


@pytest.mark.parametrize("text, size", [("10G", 10 << 30), ("512M", 512 << 20),
                                        ("1.5GiB", 3 << 29), ("4096", 4096), ("2k", 2048)])
def test_budget_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "ten", "0", "-1G", "5X", "1iB"])
def test_budget_sizes_refused(text):
    with pytest.raises(ValueError):
        parse_size(text)


# ------------------------------------------------------------------ the store and records


def test_a_keep_directory_is_taken_only_if_new_empty_or_a_keep_directory(tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(KeepDirError, match="not empty and not a keep directory"):
        KeepStore.open(str(busy))
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    with pytest.raises(KeepDirError, match="symbolic link"):
        KeepStore.open(str(link))
    first = KeepStore.open(str(tmp_path / "new"))
    try:
        with pytest.raises(KeepDirError, match="another keep process"):
            KeepStore.open(str(tmp_path / "new"))
    finally:
        first.close()


def test_records_survive_a_cut_last_line_and_compaction(tmp_path, monkeypatch):
    state = tmp_path / "state"
    state.mkdir()
    journal = Journal(os.open(state, os.O_RDONLY | os.O_DIRECTORY))
    journal.load()
    monkeypatch.setattr("inspector.core.keep.journal.COMPACT_MIN", 2000)
    for i in range(100):
        journal.put({"k": f"log:{i % 7}", "bytes": i})
        journal.flush()
    journal.close()
    assert (state / "state.json").exists()  # compacted at least once
    journals = [n for n in os.listdir(state) if n.startswith("journal.")]
    assert len(journals) == 1
    with open(state / journals[0], "ab") as f:
        f.write(b'{"k":"log:0","bytes":12')  # a record cut by a crash
    again = Journal(os.open(state, os.O_RDONLY | os.O_DIRECTORY))
    problems = again.load()
    assert problems and "incomplete record" in problems[0]
    assert {k: r["bytes"] for k, r in again.items()} == {
        f"log:{k}": max(i for i in range(100) if i % 7 == k) for k in range(7)}
    again.put({"k": "log:0", "bytes": 1000})
    again.flush()
    again.close()
    third = Journal(os.open(state, os.O_RDONLY | os.O_DIRECTORY))
    assert third.load() == []
    assert third.get("log:0")["bytes"] == 1000
    third.close()


def test_event_lines_show_control_characters_as_escapes(root, keep):
    alloc = make_alloc(root)
    os.mkfifo(os.path.join(_logs(alloc), "we\x1b]0;owned\x07b.stdout.0"))
    with RunningKeeper(root, keep) as running:
        wait_for(lambda: records(keep, ALLOC).get("file:alloc/logs/we\x1b]0;owned\x07b.stdout.0"))
        running.stop()
    lines = [e.line() for e in running.events]
    assert all("\x1b" not in line and "\x07" not in line for line in lines)
    assert any("we\\x1b]0;owned\\x07b.stdout.0: fifo" in line for line in lines)


def test_inotify_unavailable_falls_back_to_polling(root, keep, monkeypatch):
    from inspector.core.keep import inotify

    class NoInotify(inotify.DirWatches):
        def __init__(self) -> None:
            super().__init__()
            self.available = False
            self.unavailable_reason = "Too many open files"

    monkeypatch.setattr("inspector.core.keep.keeper.DirWatches", NoInotify)
    alloc = make_alloc(root)
    with RunningKeeper(root, keep) as running:
        assert any("polling" in e.text for e in running.kinds("note"))
        _append(os.path.join(_logs(alloc), "web.stdout.0"), b"polled\n")
        wait_for(lambda: _kept_size(keep, "web.stdout.0") == 7, what="kept by polling")
        running.stop()


def test_keeping_imports_no_front_end():
    import subprocess
    import sys

    code = ("import sys, inspector.core.keep, inspector.commands.keep\n"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True).stdout.split())
    assert not {"textual", "ipywidgets", "pandas", "matplotlib"} & loaded


def test_members_beyond_the_cap_are_not_kept_and_a_note_says_so(root, keep, monkeypatch):
    monkeypatch.setattr(keep_logs, "MAX_KEPT_FILES", 10)
    alloc = make_alloc(root)
    for n in range(30):
        _append(os.path.join(_logs(alloc), f"web.stdout.{n}"), b"%d\n" % n)
    with RunningKeeper(root, keep) as running:
        note = wait_for(lambda: [e for e in running.kinds("note") if "more than 10" in e.text])
        running.stop()
    assert "new ones are not kept" in note[0].text
    assert len(os.listdir(keep / ALLOC / "alloc" / "logs")) <= 10


def _keep_as_nobody(base: str) -> dict:
    """Run in a child as nobody: a client root of its own, kept by it."""
    from pathlib import Path

    from tests.keeping import RunningKeeper as Keeping

    root = Path(base) / "alloc"
    root.mkdir()
    alloc = make_alloc(root)
    logs = os.path.join(alloc.alloc_dir, "alloc", "logs")
    secret = os.path.join(alloc.alloc_dir, "web", "secrets", "token")
    with open(secret, "wb") as f:
        f.write(b"SECRET\n")
    os.link(secret, os.path.join(logs, "web.stdout.1"))  # a plain secrets dir, as without root
    _append(os.path.join(logs, "web.stdout.0"), b"kept without root\n")
    keep = Path(base) / "kept"
    with Keeping(root, keep) as running:
        wait_for(lambda: _kept_size(keep, "web.stdout.0") == 18)
        wait_for(lambda: records(keep, ALLOC).get("file:alloc/logs/web.stdout.1"))
        running.stop()
    return {"kept": (keep / ALLOC / "alloc/logs/web.stdout.0").read_bytes().decode(),
            "secret_kind": records(keep, ALLOC)["file:alloc/logs/web.stdout.1"]["kind"],
            "secret_copied": (keep / ALLOC / "alloc/logs/web.stdout.1").exists(),
            "mode": oct(os.stat(keep).st_mode & 0o777)}


@pytest.mark.skipif(os.geteuid() != 0, reason="drops to nobody")
def test_keeping_works_without_root():
    from tests.hostile import NOBODY, run_as_nobody, work_dir

    with work_dir() as top:  # a directory every user can reach
        base = top / "nobody"
        base.mkdir()
        os.chown(base, NOBODY, NOBODY)  # its own: a keep directory is refused where others write
        found = run_as_nobody(lambda: _keep_as_nobody(str(base)))
    assert found == {"kept": "kept without root\n", "secret_kind": "secret",
                     "secret_copied": False, "mode": "0o700"}
