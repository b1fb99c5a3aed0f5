"""Follow under abuse: while the app follows a task log, another process
appends, truncates and rotates through <task>.stdout.0..20 (splitting a line
across each rotation). Every line written to each file is shown, in order;
memory stays bounded; a key press is answered within 200 ms throughout."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

from allocdir import AllocDir
from inspector.core import follow
from inspector.tui.app import InspectorApp
from inspector.core.roots import Root
from inspector.tui.viewer import FileViewer

KEY_LIMIT = 0.2
MAX_FILES = 20
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def script(seed: int) -> Iterator[tuple[str, bytes, int]]:
    """The writer's actions, the same in the writer and in the checker:
    (action, data, cut) with action "write", "rotate" (data[:cut] to the old
    file, the rest to the next) or "truncate" (write data, then truncate once
    it has been shown)."""
    rng = random.Random(seed)
    seq, rotations = 0, 0
    while True:
        burst = [b"line %07d %s" % (seq + i, b"x" * rng.randrange(0, 100))
                 for i in range(rng.randrange(1, 60))]
        seq += len(burst)
        data = b"\n".join(burst) + b"\n"
        roll = rng.random()
        if roll < 0.03 and rotations < MAX_FILES:
            rotations += 1
            yield "rotate", data, len(data) - rng.randrange(1, 13)  # inside the last line
        elif roll < 0.05:
            yield "truncate", data, 0
        else:
            yield "write", data, 0


def expected(seed: int, steps: int) -> dict[str, list[bytes]]:
    """The lines each file received in the first ``steps`` actions; a line
    split by a rotation belongs to the file where it ends."""
    files: dict[str, list[bytes]] = {"web.stdout.0": []}
    index, partial = 0, b""
    actions = script(seed)
    for _ in range(steps):
        action, data, cut = next(actions)
        lines = (partial + data).split(b"\n")[:-1]
        partial = b""
        if action == "rotate":
            *before, last = lines
            files[f"web.stdout.{index}"].extend(before)
            index += 1
            files[f"web.stdout.{index}"] = [last]
        else:
            files[f"web.stdout.{index}"].extend(lines)
    return files


def writer_main(logs: str, seed: int, seconds: float) -> None:
    """Run the script against real files; ask before each truncation."""
    deadline = time.monotonic() + seconds
    index, steps = 0, 0
    f = open(os.path.join(logs, "web.stdout.0"), "ab", buffering=0)
    for action, data, cut in script(seed):
        if time.monotonic() >= deadline:
            break
        steps += 1
        if action == "rotate":
            f.write(data[:cut])
            f.close()
            index += 1
            f = open(os.path.join(logs, f"web.stdout.{index}"), "ab", buffering=0)
            f.write(data[cut:])
        else:
            f.write(data)
            if action == "truncate":
                last_line = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
                print("shown?", last_line.decode(), flush=True)
                sys.stdin.readline()
                f.truncate(0)
        time.sleep(random.uniform(0, 0.004))
    f.close()
    print(f"done {steps}", flush=True)


async def _key_answered(app, viewer) -> float:
    """Seconds from a `w` key press to the viewer having toggled wrap: how
    long a user waits while the event loop is busy following."""
    wrap = viewer.wrap
    started = time.perf_counter()
    app.simulate_key("w")
    while viewer.wrap == wrap:
        if time.perf_counter() - started > 5:
            raise AssertionError("no answer to a key press within 5 s")
        await asyncio.sleep(0.001)
    return time.perf_counter() - started


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def follow_scenario(workdir: str, seconds: float, seed: int) -> dict:
    """Run the app following a log under the writer; return the figures."""
    shown: list[tuple[str, bytes]] = []  # (file, line), in the order the viewer got them
    push = follow.Follower._push_lines

    def recording_push(self, lines):
        shown.extend((os.path.basename(self._path), line) for line in lines)
        return push(self, lines)

    follow.Follower._push_lines = recording_push
    alloc = AllocDir(os.path.join(workdir, "7d3c0f6e-0000-4000-8000-000000000001"))
    alloc.build()
    logs = os.path.join(alloc.shared_dir, "logs")
    open(os.path.join(logs, "web.stdout.0"), "wb").close()
    app = InspectorApp(Root.open(alloc.alloc_dir), open_file=(alloc, "alloc/logs/web.stdout.0"),
                       follow=True)
    key_times, rss, steps = [], [], None
    async with app.run_test(size=(120, 40)) as pilot:
        viewer = app.query_one(FileViewer)
        for _ in range(300):
            if viewer.following:
                break
            await pilot.pause(0.01)
        code = ("import sys; from tests.reliability.test_follow_abuse import writer_main; "
                f"writer_main({logs!r}, {seed}, {seconds})")
        writer = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        messages: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [messages.put(m) for m in writer.stdout],
                         daemon=True).start()
        waiting_for, asked = None, 0.0
        while steps is None:
            await pilot.pause(0.05)
            while not messages.empty():
                message = messages.get().rstrip("\n")  # a line may end in a space
                if message.startswith("done "):
                    steps = int(message.split()[1])
                else:
                    waiting_for, asked = message.split(" ", 1)[1].encode(), time.monotonic()
            if waiting_for and time.monotonic() - asked > 20:
                writer.kill()
                sizes = {n: os.path.getsize(os.path.join(logs, n)) for n in os.listdir(logs)}
                raise AssertionError(
                    f"{waiting_for[:12]!r} not shown after 20 s; last shown {shown[-3:]!r}; "
                    f"viewer {viewer.status!r}; files {sizes}")
            if waiting_for and shown and shown[-1][1] == waiting_for:
                writer.stdin.write("go\n")
                writer.stdin.flush()
                waiting_for = None
            key_times.append(await _key_answered(app, viewer))
            rss.append(_rss_mb())
        writer.wait(30)
        want = expected(seed, steps)
        last = [lines[-1] for lines in want.values() if lines][-1]
        for _ in range(500):
            if shown and shown[-1][1] == last:
                break
            await pilot.pause(0.01)
        following = viewer.following
    failures = []
    for name, lines in want.items():
        got = [line for file, line in shown if file == name]
        if got != lines:
            first = next((i for i, (w, g) in enumerate(zip(lines, got, strict=False)) if w != g),
                         min(len(lines), len(got)))
            failures.append(f"{name}: wrote {len(lines)} lines, shown {len(got)}, first "
                            f"difference at line {first}: wrote {lines[first:first + 1]!r}, "
                            f"shown {got[first:first + 1]!r}")
    return {"attempts": len(want), "failures": len(failures), "seconds": seconds,
            "lines": sum(map(len, want.values())), "following": following,
            "slowest_key_ms": round(max(key_times) * 1000, 1),
            "peak_rss_mb": round(max(rss), 1), "failed_files": failures[:5]}


def test_follow_survives_append_truncate_rotate(tmp_path, soak, figures):
    # The app runs alone in a fresh process, as it does for a user: the test
    # process has hundreds of other tests' objects on its heap.
    seconds, seed = (60 if soak else 8), 20261128
    code = ("import asyncio, json, sys; "
            "from tests.reliability.test_follow_abuse import follow_scenario; "
            f"print(json.dumps(asyncio.run(follow_scenario({str(tmp_path)!r}, {seconds}, {seed}))))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=seconds + 120)
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    failed_files = found.pop("failed_files")
    following = found.pop("following")
    figures.update(found)
    assert following, "follow stopped"
    assert not failed_files, failed_files
    assert found["slowest_key_ms"] < KEY_LIMIT * 1000, found["slowest_key_ms"]
    assert found["peak_rss_mb"] < 300, found["peak_rss_mb"]
