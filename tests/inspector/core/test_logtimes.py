"""LogTimes: an allocation's last log write from one bounded look and
inotify; a look is skipped when the directory is as it was; polled logs
dirs still see writes; a failure is said, not raised."""

from __future__ import annotations

import os
import time

import pytest

from allocdir.testing import temp_alloc_dir
from inspector.core import logtimes
from inspector.core.dirwatch import DirWatcher
from inspector.core.logtimes import LogTimes

OLD = 1_000_000_000.0  # 2001


@pytest.fixture
def alloc():
    with temp_alloc_dir() as built:
        yield built


def logs(alloc, name: str = "") -> str:
    return os.path.join(alloc.alloc_dir, "alloc", "logs", name)


def dated(path: str, stamp: float) -> None:
    with open(path, "a"):
        pass
    os.utime(path, (stamp, stamp))


def wait_for_time(times: LogTimes, watcher: DirWatcher, alloc, after: float) -> float:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        times.note(watcher.take())
        stamp = times.time_of(alloc.alloc_dir)
        if stamp is not None and stamp >= after:
            return stamp
        time.sleep(0.02)
    raise AssertionError(f"no write seen: {times.time_of(alloc.alloc_dir)}")


def test_one_bounded_look_then_events(alloc):
    for n in range(300):
        dated(logs(alloc, f"web.stdout.{n}"), OLD + n)
    dated(logs(alloc, ".web.stdout.fifo"), OLD + 10_000)  # a dot file is not a log
    os.utime(logs(alloc), (OLD + 500, OLD + 500))
    watcher = DirWatcher()
    try:
        times = LogTimes(watcher)
        times.track([alloc])
        assert times.time_of(alloc.alloc_dir) == OLD + 299 and times.looks == 1
        times.track([alloc])  # the directory is as it was: not scanned again
        assert times.looks == 1 and not times.due()
        before = time.time()
        with open(logs(alloc, "web.stdout.7"), "a") as f:
            f.write("now\n")
        assert wait_for_time(times, watcher, alloc, before) >= before
        assert times.looks == 1  # the write came as an event, not from a look
    finally:
        watcher.close()


def test_a_capped_look_takes_the_directorys_own_time_for_the_rest(alloc):
    for n in range(50):
        dated(logs(alloc, f"f{n}"), OLD)
    os.utime(logs(alloc), (OLD + 3600, OLD + 3600))
    watcher = DirWatcher()
    try:
        times = LogTimes(watcher, cap=10)
        times.track([alloc])
        assert times.time_of(alloc.alloc_dir) == OLD + 3600
    finally:
        watcher.close()


def test_polled_logs_still_see_a_write(alloc):
    dated(logs(alloc, "web.stdout.0"), OLD)
    dated(logs(alloc, "web.stdout.1"), OLD + 1)
    watcher = DirWatcher(inotify=False, poll_interval=0.05)
    try:
        times = LogTimes(watcher)
        times.track([alloc])
        assert times.time_of(alloc.alloc_dir) == OLD + 1
        assert times.due()  # polled: the newest file is looked at every tick
        before = time.time()
        with open(logs(alloc, "web.stdout.1"), "a") as f:  # the directory does not change
            f.write("now\n")
        looks = times.looks
        times.look_again()
        assert times.time_of(alloc.alloc_dir) >= before - 1
        assert times.looks == looks  # one lstat, not a scan
    finally:
        watcher.close()


def test_no_logs_dir_and_a_failure_are_said(alloc, monkeypatch):
    os.rmdir(logs(alloc))
    watcher = DirWatcher()
    try:
        times = LogTimes(watcher)
        times.track([alloc])
        assert times.time_of(alloc.alloc_dir) is None and times.error_of(alloc.alloc_dir) is None

        def broken(fd, cap):
            raise RuntimeError("broken look")

        os.mkdir(logs(alloc))
        monkeypatch.setattr(logtimes, "_newest_entry", broken)
        times.track([alloc])
        assert times.error_of(alloc.alloc_dir) == "unexpected error: RuntimeError: broken look"
        times.track([])
        assert times.time_of(alloc.alloc_dir) is None and not watcher.watched()
    finally:
        watcher.close()
