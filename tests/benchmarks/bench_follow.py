"""Following beside GNU ``tail -F``, the line written by another process as a
task writes its log: until it is in the reader session's frame, and until
it is on the screen of the app in tmux (both panes fed by the same write);
and how long a key takes to move the view.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
import uuid

from allocdir import AllocDir

from .bench_watch import _latencies_from_a_task, _Tail
from .harness import PEAK_RSS_SOURCE, Row, percentile

LOG = "alloc/logs/web.stdout.0"


class _SessionWatcher:
    """A reader session following ``rel`` headless (its jobs in threads,
    what they deliver applied in the worker): ``arrived`` is set, and
    ``arrival`` taken, when a frame shows a new last line."""

    def __init__(self, alloc: AllocDir, rel: str) -> None:
        from inspector.core.session import ReaderSession, ThreadExecutor

        self.arrived = threading.Event()
        self.arrival = 0.0
        self._last = ""
        self.session = ReaderSession(ThreadExecutor(), self._frame, width=120, height=40,
                                     wrap=False)
        self.session.open(alloc, rel, follow=True)
        deadline = time.monotonic() + 10
        while (self.session.follower is None or not self.session.follower.wait_watching(0.1)
               or not self.session.frame.following):
            if time.monotonic() > deadline:
                raise RuntimeError("the session did not start following")
        time.sleep(0.2)

    def _frame(self, frame) -> None:
        rows = frame.rows
        last = rows[-1].text.plain if rows else ""
        if last != self._last and last.startswith("line "):
            self._last = last
            self.arrival = time.perf_counter()
            self.arrived.set()

    def close(self) -> None:
        self.session.close()


def session_frame_latency(work: str, samples: int = 300, rounds: int = 3) -> list[Row]:
    """Write → the line in the session's frame, beside write → ``tail -F`` output,
    in rounds (each in turn), the line written by a separate process."""
    alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
    alloc.build()
    path = os.path.join(alloc.alloc_dir, LOG)
    with open(path, "wb") as f:
        f.write(b"boot\n" * 100)
    measured: dict[str, list[float]] = {"ours": [], "tail": []}
    each = max(10, samples // rounds)
    try:
        for _ in range(rounds):
            for name, make in (("ours", lambda: _SessionWatcher(alloc, LOG)),
                               ("tail", lambda: _Tail(path))):
                watcher = make()
                try:
                    measured[name].extend(_latencies_from_a_task(watcher, path, each))
                finally:
                    watcher.close()
    finally:
        alloc.destroy()
    ours, theirs = measured["ours"], measured["tail"]
    return [Row(f"follow: write → line in the session's frame, {q}", percentile(ours, p),
                percentile(theirs, p), "`tail -F` output", goal="≤ 1.2", limit=1.2,
                note="the task writing")
            for q, p in (("p50", 0.5), ("p99", 0.99))]


class _ControlClient:
    """A tmux control-mode client: the time each pane printed each marker."""

    _OUTPUT = re.compile(rb"^%output (%\d+) (.*)$")

    def __init__(self, tmux: list[str], session: str) -> None:
        self.proc = subprocess.Popen([*tmux, "-C", "attach", "-t", session],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.seen: queue.SimpleQueue[tuple[str, bytes, float]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            found = self._OUTPUT.match(raw.rstrip(b"\n"))
            if found:
                self.seen.put((found.group(1).decode(), found.group(2), time.perf_counter()))

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


_TASK = r"""
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
for line in sys.stdin:
    started = time.perf_counter()
    os.write(fd, b"probe %06d\n" % int(line))
    time.sleep(0.005)
    print(repr(started), flush=True)
