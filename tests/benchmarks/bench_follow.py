"""Following beside GNU ``tail -F``, the line written by another process as a
task writes its log: until it is in the reader session's frame, and until
it is on the screen of the app in tmux (both panes fed by the same write);
and how long a key takes to move the view.
"""

from __future__ import annotations

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

from .bench_watch import _TASK_WRITER, _latencies_from_a_task, _Tail
from .harness import Row, percentile

LOG = "alloc/logs/web.stdout.0"


class _SessionWatcher:
    """A reader session following ``rel`` headless (its jobs in threads,
    what they deliver applied in the worker): ``arrived`` is set, and
    ``arrival`` taken, when a frame shows a new last line. ``follow``, if
    given, starts the follow instead (e.g. of logs merged)."""

    def __init__(self, alloc: AllocDir, rel: str, follow=None) -> None:
        from inspector.core.session import ReaderSession, ThreadExecutor

        self.arrived = threading.Event()
        self.arrival = 0.0
        self._last = ""
        self.session = ReaderSession(ThreadExecutor(), self._frame, width=120, height=40,
                                     wrap=False)
        if follow is None:
            self.session.open(alloc, rel, follow=True)
        else:
            follow(self.session)
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
    """A tmux control-mode client: every pane's output, timestamped."""

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


class _Tmux:
    """A tmux server of our own, one 120x40 window per command, each waited
    for until it shows its ``ready`` text; ``client`` watches their output."""

    def __init__(self, windows: dict[str, str], ready: dict[str, str]) -> None:
        self.cmd = ["tmux", "-L", f"bench-{uuid.uuid4().hex[:8]}"]
        self.client: _ControlClient | None = None
        first, *others = windows
        subprocess.run([*self.cmd, "new-session", "-d", "-s", "bench", "-x", "120", "-y", "40",
                        "-n", first, windows[first]], check=True)
        for name in others:
            subprocess.run([*self.cmd, "new-window", "-d", "-t", "bench", "-n", name,
                            windows[name]], check=True)
        listed = subprocess.run(
            [*self.cmd, "list-panes", "-s", "-t", "bench", "-F", "#{window_name} #{pane_id}"],
            capture_output=True, text=True, check=True).stdout
        self.panes = dict(line.split() for line in listed.splitlines())
        for name, text in ready.items():
            deadline = time.monotonic() + 30
            while text not in subprocess.run([*self.cmd, "capture-pane", "-p", "-t",
                                              f"bench:{name}"], capture_output=True,
                                             text=True).stdout:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{windows[name]!r} never showed {text!r}")
                time.sleep(0.05)
        time.sleep(0.5)
        self.client = _ControlClient(self.cmd, "bench")
        time.sleep(0.3)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        subprocess.run([*self.cmd, "kill-server"], capture_output=True)


def _app(alloc: AllocDir, *options: str, pythonpath: str | None = None) -> str:
    """The shell command running the app on ``alloc``'s LOG."""
    env = f"PYTHONPATH={shlex.quote(pythonpath)} " if pythonpath else ""
    return (f"{env}{shlex.quote(sys.executable)} -m inspector {alloc.alloc_dir} --open {LOG} "
            + " ".join(options))


