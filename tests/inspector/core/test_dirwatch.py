"""DirWatcher: one inotify instance, changes coalesced per directory, a
queue overflow marks every directory, watches never leave the alloc dir,
and polling (said once) where inotify runs out."""

from __future__ import annotations

import ctypes
import errno
import os
import time

import pytest

from inspector.core import dirwatch
from inspector.core.dirwatch import GONE, LOOK_AGAIN, WRITTEN, DirWatcher

from ...process_resources import Resources
from ..conftest import run_as_nobody


def take_until(watcher: DirWatcher, predicate, timeout: float = 5.0) -> dict:
    """What the watcher reports, gathered until ``predicate(changes)``."""
    seen: dict = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for key, bits in watcher.take().items():
            seen[key] = seen.get(key, 0) | bits
        if predicate(seen):
            return seen
        time.sleep(0.02)
    raise AssertionError(f"not reported in {timeout} s: {seen}")


@pytest.fixture
def top(tmp_path):
    for rel in ("alloc/logs", "alloc/data", "web/local"):
        (tmp_path / rel).mkdir(parents=True)
    return tmp_path


@pytest.fixture
def watcher():
    w = DirWatcher()
    yield w
    w.close()


def test_changes_are_coalesced_per_directory_with_what_happened(top, watcher):
    assert watcher.watch_dir("logs", str(top), "alloc/logs")
    assert watcher.watch_dir("also logs", str(top), "alloc/logs")  # one kernel watch, two keys
    assert watcher.watch_dir("data", str(top), "alloc/data")
    for n in range(200):
        (top / "alloc/logs" / f"f{n}").write_text("x")
    seen = take_until(watcher, lambda s: "logs" in s and "also logs" in s)
    assert seen["logs"] & WRITTEN and seen["also logs"] == seen["logs"]
    assert "data" not in seen  # nothing happened there
    assert watcher.take() == {}  # taken once
    watcher.unwatch("logs")
    (top / "alloc/logs/after").write_text("x")
    seen = take_until(watcher, lambda s: "also logs" in s)
    assert "logs" not in seen
    assert watcher.watched() == {"also logs", "data"}


def test_a_queue_overflow_marks_every_directory(top):
    # The reader pauses 4 s after a read (longer than the 20,000 creates take
    # on a slow machine): more than the kernel's queue of 16,384 events
    # arrives meanwhile, and the kernel says it dropped some.
    watcher = DirWatcher(coalesce=4.0)
    try:
        assert watcher.watch_dir("logs", str(top), "alloc/logs")
        assert watcher.watch_dir("data", str(top), "alloc/data")
        (top / "alloc/logs/first").write_text("x")
        take_until(watcher, lambda s: "logs" in s)
        fd = os.open(top / "alloc/logs", os.O_RDONLY | os.O_DIRECTORY)
        try:
            for n in range(20_000):
                os.close(os.open(f"n{n}", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd))
        finally:
            os.close(fd)
        seen = take_until(watcher, lambda s: "data" in s, timeout=12.0)
        assert seen["data"] == LOOK_AGAIN and seen["logs"] & LOOK_AGAIN
    finally:
        watcher.close()


def test_a_replaced_directory_ends_its_watch_and_can_be_watched_again(top, watcher):
    assert watcher.watch_dir("logs", str(top), "alloc/logs")
    os.rename(top / "alloc/logs", top / "alloc/old-logs")
    (top / "alloc/logs").mkdir()
    seen = take_until(watcher, lambda s: "logs" in s)
    assert seen["logs"] & GONE and not watcher.is_watching("logs")
    (top / "alloc/old-logs/ignored").write_text("x")
    assert watcher.watch_dir("logs", str(top), "alloc/logs")  # what is there now
    (top / "alloc/logs/new").write_text("x")
    assert take_until(watcher, lambda s: "logs" in s)["logs"] & WRITTEN


def test_a_watch_never_reaches_outside_the_alloc_dir(top, tmp_path_factory, watcher):
    outside = tmp_path_factory.mktemp("host")
    os.symlink(outside, top / "web/local/out")
    os.symlink("../../alloc/data", top / "web/local/in")
    assert not watcher.watch_dir("out", str(top), "web/local/out")
    assert not watcher.watch_dir("up", str(top), "../")
    assert watcher.watch_dir("in", str(top), "web/local/in")  # a link inside stays inside
    (top / "alloc/data/x").write_text("x")
    assert "in" in take_until(watcher, lambda s: "in" in s)
    assert watcher.watched() == {"in"}


