"""The `u` usage view: sorted entries with bars, drill down and back, the
apparent/allocated toggle, the GC line, escape back to the tree."""

from __future__ import annotations

import os

from inspector.core.roots import Root
from inspector.core.usage.model import ALLOC, FILE, OTHER, SHARED, TASK
from inspector.core.usage.thresholds import GcSettings
from inspector.tui.app import InspectorApp
from inspector.tui.usage_view import UsageScreen, bar

from ..conftest import ALLOC_A, ALLOC_B, wait_for
from .test_tree import move_to, open_path

HOSTILE = "evil\x1b]0;pwned\x07\x1b[31mred"


def _rendered(screen: UsageScreen) -> str:
    table = screen.query_one("DataTable")
    return "\n".join(" ".join(str(cell) for cell in table.get_row_at(i))
                     for i in range(table.row_count))


def _done(screen: UsageScreen) -> bool:
    return screen.usage is not None and screen.usage.done and bool(screen.rows)


async def test_u_on_the_root_lists_allocations_by_size_and_drills_down(alloc_root):
    (alloc_root / ALLOC_B / "api" / "local" / "big.bin").write_bytes(b"b" * 300_000)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(140, 36)) as pilot:
        await wait_for(pilot, lambda: len(app.alloc_tree.root.children) == 2, message="allocs")
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, UsageScreen), message="view")
        screen = app.screen
        await wait_for(pilot, lambda: _done(screen), message="measured")
        assert [r.name for r in screen.rows] == [ALLOC_B, ALLOC_A]
        assert all(r.kind == ALLOC for r in screen.rows)
        assert screen.rows[0].share > screen.rows[1].share
        await wait_for(pilot, lambda: "gc at" in str(screen.query_one("#usage-gc").content)
                       or "disk" in str(screen.query_one("#usage-gc").content), message="gc")
        assert "allocs 2 / 50" in str(screen.query_one("#usage-gc").content)
        assert "Nomad's defaults" in str(screen.query_one("#usage-gc").content)

        await pilot.press("enter")  # into ALLOC_B
        await wait_for(pilot, lambda: screen.here == ALLOC_B and screen.rows, message="in")
        kinds = {r.name: r.kind for r in screen.rows}
        assert kinds["api"] == TASK and kinds["alloc"] == SHARED
        await pilot.press("enter")  # into api (the largest)
        await wait_for(pilot, lambda: screen.here == f"{ALLOC_B}/api", message="api")
        await pilot.press("enter")  # into local
        await wait_for(pilot, lambda: any(r.kind == FILE for r in screen.rows), message="files")
        assert screen.rows[0].name == "big.bin" and screen.rows[0].apparent == 300_000

        await pilot.press("backspace", "backspace")
        await wait_for(pilot, lambda: screen.here == ALLOC_B, message="back up")
        assert screen.highlighted is not None and screen.highlighted.name == "api"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, UsageScreen), message="left")
        assert app.focused is app.alloc_tree


async def test_a_toggles_allocated_bytes(alloc_root):
    sparse = alloc_root / ALLOC_A / "web" / "local" / "sparse.img"
    with open(sparse, "wb") as f:
        f.truncate(1 << 40)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(140, 36)) as pilot:
        tree = app.alloc_tree
        node = await open_path(pilot, tree, ALLOC_A, "web/local/notes.txt")
        await move_to(pilot, tree, node)
        await pilot.press("u")  # on a file: its directory
        await wait_for(pilot, lambda: isinstance(app.screen, UsageScreen), message="view")
        screen = app.screen
        assert screen.target.rel == "web/local"
        await wait_for(pilot, lambda: _done(screen) and screen.rows[0].kind == FILE,
                       message="files")
        assert screen.rows[0].name == "sparse.img"
        assert "1.0 TiB" in _rendered(screen)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen.allocated and screen.rows[0].name != "sparse.img",
                       message="by allocated")
        assert screen.rows == sorted(screen.rows, key=lambda r: (r.kind == OTHER, -r.allocated))


async def test_names_are_plain_text(alloc_root):
    (alloc_root / ALLOC_A / "web" / "local" / HOSTILE).mkdir()
    (alloc_root / ALLOC_A / "web" / "local" / HOSTILE / "f").write_bytes(b"x" * 99_000)
    app = InspectorApp(Root.open(alloc_root), gc_settings=GcSettings(1.0, 1.0, 1, "t.hcl"))
    async with app.run_test(size=(140, 36)) as pilot:
        await wait_for(pilot, lambda: len(app.alloc_tree.root.children) == 2, message="allocs")
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, UsageScreen), message="view")
        screen = app.screen
        await wait_for(pilot, lambda: _done(screen), message="measured")
        screen.here = f"{ALLOC_A}/web/local"
        screen._redraw()
        await wait_for(pilot, lambda: any(r.name == HOSTILE for r in screen.rows), message="row")
        shown = _rendered(screen)
        assert "\x1b" not in shown and "\x07" not in shown
        assert "evil\\x1b]0;pwned\\x07\\x1b[31mred/" in shown
        await wait_for(pilot, lambda: "▲" in str(screen.query_one("#usage-gc").content),
                       message="over the thresholds")
        gc_line = str(screen.query_one("#usage-gc").content)
        assert "allocs 2 / 1 ▲" in gc_line and "(from t.hcl)" in gc_line


def test_the_bar_is_proportional():
    assert bar(0.0, 8) == " " * 8
    assert bar(1.0, 8) == "█" * 8
    assert bar(0.5, 8) == "████    "
    assert bar(1 / 16, 8) == "▌       "


async def test_growth_of_the_allocation_and_its_logs_while_open(alloc_root, monkeypatch):
    import inspector.tui.usage_view as view

    monkeypatch.setattr(view, "GROWTH_EVERY", 0.1)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(160, 36)) as pilot:
        await wait_for(pilot, lambda: len(app.alloc_tree.root.children) == 2, message="allocs")
        node = next(n for n in app.alloc_tree.root.children if n.alloc.alloc_id == ALLOC_A)
        app.alloc_tree.move_cursor(node)
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, UsageScreen), message="view")
        screen = app.screen
        assert screen.target.kind == ALLOC
        await wait_for(pilot, lambda: _done(screen) and "" in screen.growth, message="sampled")
        with open(alloc_root / ALLOC_A / "alloc" / "logs" / "web.stdout.0", "ab") as log:
            log.write(b"y" * (4 << 20))
        where = screen.query_one("#usage-where")
        await wait_for(pilot, lambda: "growing +" in str(where.content), message="growth shown")
        assert "(logs +" in str(where.content)


async def test_a_link_where_a_directory_was_is_said_not_a_crash(alloc_root, tmp_path):
    """The task swapped the directory the view was asked for with a link to a
    host dir: the view says it cannot measure; nothing outside is walked."""
    from inspector.tui.usage_view import UsageTarget

    host = tmp_path / "host"
    host.mkdir()
    (host / "big").write_bytes(b"h" * 100_000)
    os.symlink(host, alloc_root / ALLOC_A / "web" / "local" / "swapped")
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(140, 36)) as pilot:
        target = UsageTarget(str(alloc_root / ALLOC_A), "web/local/swapped", "dir",
                             (str(alloc_root / ALLOC_A),), GcSettings())
        screen = UsageScreen(target)
        await app.push_screen(screen)
        where = screen.query_one("#usage-where")
        await wait_for(pilot, lambda: "cannot measure" in str(where.content), message="said")
        assert "symbolic link" in str(where.content)
        assert app.is_running and screen.usage is None
