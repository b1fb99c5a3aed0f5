"""``change_events`` and ``block_until_exists`` on both backends (watchdog/
inotify and polling): latency, every byte seen by a follower, TRUNCATED,
DELETED, ``close()`` releasing threads/fds/inotify watches."""

from __future__ import annotations

import asyncio
import os
import queue
import statistics
import threading
import time
from concurrent.futures import CancelledError

import pytest

from allocdir import ChangeEvent, FileChanges

POLL = 0.01

BACKENDS = {"inotify": None, "polling": POLL}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request):
    """``poll_interval`` for the backend under test."""
    return BACKENDS[request.param]


@pytest.fixture
def log_file(alloc_with_task):
    path = os.path.join(alloc_with_task.shared_dir, "logs", "web.stdout.0")
    open(path, "wb").close()
    return alloc_with_task, path, "alloc/logs/web.stdout.0"


class Consumer:
    """Iterates a FileChanges in a thread, timestamping every event."""

    def __init__(self, changes: FileChanges):
        self.changes = changes
        self.events: queue.Queue = queue.Queue()
        self.finished = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for ev in self.changes:
                self.events.put((time.monotonic(), ev))
        except BaseException as e:  # noqa: BLE001
            self.error = e
        finally:
            self.finished.set()

    def next(self, timeout=5.0):
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no change event within {timeout} s")

    def drain(self):
        out = []
        while True:
            try:
                out.append(self.events.get_nowait()[1])
            except queue.Empty:
                return out

    def stop(self):
        self.changes.close()
        self.thread.join(5)
        assert not self.thread.is_alive(), "iteration did not end after close()"


def test_change_events_types_and_errors(log_file):
    a, _path, rel = log_file
    with a.change_events(rel, 0) as fc:
        assert isinstance(fc, FileChanges)
    assert {e.name for e in ChangeEvent} == {"MODIFIED", "TRUNCATED", "DELETED"}
    with pytest.raises(FileNotFoundError):
        a.change_events("alloc/logs/missing", 0)


@pytest.mark.slow
def test_latency_write_to_modified(log_file, backend, measured):
    a, path, rel = log_file
    fc = a.change_events(rel, 0, poll_interval=backend)
    c = Consumer(fc)
    latencies = []
    try:
        time.sleep(0.1)  # let the watch settle
        with open(path, "ab", buffering=0) as f:
            for i in range(50):
                c.drain()
                t0 = time.monotonic()
                f.write(b"line %d\n" % i)
                t, ev = c.next(timeout=5)
                while ev is not ChangeEvent.MODIFIED:
                    t, ev = c.next(timeout=5)
                latencies.append((t - t0) * 1000)
                time.sleep(0.01)
    finally:
        c.stop()
    latencies.sort()
    median = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    name = "inotify" if backend is None else f"polling_{backend * 1000:g}ms"
    measured[f"latency_{name}_median_ms"] = round(median, 2)
    measured[f"latency_{name}_p99_ms"] = round(p99, 2)
    print(f"write->MODIFIED latency ({name}): median {median:.2f} ms, p99 {p99:.2f} ms")
    assert median < 50


def _follow(a, rel, backend, writer, timeout=20.0):
    """Follow ``rel`` as the inspector does: on every event read from the last
    offset to EOF. Returns the bytes read once ``writer`` is done and all of its
    output has been seen."""
    got = bytearray()
    fc = a.change_events(rel, 0, poll_interval=backend)
    c = Consumer(fc)
    t = threading.Thread(target=writer, daemon=True)
    try:
        t.start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                _t, ev = c.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            assert ev is ChangeEvent.MODIFIED, ev
            with a.read_at(rel, len(got)) as f:
                got += f.read()
            if not t.is_alive() and len(got) == os.path.getsize(os.path.join(a.alloc_dir, rel)):
                break
            if time.monotonic() > deadline:
                break
    finally:
        t.join(10)
        c.stop()
    return bytes(got)


@pytest.mark.slow
def test_follower_sees_every_byte_of_fast_writer(log_file, backend, measured):
    a, path, rel = log_file
    written = bytearray()

    def writer():
        with open(path, "ab", buffering=0) as f:
            end = time.monotonic() + 1.0
            i = 0
            while time.monotonic() < end:
                chunk = (b"%08d " % i) + os.urandom(i % 200).hex().encode() + b"\n"
                f.write(chunk)
                written.extend(chunk)
                i += 1

    got = _follow(a, rel, backend, writer)
    name = "inotify" if backend is None else "polling"
    measured[f"follower_{name}_bytes"] = len(written)
    print(f"follower ({name}) saw {len(got)} of {len(written)} bytes")
    assert len(got) == len(written)
    assert got == bytes(written)


