"""InspectorApp: every key and how the panes work together."""

from __future__ import annotations

from inspector.tui.app import InspectorApp
from inspector.tui.help_screen import HelpScreen
from inspector.core.roots import Root
from inspector.tui.search_bar import SearchBar
from inspector.tui.status_bar import StatusBar
from inspector.tui.viewer import FileViewer

from ..conftest import ALLOC_A, find_node, wait_for
from .test_tree import move_to, open_path


async def open_notes(pilot, app: InspectorApp) -> None:
    """Open web/local/notes.txt from the tree with enter."""
    tree = app.alloc_tree
    node = await open_path(pilot, tree, ALLOC_A, "web/local/notes.txt")
    await move_to(pilot, tree, node)
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.viewer.mode == "text", message="file shown")


def status_text(app: InspectorApp) -> str:
    return str(app.query_one(StatusBar).content)


async def test_enter_opens_the_file_and_focuses_the_viewer(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.focused is app.alloc_tree
        await open_notes(pilot, app)
        viewer = app.viewer
        assert viewer.path == "web/local/notes.txt"
        assert app.focused is viewer
        assert viewer.status.path == f"{ALLOC_A}/web/local/notes.txt"
        # The status line shortens the alloc id to its first 8 characters.
        await wait_for(
            pilot, lambda: f"{ALLOC_A}/web/local/notes.txt" in status_text(app),
            message="status",
        )
        assert "hello from the web task" in "\n".join(viewer.body.plain_lines())


async def test_j_k_move_the_tree_cursor(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await wait_for(pilot, lambda: len(tree.root.children) == 2, message="allocs")
        await move_to(pilot, tree, tree.root.children[0])
        await pilot.press("j")
        assert tree.cursor_node is tree.root.children[1]
        await pilot.press("k")
        assert tree.cursor_node is tree.root.children[0]


async def test_tab_switches_focus_and_escape_returns_to_the_tree(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert app.focused is app.alloc_tree
        await pilot.press("tab")
        assert isinstance(app.focused, FileViewer)
        await pilot.press("tab")
        assert app.focused is app.alloc_tree
        await open_notes(pilot, app)
        assert app.focused is app.viewer
        await pilot.press("escape")  # nothing to cancel in the viewer
        assert app.focused is app.alloc_tree


async def test_help_lists_every_key_and_closes(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 40)) as pilot:
        for close_key in ("escape", "q", "f1"):
            await pilot.press("f1")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), message="help")
            shown = {(keys, description) for _, keys, description in app.screen.rows}
            keys = {key for keys, _ in shown for key in keys.split()}
            for key in ("q", "F1", "?", "s", "M", "D", "r", "tab", "f", "w", "/", "n", "N",
                        "&", "e", "E", ":", "[", "]", "#",
                        "j", "k", "space", "b", "g", "G", "enter", "esc", "pgdn", "pgup"):
                assert key in keys, key
            descriptions = {description for _, description in shown}
            for needle in ("Quit", "Snapshot", "Move", "Destroy", "Refresh", "Follow", "Wrap",
                           "Search", "Search backward", "Next match", "Tail", "Filter",
                           "error", "Line numbers", "rotation set", "Help"):
                assert any(needle in d for d in descriptions), needle
            await pilot.press(close_key)
            await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), message="closed")
        assert app.is_running  # q closed the help, it did not quit


async def test_q_quits(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_f_w_slash_question_mark_reach_the_viewer_from_the_tree(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await open_notes(pilot, app)
        viewer = app.viewer
        await pilot.press("tab")
        assert app.focused is app.alloc_tree
        await pilot.press("f")
        await wait_for(pilot, lambda: viewer.following, message="follow on")
        await pilot.press("f")
        await wait_for(pilot, lambda: not viewer.following, message="follow off")
        wrap = viewer.wrap
        await pilot.press("w")
        assert viewer.wrap is not wrap
        await pilot.press("slash")
        await wait_for(pilot, lambda: viewer.query_one(SearchBar).is_open, message="search bar")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not viewer.query_one(SearchBar).is_open, message="closed")
        await pilot.press("tab")
        assert app.focused is app.alloc_tree
        await pilot.press("question_mark")  # ? too: a backward search, not the help
        bar = viewer.query_one(SearchBar)
        await wait_for(pilot, lambda: bar.is_open and bar.kind == "?", message="backward bar")


async def test_open_and_follow_at_start(alloc_root):
    from allocdir import AllocDir

    alloc = AllocDir.discover(alloc_root / ALLOC_A)
    app = InspectorApp(
        Root.open(alloc_root), open_file=(alloc, "alloc/logs/web.stdout.0"), follow=True
    )
    async with app.run_test(size=(120, 36)) as pilot:
        viewer = app.viewer
        await wait_for(pilot, lambda: viewer.following, message="following")
        assert app.focused is viewer
        with open(alloc_root / ALLOC_A / "alloc/logs/web.stdout.0", "a") as out:
            out.write("appended by the test\n")
        await wait_for(
            pilot,
            lambda: "appended by the test" in "\n".join(viewer.body.plain_lines()),
            message="appended line",
        )
        # the tree reveals the open file
        await wait_for(
            pilot,
            lambda: app.alloc_tree.cursor_node is not None
            and app.alloc_tree.cursor_node.data.rel == "alloc/logs/web.stdout.0",
            message="revealed",
        )


async def test_current_alloc_is_the_tree_cursor_else_the_open_file(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await open_notes(pilot, app)
        assert app.current_alloc().alloc_id == ALLOC_A
        await move_to(pilot, tree, tree.root.children[1])
        assert app.current_alloc().alloc_id != ALLOC_A
        await move_to(pilot, tree, tree.root)
        assert app.current_alloc().alloc_id == ALLOC_A  # the open file's
        assert find_node(tree, "web/local/notes.txt") is not None
