"""The notebook front-end: ``nb.view`` from the call to the tail shown, on an
8 GiB file beside a 1 KiB one; ``nb.follow`` from a write to the line in the
widget, beside GNU ``tail -F`` printing it.

Both run with an asyncio loop in the main thread, as in a Jupyter kernel:
the widgets change on that loop (``call_soon_threadsafe`` from the workers),
and a figure is taken when the widget model holds the text (what the
kernel then sends to the browser; the browser's own drawing is not timed).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid

from allocdir import AllocDir

from .bench_viewer import HEAD_LINE, TAIL_LINE
from .bench_watch import _latencies, _Tail
from .harness import Row, percentile

_VIEW_PROBE = r"""
import asyncio, json, sys, time
from allocdir import AllocDir

alloc_dir, rel, tail, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

async def main():
    from inspector import notebook as nb
    import ipywidgets  # imported before timing: a kernel has it once the first widget exists
    alloc = AllocDir.discover(alloc_dir)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        viewer = nb.view(alloc, rel)
        viewer.tail()
        while tail not in viewer.body.value:
            await asyncio.sleep(0.0005)
        samples.append(time.perf_counter() - started)
        viewer.close()
    print(json.dumps(samples))

asyncio.run(main())
"""


def _make_file(path: str, size: int) -> None:
    """``size`` bytes whose last page is the same whatever the size: a head,
    a hole (sparse: no disk, no time), then 50 log lines and the last line.
    (Only the size differs between the files compared, not what is shown.)"""
    head = f"{HEAD_LINE}\n".encode() + b"log line\n" * 40
    tail = b"".join(b"log line %02d\n" % n for n in range(50)) + f"{TAIL_LINE}\n".encode()
    with open(path, "wb") as f:
        f.write(head)
        if size > len(head) + len(tail):
            f.truncate(size - len(tail))
            f.seek(size - len(tail))
        f.write(tail)


def _view_samples(alloc: AllocDir, rel: str, runs: int) -> list[float]:
    result = subprocess.run([sys.executable, "-c", _VIEW_PROBE, alloc.alloc_dir, rel, TAIL_LINE,
                             str(runs)], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"view probe failed: {result.stderr.strip()[-500:]}")
    import json
    return json.loads(result.stdout.strip().splitlines()[-1])


def view_tail(work: str, huge: int = 8 << 30, runs: int = 7) -> list[Row]:
    """``nb.view(...)`` then Tail: from the call until the last line is in the widget."""
    alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
    alloc.build()
    small_rel, big_rel = "alloc/logs/small.stdout.0", "alloc/logs/huge.stdout.0"
    _make_file(os.path.join(alloc.alloc_dir, small_rel), 1024)
    _make_file(os.path.join(alloc.alloc_dir, big_rel), huge)
    try:
        small = statistics.median(_view_samples(alloc, small_rel, runs))
        big = statistics.median(_view_samples(alloc, big_rel, runs))
    finally:
        alloc.destroy()
    size = f"{huge / 2**30:g} GiB"
    return [Row(f"notebook: `nb.view` to tail shown, {size} file", big, small,
                "the same on a 1 KiB file", goal="≈ 1", limit=1.5,
                note=f"{big * 1000:.0f} ms, {small * 1000:.0f} ms: medians of fresh viewers")]


class _Widget:
    """Records when a followed line reaches the widget's model, as ``_Tail`` does
    for ``tail -F``: ``arrived`` is set, ``arrival`` is when."""

    def __init__(self, view) -> None:
        self.view = view
        self.arrived = threading.Event()
        self.arrival = 0.0
        self.expect = ""
        view.body.observe(self._changed, "value")

    def _changed(self, change) -> None:
        if self.expect and self.expect in change["new"]:
            self.arrival = time.perf_counter()
            self.arrived.set()


def _widget_latencies(watcher: _Widget, path: str, samples: int, gap: float = 0.03) -> list[float]:
    result = []
    with open(path, "ab", buffering=0) as log:
        for i in range(samples):
            time.sleep(random.uniform(0.005, gap))
            watcher.arrived.clear()
            watcher.expect = f"notebook probe {i:05d}"
            start = time.perf_counter()
            log.write(f"notebook probe {i:05d}\n".encode())
            if not watcher.arrived.wait(5):
                raise RuntimeError("the follow widget never showed the line")
            result.append(watcher.arrival - start)
    return result


def follow_latency(work: str, samples: int = 200) -> list[Row]:
    """Write → line in ``nb.follow``'s widget, p50/p99, beside ``tail -F``."""
    alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
    alloc.build()
    rel = "alloc/logs/web.stdout.0"
    path = os.path.join(alloc.alloc_dir, rel)
    with open(path, "wb") as f:
        f.write(b"boot\n" * 100)

    async def ours() -> list[float]:
        from inspector import notebook as nb

        view = nb.follow(alloc, rel)  # made on the running loop, as in a kernel cell
        await view.until(lines=1)  # the file is open: the follower exists
        await asyncio.to_thread(view.follower.wait_watching, 5)
        await asyncio.sleep(0.3)
        watcher = _Widget(view)
        try:
            # The writer blocks, so it runs in a thread; the loop stays free
            # to apply the widget's changes, as an idle kernel's does.
            return await asyncio.to_thread(_widget_latencies, watcher, path, samples)
        finally:
            view.stop(wait=False)
            await asyncio.to_thread(view.stop)

    try:
        mine = asyncio.run(ours())
        tail = _Tail(path)
        try:
            theirs = _latencies(tail, path, samples)
        finally:
            tail.close()
    finally:
        alloc.destroy()
    return [
        Row("notebook: `nb.follow` write → line in the widget, p50", percentile(mine, 0.5),
            percentile(theirs, 0.5), "`tail -F` output", goal="≤ 100 ms absolute", ceiling=0.1),
        Row("notebook: `nb.follow` write → line in the widget, p99", percentile(mine, 0.99),
            percentile(theirs, 0.99), "`tail -F` output", goal="≤ 100 ms absolute",
            ceiling=0.1),
    ]


def notebook_rows(work: str, quick: bool) -> list[Row]:
    """Every notebook metric (the ``notebook`` group of ``python -m tests.benchmarks``)."""
    return (view_tail(work, (64 << 20) if quick else (8 << 30), 3 if quick else 7)
            + follow_latency(work, 30 if quick else 200))