def test_polling_when_no_inotify_instance_is_left(shared_tmp):
    """As an unprivileged user who has used up fs.inotify.max_user_instances
    (as a task running under the same uid can): the watcher polls, says so
    once, and still sees a new file."""
    top = shared_tmp
    (top / "alloc/logs").mkdir(parents=True)
    os.chmod(top / "alloc/logs", 0o777)

    inotify_c = dirwatch._inotify()  # imported before dropping privileges

    def exhausted() -> tuple:
        from allocdir.watch import _INOTIFY_POOL

        while _INOTIFY_POOL._idle:  # instances kept from the parent: none left either
            os.close(_INOTIFY_POOL._idle.pop())
        held = []
        while True:
            fd = inotify_c.inotify_init()
            if fd < 0:
                break
            held.append(fd)
        watcher = DirWatcher(poll_interval=0.1)
        try:
            ok = watcher.watch_dir("logs", str(top), "alloc/logs")
            time.sleep(0.05)
            (top / "alloc/logs/new").write_text("x")
            seen = take_until(watcher, lambda s: "logs" in s)
            return ok, watcher.backend, watcher.notice, watcher.notice, seen["logs"], len(held)
        finally:
            watcher.close()
            for fd in held:
                os.close(fd)

    (ok, backend, notice, again, bits, held), _ = run_as_nobody(exhausted)
    assert ok and backend == "polling" and bits == LOOK_AGAIN and held > 0
    assert notice.startswith("inotify unavailable (too many open files): directories are polled")
    assert again is None  # said once


def test_polling_a_directory_past_the_watch_limit(top, watcher, monkeypatch):
    """The kernel refuses a watch with ENOSPC (fs.inotify.max_user_watches):
    that directory is polled, the others keep their inotify watch."""
    assert watcher.watch_dir("logs", str(top), "alloc/logs")
    real = dirwatch._inotify().inotify_add_watch

    def full(fd, path, mask):
        ctypes.set_errno(errno.ENOSPC)
        return -1

    monkeypatch.setattr(dirwatch._inotify(), "inotify_add_watch", full)
    watcher._poll_interval = 0.1
    assert watcher.watch_dir("data", str(top), "alloc/data")
    monkeypatch.setattr(dirwatch._inotify(), "inotify_add_watch", real)
    assert watcher.is_polled("data") and not watcher.is_polled("logs")
    assert "watch limit" in watcher.notice
    time.sleep(0.05)
    (top / "alloc/data/new").write_text("x")
    (top / "alloc/logs/new").write_text("x")
    seen = take_until(watcher, lambda s: "data" in s and "logs" in s)
    assert seen["data"] == LOOK_AGAIN and seen["logs"] & WRITTEN


def test_close_leaves_no_thread_or_watch(top):
    resources = Resources()
    before = resources.snapshot()
    watcher = DirWatcher()
    for rel in ("alloc/logs", "alloc/data", "web/local"):
        assert watcher.watch_dir(rel, str(top), rel)
    assert resources.inotify_watches() >= before["inotify_watches"] + 3
    watcher.close()
    after = resources.settle(before, {"threads": 0, "inotify_watches": 0})
    assert after["threads"] <= before["threads"]
    assert after["inotify_watches"] <= before["inotify_watches"]
    assert not watcher.watch_dir("late", str(top), "alloc/logs")


def test_a_failing_reader_says_so_and_asks_for_a_look(top, monkeypatch):
    def broken(self, masks):
        raise RuntimeError("reader broke")

    monkeypatch.setattr(DirWatcher, "_note", broken)
    watcher = DirWatcher()
    try:
        assert watcher.watch_dir("logs", str(top), "alloc/logs")
        (top / "alloc/logs/x").write_text("x")
        seen = take_until(watcher, lambda s: "logs" in s)
        assert seen["logs"] == LOOK_AGAIN
        assert watcher.notice == ("watching directories stopped (unexpected error: "
                                  "RuntimeError: reader broke): press r to refresh")
        monkeypatch.undo()
        assert watcher.watch_dir("logs", str(top), "alloc/logs")  # what r does: it reads again
        (top / "alloc/logs/y").write_text("x")
        assert take_until(watcher, lambda s: "logs" in s)["logs"] & WRITTEN
    finally:
        watcher.close()
