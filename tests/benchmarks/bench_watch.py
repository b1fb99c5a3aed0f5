"""Change-event latency and follower throughput, beside a 250 ms polling
watcher (Nomad's design) and GNU `tail -F`."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
import zlib

from allocdir import AllocDir, ChangeEvent

from .harness import Row, percentile

LOG = "alloc/logs/web.stdout.0"


class _Follower:
    """Reads every new byte of a file when an event says so; records when."""

    def __init__(self, alloc: AllocDir, rel: str, offset: int) -> None:
        self.alloc, self.rel, self.offset = alloc, rel, offset
        self.arrived = threading.Event()
        self.arrival = 0.0
        self.crc = 0
        self.changes = alloc.change_events(rel, offset)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        # Like tail -F and the inspector's follower: one handle, kept open;
        # each event says how far the file now goes, so one read fetches it.
        with self.alloc.read_at(self.rel, self.offset) as f:
            fd = f.fileno()
            for event in self.changes:
                if event is ChangeEvent.TRUNCATED:
                    self.offset = 0
                if event is ChangeEvent.DELETED:
                    return
                while self.offset < self.changes.size:
                    chunk = os.pread(fd, min(1 << 20, self.changes.size - self.offset),
                                     self.offset)
                    if not chunk:
                        break
                    self.offset += len(chunk)
                    self.crc = zlib.crc32(chunk, self.crc)
                self.arrival = time.perf_counter()
                self.arrived.set()

    def close(self) -> None:
        self.changes.close()
        self.thread.join(5)


class _Poller:
    """Nomad's design: look at the file every 250 ms."""

    def __init__(self, path: str, offset: int, interval: float = 0.25) -> None:
        self.path, self.offset, self.interval = path, offset, interval
        self.arrived = threading.Event()
        self.arrival = 0.0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            size = os.path.getsize(self.path)
            if size > self.offset:
                with open(self.path, "rb") as f:
                    f.seek(self.offset)
                    self.offset += len(f.read(size - self.offset))
                self.arrival = time.perf_counter()
                self.arrived.set()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)


class _Tail:
    """GNU `tail -F`, timed when its output reaches us."""

    def __init__(self, path: str) -> None:
        self.proc = subprocess.Popen(["tail", "-F", "-n", "0", path], stdout=subprocess.PIPE)
        self.arrived = threading.Event()
        self.arrival = 0.0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        time.sleep(0.3)  # let tail set up its inotify watch

    def _run(self) -> None:
        fd = self.proc.stdout.fileno()
        while os.read(fd, 65536):
            self.arrival = time.perf_counter()
            self.arrived.set()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)
        self.thread.join(5)


def _latencies(watcher, path: str, samples: int, gap: float = 0.03) -> list[float]:
    """Write a line ``samples`` times, a random pause apart, and time each
    until the watcher has it."""
    result = []
    with open(path, "ab", buffering=0) as log:
        for i in range(samples):
            time.sleep(random.uniform(0.005, gap))
            watcher.arrived.clear()
            start = time.perf_counter()
            log.write(b"line %d\n" % i)
            if not watcher.arrived.wait(5):
                raise RuntimeError(f"{type(watcher).__name__} saw no change within 5 s")
            result.append(watcher.arrival - start)
    return result


# A task writing its log: its own process, one write per line asked for,
# printing the time (CLOCK_MONOTONIC, shared by every process) just before.
# It prints 5 ms later: the benchmark's thread reading that time must not wake
# while the follower (or the thread reading tail's output) is at work, as
# nothing else in their process wakes when a task writes.
_TASK_WRITER = r"""
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
for line in sys.stdin:
    started = time.perf_counter()
    os.write(fd, b"line %d\n" % int(line))
    time.sleep(0.005)
    print(repr(started), flush=True)
"""


