"""Following files in a real alloc dir: appends, truncation, deletion, rotation."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from allocdir.testing import temp_alloc_dir
from inspector.core.follow import FollowState, Follower, next_rotation

TIMEOUT = 10.0


@pytest.fixture
def alloc():
    with temp_alloc_dir() as alloc_dir:
        yield alloc_dir


def host_path(alloc_dir, rel: str) -> str:
    return os.path.join(alloc_dir.alloc_dir, rel)


def append(alloc_dir, rel: str, data: bytes) -> None:
    with open(host_path(alloc_dir, rel), "ab") as fh:
        fh.write(data)


class Running:
    """A follower running in a thread, stopped at the end of the test."""

    def __init__(self, follower: Follower) -> None:
        self.follower = follower
        self.thread = threading.Thread(target=follower.run, daemon=True)
        self.thread.start()

    def wait(
        self, predicate: Callable[[FollowState], bool], timeout: float = TIMEOUT
    ) -> FollowState:
        deadline = time.monotonic() + timeout
        while True:
            state = self.follower.state()
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met; last state: {state}")
            self.follower.wait_changed(state.version, 0.05)

    def stop(self) -> None:
        self.follower.stop()
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive()


@pytest.fixture
def follow(alloc) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(rel: str, **kwargs) -> Running:
        running = Running(Follower(alloc, rel, **kwargs))
        started.append(running)
        assert running.follower.wait_watching(TIMEOUT)
        return running

    yield start
    for running in started:
        running.stop()


def test_next_rotation_names():
    assert next_rotation("alloc/logs/web.stdout.0") == "alloc/logs/web.stdout.1"
    assert next_rotation("alloc/logs/my.task.stderr.19") == "alloc/logs/my.task.stderr.20"
    assert next_rotation("alloc/logs/web.stdout") is None
    assert next_rotation("alloc/data/app.log") is None


def test_starts_with_the_last_lines_and_shows_appends_quickly(alloc, follow):
    append(alloc, "alloc/data/app.log", b"".join(b"old %d\n" % i for i in range(100_000)))
    running = follow("alloc/data/app.log")
    state = running.wait(lambda s: s.lines)
    assert state.lines[-1] == b"old 99999"
    assert len(state.lines) < 100_000  # only a backlog, not the whole file
    written = time.monotonic()
    append(alloc, "alloc/data/app.log", b"fresh line\n")
    running.wait(lambda s: s.lines[-1:] == [b"fresh line"])
    latency = time.monotonic() - written
    assert latency < 1.0  # the goal is 100 ms; generous for a shared machine


def test_partial_line_is_kept_until_its_newline(alloc, follow):
    append(alloc, "alloc/data/app.log", b"")
    running = follow("alloc/data/app.log")
    append(alloc, "alloc/data/app.log", b"hel")
    running.wait(lambda s: s.partial == b"hel")
    append(alloc, "alloc/data/app.log", b"lo\nwor")
    state = running.wait(lambda s: s.partial == b"wor")
    assert state.lines == [b"hello"]


def test_truncation_is_reported_and_new_content_followed(alloc, follow):
    append(alloc, "alloc/data/app.log", b"a long first version of the file\n")
    running = follow("alloc/data/app.log")
    with open(host_path(alloc, "alloc/data/app.log"), "r+b") as fh:
        fh.truncate(0)
    running.wait(lambda s: s.notice == "truncated")
    append(alloc, "alloc/data/app.log", b"after\n")
    state = running.wait(lambda s: s.lines[-1:] == [b"after"])
    assert state.offset == len(b"after\n")


def test_deletion_is_reported_and_ends_the_follow(alloc, follow):
    append(alloc, "alloc/data/app.log", b"bye\n")
    running = follow("alloc/data/app.log")
    os.unlink(host_path(alloc, "alloc/data/app.log"))
    state = running.wait(lambda s: not s.running)
    assert state.notice == "deleted"
    running.thread.join(TIMEOUT)
    assert not running.thread.is_alive()


def test_rotation_keeps_a_line_split_across_files(alloc, follow):
    append(alloc, "alloc/logs/web.stdout.0", b"first\nsplit-")
    running = follow("alloc/logs/web.stdout.0")
    running.wait(lambda s: s.partial == b"split-")
    append(alloc, "alloc/logs/web.stdout.0", b"across-")
    append(alloc, "alloc/logs/web.stdout.1", b"rotation\nsecond file\n")
    state = running.wait(lambda s: s.lines[-1:] == [b"second file"])
    assert state.lines[-3:] == [b"first", b"split-across-rotation", b"second file"]
    assert state.path == "alloc/logs/web.stdout.1"
    assert "web.stdout.1" in state.notice
    # It keeps watching: .2 follows .1.
    append(alloc, "alloc/logs/web.stdout.1", b"tail of one-")
    append(alloc, "alloc/logs/web.stdout.2", b"head of two\n")
    running.wait(
        lambda s: s.path == "alloc/logs/web.stdout.2"
        and s.lines[-1:] == [b"tail of one-head of two"]
    )


def test_rotated_file_deleted_after_successor_appears_continues(alloc, follow):
    append(alloc, "alloc/logs/web.stderr.3", b"x\n")
    running = follow("alloc/logs/web.stderr.3")
    append(alloc, "alloc/logs/web.stderr.4", b"y\n")
    os.unlink(host_path(alloc, "alloc/logs/web.stderr.3"))
    state = running.wait(lambda s: s.lines[-1:] == [b"y"])
    assert state.running and state.path == "alloc/logs/web.stderr.4"


def test_stop_ends_run_promptly(alloc):
    append(alloc, "alloc/logs/web.stdout.0", b"x\n")
    running = Running(Follower(alloc, "alloc/logs/web.stdout.0"))
    assert running.follower.wait_watching(TIMEOUT)
    started = time.monotonic()
    running.stop()
    assert time.monotonic() - started < 2.0
    assert not running.follower.running


def test_very_long_partial_line_is_split(alloc, follow):
    append(alloc, "alloc/data/app.log", b"")
    running = follow("alloc/data/app.log", max_line_bytes=1000)
    append(alloc, "alloc/data/app.log", b"z" * 5500)
    state = running.wait(lambda s: len(s.lines) == 5)
    assert all(len(line) == 1000 for line in state.lines)
    assert state.partial == b"z" * 500


def test_buffer_stays_bounded_under_a_fast_writer(alloc, follow):
    rel = "alloc/logs/fast.stdout.0"
    append(alloc, rel, b"")
    running = follow(rel, max_lines=2000, max_bytes=512 * 1024)
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        line = b"%08d " + b"w" * 90 + b"\n"
        block_lines = 1000
        n = 0
        with open(host_path(alloc, rel), "ab", buffering=0) as fh:
            started = time.monotonic()
            while not stop.is_set():
                fh.write(b"".join(line % (n + i) for i in range(block_lines)))
                n += block_lines
                written[0] = n
                # About 10 MB/s: 100 KB every 10 ms.
                time.sleep(max(0.0, started + n * 100 / 10e6 - time.monotonic()))

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    peak_lines = peak_bytes = 0
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        state = running.follower.state()
        peak_lines = max(peak_lines, len(state.lines))
        peak_bytes = max(peak_bytes, sum(map(len, state.lines)))
        time.sleep(0.01)
    stop.set()
    thread.join(TIMEOUT)
    total = written[0]
    assert total * 100 > 10_000_000  # the writer really wrote fast
    assert peak_lines <= 2000
    assert peak_bytes <= 512 * 1024
    last = b"%08d " % (total - 1) + b"w" * 90
    running.wait(lambda s: s.lines[-1:] == [last])


def test_rewrite_past_the_old_end_is_read_from_the_start(alloc):
    """A file truncated and written past the old offset between two looks
    (its TRUNCATED event swallowed, as when the successor appears at once) is
    still read from offset 0: the bytes before the offset are checked."""
    rel = "alloc/logs/web.stdout.0"
    append(alloc, rel, b"old 1\nold 2\n")
    follower = Follower(alloc, rel, start=0)
    follower._open_first()
    follower._drain()
    assert follower.state().lines == [b"old 1", b"old 2"]
    with open(host_path(alloc, rel), "r+b") as f:
        f.truncate(0)
        f.write(b"new 1\nnew 2 is longer than before\n")
    follower._drain()  # no event: only the file itself can tell
    state = follower.state()
    follower._close()
    assert state.lines == [b"old 1", b"old 2", b"new 1", b"new 2 is longer than before"]
    assert state.notice == "truncated"


def test_truncated_event_after_handling_does_not_repeat_lines(alloc, follow):
    rel = "alloc/logs/web.stdout.0"
    append(alloc, rel, b"a\nb\n")
    running = follow(rel, start=0)
    running.wait(lambda s: s.lines[-2:] == [b"a", b"b"])
    with open(host_path(alloc, rel), "r+b") as f:
        f.truncate(0)
        f.write(b"c\n")
    running.wait(lambda s: s.lines[-1:] == [b"c"])
    time.sleep(0.3)  # any late TRUNCATED event has arrived by now
    assert running.follower.state().lines == [b"a", b"b", b"c"]


def test_a_rewrite_ending_like_the_old_content_is_a_truncation(alloc):
    """Truncated and written again past the offset between two looks, with
    the bytes just before the offset the same as before (lines ending in a
    run of one character): every new line is shown, after a separator."""
    rel = "alloc/data/app.log"
    old = b"line 0001 " + b"x" * 100 + b"\n"
    new = [b"line 0002 " + b"x" * 100, b"line 0003"]
    append(alloc, rel, old)
    follower = Follower(alloc, rel)
    follower._open_first()  # as run() does, without its thread: no look in between
    try:
        with open(host_path(alloc, rel), "r+b") as fh:
            fh.truncate(0)
            fh.write(b"\n".join(new) + b"\n")
        follower._drain()
        state = follower.state()
        assert state.lines[-2:] == new
        assert [label for _, label in state.marks] == ["truncated"]
    finally:
        follower._close()


class Recorder:
    """A follow sink that keeps what it was handed."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.marks: list[tuple[int, str]] = []

    def data(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def mark(self, label: str) -> None:
        self.marks.append((len(b"".join(self.chunks)), label))

    @property
    def bytes(self) -> bytes:
        return b"".join(self.chunks)


def test_a_sink_gets_every_byte_in_order_across_rotation_and_truncation(alloc, follow):
    rel = "alloc/logs/web.stdout.0"
    append(alloc, rel, b"before the follow\n")
    sink, woken = Recorder(), threading.Event()
    running = follow(rel, sink=sink, on_change=woken.set, max_bytes=4096, backlog_bytes=0)
    big = b"".join(b"line %06d\n" % i for i in range(20_000))  # far past max_bytes
    append(alloc, rel, big + b"split-")
    running.wait(lambda s: s.partial == b"split-")
    assert woken.is_set()
    append(alloc, "alloc/logs/web.stdout.1", b"across\n")
    running.wait(lambda s: s.path.endswith(".1") and s.lines[-1:] == [b"split-across"])
    with open(host_path(alloc, "alloc/logs/web.stdout.1"), "r+b") as fh:
        fh.truncate(0)
    running.wait(lambda s: s.notice == "truncated")
    append(alloc, "alloc/logs/web.stdout.1", b"anew\n")
    running.wait(lambda s: s.lines[-1:] == [b"anew"])
    assert sink.bytes == big + b"split-across\nanew\n"  # nothing skipped, nothing twice
    assert sink.marks == [(len(big) + len(b"split-across\n"), "truncated")]
