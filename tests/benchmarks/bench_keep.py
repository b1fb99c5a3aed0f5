"""``allocdir-inspector keep`` under load: how far behind the kept copy is,
what it costs in CPU, and that no byte is written twice.

The keeper runs as the real command (``python -m inspector keep``), the
tasks' writers in a process of their own, as tasks write their logs; this
process only measures (kept sizes, the keeper's CPU time from /proc).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque

from allocdir import AllocDir

from .harness import Row, percentile

TASK = "web"
LOG = f"alloc/logs/{TASK}.stdout.0"

# The tasks: round-robin writes of ``block`` bytes to each file, paced to
# ``rate`` bytes per second in all; prints "<time> <file> <end offset>"
# after each write (CLOCK_MONOTONIC, shared by every process).
_WRITERS = r"""
import os, sys, time
paths = sys.argv[4:]
rate, seconds, block = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
fds = [os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) for p in paths]
ends = [os.fstat(fd).st_size for fd in fds]
filler = (b"the quick brown fox jumps over the lazy dog " * (block // 16 + 1))[:block - 13] + b"\n"
start = time.monotonic()
n = 0
out = []
while True:
    due = start + n * block / rate
    now = time.monotonic()
    if due - start > seconds:
        break
    if due > now:
        time.sleep(due - now)
    i = n % len(fds)
    data = b"%011d " % n + filler
    os.write(fds[i], data)
    ends[i] += len(data)
    out.append(f"{time.monotonic()!r} {i} {ends[i]}\n")
    if len(out) >= 64:
        sys.stdout.write("".join(out)); sys.stdout.flush(); out.clear()
    n += 1
sys.stdout.write("".join(out)); sys.stdout.flush()
"""


def _root(work: str, count: int) -> tuple[str, list[str]]:
    """A client root of ``count`` allocations, each with a task and an
    empty log; returns the root and the log paths."""
    root = os.path.join(work, "keep-root")
    logs = []
    for i in range(count):
        alloc = AllocDir(os.path.join(root, f"{i:08d}-0000-0000-0000-000000000000"))
        alloc.build()
        os.makedirs(os.path.join(alloc.alloc_dir, TASK, "local"))
        path = os.path.join(alloc.alloc_dir, LOG)
        open(path, "wb").close()
        logs.append(path)
    return root, logs


def _keeper(root: str, keep: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "inspector", "keep", root, "--to", keep,
                             "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    manifest = os.path.join(keep, ".allocdir-keep")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # started: the manifest says running
        try:
            with open(manifest) as f:
                if json.load(f).get("pid") == proc.pid:
                    return proc
        except (OSError, ValueError):
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"keep exited: {proc.stderr.read().decode()}")
        time.sleep(0.05)
    raise RuntimeError("keep did not start within 30 s")


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    if proc.wait(60) != 0:
        raise RuntimeError(f"keep exited with {proc.returncode}: {proc.stderr.read().decode()}")


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _kept(keep: str, log: str) -> str:
    alloc_id = log.split(os.sep)[-4]
    return os.path.join(keep, alloc_id, LOG)


class _LagMeter:
    """Reads the writers' "<time> <file> <end>" lines and polls the kept
    files' sizes: a write's lag is from its time until the kept copy holds
    its last byte."""

    def __init__(self, writers: subprocess.Popen, kept: list[str]) -> None:
        self.kept = kept
        self.waiting = [deque() for _ in kept]
        self.lags: list[float] = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.reader = threading.Thread(target=self._read, args=(writers,), daemon=True)
        self.reader.start()
        self.poller = threading.Thread(target=self._poll, daemon=True)
        self.poller.start()

    def _read(self, writers: subprocess.Popen) -> None:
        for line in writers.stdout:
            at, index, end = line.split()
            with self.lock:
                self.waiting[int(index)].append((float(at), int(end)))
        self.done.set()

    def _poll(self) -> None:
        while True:
            now = time.monotonic()
            pending = 0
            for i, path in enumerate(self.kept):
                with self.lock:
                    if not self.waiting[i]:
                        continue
                try:
                    size = os.stat(path).st_size
                except FileNotFoundError:
                    size = 0
                with self.lock:
                    queue = self.waiting[i]
                    while queue and queue[0][1] <= size:
                        self.lags.append(now - queue.popleft()[0])
                    pending += len(queue)
            if self.done.is_set() and not pending:
                return
            time.sleep(0.002)

    def wait(self, timeout: float) -> None:
        self.poller.join(timeout)
        if self.poller.is_alive():
            raise RuntimeError("the kept copies did not catch up")


def _writers(rate: float, seconds: float, block: int, paths: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _WRITERS, str(rate), str(seconds), str(block),
                             *paths], stdout=subprocess.PIPE, text=True)


def lag(work: str, seconds: float, writers: int = 10, rate: float = 5e6) -> Row:
    """p99 of write → in the kept copy, ``writers`` allocations writing
    ``rate`` bytes per second in all."""
    root, logs = _root(os.path.join(work, "lag"), writers)
    keep = os.path.join(work, "lag-kept")
    proc = _keeper(root, keep)
    try:
        tasks = _writers(rate, seconds, 4096, logs)
        meter = _LagMeter(tasks, [_kept(keep, log) for log in logs])
        tasks.wait(seconds + 60)
        meter.wait(30)
    finally:
        _stop(proc)
    lags = meter.lags[len(meter.lags) // 10:]  # after the first tenth: the start is not the load
    p50 = percentile(lags, 0.5)
    return Row(f"keep: lag of the kept copy p99, {writers} writers at {rate / 1e6:g} MB/s in all",
               percentile(lags, 0.99), 1.0, "the 1 s goal", goal="≤ 1 s absolute", ceiling=1.0,
               note=f"p50 {p50 * 1000:.0f} ms, {len(lags):,} writes")


def cpu(work: str, seconds: float, allocs: int = 50, rate: float = 1e6) -> Row:
    """The keeper's CPU time per second while ``allocs`` allocations write
    ``rate`` bytes per second in all (lines of 200 bytes)."""
    root, logs = _root(os.path.join(work, "cpu"), allocs)
    keep = os.path.join(work, "cpu-kept")
    proc = _keeper(root, keep)
    try:
        tasks = _writers(rate, seconds + 3, 200, logs)
        drain = threading.Thread(target=lambda: tasks.stdout.read(), daemon=True)
        drain.start()
        time.sleep(3)  # the first look at every allocation is not the load
        cpu0, wall0 = _cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        used = (_cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - wall0)
        tasks.wait(60)
    finally:
        _stop(proc)
    return Row(f"keep: CPU while {allocs} allocations write {rate / 1e6:g} MB/s in all "
               "(200-byte lines)", round(used * 100, 2), 5.0, "the 5 % goal", unit="% of a core",
               goal="≤ 5 %", ceiling=5.0)


def bytes_per_byte(work: str, size: int, allocs: int = 10) -> Row:
    """Bytes the keeper wrote per byte of log, across rotation, a
    truncation and a restart (SIGTERM then start again)."""
    root, logs = _root(os.path.join(work, "bytes"), allocs)
    keep = os.path.join(work, "bytes-kept")
    written = 0
    runs = []
    for phase in range(4):
        proc = _keeper(root, keep)
        try:
            for log in logs:
                directory = os.path.dirname(log)
                for rel in (f"{TASK}.stdout.{phase}", f"{TASK}.stderr.0"):
                    with open(os.path.join(directory, rel), "ab") as f:
                        chunk = os.urandom(size // 8)
                        f.write(chunk)
                        written += len(chunk)
            _wait_kept(keep, logs, phase)
            if phase == 2:  # a truncation, after everything was kept
                for log in logs:
                    os.truncate(os.path.join(os.path.dirname(log), f"{TASK}.stdout.2"), 0)
        finally:
            _stop(proc)
        with open(os.path.join(keep, ".allocdir-keep")) as f:
            runs.append(json.load(f)["last_run"])
    kept = sum(r["log_bytes"] for r in runs)
    meta = sum(r["metadata_bytes"] for r in runs)
    return Row("keep: bytes written per byte of log (rotation, truncation, 3 restarts)",
               round(kept / written, 4), 1.0, "every byte once", unit="×", goal="= 1.0", ceiling=1.0,
               note=f"{written / 2**20:.0f} MiB of logs; records {meta / written * 100:.2f} %")


def _wait_kept(keep: str, logs: list[str], phase: int, timeout: float = 60) -> None:
    """Until every member written so far is kept whole (and byte for byte)."""
    deadline = time.monotonic() + timeout
    for log in logs:
        directory = os.path.dirname(log)
        alloc_id = log.split(os.sep)[-4]
        for rel in [f"{TASK}.stdout.{p}" for p in range(phase + 1)] + [f"{TASK}.stderr.0"]:
            source = os.path.join(directory, rel)
            target = os.path.join(keep, alloc_id, "alloc", "logs", rel)
            while True:
                with open(source, "rb") as f:
                    want = f.read()
                try:
                    with open(target, "rb") as f:
                        have = f.read()
                except FileNotFoundError:
                    have = b""
                if have == want or (rel.endswith(".2") and phase > 2):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{target} did not catch up with {source}")
                time.sleep(0.02)


def keep_rows(work: str, quick: bool) -> list[Row]:
    """Every keep row."""
    return [lag(work, 5 if quick else 30), cpu(work, 5 if quick else 20),
            bytes_per_byte(work, (4 << 20) if quick else (64 << 20))]
