"""Issue #18's Measure rows: an allocation's logs merged in time order,
beside their anchors in one run.

- 10 rotation sets (5 tasks × stdout, stderr; 2 files each) of ``set_size``
  bytes: open to first screen and ``G`` beside opening one 1 KiB file, go to
  ``@time`` in the middle, the peak RSS of a fresh process doing all that;
- 4 logs: a full pass in order (``logs --all --merge``) beside
  ``sort -m -s -k1,1`` of the same files, and, when lnav is installed,
  the merged first screen beside lnav loading the same files
  (``lnav -n``: headless, it indexes every file and exits; an upper bound
  of its time to first screen, said in the row);
- 6 logs (3 tasks × stdout, stderr) written by another process, a line to
  each in turn: write → the line in the frame of a session following them
  merged, and write → bytes on the stdout of ``logs --all -f``, each beside
  ``tail -F`` of the same files (in rounds, each in turn).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid

from allocdir import AllocDir

from .bench_follow import _SessionWatcher
from .bench_reading import _alternate, _warm, make_log
from .harness import PEAK_RSS_SOURCE, Row, percentile

TASKS = 5
PROBE = PEAK_RSS_SOURCE + r"""
import json, sys, time
from allocdir import AllocDir
from inspector.core.merge import alloc_sources, log_sources
from inspector.core.session import ReaderSession
from inspector.core.session.jobs import InlineExecutor

alloc = AllocDir(sys.argv[1])
one = sys.argv[2]

def session():
    return ReaderSession(InlineExecutor(), lambda frame: None, width=120, height=40)

