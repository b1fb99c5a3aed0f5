"""Who uses an allocation: real child processes whose cwd, root (chroot)
and open files are inside or outside it, read from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from inspector.core.usage.liveness import check_liveness
from inspector.core.usage.procs import scan_processes
from tests.hostile import run_as_nobody

from .conftest import ALLOC_IDS

HOSTILE_ARG = "\x1b]0;pwned\x07\x1b[2J"


def _sleeper(cwd, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()", *extra],
                            cwd=cwd, stdin=subprocess.PIPE)


def _holder(path) -> subprocess.Popen:
    """A process holding ``path`` open (its cwd elsewhere)."""
    return subprocess.Popen([sys.executable, "-c",
                             "import sys; f = open(sys.argv[1], 'rb'); print('ok', flush=True);"
                             " sys.stdin.read()", str(path)],
                            cwd="/", stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def _chrooted(task_dir: str) -> tuple[int, int]:
    """A forked child chrooted into ``task_dir``, waiting on a pipe."""
    r, w = os.pipe()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(w)
            os.chroot(task_dir)
            os.chdir("/")
            os.write(ready_w, b"x")
            os.read(r, 1)
        finally:
            os._exit(0)
    os.close(r)
    os.read(ready_r, 1)
    os.close(ready_r)
    os.close(ready_w)
    return pid, w


@pytest.fixture
def procs(data_dir, tmp_path):
    root = data_dir / "alloc"
    first, second = root / ALLOC_IDS[0], root / ALLOC_IDS[1]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "file").write_bytes(b"o")
    os.symlink(outside, first / "web" / "local" / "escape")  # a task's link out
    started = {
        "cwd": _sleeper(first / "web" / "local", HOSTILE_ARG),
        "fd": _holder(second / "alloc" / "logs" / "web.stdout.0"),
        "outside": _sleeper(outside),
        "via-link": _sleeper(first / "web" / "local" / "escape"),
        "outside-fd": _holder(outside / "file"),
    }
    for p in (started["fd"], started["outside-fd"]):
        assert p.stdout.readline().strip() == b"ok"
    chroot = _chrooted(str(second / "sidecar")) if os.geteuid() == 0 else None
    yield root, started, chroot
    if chroot is not None:  # first: the fork holds copies of the others' pipes
        os.close(chroot[1])
        os.waitpid(chroot[0], 0)
    for p in started.values():
        p.stdin.close()
        p.wait(10)


def test_cwd_root_and_open_files_inside_each_allocation(procs):
    root, started, chroot = procs
    first, second = str(root / ALLOC_IDS[0]), str(root / ALLOC_IDS[1])
    found = scan_processes([first, second])
    by_pid = {use.pid: use for uses in found.users.values() for use in uses}
    assert started["cwd"].pid in {u.pid for u in found.using(first)}
    assert started["fd"].pid in {u.pid for u in found.using(second)}
    cwd_use = by_pid[started["cwd"].pid]
    assert ("cwd", "web/local") in cwd_use.uses
    assert any(how.startswith("fd ") and rel == "alloc/logs/web.stdout.0"
               for how, rel in by_pid[started["fd"].pid].uses)
    for name in ("outside", "via-link", "outside-fd"):
        assert started[name].pid not in by_pid, name
    assert os.getpid() not in by_pid
    if chroot is not None:
        uses = dict(by_pid[chroot[0]].uses)
        assert uses["root"] == "sidecar" and uses["cwd"] == "sidecar"
    holders = found.holders(os.path.join(second, "alloc/logs/web.stdout.0"))
    assert [h.pid for h in holders] == [started["fd"].pid]


def test_a_hostile_command_line_is_plain_text(procs):
    root, started, _ = procs
    found = scan_processes([str(root / ALLOC_IDS[0])])
    [use] = [u for u in found.using(str(root / ALLOC_IDS[0])) if u.pid == started["cwd"].pid]
    assert "\x1b" not in use.command and "\x07" not in use.command
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in use.command
    assert "\x1b" not in use.describe()


def test_processes_that_cannot_be_read_are_counted_not_fatal(procs):
    root, started, _ = procs
    alloc = str(root / ALLOC_IDS[0])

    def as_nobody():
        found = scan_processes([alloc])
        return [u.pid for u in found.using(alloc)], found.unreadable, found.note()

    if os.geteuid() != 0:
        pytest.skip("needs another user's processes")
    pids, unreadable, note = run_as_nobody(as_nobody)
    assert started["cwd"].pid not in pids
    assert unreadable > 0 and "could not be read" in note


def test_a_process_that_exits_mid_scan_is_skipped(tmp_path, data_dir):
    """A fake /proc whose second process has gone between listing and reading."""
    alloc = str(data_dir / "alloc" / ALLOC_IDS[0])
    proc = tmp_path / "proc"
    (proc / "4242" / "fd").mkdir(parents=True)
    os.symlink(f"{alloc}/web/local", proc / "4242" / "cwd")
    os.symlink("/", proc / "4242" / "root")
    os.symlink(f"{alloc}/alloc/logs/web.stdout.0 (deleted)", proc / "4242" / "fd" / "7")
    (proc / "4242" / "cmdline").write_bytes(b"task\0--flag\0")
    (proc / "4343").mkdir()  # exited: no cwd, no fd
    found = scan_processes([alloc], proc=str(proc))
    [use] = found.using(alloc)
    assert use.pid == 4242 and use.command == "task --flag"
    assert ("fd 7", "alloc/logs/web.stdout.0 (deleted)") in use.uses
    assert found.vanished == 1 and "exited during the scan" in found.note()


def test_liveness_names_processes_mounts_and_a_recent_write(procs, data_dir):
    root, started, _ = procs
    first = str(root / ALLOC_IDS[0])
    live = check_liveness(first)
    assert live.live and live.recent_write
    assert started["cwd"].pid in {p.pid for p in live.processes}
    text = live.warning()
    assert "looks live" in text and "process" in text and "written" in text
    assert "\x1b" not in text
    if os.geteuid() == 0:
        assert "web/secrets" in live.mounts  # the secrets tmpfs
    quiet = check_liveness(first, now=time.time() + 86400)
    assert not quiet.recent_write


def test_a_scan_out_of_time_says_how_many_it_left_out(procs):
    root, _, _ = procs
    found = scan_processes([str(root / ALLOC_IDS[0])], time_limit=-1.0)
    assert found.scanned == 0 and found.not_looked_at > 5
    assert "not looked at (out of time)" in found.note()
