"""Snapshot tests of the main screens on a fixed fixture (pytest-textual-snapshot).

The fixture lives at a fixed path (the root's path is on screen), has fixed
ids and contents, mtimes "10 minutes ago" and no live writers.
Update the baselines with `pytest tests/inspector/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import Input

from allocdir import AllocDir
from inspector.tui.app import InspectorApp
from inspector.core.roots import Root

from ..conftest import ALLOC_A, ALLOC_B, build_alloc_root, destroy_fixture

FIXED_ROOT = Path("/tmp/allocdir-inspector-snapshots/alloc")
SIZE = (110, 32)


@pytest.fixture
def fixed_root():
    shutil.rmtree(FIXED_ROOT.parent, ignore_errors=True)
    try:
        yield build_alloc_root(FIXED_ROOT)
    finally:
        destroy_fixture(FIXED_ROOT)
        shutil.rmtree(FIXED_ROOT.parent, ignore_errors=True)


def make_app(root: Path, rel: str | None = None) -> InspectorApp:
    open_file = None
    if rel is not None:
        open_file = (AllocDir.discover(root / ALLOC_A), rel)
    return InspectorApp(Root.open(root), open_file=open_file)


async def settle(pilot) -> None:
    """Wait for the workers (listing, loading) to finish and the screen to redraw."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.1)


def test_tree_with_a_text_file(fixed_root, snap_compare):
    assert snap_compare(make_app(fixed_root, "web/local/notes.txt"), terminal_size=SIZE,
                        run_before=settle)


def test_hex_view(fixed_root, snap_compare):
    assert snap_compare(make_app(fixed_root, "web/local/blob.bin"), terminal_size=SIZE,
                        run_before=settle)


def test_log_with_special_files(fixed_root, snap_compare):
    assert snap_compare(make_app(fixed_root, "alloc/logs/web.stdout.0"), terminal_size=SIZE,
                        run_before=settle)


def test_help(fixed_root, snap_compare):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause(0.2)

    assert snap_compare(make_app(fixed_root), terminal_size=(110, 40), run_before=run_before)


def open_dialog(key: str, *typed: str):
    """A run_before that opens the dialog of ``key`` on ALLOC_B and types ``typed``."""
    async def run_before(pilot):
        await settle(pilot)
        tree = pilot.app.alloc_tree
        tree.move_cursor(tree.root.children[1])  # ALLOC_B
        await pilot.pause(0.1)
        await pilot.press(key)
        await pilot.pause(0.1)
        await pilot.press(*typed)
        await settle(pilot)
        # A blinking cursor would be drawn or not depending on the moment.
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause(0.1)

    return run_before


@pytest.fixture
def fixed_cwd(fixed_root, monkeypatch):
    """The snapshot dialog shows the working directory: make it fixed."""
    monkeypatch.chdir(FIXED_ROOT.parent)


@pytest.mark.parametrize("key", ["s", "M", "D"])
def test_dialogs(fixed_root, fixed_cwd, snap_compare, key):
    assert ALLOC_B
    assert snap_compare(make_app(fixed_root), terminal_size=SIZE, run_before=open_dialog(key))


@pytest.mark.parametrize("key, typed", [("s", ()), ("M", ("enter",)), ("D", ("x", "enter"))])
def test_dialogs_at_80x24(fixed_root, fixed_cwd, snap_compare, key, typed):
    """At 80x24 the dialogs fill the screen, their texts wrap, the buttons show."""
    assert snap_compare(make_app(fixed_root), terminal_size=(80, 24),
                        run_before=open_dialog(key, *typed))
