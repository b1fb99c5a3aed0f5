"""With nothing open the file pane is not blank: the client root's table,
or the summary of the allocation under the cursor, gathered in a worker."""

from __future__ import annotations

import threading

from allocdir import AllocDir
from inspector.core.first_screen import ROOT_ROWS, alloc_card, root_card
from inspector.core.roots import Root
from inspector.tui.app import InspectorApp

from ..conftest import ALLOC_A, ALLOC_B, wait_for
from .test_screens import select_alloc


async def test_the_first_screen_follows_the_cursor(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(80, 24)) as pilot:
        card = app.first_screen
        await wait_for(pilot, lambda: "2 allocations" in card.text, message="the root's table")
        assert f"{ALLOC_A[:8]}  web" in card.text and f"{ALLOC_B[:8]}  api" in card.text
        assert not app.viewer.display
        await select_alloc(pilot, app, ALLOC_A)
        await wait_for(pilot, lambda: f"allocation {ALLOC_A}" in card.text, message="summary")
        assert "task web" in card.text and "alloc/data" in card.text
        assert "web.stdout.0" in card.text and ".web.stdout.fifo" in card.text
        assert "s.very-secret" not in card.text  # never a secret's content
        await pilot.press("enter", "down", "down", "down")  # into the allocation
        app.open_file(AllocDir.discover(alloc_root / ALLOC_A), "web/local/notes.txt")
        await wait_for(pilot, lambda: app.viewer.status is not None, message="the file open")
        assert app.viewer.display and not card.display


def test_the_root_table_stops_when_cancelled(alloc_root):
    allocs = Root.open(alloc_root).discover().allocs
    cancel = threading.Event()
    assert "99999999  api" in root_card("client root x", allocs)
    cancel.set()
    assert "11111111" not in root_card("client root x", allocs, cancel)
    assert ROOT_ROWS >= 2


def test_the_alloc_card_names_what_matters(alloc_root):
    text = alloc_card(AllocDir.discover(alloc_root / ALLOC_A))
    assert text.startswith(f"allocation {ALLOC_A}")
    assert "[locked] secrets/" in text and "s.very-secret" not in text
