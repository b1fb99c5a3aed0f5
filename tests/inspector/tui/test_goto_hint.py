"""The `:` prompt's hint is whole on the smallest screens (it was cut at 80×24)."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from allocdir import AllocDir
from inspector.core.roots import Root
from inspector.tui.app import InspectorApp
from inspector.tui.search_bar import SearchBar

from ..conftest import ALLOC_A, wait_for


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_the_goto_hint_is_not_cut(alloc_root, size):
    alloc = AllocDir.discover(alloc_root / ALLOC_A)
    app = InspectorApp(Root.open(alloc_root), open_file=(alloc, "alloc/logs/web.stdout.0"))
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.viewer.status is not None, message="the log open")
        app.viewer.focus()
        await pilot.pause()
        await pilot.press("colon")
        await wait_for(pilot, lambda: isinstance(app.focused, Input)
                       and app.focused.parent is app.query_one(SearchBar), message="the prompt")
        field = app.focused
        await pilot.pause()
        assert field.value == ""
        assert 0 < len(field.placeholder) <= field.content_region.width