def _latencies_from_a_task(watcher, path: str, samples: int, gap: float = 0.03) -> list[float]:
    """As ``_latencies``, with the line written by another process, as a
    task writes its log (no writer thread shares the follower's GIL)."""
    writer = subprocess.Popen([sys.executable, "-c", _TASK_WRITER, path], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    result = []
    try:
        for i in range(samples):
            time.sleep(random.uniform(0.005, gap))
            watcher.arrived.clear()
            writer.stdin.write(f"{i}\n")
            writer.stdin.flush()
            start = float(writer.stdout.readline())
            if not watcher.arrived.wait(5):
                raise RuntimeError(f"{type(watcher).__name__} saw no change within 5 s")
            result.append(watcher.arrival - start)
    finally:
        writer.stdin.close()
        writer.wait(5)
    return result


def change_latency(alloc: AllocDir, samples: int, rounds: int = 3) -> list[Row]:
    path = os.path.join(alloc.alloc_dir, LOG)
    open(path, "wb").close()
    measured: dict[str, list[float]] = {}
    each = max(10, samples // rounds)
    # In rounds, each watcher in turn: a drift of the machine (another
    # tenant, frequency) falls on both sides of a ratio, not on one.
    for _ in range(rounds):
        for name, make in (("ours", lambda: _Follower(alloc, LOG, os.path.getsize(path))),
                           ("poll", lambda: _Poller(path, os.path.getsize(path))),
                           ("tail", lambda: _Tail(path))):
            watcher = make()
            try:
                if name == "poll":  # writes land anywhere in its 250 ms period
                    measured.setdefault(name, []).extend(
                        _latencies(watcher, path, max(4, each // 4), gap=0.25))
                else:
                    measured.setdefault(name, []).extend(_latencies(watcher, path, each))
                    measured.setdefault(f"{name}, task", []).extend(
                        _latencies_from_a_task(watcher, path, each))
            finally:
                watcher.close()
    p50 = {k: percentile(v, 0.5) for k, v in measured.items()}
    p99 = {k: percentile(v, 0.99) for k, v in measured.items()}
    return [
        Row("change → bytes read, p50, the task writing", p50["ours, task"], p50["tail, task"],
            "`tail -F`", goal="≤ 1", limit=1.0),
        Row("change → bytes read, p99, the task writing", p99["ours, task"], p99["tail, task"],
            "`tail -F`", goal="≤ 1", limit=1.0),
        Row("change → bytes read, p50", p50["ours"], p50["poll"], "a 250 ms polling watcher",
            goal="≤ 0.1", limit=0.1),
        Row("change → bytes read, p50, a writer thread beside the follower", p50["ours"],
            p50["tail"], "`tail -F`", goal="≤ 1", limit=1.0),
        Row("change → bytes read, p99, a writer thread beside the follower", p99["ours"],
            p99["tail"], "`tail -F`", goal="≤ 1", limit=1.0,
            note=f"poller p99 {p99['poll'] * 1000:.0f} ms"),
    ]


_WRITER = r"""
import sys, time, zlib
path, seconds = sys.argv[1], float(sys.argv[2])
crc = total = n = 0
deadline = time.monotonic() + seconds
with open(path, "ab", buffering=0) as f:
    while time.monotonic() < deadline:
        chunk = b"".join(b"%012d the quick brown fox jumps over the lazy dog\n" % (n + i)
                         for i in range(256))
        n += 256
        f.write(chunk)
        crc = zlib.crc32(chunk, crc)
        total += len(chunk)
print(total, crc, time.monotonic())
"""


def follower_throughput(alloc: AllocDir, seconds: float) -> Row:
    rel = "alloc/logs/web.stdout.1"
    path = os.path.join(alloc.alloc_dir, rel)
    open(path, "wb").close()
    follower = _Follower(alloc, rel, 0)
    try:
        writer = subprocess.run([sys.executable, "-c", _WRITER, path, str(seconds)],
                                check=True, capture_output=True, text=True)
        total, crc, ended = writer.stdout.split()
        total, crc, ended = int(total), int(crc), float(ended)
        deadline = time.monotonic() + 10
        while follower.offset < total and time.monotonic() < deadline:
            time.sleep(0.0005)
        caught_up = time.monotonic()
    finally:
        follower.close()
    lag = max(0.0, caught_up - ended)
    complete = follower.offset == total and follower.crc == crc
    note = (f"{total / seconds / 1e6:.0f} MB/s for {seconds:g} s, "
            f"{'every byte seen' if complete else 'BYTES MISSING'}")
    row = Row("follower lag at the end of a flat-out writer", lag, 0.1, "the 100 ms goal",
              goal="≤ 1", limit=1.0 if complete else 0.0, note=note)
    return row
