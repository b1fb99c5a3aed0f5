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

from ..conftest import ALLOC_A, build_alloc_root, destroy_fixture

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


SIZES = [SIZE, (80, 24), (60, 20)]
"""Every screen at the size of the README's pictures and at the two small
terminals an operator may have (an 80×24 console, a 60×20 split)."""


def settled_with(*keys: str, pause: float = 0.2):
    """A run_before that settles, presses ``keys`` and settles again."""
    async def run_before(pilot):
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
            await pilot.pause(pause)
            await settle(pilot)
        # Where a long value's field is scrolled to depends on when it was
        # filled: the start, always, for the picture.
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
            field.action_home()
        await pilot.pause(0.1)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_first_screen_of_the_root(fixed_root, snap_compare, size):
    """Nothing open: the client root's table, not a blank pane."""
    assert snap_compare(make_app(fixed_root), terminal_size=size, run_before=settled_with())


@pytest.mark.parametrize("size", SIZES)
def test_first_screen_of_an_allocation(fixed_root, snap_compare, size):
    """The cursor on an allocation: its summary."""
    assert snap_compare(make_app(fixed_root), terminal_size=size,
                        run_before=settled_with("down", pause=0.5))


@pytest.mark.parametrize("size", SIZES)
def test_tree_with_a_text_file(fixed_root, snap_compare, size):
    assert snap_compare(make_app(fixed_root, "web/local/notes.txt"), terminal_size=size,
                        run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_hex_view(fixed_root, snap_compare, size):
    assert snap_compare(make_app(fixed_root, "web/local/blob.bin"), terminal_size=size,
                        run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_log_with_special_files(fixed_root, snap_compare, size):
    assert snap_compare(make_app(fixed_root, "alloc/logs/web.stdout.0"), terminal_size=size,
                        run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_follow(fixed_root, snap_compare, size):
    app = InspectorApp(Root.open(fixed_root),
                       open_file=(AllocDir.discover(fixed_root / ALLOC_A),
                                  "alloc/logs/web.stdout.0"), follow=True)
    async def run_before(pilot):
        # the follow lane runs as long as the file is followed: no waiting for every worker
        app = pilot.app
        while app.viewer.status is None or not app.viewer.status.following:
            await pilot.pause(0.05)
        await pilot.pause(0.5)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_a_refusal_message(fixed_root, snap_compare, size):
    """A secret opened: the refusal in the pane, the status line kept."""
    assert snap_compare(make_app(fixed_root, "web/secrets/token"), terminal_size=size,
                        run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_goto_prompt_and_tree_filter(fixed_root, snap_compare, size):
    """The `:` prompt's hint whole; the tree's filter bar showing its text."""
    async def run_before(pilot):
        await settled_with("colon")(pilot)
        await pilot.press("escape", "escape")
        await pilot.press("ampersand", *"notes")
        await settled_with()(pilot)

    assert snap_compare(make_app(fixed_root, "web/local/notes.txt"), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", [(110, 40), (80, 24), (60, 20)])
def test_help(fixed_root, snap_compare, size):
    assert snap_compare(make_app(fixed_root), terminal_size=size,
                        run_before=settled_with("f1"))


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
        # Where a long value's field is scrolled to depends on when it was
        # filled: the start, always, for the picture.
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
            field.action_home()
        await pilot.pause(0.1)

    return run_before


@pytest.fixture
def fixed_cwd(fixed_root, monkeypatch):
    """The snapshot dialog shows the working directory: make it fixed."""
    monkeypatch.chdir(FIXED_ROOT.parent)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("key", ["s", "M", "D"])
def test_dialogs(fixed_root, fixed_cwd, snap_compare, key, size):
    # A file open behind the dialog: the summary card's look behind a modal
    # varies from run to run (the card itself has its own snapshots).
    assert snap_compare(make_app(fixed_root, "web/local/notes.txt"), terminal_size=size,
                        run_before=open_dialog(key))


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
@pytest.mark.parametrize("key, typed", [("M", ("enter",)), ("D", ("x", "enter"))])
def test_dialogs_answering(fixed_root, fixed_cwd, snap_compare, key, typed, size):
    """The dialogs' answers wrap, the buttons show."""
    assert snap_compare(make_app(fixed_root), terminal_size=size,
                        run_before=open_dialog(key, *typed))
