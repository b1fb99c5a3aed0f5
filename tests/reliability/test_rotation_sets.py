"""A task leaves thousands of ``web.stdout.N`` files: the app, limited to the
usual 1024 descriptors, opens the set with ``--open`` as the command line
does, shows its newest line on `G`, keeps up as the task writes a new member,
and can still open other files afterwards. Run in a fresh process with
RLIMIT_NOFILE lowered (as a user's shell has it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from allocdir import AllocDir

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIRST, LAST, NEWEST = "first line of the set", "last line of the set", "newest line of the task"

_PROBE = r"""
import asyncio, json, os, resource, sys, time

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))

from inspector.core.roots import Root
from inspector.core.rotation import LogSource
from inspector.core.viewing import read_first_screen
from inspector.tui.app import InspectorApp, viewer_size
from inspector.tui.viewer import WRAP

alloc_dir, members, first, last, newest = sys.argv[1:6]
members = int(members)
rel = "alloc/logs/web.stdout.0"

def fds():
    return len(os.listdir("/proc/self/fd"))

async def main():
    root = Root.open(alloc_dir)
    alloc, rel_in = root.locate(rel)
    started = time.perf_counter()
    screen = read_first_screen(alloc, rel_in, *viewer_size(120, 40), wrap=WRAP)  # as --open does
    opened = time.perf_counter() - started
    app = InspectorApp(root, open_file=(alloc, rel_in), first_screen=screen)
    figures = {"open_s": opened}
    async with app.run_test(size=(120, 40)) as pilot:
        viewer = app.viewer
        async def shown(text, limit=60.0, press=None):
            deadline = time.perf_counter() + limit
            while time.perf_counter() < deadline:
                if any(text in line for line in viewer.body.plain_lines()):
                    return time.perf_counter()
                if press:
                    await pilot.press(press)
                await pilot.pause(0.02)
            raise SystemExit(f"{text!r} never shown")
        await shown(first)
        viewer.focus()
        await pilot.pause()
        pressed = time.perf_counter()
        await pilot.press("G")
        figures["G_s"] = await shown(last) - pressed
        # Again once the tree has listed the directory beside it.
        await pilot.press("g")
        await shown(first)
        await pilot.pause(1.0)
        pressed = time.perf_counter()
        await pilot.press("G")
        figures["G_again_s"] = await shown(last) - pressed
        figures["app_fds"] = fds()
        # The task writes its newest output into a new member.
        with open(os.path.join(alloc_dir, "alloc", "logs", f"web.stdout.{members}"), "w") as f:
            f.write(newest + "\n")
        await shown(newest, press="G")
    # One set on its own: what it holds, and what a refresh costs when
    # nothing changed (the directory is not listed again).
    before = fds()
    source = LogSource(alloc, rel_in)
    source.read(0, 1 << 20)
    figures["set_fds"] = fds() - before
    time.sleep(2.1)  # past the timestamp tick of the last change
    source.refresh(force=True)
    started = time.perf_counter()
    for _ in range(100):
        change = source.refresh(force=True)
        assert not change, change
    figures["refresh_ms"] = (time.perf_counter() - started) * 10
    figures["members"] = len(source.segments())
    source.close()
    with open(os.path.join(alloc_dir, "alloc", "logs", "web.stdout.0"), "rb") as f:
        figures["opens_after"] = f.read(5) == b"first"
    print(json.dumps(figures))

asyncio.run(main())
"""


@pytest.mark.parametrize("members", [1100, 20_000])
def test_a_set_of_thousands_of_members_under_1024_descriptors(tmp_path, members, figures):
    alloc = AllocDir(os.path.join(tmp_path, "5fc98185-17ff-26bc-a802-0c74fa471c99"))
    alloc.build()
    logs = os.path.join(alloc.shared_dir, "logs")
    for n in range(members):
        with open(os.path.join(logs, f"web.stdout.{n}"), "w") as f:
            f.write(f"{FIRST}\n" if n == 0 else f"{LAST}\n" if n == members - 1 else "")
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, alloc.alloc_dir, str(members), FIRST, LAST, NEWEST],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": REPO})
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    figures.update({key: round(value, 4) if isinstance(value, float) else value
                    for key, value in found.items()})
    assert found["members"] == members + 1  # none dropped, the newest included
    assert found["set_fds"] <= 9
    assert found["opens_after"]
