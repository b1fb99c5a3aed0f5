"""Usage and the process map against the tools an operator would run by
hand: ``du -s`` and ``lsof +D``."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid

from allocdir import AllocDir

from .harness import PEAK_RSS_SOURCE, Row, timed

RUNS = 3


def _files(directory: str, count: int) -> None:
    """``count`` files of 100 bytes in ``directory`` (made through its fd)."""
    os.makedirs(directory, exist_ok=True)
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in range(count):
            out = os.open(f"f{i:07d}", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            os.write(out, b"x" * 100)
            os.close(out)
    finally:
        os.close(fd)


def _alloc(root: str, dirs: int, per_dir: int) -> AllocDir:
    """An alloc dir whose ``web/local`` holds ``dirs`` directories of ``per_dir`` files."""
    alloc = AllocDir(os.path.join(root, str(uuid.uuid4())))
    alloc.build()
    alloc.new_task_dir("web").build()
    for d in range(dirs):
        _files(os.path.join(alloc.alloc_dir, "web", "local", f"d{d:05d}"), per_dir)
    return alloc


def _du(path: str) -> None:
    subprocess.run(["du", "-s", path], check=True, stdout=subprocess.DEVNULL)


def _ours(path: str) -> None:
    from allocdir import measure_usage

    usage = measure_usage(path)
    if not usage.complete:
        raise RuntimeError(f"partial: {usage.partial}")


def _pair(path: str) -> tuple[float, float]:
    """Median times of ours and du, interleaved, the page cache warm for both."""
    _ours(path), _du(path)
    samples = [(timed(lambda: _ours(path)), timed(lambda: _du(path))) for _ in range(RUNS)]
    return statistics.median(o for o, _ in samples), statistics.median(t for _, t in samples)


FIRST_NUMBERS_PROBE = r"""
import sys, time
from allocdir import measure_usage
started = time.perf_counter()
first = []
def seen(usage):
    if not first and usage.inodes > 1:
        first.append(time.perf_counter() - started)
measure_usage(sys.argv[1], on_progress=seen, progress_every=0.0)
print(first[0])
"""

RSS_PROBE = PEAK_RSS_SOURCE + r"""
import json, resource, sys
from allocdir import measure_usage
usage = measure_usage(sys.argv[1])
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"parent": peak_rss(), "walker": children, "inodes": usage.inodes}))
"""


def _probe(source: str, *args: str) -> str:
    return subprocess.run([sys.executable, "-c", source, *args], check=True,
                          capture_output=True, text=True).stdout


def usage_rows(work: str, scale: float) -> list[Row]:
    """The du rows: 1,000 dirs x 1,000 files, a flat dir, a 50-allocation root."""
    rows = []
    dirs, per_dir = max(10, int(1000 * scale)), max(100, int(1000 * scale))
    alloc = _alloc(os.path.join(work, "one"), dirs, per_dir)
    ours, theirs = _pair(alloc.alloc_dir)
    rows.append(Row(f"usage of an alloc with {dirs * per_dir:,} small files in {dirs:,} dirs",
                    ours, theirs, "`du -s` of it", goal="≤ 1", limit=1.0))
    firsts = [float(_probe(FIRST_NUMBERS_PROBE, alloc.alloc_dir)) for _ in range(RUNS)]
    rows.append(Row("first numbers for that alloc (a fresh interpreter, imports excluded)",
                    statistics.median(firsts), 0.2, "the 200 ms goal", goal="≤ 200 ms",
                    ceiling=0.2))
    alloc.destroy()

    flat_count = max(1000, int(200_000 * scale))
    flat = AllocDir(os.path.join(work, "flat", str(uuid.uuid4())))
    flat.build()
    _files(os.path.join(flat.alloc_dir, "alloc", "data"), flat_count)
    ours, theirs = _pair(flat.alloc_dir)
    rows.append(Row(f"same, as a flat directory of {flat_count:,} files", ours, theirs,
                    "`du -s`", goal="≤ 1.2", limit=1.2))
    flat.destroy()

    root = os.path.join(work, "root")
    allocs = [_alloc(root, max(2, int(40 * scale)), max(50, int(1000 * scale)))
              for _ in range(50)]
    total = sum(1 for _ in allocs) * max(2, int(40 * scale)) * max(50, int(1000 * scale))
    ours, theirs = _pair(root)
    rows.append(Row(f"usage of a 50-allocation client root ({total:,} files), whole", ours,
                    theirs, "`du -s` of the root", goal="≤ 1", limit=1.0))
    rss = json.loads(_probe(RSS_PROBE, root))
    peak = rss["parent"] + rss["walker"]
    rows.append(Row(f"peak RSS during the {total:,}-file walk (measuring process "
                    f"{rss['parent']:.0f} MB + a walker {rss['walker']:.0f} MB)", peak, 150,
                    "the 150 MB goal", unit="MB", goal="≤ 150 MB", ceiling=150))
    for alloc in allocs:
        alloc.destroy()
    return rows


def process_rows(work: str, count: int = 500) -> list[Row]:
    """The process map of a 50-allocation root with ``count`` processes (a
    third with their cwd in an allocation, a third holding a file of one
    open, a third elsewhere), against ``lsof +D`` of the root and psutil."""
    from inspector.core.usage.procs import scan_processes

    root = os.path.join(work, "procs")
    allocs = [_alloc(root, 5, 20) for _ in range(50)]
    started = []
    try:
        for i in range(count):
            alloc = allocs[i % 50].alloc_dir
            if i % 3 == 0:
                argv, cwd = ["sleep", "600"], os.path.join(alloc, "web", "local")
            elif i % 3 == 1:
                held = os.path.join(alloc, "web", "local", "d00000", "f0000000")
                argv, cwd = ["sh", "-c", 'exec 3<"$0"; exec sleep 600', held], "/"
            else:
                argv, cwd = ["sleep", "600"], "/"
            started.append(subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL))
        time.sleep(0.5)  # every sh has exec'd its sleep
        dirs = [a.alloc_dir for a in allocs]

        def ours() -> None:
            found = scan_processes(dirs)
            users = sum(len(v) for v in found.users.values())
            if users < 2 * count // 3 - 1:
                raise RuntimeError(f"only {users} users found")

        def lsof() -> None:
            subprocess.run(["lsof", "-n", "+D", root], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)

        def with_psutil() -> None:
            import psutil

            for proc in psutil.process_iter():
                try:
                    proc.cwd()
                    proc.open_files()
                except (psutil.Error, OSError):
                    pass

        samples = [(timed(ours), timed(lsof)) for _ in range(RUNS)]
        mine = statistics.median(o for o, _ in samples)
        rows = [Row(f"processes using each allocation, {count} processes on the node", mine,
                    statistics.median(t for _, t in samples), "`lsof +D` of the client root",
                    goal="≤ 0.5", limit=0.5)]
        try:
            theirs = statistics.median(timed(with_psutil) for _ in range(RUNS))
            rows.append(Row("the same from /proc directly", mine, theirs,
                            "psutil (cwd and open files of every process)", goal="—"))
        except ImportError:
            pass
        return rows
    finally:
        for proc in started:
            proc.kill()
            proc.wait()
        for alloc in allocs:
            alloc.destroy()