"""


def tmux_screen_latency(work: str, samples: int = 200, pythonpath: str | None = None) -> list[Row]:
    """Write → the line on the screen of ``allocdir-inspector --follow`` in
    tmux, beside ``tail -F`` in the same tmux, fed by the same write (as
    tmux receives their output: a control-mode client timestamps it)."""
    if shutil.which("tmux") is None or shutil.which("tail") is None:
        raise RuntimeError("needs tmux and tail")
    alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
    alloc.build()
    path = os.path.join(alloc.alloc_dir, LOG)
    with open(path, "wb") as f:
        f.write(b"boot\n" * 100)
    tmux = ["tmux", "-L", f"bench-{uuid.uuid4().hex[:8]}"]
    env = f"PYTHONPATH={shlex.quote(pythonpath)} " if pythonpath else ""
    app = f"{env}{shlex.quote(sys.executable)} -m inspector {alloc.alloc_dir} --open {LOG} --follow"
    subprocess.run([*tmux, "new-session", "-d", "-s", "bench", "-x", "120", "-y", "40",
                    "-n", "app", app], check=True)
    subprocess.run([*tmux, "new-window", "-d", "-t", "bench", "-n", "tail",
                    f"tail -F -n 0 {shlex.quote(path)}"], check=True)
    panes = dict(line.split() for line in subprocess.run(
        [*tmux, "list-panes", "-s", "-t", "bench", "-F", "#{window_name} #{pane_id}"],
        capture_output=True, text=True, check=True).stdout.splitlines())
    ours, theirs = [], []
    writer = None
    client = None
    try:
        deadline = time.monotonic() + 30
        while "FOLLOW" not in subprocess.run([*tmux, "capture-pane", "-p", "-t", "bench:app"],
                                             capture_output=True, text=True).stdout:
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not start following")
            time.sleep(0.05)
        time.sleep(0.5)
        client = _ControlClient(tmux, "bench")
        time.sleep(0.3)
        writer = subprocess.Popen([sys.executable, "-c", _TASK, path], text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        for i in range(samples):
            time.sleep(0.01 + (i * 7919 % 19) / 1000)  # 10 to 28 ms apart
            writer.stdin.write(f"{i}\n")
            writer.stdin.flush()
            started = float(writer.stdout.readline())
            marker = b"probe %06d" % i
            arrived = _wait_for(client, marker, {panes["app"], panes["tail"]}, 5.0)
            ours.append(arrived[panes["app"]] - started)
            theirs.append(arrived[panes["tail"]] - started)
    finally:
        if writer is not None:
            writer.stdin.close()
            writer.wait(5)
        if client is not None:
            client.close()
        subprocess.run([*tmux, "kill-server"], capture_output=True)
        alloc.destroy()
    return [Row("follow: write → on screen in tmux, p50", percentile(ours, 0.5),
                percentile(theirs, 0.5), "`tail -F` in the same tmux", goal="≤ 10 ms absolute",
                ceiling=0.010, note="the same write"),
            Row("follow: write → on screen in tmux, p99", percentile(ours, 0.99),
                percentile(theirs, 0.99), "`tail -F` in the same tmux", goal="≤ 100 ms absolute",
                ceiling=0.1, note="the same write")]


def _wait_for(client: _ControlClient, marker: bytes, panes: set[str],
              timeout: float) -> dict[str, float]:
    """When each of ``panes`` printed ``marker`` (whole, or across two outputs)."""
    arrived: dict[str, float] = {}
    tails: dict[str, bytes] = {}
    deadline = time.monotonic() + timeout
    while len(arrived) < len(panes):
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"{marker!r} not on screen in {sorted(set(panes) - set(arrived))}")
        try:
            pane, data, when = client.seen.get(timeout=left)
        except queue.Empty:
            continue
        if pane not in panes or pane in arrived:
            continue
        seen = tails.get(pane, b"") + data
        if marker in seen:
            arrived[pane] = when
        tails[pane] = seen[-64:]
    return arrived


_KEYS = PEAK_RSS_SOURCE + r"""
import asyncio, json, sys, time
from inspector.tui.app import InspectorApp
from inspector.core.roots import Root

alloc_dir, rel, presses = sys.argv[1], sys.argv[2], int(sys.argv[3])

async def main():
    root = Root.open(alloc_dir)
    app = InspectorApp(root, open_file=root.locate(rel))
    latencies = []
    async with app.run_test(size=(120, 40)) as pilot:
        viewer = app.viewer
        while viewer.status is None or viewer.status.mode != "text":
            await pilot.pause(0.01)
        viewer.focus()
        await pilot.pause(0.2)
        for key in ["j"] * presses + ["k"] * presses:
            top = viewer.body.plain_lines()[0]
            pressed = time.perf_counter()
            await pilot.press(key)
            while viewer.body.plain_lines()[0] == top:
                await asyncio.sleep(0.0005)
            latencies.append(time.perf_counter() - pressed)
    latencies.sort()
    print(json.dumps({"p50": latencies[len(latencies) // 2],
                      "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}))

asyncio.run(main())
"""


def key_latency(work: str, presses: int = 100) -> list[Row]:
    """A key (`j`, `k`) until the view moved, in the app on an 8 GiB log."""
    alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
    alloc.build()
    path = os.path.join(alloc.alloc_dir, LOG)
    with open(path, "wb") as f:
        f.write(b"".join(b"log line %d\n" % i for i in range(5000)))
        f.truncate(8 << 30)
    try:
        result = subprocess.run([sys.executable, "-c", _KEYS, alloc.alloc_dir, LOG,
                                 str(presses)], capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"key probe failed: {result.stderr.strip()[-500:]}")
        figures = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        alloc.destroy()
    return [Row(f"viewer: key (`j`/`k`) → view moved, {q}", figures[q], 0.05,
                "the 50 ms goal", goal="≤ 1", limit=1.0) for q in ("p50", "p99")]
