"""The terminal app on a snapshot tar and on a keep directory: browsed and
read like allocations, actions that would change them refused."""

from __future__ import annotations

from textual.widgets import Button, Label

from inspector.core.roots import Root
from inspector.tui.app import InspectorApp
from inspector.tui.destroy_screen import DestroyScreen
from tests.keeping import ALLOC as KEPT
from tests.keeping import RunningKeeper

from ..conftest import node_labels, wait_for
from ..core.test_archive_root import LOG, _snapshot
from ..core.test_kept_root import kept  # noqa: F401  (the fixture)
from .test_screens import open_destroy, type_into, wait_message
from .test_tree import expand, move_to, open_path

ALLOC = "5fc98185-17ff-26bc-a802-0c74fa471c99"


async def test_a_snapshot_tar_is_browsed_and_read(tmp_path):
    app = InspectorApp(Root.open(_snapshot(tmp_path)))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        node = await open_path(pilot, tree, ALLOC, "web/local/app.log")
        await move_to(pilot, tree, node)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.viewer.mode == "text", message="member shown")
        assert "line 0" in "\n".join(app.viewer.body.plain_lines())
        await pilot.press("G")
        await wait_for(pilot, lambda: "line 4999" in "\n".join(app.viewer.body.plain_lines()),
                       message="tail of the member")
        assert any("web" in label for label in node_labels(tree))
        for key in ("M", "D"):
            await pilot.press("escape", key)
            await pilot.pause(0.1)
            assert app.screen is app.screen_stack[0]  # no dialog: refused
        assert LOG  # the member was read from the archive, not extracted


async def test_a_keep_directory_labels_gone_copies(kept):  # noqa: F811
    keep, written = kept
    app = InspectorApp(Root.open(keep))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await wait_for(pilot, lambda: any("gone" in label for label in node_labels(tree)),
                       message="the gone copy labelled")
        logs = await open_path(pilot, tree, ALLOC, "alloc/logs")
        await expand(pilot, tree, logs)
        # The kept generation web.stdout.0.1 is in web.stdout's set, not beside it.
        (node,) = [child for child in logs.children if str(child.label).startswith("web.stdout")]
        assert str(node.label).startswith("web.stdout.[0–0]  2 files")
        await move_to(pilot, tree, node)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "after the truncation" in "\n".join(
            app.viewer.body.plain_lines()), message="both generations shown")


async def test_removing_a_kept_copy_is_worded_so_and_waits_for_no_keeper(tmp_path, kept, notified):  # noqa: F811
    keep, _ = kept
    other_root = tmp_path / "other-root"
    other_root.mkdir()
    app = InspectorApp(Root.open(keep))
    async with app.run_test(size=(120, 36)) as pilot:
        with RunningKeeper(other_root, keep):
            screen = await open_destroy(pilot, app, KEPT)
            assert str(screen.query_one("#destroy", Button).label) == "Remove kept copy"
            assert "removes the kept copy" in "\n".join(
                str(label.content) for label in screen.query(Label))
            text = await wait_message(pilot, screen, "keep process is running")
            assert text.startswith("Cannot remove kept copy: ")
            await type_into(pilot, app, "#confirm", KEPT)
            assert screen.query_one("#destroy", Button).disabled  # refused while it runs
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, DestroyScreen),
                           message="closed")
        screen = await open_destroy(pilot, app, KEPT)
        await type_into(pilot, app, "#confirm", KEPT)
        await wait_for(pilot, lambda: not screen.query_one("#destroy", Button).disabled,
                       message="Remove kept copy enabled")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, DestroyScreen), timeout=30,
                       message="removed")
        assert not (keep / KEPT).exists()
        assert any(f"Kept copy {KEPT} removed" in n.message for n in notified)
