"""The viewer on a tiny and a huge file, and the app's first paint beside
`less`, each in a fresh process so time and memory are its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

from allocdir import AllocDir

from .harness import PEAK_RSS_SOURCE, Row

HEAD_LINE = "first line of the file"
TAIL_LINE = "last line of the file"

_PROBE = PEAK_RSS_SOURCE + r"""
import asyncio, json, sys, time
from inspector.tui.app import InspectorApp
from inspector.core.roots import Root

alloc_dir, rel, head, tail = sys.argv[1:5]

async def main():
    root = Root.open(alloc_dir)
    app = InspectorApp(root, open_file=root.locate(rel))
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        viewer = app.viewer
        async def shown(text, limit=60.0):
            deadline = time.perf_counter() + limit
            while time.perf_counter() < deadline:
                if any(text in line for line in viewer.body.plain_lines()):
                    return time.perf_counter()
                await pilot.pause(0.002)
            raise SystemExit(f"{text!r} never shown")
        first = await shown(head) - started
        viewer.focus()
        await pilot.pause()
        pressed = time.perf_counter()
        await pilot.press("G")
        to_tail = await shown(tail) - pressed
    print(json.dumps({"first_page": first, "tail": to_tail, "rss_mb": peak_rss()}))

asyncio.run(main())
"""


def _make_file(path: str, size: int) -> None:
    head = f"{HEAD_LINE}\n".encode()
    tail = f"{TAIL_LINE}\n".encode()
    with open(path, "wb") as f:
        f.write(head + b"log line\n" * 40)
        if size > f.tell() + len(tail):
            f.truncate(size - len(tail))  # sparse: no disk, no time
            f.seek(size - len(tail))
        f.write(tail)


def _probe(alloc: AllocDir, rel: str, head: str, tail: str) -> dict:
    """Open ``rel`` in the app in a fresh process: seconds until ``head`` is
    shown, seconds from `G` until ``tail`` is, and the peak RSS."""
    import json
    result = subprocess.run([sys.executable, "-c", _PROBE, alloc.alloc_dir, rel, head, tail],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"viewer probe failed: {result.stderr.strip()[-800:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def median_probe(alloc: AllocDir, rel: str, head: str = HEAD_LINE, tail: str = TAIL_LINE,
                 runs: int = 3) -> dict:
    """Each figure's median over ``runs`` fresh processes (RSS: the largest)."""
    probes = [_probe(alloc, rel, head, tail) for _ in range(runs)]
    middle = runs // 2
    return {"first_page": sorted(p["first_page"] for p in probes)[middle],
            "tail": sorted(p["tail"] for p in probes)[middle],
            "rss_mb": max(p["rss_mb"] for p in probes)}


def viewer_open_and_tail(work: str, huge: int = 8 << 30) -> list[Row]:
    alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
    alloc.build()
    small_rel, big_rel = "alloc/logs/small.stdout.0", "alloc/logs/huge.stdout.0"
    _make_file(os.path.join(alloc.alloc_dir, small_rel), 1024)
    _make_file(os.path.join(alloc.alloc_dir, big_rel), huge)
    small, big = median_probe(alloc, small_rel), median_probe(alloc, big_rel)
    alloc.destroy()
    size = f"{huge / 2**30:g} GiB"
    return [
        Row(f"viewer: open to first page, {size} file", big["first_page"], small["first_page"],
            "the same on a 1 KiB file", goal="≈ 1", limit=1.5),
        Row(f"viewer: `G` to tail shown, {size} file", big["tail"], small["tail"],
            "the same on a 1 KiB file", goal="≈ 1", limit=1.5),
        Row(f"viewer: peak RSS with the {size} file open", big["rss_mb"], 150.0,
            "the 150 MB goal", unit="MB", goal="≤ 1", limit=1.0,
            note=f"{small['rss_mb']:.0f} MB with the 1 KiB file"),
    ]


_TMUX = ["tmux", "-L", "allocdir-bench"]  # a server of our own, not the user's


def _first_paint(command: str, marker: str, width: int = 120, height: int = 40) -> float:
    """Seconds from starting ``command`` in a fresh tmux window until
    ``marker`` is on screen."""
    window = f"bench-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    subprocess.run([*_TMUX, "new-window", "-d", "-t", "keeper", "-n", window, command],
                   check=True)
    target = f"keeper:{window}"
    try:
        deadline = started + 30
        while time.perf_counter() < deadline:
            screen = subprocess.run([*_TMUX, "capture-pane", "-p", "-t", target],
                                    capture_output=True, text=True).stdout
            if marker in screen:
                return time.perf_counter() - started
            time.sleep(0.005)
        raise RuntimeError(f"{command!r} never showed {marker!r}")
    finally:
        subprocess.run([*_TMUX, "kill-window", "-t", target], capture_output=True)