out = {}
s = session()
started = time.perf_counter(); s.open(alloc, one, label=one); out["one_open"] = time.perf_counter() - started
started = time.perf_counter(); s.tail(); out["one_tail"] = time.perf_counter() - started
s.close()
s = session()
started = time.perf_counter()
s.open_merged(alloc_sources(alloc), label="all logs")
out["open"] = time.perf_counter() - started
assert s.frame.rows and s.frame.rows[0].tag is not None, "no merged first screen"
started = time.perf_counter(); s.tail(); out["tail"] = time.perf_counter() - started
started = time.perf_counter(); s.goto("@" + sys.argv[3]); out["time"] = time.perf_counter() - started
out["top"] = s.frame.rows[0].plain[:30]
s.close()
s = session()  # after the merged rows: its imports and reads are not theirs
s.open(alloc, "alloc/logs/t0.stdout", label="t0.stdout")
started = time.perf_counter(); s.tail(); out["set_tail"] = time.perf_counter() - started
s.close()
out["rss"] = peak_rss()
print(json.dumps(out))
"""


def _alloc(work: str) -> AllocDir:
    alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
    alloc.build()
    return alloc


def _logs(alloc: AllocDir) -> str:
    return os.path.join(alloc.alloc_dir, "alloc/logs")


def _ten_sets(work: str, set_size: int) -> tuple[AllocDir, int]:
    """5 tasks × 2 streams, each a set of two files of ``set_size / 2``;
    the first written once and hard-linked (the same bytes, fast to build)."""
    alloc = _alloc(work)
    logs = _logs(alloc)
    first = os.path.join(logs, "t0.stdout.0")
    member = make_log(first, set_size // 2)
    for task in range(TASKS):
        for stream in ("stdout", "stderr"):
            for n in (0, 1):
                path = os.path.join(logs, f"t{task}.{stream}.{n}")
                if path != first:
                    os.link(first, path)
    _warm(first)
    with open(os.path.join(logs, "one.log"), "wb") as f:
        f.write(b"2026-11-01T00:00:00.0000Z INFO one small file\n" * 22)
    return alloc, member * 2


def _middle(alloc: AllocDir) -> str:
    """A time halfway through the logs (their first line's and last line's hours)."""
    with open(os.path.join(_logs(alloc), "t0.stdout.0"), "rb") as f:
        first = f.read(64)
        f.seek(-4096, os.SEEK_END)
        last = f.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    start, end = (int(line[8:10]) * 24 + int(line[11:13]) for line in (first, last))
    day, hour = divmod((start + end) // 2, 24)
    return f"2026-11-{day:02d}T{hour:02d}:30"


def merged_sets(work: str, set_size: int) -> list[Row]:
    """Open, ``G``, ``@time`` and peak RSS on 10 merged sets, in a fresh process."""
    alloc, total = _ten_sets(work, set_size)
    try:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [
            os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
            os.environ.get("PYTHONPATH")])))
        done = subprocess.run([sys.executable, "-c", PROBE, alloc.alloc_dir,
                               "alloc/logs/one.log", _middle(alloc)],
                              capture_output=True, text=True, check=True, env=env)
        import json

        got = json.loads(done.stdout.strip().splitlines()[-1])
        size = f"10 sets × {total / 2**20:,.0f} MiB"
        return [
            Row(f"merged {size}: open to first screen", got["open"], got["one_open"],
                "opening one 1 KiB file", goal="≤ 1.5", limit=1.5),
            Row(f"merged {size}: `G` to the merged tail", got["tail"], got["one_tail"],
                "`G` on one 1 KiB file", goal="≤ 1.5", limit=1.5,
                note=f"`G` on one of the sets alone: {got['set_tail'] * 1000:.1f} ms"),
            Row(f"merged {size}: go to `@time` in the middle", got["time"], 0.0, "—",
                goal="≤ 0.3 s", ceiling=0.3, note=f"top: {got['top']}"),
            Row(f"merged {size}: peak RSS", got["rss"], 0.0, "—", unit="MB",
                goal="≤ 150 MB", ceiling=150.0),
        ]
    finally:
        alloc.destroy()


def _four_logs(work: str, size: int) -> tuple[AllocDir, list[str], int]:
    alloc = _alloc(work)
    logs = _logs(alloc)
    paths = []
    written = 0
    for task in range(4):
        path = os.path.join(logs, f"t{task}.stdout.0")
        written = make_log(path, size)
        _warm(path)
        paths.append(path)
    return alloc, paths, written


def _timed(argv: list[str], env=None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                   env=env)
    return time.perf_counter() - started


def four_logs(work: str, size: int) -> list[Row]:
    """A full pass over 4 merged logs beside `sort -m`; the first screen beside lnav."""
    alloc, paths, written = _four_logs(work, size)
    root = os.path.dirname(alloc.alloc_dir)
    label = f"4 × {written / 2**20:,.0f} MiB"  # make_log writes whole hours: more than asked
    rows = []
    try:
        logs_cmd = [sys.executable, "-m", "inspector", "logs", alloc.alloc_id, "--all",
                    "--merge", "--root", root]
        mine, theirs = _alternate(lambda: _timed(logs_cmd),
                                  lambda: _timed(["sort", "-m", "-s", "-k1,1", *paths]))
        rows.append(Row(f"merged {label}, full pass in order (`logs --all --merge`)", mine,
                        theirs, "`sort -m -s -k1,1`", goal="≤ 1.5", limit=1.5))
        lnav = shutil.which("lnav")
        if lnav is not None:
            probe = PROBE.split("out = {}")[0] + (
                "s = session(); started = time.perf_counter()\n"
                "s.open_merged(alloc_sources(alloc, streams=['stdout']), label='4')\n"
                "print(time.perf_counter() - started)\n")
            first = []

            def ours() -> float:
                done = subprocess.run([sys.executable, "-c", probe, alloc.alloc_dir, "x"],
                                      capture_output=True, text=True, check=True)
                first.append(float(done.stdout.split()[-1]))
                return first[-1]

            env = dict(os.environ, HOME=os.path.join(work, "lnav-home"))
            mine, theirs = _alternate(ours, lambda: _timed([lnav, "-n", *paths], env=env))
            rows.append(Row(f"merged {label}, first screen", mine, theirs,
                            "`lnav -n` of the same files (loads them all: an upper bound "
                            "of its first screen)", goal="≤ 0.1", limit=0.1))
    finally:
        alloc.destroy()
    return rows


FOLLOWED_TASKS = 3
_WRITER = r"""
import os, sys, time
fds = [os.open(path, os.O_WRONLY | os.O_APPEND) for path in sys.argv[1:]]
for line in sys.stdin:
    i = int(line)
    started = time.perf_counter()
    os.write(fds[i % len(fds)], b"line %d\n" % i)
    time.sleep(0.005)
    print(repr(started), flush=True)
