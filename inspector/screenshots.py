"""Regenerate the README screenshots from a demo root.

    python -m inspector.screenshots [OUTDIR]     (default: ./screenshots)

Each view is driven with keys in a headless 120x36 terminal and saved as SVG.
The demo's alloc ids are fixed, so the images change only when the app does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from allocdir import AllocDir

from .tui.app import InspectorApp
from .demo import ALLOCS, DemoRoot
from .core.roots import Root
from .tui.snapshot_screen import SnapshotScreen

SIZE = (120, 36)
WEB, BATCH, WEB2 = list(ALLOCS)

Scene = Callable[[Pilot, InspectorApp], Awaitable[None]]


async def _settle(pilot: Pilot, seconds: float = 0.6) -> None:
    await pilot.pause(seconds)


async def _until(pilot: Pilot, predicate: Callable[[], bool], timeout: float = 15) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("the screen did not reach the expected state")
        await pilot.pause(0.05)


async def _open(pilot: Pilot, app: InspectorApp, alloc_id: str, rel: str, **kw) -> None:
    alloc = next(a for a in app.alloc_tree.allocs if a.alloc_id == alloc_id)
    app.open_file(alloc, rel, **kw)
    app.alloc_tree.reveal(alloc, rel)
    await _until(pilot, lambda: app.viewer.mode in ("text", "hex"))
    await _settle(pilot)


async def tree_and_file(pilot: Pilot, app: InspectorApp) -> None:
    """The tree expanded down to a config file shown in the viewer."""
    await _open(pilot, app, WEB, "web/local/nginx.conf")


async def follow(pilot: Pilot, app: InspectorApp) -> None:
    """Following a web task's stdout while the writer appends and rotates it."""
    await _open(pilot, app, WEB, "alloc/logs/web.stdout.2", follow=True)
    await _settle(pilot, 1.5)


async def hex_view(pilot: Pilot, app: InspectorApp) -> None:
    """A binary file as a hex dump."""
    await _open(pilot, app, WEB, "redis/local/dump.rdb")


async def snapshot_progress(pilot: Pilot, app: InspectorApp) -> None:
    """The snapshot dialog half-way through (the snapshot is paused there)."""
    alloc = next(a for a in app.alloc_tree.allocs if a.alloc_id == BATCH)
    release = threading.Event()
    real = AllocDir.snapshot

    def paused(self, w, *, progress=None):
        size = self.snapshot_size()
        if progress is not None:
            progress(size * 2 // 5)
        release.wait(30)
        raise OSError("stopped for the screenshot")

    AllocDir.snapshot = paused
    cwd = os.getcwd()
    scratch = tempfile.mkdtemp(prefix="inspector-shot-")
    os.chdir(scratch)  # the default output `<alloc id>.tar` lands there
    try:
        app.alloc_tree.reveal(alloc, "")
        await _settle(pilot)
        app.push_screen(SnapshotScreen(alloc, app.busy))
        await _settle(pilot, 0.3)
        await pilot.press("enter")
        await _until(pilot, lambda: "archived" in str(app.screen.query_one("#message").content)
                     and "0 Bytes of" not in str(app.screen.query_one("#message").content))
        await _settle(pilot, 0.3)
    finally:
        AllocDir.snapshot = real
        release.set()
        os.chdir(cwd)
        shutil.rmtree(scratch, ignore_errors=True)


async def destroy_dialog(pilot: Pilot, app: InspectorApp) -> None:
    """The destroy dialog with the id half typed: Destroy stays disabled."""
    alloc = next(a for a in app.alloc_tree.allocs if a.alloc_id == WEB2)
    app.alloc_tree.reveal(alloc, "")
    await _settle(pilot)
    await pilot.press("D")
    await _settle(pilot, 0.3)
    await pilot.press(*WEB2[:8])  # the id field has the focus
    await _settle(pilot, 0.3)


async def help_screen(pilot: Pilot, app: InspectorApp) -> None:
    """The key help."""
    await pilot.press("question_mark")
    await _settle(pilot, 0.4)


SCENES: dict[str, Scene] = {
    "tree-and-file": tree_and_file,
    "follow": follow,
    "hex-view": hex_view,
    "snapshot-progress": snapshot_progress,
    "destroy-dialog": destroy_dialog,
    "help": help_screen,
}
"""Screenshot name (without .svg) -> the scene that sets it up."""


async def shoot(root: Root, name: str, scene: Scene, outdir: str) -> str:
    """Run one scene on `root` and save `<outdir>/<name>.svg`."""
    app = InspectorApp(root)
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: len(app.alloc_tree.allocs) == len(ALLOCS))
        await scene(pilot, app)
        path = app.save_screenshot(f"{name}.svg", path=outdir)
        await pilot.press("escape")
    return path


def main(argv: list[str] | None = None) -> int:
    """Write every screenshot into OUTDIR (default ./screenshots)."""
    argv = sys.argv[1:] if argv is None else argv
    outdir = os.path.abspath(argv[0] if argv else "screenshots")
    os.makedirs(outdir, exist_ok=True)
    with DemoRoot(large_size=8 * 1024 * 1024) as demo:
        root = Root.open(demo.path)
        for name, scene in SCENES.items():
            print(asyncio.run(shoot(root, name, scene, outdir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