def test_truncated(log_file, backend):
    a, path, rel = log_file
    with open(path, "wb") as f:
        f.write(b"x" * 100)
    fc = a.change_events(rel, 100, poll_interval=backend)
    c = Consumer(fc)
    try:
        time.sleep(0.1)
        os.truncate(path, 10)
        _t, ev = c.next()
        assert ev is ChangeEvent.TRUNCATED
        # it continues: an append afterwards is MODIFIED
        with open(path, "ab") as f:
            f.write(b"more")
        _t, ev = c.next()
        assert ev is ChangeEvent.MODIFIED
    finally:
        c.stop()


def test_truncate_and_rewrite_with_copytruncate(log_file, backend):
    """logrotate copytruncate: truncate to 0, then new lines shorter than before."""
    a, path, rel = log_file
    with open(path, "wb") as f:
        f.write(b"old line\n" * 50)
    fc = a.change_events(rel, 450, poll_interval=backend)
    c = Consumer(fc)
    try:
        time.sleep(0.1)
        with open(path, "r+b") as f:
            f.truncate(0)
        _t, ev = c.next()
        assert ev is ChangeEvent.TRUNCATED
        with open(path, "ab") as f:
            f.write(b"new\n")
        _t, ev = c.next()
        assert ev is ChangeEvent.MODIFIED
        with a.read_at(rel, 0) as f:
            assert f.read() == b"new\n"
    finally:
        c.stop()


@pytest.mark.parametrize("how", ["unlink", "rename_away", "rename_to_other_dir"])
def test_deleted_ends_iteration(log_file, backend, how, measured):
    a, path, rel = log_file
    with open(path, "wb") as f:
        f.write(b"abc")
    fc = a.change_events(rel, 3, poll_interval=backend)
    c = Consumer(fc)
    time.sleep(0.1)
    t0 = time.monotonic()
    if how == "unlink":
        os.unlink(path)
    elif how == "rename_away":
        os.rename(path, path + ".1")
    else:
        os.rename(path, os.path.join(a.shared_dir, "tmp", "moved"))
    t, ev = c.next()
    while ev is ChangeEvent.MODIFIED:
        t, ev = c.next()
    assert ev is ChangeEvent.DELETED
    delay_ms = (t - t0) * 1000
    name = "inotify" if backend is None else "polling"
    measured[f"deleted_{how}_{name}_ms"] = round(delay_ms, 1)
    print(f"DELETED ({how}, {name}) after {delay_ms:.1f} ms")
    # Nomad polls every 250 ms; this is to be tens of ms (generous bound).
    assert delay_ms < 200
    assert c.finished.wait(5), "iteration did not end after DELETED"
    assert c.error is None, c.error
    assert c.drain() == []
    fc.close()


def test_close_ends_blocked_iteration(log_file, backend):
    a, _path, rel = log_file
    fc = a.change_events(rel, 0, poll_interval=backend)
    c = Consumer(fc)
    time.sleep(0.05)
    t0 = time.monotonic()
    c.stop()
    assert time.monotonic() - t0 < 2
    assert c.error is None


async def test_async_iteration(log_file, backend):
    a, path, rel = log_file
    fc = a.change_events(rel, 0, poll_interval=backend)

    async def first_event():
        async for ev in fc:
            return ev

    task = asyncio.ensure_future(first_event())
    await asyncio.sleep(0.1)
    with open(path, "ab") as f:
        f.write(b"hello\n")
    ev = await asyncio.wait_for(task, 5)
    assert ev is ChangeEvent.MODIFIED

    async def drain():
        return [ev async for ev in fc]

    task = asyncio.ensure_future(drain())
    await asyncio.sleep(0.05)
    fc.close()
    await asyncio.wait_for(task, 5)


def test_env_forces_polling(log_file, monkeypatch, resources):
    """ALLOCDIR_POLL=1: no inotify watch is added, events still arrive."""
    a, path, rel = log_file
    monkeypatch.setenv("ALLOCDIR_POLL", "1")
    before = resources.inotify_watches()
    fc = a.change_events(rel, 0)
    c = Consumer(fc)
    try:
        time.sleep(0.1)
        assert resources.inotify_watches() == before
        with open(path, "ab") as f:
            f.write(b"x")
        _t, ev = c.next()
        assert ev is ChangeEvent.MODIFIED
    finally:
        c.stop()