"""
"""A task writing: line ``i`` to the ``i % n``-th log, the time of the write on stdout."""


def _six_logs(work: str) -> tuple[AllocDir, list[str]]:
    alloc = _alloc(work)
    paths = []
    for task in range(FOLLOWED_TASKS):
        for stream in ("stdout", "stderr"):
            path = os.path.join(_logs(alloc), f"t{task}.{stream}.0")
            with open(path, "wb") as f:
                f.write(b"boot\n" * 100)
            paths.append(path)
    return alloc, paths


class _Reader:
    """A process whose stdout is timed as it arrives (``tail -F``, ``logs -f``):
    ``arrived`` set when a new ``line N`` is seen."""

    def __init__(self, argv: list[str], env=None) -> None:
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env)
        self.arrived = threading.Event()
        self.arrival = 0.0
        self.seen = b""
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        fd = self.proc.stdout.fileno()
        while chunk := os.read(fd, 65536):
            self.seen = (self.seen + chunk)[-4096:]
            if b"line " in chunk:
                self.arrival = time.perf_counter()
                self.arrived.set()

    def ready(self, paths: list[str], timeout: float = 30.0) -> None:
        """Wait until a line appended to every log comes out (it follows them all)."""
        deadline = time.monotonic() + timeout
        for n, path in enumerate(paths):
            marker = b"ready %d" % n
            while marker not in self.seen:  # written again: one written before it started is old
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.proc.args[:4]} never followed {path}")
                with open(path, "ab") as f:
                    f.write(marker + b"\n")
                time.sleep(0.2)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)
        self.thread.join(5)


def _merged_session(alloc: AllocDir) -> _SessionWatcher:
    """A reader session following an allocation's logs merged (jobs in threads)."""
    from inspector.core.merge import alloc_sources

    return _SessionWatcher(alloc, "", follow=lambda session: session.open_merged(
        alloc_sources(alloc), label="all logs", follow=True))


def _write_and_time(watcher, paths: list[str], first: int, samples: int) -> list[float]:
    """Line ``first + i`` written by another process to each log in turn,
    a random pause apart: write → the watcher has it."""
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, *paths], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    result = []
    try:
        for i in range(first, first + samples):
            time.sleep(random.uniform(0.005, 0.03))
            watcher.arrived.clear()
            writer.stdin.write(f"{i}\n")
            writer.stdin.flush()
            started = float(writer.stdout.readline())
            if not watcher.arrived.wait(5):
                raise RuntimeError(f"{type(watcher).__name__} saw line {i} not within 5 s")
            result.append(watcher.arrival - started)
    finally:
        writer.stdin.close()
        writer.wait(5)
    return result


def _env() -> dict:
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [
        here, os.environ.get("PYTHONPATH")])))


def followed_logs(work: str, samples: int = 60, rounds: int = 3) -> list[Row]:
    """Following 6 logs at once: the merged session's frame and ``logs -f``,
    each beside ``tail -F`` of the same files, in rounds (each in turn)."""
    if shutil.which("tail") is None:
        raise RuntimeError("needs tail")
    alloc, paths = _six_logs(work)
    measured: dict[str, list[float]] = {"session": [], "one": [], "logs": [], "tail": []}
    each = max(10, samples // rounds)
    logs_cmd = [sys.executable, "-m", "inspector", "logs", alloc.alloc_dir, "--all", "-f",
                "-n", "0"]
    makers = {
        "session": lambda: _merged_session(alloc),
        "one": lambda: _SessionWatcher(alloc, os.path.relpath(paths[0], alloc.alloc_dir)),
        "logs": lambda: _Reader(logs_cmd, env=_env()),
        "tail": lambda: _Reader(["tail", "-F", "-n", "0", *paths]),
    }
    written = 0
    try:
        for _ in range(rounds):
            for name, make in makers.items():
                watcher = make()
                try:
                    if isinstance(watcher, _Reader):
                        watcher.ready(paths)
                    written_to = paths[:1] if name == "one" else paths
                    measured[name].extend(_write_and_time(watcher, written_to, written, each))
                    written += each
                finally:
                    watcher.close()
    finally:
        alloc.destroy()
    merged, one, logs, tail = (measured[name] for name in ("session", "one", "logs", "tail"))
    note = "a line to each log in turn, another process"
    rows = [Row(f"follow 6 logs merged: write → line in the session's frame, {q}",
                percentile(merged, p), percentile(one, p), "one log followed in a session",
                goal="≤ 1.2", limit=1.2, note=note)
            for q, p in (("p50", 0.5), ("p99", 0.99))]
    rows.append(Row("follow 6 logs merged: write → line in the session's frame, p50",
                    percentile(merged, 0.5), percentile(tail, 0.5),
                    "`tail -F` of the same files", note=note))
    rows.append(Row("`logs --all -f` of 6 logs: write → bytes on stdout, p50",
                    percentile(logs, 0.5), percentile(tail, 0.5), "`tail -F` of the same files",
                    goal="≤ 1.0", limit=1.0, note=note))
    return rows
