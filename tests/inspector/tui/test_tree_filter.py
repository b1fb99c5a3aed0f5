"""The tree's name filter bar: what is typed is on screen (a focused
Input's border once took the one line the bar has, hiding the text)."""

from __future__ import annotations

import shutil

import pytest
from textual.widgets import Input

from inspector.core.roots import Root
from inspector.tui.app import InspectorApp

from ..conftest import ALLOC_A, wait_for


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_the_filter_bar_has_room_for_its_text(alloc_root, size):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=size) as pilot:
        await pilot.press("ampersand")
        field = app.query_one("#tree-filter", Input)
        await wait_for(pilot, lambda: field.has_focus, message="the filter focused")
        await pilot.press(*"notes")
        await pilot.pause()
        assert field.value == "notes"
        assert field.content_region.height == 1
        assert field.content_region.width >= len("notes")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_tmux_the_filter_bar_shows_what_is_typed(alloc_root, tmp_path):
    from .test_tmux import Tmux, command

    tmux = Tmux(tmp_path)
    try:
        tmux.start([*command(), str(alloc_root)], size=(80, 24))
        tmux.wait_for(lambda s: ALLOC_A[:8] in s, what="the allocations")
        tmux.keys("&")
        tmux.wait_for(lambda s: "Open / expand" not in s, what="the filter focused (its keys)")
        tmux.keys(*"conf")
        tmux.wait_for(lambda s: any(line.lstrip().startswith("conf") for line in s.splitlines()),
                      what="the typed text in the filter bar")
        tmux.keys("Escape", "q")
        assert tmux.exit_status() == 0
    finally:
        tmux.close()