def tmux_screen_latency(work: str, samples: int = 200, pythonpath: str | None = None) -> list[Row]:
    """Write → the line on the screen of ``allocdir-inspector --follow`` in
    tmux, beside ``tail -F`` in the same tmux, fed by the same write (as
    tmux receives their output: a control-mode client timestamps it); the
    line written by another process, 10 to 28 ms apart."""
    if shutil.which("tmux") is None or shutil.which("tail") is None:
        raise RuntimeError("needs tmux and tail")
    alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
    alloc.build()
    path = os.path.join(alloc.alloc_dir, LOG)
    with open(path, "wb") as f:
        f.write(b"boot\n" * 100)
    ours, theirs = [], []
    tmux = writer = None
    try:
        tmux = _Tmux({"app": _app(alloc, "--follow", pythonpath=pythonpath),
                      "tail": f"tail -F -n 0 {shlex.quote(path)}"}, {"app": "FOLLOW"})
        panes = {tmux.panes["app"], tmux.panes["tail"]}
        writer = subprocess.Popen([sys.executable, "-c", _TASK_WRITER, path], text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        for i in range(samples):
            time.sleep(0.01 + (i * 7919 % 19) / 1000)  # 10 to 28 ms apart
            writer.stdin.write(f"{i}\n")
            writer.stdin.flush()
            started = float(writer.stdout.readline())
            arrived = _wait_for(tmux.client, re.compile(rb"line %d(?!\d)" % i), panes, 5.0)
            ours.append(arrived[tmux.panes["app"]] - started)
            theirs.append(arrived[tmux.panes["tail"]] - started)
    finally:
        if writer is not None:
            writer.stdin.close()
            writer.wait(5)
        if tmux is not None:
            tmux.close()
        alloc.destroy()
    return [Row("follow: write → on screen in tmux, p50", percentile(ours, 0.5),
                percentile(theirs, 0.5), "`tail -F` in the same tmux", goal="≤ 10 ms absolute",
                ceiling=0.010, note="the same write"),
            Row("follow: write → on screen in tmux, p99", percentile(ours, 0.99),
                percentile(theirs, 0.99), "`tail -F` in the same tmux", goal="≤ 100 ms absolute",
                ceiling=0.1, note="the same write")]


def _wait_for(client: _ControlClient, marker: re.Pattern[bytes], panes: set[str],
              timeout: float) -> dict[str, float]:
    """When each of ``panes`` printed ``marker`` (whole, or across two outputs)."""
    arrived: dict[str, float] = {}
    tails: dict[str, bytes] = {}
    deadline = time.monotonic() + timeout
    while len(arrived) < len(panes):
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"{marker.pattern!r} not on screen in "
                               f"{sorted(set(panes) - set(arrived))}")
        try:
            pane, data, when = client.seen.get(timeout=left)
        except queue.Empty:
            continue
        if pane not in panes or pane in arrived:
            continue
        seen = tails.get(pane, b"") + data
        if marker.search(seen):
            arrived[pane] = when
        tails[pane] = seen[-64:]
    return arrived


def key_latency(work: str, presses: int = 100, pythonpath: str | None = None) -> list[Row]:
    """A key (`j`, then `k`) until the app repainted, in tmux, on an 8 GiB
    log, beside `less` on the same file in the same tmux (timestamped by a
    tmux control-mode client: the key sent, the pane's first output)."""
    if shutil.which("tmux") is None or shutil.which("less") is None:
        raise RuntimeError("needs tmux and less")
    alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
    alloc.build()
    path = os.path.join(alloc.alloc_dir, LOG)
    with open(path, "wb") as f:
        f.write(b"".join(b"log line %d\n" % i for i in range(5000)))
        f.truncate(8 << 30)
    measured: dict[str, list[float]] = {"app": [], "less": []}
    tmux = None
    try:
        tmux = _Tmux({"app": _app(alloc, pythonpath=pythonpath),
                      "less": f"less {shlex.quote(path)}"},
                     {"app": "log line 0", "less": "log line 0"})
        for i in range(presses):
            key = "j" if i < presses // 2 else "k"
            for window in ("app", "less"):
                measured[window].append(_key_to_output(tmux.client, tmux.panes[window], key))
                time.sleep(0.02)
    finally:
        if tmux is not None:
            tmux.close()
        alloc.destroy()
    app_keys, less_keys = measured["app"], measured["less"]
    return [Row(f"viewer: key (`j`/`k`) → repainted in tmux, {q}", percentile(app_keys, p),
                percentile(less_keys, p), "`less` in the same tmux", goal="≤ 50 ms absolute",
                ceiling=0.05, note="8 GiB log") for q, p in (("p50", 0.5), ("p99", 0.99))]


def _key_to_output(client: _ControlClient, pane: str, key: str, timeout: float = 5.0) -> float:
    """Send ``key`` to ``pane`` and time its first output after."""
    while True:  # what the pane printed before the key is not its answer
        try:
            client.seen.get_nowait()
        except queue.Empty:
            break
    pressed = time.perf_counter()
    client.proc.stdin.write(f"send-keys -t {pane} {key}\n".encode())
    client.proc.stdin.flush()
    deadline = pressed + timeout
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            raise RuntimeError(f"{pane} did not answer {key!r}")
        try:
            shown, _data, when = client.seen.get(timeout=left)
        except queue.Empty:
            continue
        if shown == pane:
            return when - pressed
