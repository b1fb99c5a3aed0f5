"""Destroy and move say that an allocation looks live (a process uses it)
before the typed id or destination is accepted."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from inspector.core.roots import Root
from inspector.tui.app import InspectorApp
from inspector.tui.destroy_screen import DestroyScreen
from inspector.tui.liveness_note import LivenessNote
from inspector.tui.move_screen import MoveScreen

from ..conftest import ALLOC_B, wait_for
from .test_screens import select_alloc, type_into

HOSTILE_ARG = "\x1b]0;pwned\x07"


def _note(app) -> str:
    return str(app.screen.query_one(LivenessNote).content)


async def test_destroy_says_a_process_uses_it(alloc_root):
    task = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()", HOSTILE_ARG],
                            cwd=alloc_root / ALLOC_B / "api" / "local", stdin=subprocess.PIPE)
    try:
        app = InspectorApp(Root.open(alloc_root))
        async with app.run_test(size=(120, 40)) as pilot:
            await select_alloc(pilot, app, ALLOC_B)
            await pilot.press("D")
            await wait_for(pilot, lambda: isinstance(app.screen, DestroyScreen), message="D")
            await wait_for(pilot, lambda: app.screen.query_one(LivenessNote).known,
                           message="looked")
            note = _note(app)
            assert "looks live" in note and f"{task.pid} " in note
            assert "cwd api/local" in note
            assert "\x1b" not in note and "\\x1b]0;pwned\\x07" in note
    finally:
        task.stdin.close()
        task.wait(10)


async def test_the_id_waits_for_the_look(alloc_root, monkeypatch):
    import inspector.tui.liveness_note as module

    gate = threading.Event()
    real = module.check_liveness

    def slow(alloc_dir):
        gate.wait(10)
        return real(alloc_dir)

    monkeypatch.setattr(module, "check_liveness", slow)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 40)) as pilot:
        await select_alloc(pilot, app, ALLOC_B)
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, DestroyScreen), message="D")
        screen = app.screen
        await type_into(pilot, app, "#confirm", ALLOC_B)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Still looking" in str(screen.query_one("#message")
                                                             .content), message="waits")
        assert (alloc_root / ALLOC_B).exists() and not screen.running
        gate.set()
        await wait_for(pilot, lambda: screen.query_one(LivenessNote).known, message="looked")
        await pilot.press("escape")


async def test_move_shows_the_note_too(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 40)) as pilot:
        await select_alloc(pilot, app, ALLOC_B)
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(app.screen, MoveScreen), message="m")
        await wait_for(pilot, lambda: app.screen.query_one(LivenessNote).known, message="looked")
        note = app.screen.query_one(LivenessNote)
        # written 10 minutes ago, no process; as root the secrets tmpfs is a mount
        assert "written" not in note.warning
        assert ("mount(s) inside: api/secrets" in note.warning) == (os.geteuid() == 0)
