"""The terminal app on a snapshot tar and on a keep directory: browsed and
read like allocations, actions that would change them refused."""

from __future__ import annotations

from inspector.core.roots import Root
from inspector.tui.app import InspectorApp

from ..conftest import node_labels, wait_for
from ..core.test_archive_root import LOG, _snapshot
from ..core.test_kept_root import kept  # noqa: F401  (the fixture)
from .test_tree import move_to, open_path

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
        node = await open_path(pilot, tree, ALLOC, "alloc/logs/web.stdout.0")
        await move_to(pilot, tree, node)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "after the truncation" in "\n".join(
            app.viewer.body.plain_lines()), message="both generations shown")
