"""A task running as the operator's user can take every inotify instance or
watch the user may have (``fs.inotify.max_user_instances`` /
``max_user_watches``): following a log must go on, by polling, and say so.

The limits are used up for real, by a process of a user of its own (the
limits count per user, so nothing else on the machine is short of inotify):
a fresh interpreter imports what it needs as root, drops to that user, takes
every instance (or every watch), then follows a log while it is written and
rotated."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.hostile import work_dir

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UID = 64_917
"""A user no one else on the machine runs as: its limits are ours alone."""
MAX_WATCHES = 1_000_000
"""Above this many watches per user, using them all up is not worth the memory."""

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="takes inotify from a user of its own")

_CHILD = r"""
import ctypes, json, os, sys, threading, time
import allocdir, allocdir.watch, watchdog.observers.inotify_c
from allocdir import AllocDir
from inspector.core.follow import Follower

alloc_dir, what, uid, spare_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
libc = ctypes.CDLL(None, use_errno=True)
logs = os.path.join(alloc_dir, "alloc", "logs")
os.setgroups([])
os.setgid(uid)
os.setuid(uid)

def instances_until_refused():
    fds = []
    while True:
        fd = libc.inotify_init1(os.O_CLOEXEC)
        if fd < 0:
            return fds, ctypes.get_errno()
        fds.append(fd)

held, err = instances_until_refused()
report = {"instances": len(held), "instances_errno": err}
if what == "watches":
    # Give two instances back (one for the follower, one for watchdog's) and
    # fill the others with watches on files of our own until refused.
    for fd in held[-2:]:
        os.close(fd)
    held = held[:-2]
    names = [os.path.join(spare_dir, n).encode() for n in sorted(os.listdir(spare_dir))]
    watches, err = 0, 0
    for fd in held:
        for name in names:
            if libc.inotify_add_watch(fd, name, 0x2) < 0:
                err = ctypes.get_errno()
                break
            watches += 1
        if err:
            break
    report.update(watches=watches, watches_errno=err)

alloc = AllocDir(alloc_dir)
follower = Follower(alloc, "alloc/logs/web.stdout.0")
thread = threading.Thread(target=follower.run, daemon=True)
thread.start()
follower.wait_watching(10)

def shown(text, limit=10.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        state = follower.state()
        if any(text in line.decode() for line in state.lines):
            return True
        follower.wait_changed(state.version, 0.05)
    return False

notices = []
def note():
    notice = follower.state().notice
    if notice and notice not in notices:
        notices.append(notice)

note()
with open(os.path.join(logs, "web.stdout.0"), "a") as f:
    f.write("first line after the limit\n")
report["first"] = shown("first line after the limit")
note()
with open(os.path.join(logs, "web.stdout.0"), "a") as f:
    f.write("split across ")
with open(os.path.join(logs, "web.stdout.1"), "w") as f:
    f.write("the rotation\n")
report["rotated"] = shown("split across the rotation")
note()
report["path"] = follower.path
report["running"] = follower.running
report["notices"] = notices
follower.stop()
thread.join(5)
print(json.dumps(report))
"""


def _run(what: str) -> dict:
    with work_dir() as base:
        return _follow_in(str(base), what)


def _follow_in(tmp_path: str, what: str) -> dict:
    from allocdir import AllocDir

    alloc = AllocDir(os.path.join(tmp_path, "0b6e8a53-5c3f-4b5e-9f0e-1d2c3b4a5f60"))
    alloc.build()
    log = os.path.join(alloc.shared_dir, "logs", "web.stdout.0")
    with open(log, "w") as f:
        f.write("written before\n")
    os.chown(log, UID, UID)
    spare = os.path.join(tmp_path, "spare")
    os.mkdir(spare)
    if what == "watches":
        with open("/proc/sys/fs/inotify/max_user_watches") as f:
            limit = int(f.read())
        with open("/proc/sys/fs/inotify/max_user_instances") as f:
            instances = int(f.read())
        if limit > MAX_WATCHES:
            pytest.skip(f"max_user_watches is {limit}: too many to use up here")
        for n in range(limit // max(1, instances - 2) + 16):
            open(os.path.join(spare, f"f{n}"), "w").close()
    result = subprocess.run([sys.executable, "-c", _CHILD, alloc.alloc_dir, what, str(UID), spare],
                            cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": REPO})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("what", "errno", "reason"), [
    ("instances", 24, "inotify instance limit reached"),  # EMFILE
    ("watches", 28, "inotify watch limit reached"),  # ENOSPC
])
def test_follow_goes_on_when_the_users_inotify_is_used_up(what, errno, reason, figures):
    report = _run(what)
    figures.update({f"{what}_taken": report[what]})
    assert report[f"{what}_errno"] == errno  # the limit, for real
    assert report["first"] and report["rotated"] and report["running"]
    assert report["path"] == "alloc/logs/web.stdout.1"
    assert any(n.startswith(f"inotify unavailable ({reason}): polling every")
               for n in report["notices"]), report["notices"]