def test_inotify_backend_uses_a_watch(log_file, resources):
    """Without polling selected, the watch really is inotify."""
    a, _path, rel = log_file
    before = resources.inotify_watches()
    fc = a.change_events(rel, 0)
    try:
        deadline = time.monotonic() + 2
        while resources.inotify_watches() <= before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert resources.inotify_watches() > before
    finally:
        fc.close()


def _cycles(a, rel, path, backend, n):
    for i in range(n):
        fc = a.change_events(rel, 0, poll_interval=backend)
        if i % 200 == 0:
            with open(path, "ab") as f:
                f.write(b".")
            ev = next(fc)
            assert ev is ChangeEvent.MODIFIED
        fc.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind,cycles", [("inotify", 2000), ("polling", 500)])
def test_close_releases_everything(log_file, resources, measured, kind, cycles):
    a, path, rel = log_file
    backend = BACKENDS[kind]
    _cycles(a, rel, path, backend, 1)  # warm up shared machinery
    baseline = resources.settle(resources.snapshot(), {}, timeout=1)
    baseline = resources.snapshot()
    t0 = time.monotonic()
    _cycles(a, rel, path, backend, cycles)
    elapsed = time.monotonic() - t0
    after = resources.settle(baseline, {"threads": 0, "fds": 0, "inotify_watches": 0})
    measured[f"open_close_{kind}_{cycles}_cycles_s"] = round(elapsed, 2)
    print(f"{cycles} open/close cycles ({kind}): {elapsed:.2f} s; before {baseline}, "
          f"after {after}")
    assert after["threads"] <= baseline["threads"]
    assert after["fds"] <= baseline["fds"]
    assert after["inotify_watches"] <= baseline["inotify_watches"]


# ---------------------------------------------------------------- block_until_exists


def test_block_until_exists_resolves(alloc_with_task, backend):
    a = alloc_with_task
    fut = a.block_until_exists("alloc/logs/web.stderr.0", poll_interval=backend)
    time.sleep(0.1)
    assert not fut.done()
    open(os.path.join(a.shared_dir, "logs", "web.stderr.0"), "wb").close()
    assert fut.result(timeout=5) is None


def test_block_until_exists_already_there(alloc_with_task, backend):
    fut = alloc_with_task.block_until_exists("alloc/data", poll_interval=backend)
    assert fut.result(timeout=5) is None


def test_block_until_exists_missing_parents(alloc_with_task, backend):
    a = alloc_with_task
    fut = a.block_until_exists("web/local/later/deeper/file.log", poll_interval=backend)
    time.sleep(0.1)
    os.makedirs(os.path.join(a.task_dirs["web"].local_dir, "later", "deeper"))
    time.sleep(0.05)
    assert not fut.done()
    open(os.path.join(a.task_dirs["web"].local_dir, "later", "deeper", "file.log"), "w").close()
    assert fut.result(timeout=5) is None


def test_block_until_exists_cancel(alloc_with_task, backend, resources):
    a = alloc_with_task
    warm = a.block_until_exists("alloc/data", poll_interval=backend)
    warm.result(timeout=5)
    baseline = resources.snapshot()
    futures = [a.block_until_exists(f"alloc/logs/never{i}", poll_interval=backend)
               for i in range(50)]
    for fut in futures:
        assert fut.cancel()
        assert fut.cancelled()
        with pytest.raises(CancelledError):
            fut.result(timeout=1)
    after = resources.settle(baseline, {})
    assert after["threads"] <= baseline["threads"], (baseline, after)
    assert after["inotify_watches"] <= baseline["inotify_watches"], (baseline, after)
    assert after["fds"] <= baseline["fds"], (baseline, after)
    # creating the file afterwards does not blow up anything
    open(os.path.join(a.shared_dir, "logs", "never0"), "w").close()


def test_rewritten_past_its_end_with_the_same_last_bytes_is_truncated(log_file, backend):
    """Truncated and written again past the old end before the first look,
    the new bytes just before the old end equal to the old ones (a line
    ending in a run of one character): the new first bytes give it away."""
    a, path, rel = log_file
    old = b"line 0001 " + b"x" * 100 + b"\n"
    new = b"line 0002 " + b"x" * 100 + b"\n" + b"line 0003\n"
    with open(path, "wb") as f:
        f.write(old)
    fc = a.change_events(rel, len(old), poll_interval=backend)
    try:
        with open(path, "r+b") as f:  # both before the watcher looks
            f.truncate(0)
            f.write(new)
        assert new[len(old) - 64:len(old)] == old[-64:]
        assert fc.next_event(5) is ChangeEvent.TRUNCATED
        with open(path, "ab") as f:
            f.write(b"line 0004\n")
        assert fc.next_event(5) is ChangeEvent.MODIFIED
    finally:
        fc.close()
