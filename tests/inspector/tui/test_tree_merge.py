"""Pilot tests of merging from the tree: `enter` on "all logs", `space`
marking logs across allocations, `m` opening them merged."""

from __future__ import annotations

import os

from inspector.core.roots import Root
from inspector.tui.app import InspectorApp

from ..conftest import ALLOC_A, ALLOC_B, find_node, wait_for
from .test_tree import move_to, open_path

LOGS = "alloc/logs"


def _write(root, alloc_id: str, rel: str, text: str) -> None:
    with open(os.path.join(root, alloc_id, rel), "w") as fh:
        fh.write(text)


def _stamped(root) -> None:
    _write(root, ALLOC_A, f"{LOGS}/web.stdout.0",
           "".join(f"2024-01-01T10:00:0{s}Z out {s}\n" for s in range(0, 10, 2)))
    _write(root, ALLOC_A, f"{LOGS}/web.stderr.0",
           "".join(f"2024-01-01T10:00:0{s}Z err {s}\n" for s in range(1, 10, 2)))
    _write(root, ALLOC_B, f"{LOGS}/api.stdout.0", "2024-01-01T10:00:05Z api 5\n")


def _shown(app) -> list[tuple[str, str]]:
    body = app.viewer.body
    return list(zip(body.tag_lines(), body.plain_lines(), strict=True))


async def test_enter_on_all_logs_opens_the_allocation_merged(alloc_root):
    _stamped(alloc_root)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        alloc = await open_path(pilot, tree, ALLOC_A, "")
        entry = alloc.children[0]
        assert str(entry.label) == "all logs  in time order"
        await move_to(pilot, tree, entry)
        await pilot.press("enter")
        await wait_for(pilot, lambda: _shown(app)[:2] == [
            ("web▸out", "2024-01-01T10:00:00Z out 0"), ("web▸err", "2024-01-01T10:00:01Z err 1")],
            message="the merged stream")
        assert app.viewer.has_focus


async def test_space_marks_logs_of_two_allocations_and_m_merges_them(alloc_root):
    _stamped(alloc_root)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await open_path(pilot, tree, ALLOC_A, f"{LOGS}/web.stderr.0")
        await move_to(pilot, tree, find_node(tree, f"{LOGS}/web.stderr.0", ALLOC_A))
        await pilot.press("space")
        assert str(tree.cursor_node.label).endswith("[marked]")
        await open_path(pilot, tree, ALLOC_B, f"{LOGS}/api.stdout.0")
        await move_to(pilot, tree, find_node(tree, f"{LOGS}/api.stdout.0", ALLOC_B))
        await pilot.press("space")
        await pilot.press("m")
        await wait_for(pilot, lambda: [tag for tag, _ in _shown(app)] == [
            f"{ALLOC_A[:8]}:web▸err"] * 3 + [f"{ALLOC_B[:8]}:api▸out"] + [
            f"{ALLOC_A[:8]}:web▸err"] * 2, message="two allocations merged")
        assert _shown(app)[3][1] == "2024-01-01T10:00:05Z api 5"
        assert not str(find_node(tree, f"{LOGS}/api.stdout.0", ALLOC_B).label).endswith(
            "[marked]")


async def test_m_on_a_task_merges_its_stdout_and_stderr_and_space_still_expands(alloc_root):
    _stamped(alloc_root)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await open_path(pilot, tree, ALLOC_A, "web")
        web = find_node(tree, "web", ALLOC_A)
        await move_to(pilot, tree, web)
        await pilot.press("space")  # a directory: expanded, not marked
        await wait_for(pilot, lambda: web.data.expanded and len(web.children) > 1)
        assert str(web.children[0].label) == "web: stdout+stderr  in time order"
        await pilot.press("m")
        await wait_for(pilot, lambda: {tag for tag, _ in _shown(app)} == {"web▸out", "web▸err"},
                       message="the task's streams")