def _installed_command() -> str:
    """The console script as pip installed it beside this interpreter, with
    its modules byte-compiled as an installed wheel has them. A version
    manager's shim in PATH (pyenv's runs bash, ~60 ms here) or an
    environment that forbids writing bytecode would be measured otherwise."""
    import compileall

    import allocdir
    import inspector

    for package in (allocdir, inspector):
        compileall.compile_dir(os.path.dirname(package.__file__), quiet=1)
    script = os.path.join(os.path.dirname(sys.executable), "allocdir-inspector")
    return script if os.access(script, os.X_OK) else "allocdir-inspector"


def app_first_paint(work: str) -> Row:
    if shutil.which("tmux") is None or shutil.which("less") is None:
        raise RuntimeError("needs tmux and less")
    command = _installed_command()
    alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
    alloc.build()
    rel = "alloc/logs/web.stdout.0"
    _make_file(os.path.join(alloc.alloc_dir, rel), 64 << 20)
    path = os.path.join(alloc.alloc_dir, rel)
    # One long-lived session keeps the server up; each run gets a fresh window
    # of the same size (starting and stopping servers races in tmux).
    subprocess.run([*_TMUX, "new-session", "-d", "-s", "keeper", "-x", "120", "-y", "40"],
                   check=True)
    try:
        ours = min(_first_paint(f"{command} {alloc.alloc_dir} --open {rel}", HEAD_LINE)
                   for _ in range(5))
        theirs = min(_first_paint(f"{shutil.which('less')} {path}", HEAD_LINE) for _ in range(5))
    finally:
        subprocess.run([*_TMUX, "kill-server"], capture_output=True)
        alloc.destroy()
    return Row("app start to first paint of a file", ours, theirs, "`less` on the same file",
               goal="≤ 250 ms absolute", ceiling=0.25)


_FOLLOW_PROBE = r"""
import asyncio, json, os, statistics, sys, time
from inspector.tui.app import InspectorApp
from inspector.core.roots import Root
from inspector.tui.viewer import FileViewer

alloc_dir, rel, samples = sys.argv[1], sys.argv[2], int(sys.argv[3])

async def main():
    root = Root.open(alloc_dir)
    app = InspectorApp(root, open_file=root.locate(rel), follow=True)
    latencies = []
    async with app.run_test(size=(120, 40)) as pilot:
        viewer = app.query_one(FileViewer)
        while not viewer.following:
            await pilot.pause(0.01)
        await pilot.pause(0.3)
        with open(os.path.join(alloc_dir, rel), "ab", buffering=0) as log:
            for i in range(samples):
                marker = f"follow probe {i:04d}"
                started = time.perf_counter()
                log.write(marker.encode() + b"\n")
                while not any(marker in line for line in viewer.body.plain_lines()):
                    await asyncio.sleep(0.0005)
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.02)
    latencies.sort()
    print(json.dumps({"p50": latencies[len(latencies) // 2],
                      "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}))

asyncio.run(main())
"""


def follow_on_screen(work: str, samples: int = 100) -> list[Row]:
    """Write → visible in the followed viewer, beside write → `tail -F` output."""
    import json

    from .bench_watch import _latencies, _Tail
    from .harness import percentile

    alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
    alloc.build()
    rel = "alloc/logs/web.stdout.0"
    path = os.path.join(alloc.alloc_dir, rel)
    with open(path, "wb") as f:
        f.write(b"boot\n" * 100)
    result = subprocess.run([sys.executable, "-c", _FOLLOW_PROBE, alloc.alloc_dir, rel,
                             str(samples)], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"follow probe failed: {result.stderr.strip()[-500:]}")
    ours = json.loads(result.stdout.strip().splitlines()[-1])
    tail = _Tail(path)
    try:
        theirs = _latencies(tail, path, samples)
    finally:
        tail.close()
    alloc.destroy()
    return [Row("follow: write → on screen, p50", ours["p50"], percentile(theirs, 0.5),
                "`tail -F` output", goal="≤ 100 ms absolute", ceiling=0.1),
            Row("follow: write → on screen, p99", ours["p99"], percentile(theirs, 0.99),
                "`tail -F` output", goal="≤ 100 ms absolute", ceiling=0.1)]
