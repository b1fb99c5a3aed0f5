"""Pilot tests of the viewer's keys for structured logs and evidence: marks
(m, ', ''), the field view (x), columns (c), context (C), the filter on
and off (\\), the histogram (i), export (W) and copy (y)."""

from __future__ import annotations

import json
import os
import stat

from textual.widgets import Input, OptionList, RadioSet

from inspector.tui.export_screen import ExportScreen
from inspector.tui.field_screen import FieldScreen
from inspector.tui.histogram_screen import HistogramScreen

from .test_viewer import SIZE, Host, numbered, opened, top_is, wait_for, write

LOG = "alloc/logs/web.stdout.0"


def _records(count: int = 300) -> bytes:
    return b"".join(json.dumps({
        "ts": f"2026-11-28T10:{i // 60:02d}:{i % 60:02d}Z",
        "level": "error" if i >= 200 and i % 4 == 0 else "info",
        "status": 503 if i >= 200 and i % 4 == 0 else 200, "n": i}).encode() + b"\n"
        for i in range(count))


async def test_marks_jump_and_come_back(alloc):
    write(alloc, LOG, numbered(500))
    app = Host(alloc, LOG)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("j", "j", "m", "a")
        await wait_for(pilot, lambda: app.status.notice.startswith("mark 'a"))
        await pilot.press("G")
        await wait_for(pilot, lambda: app.lines[-1] == "line 499")
        await pilot.press("apostrophe", "a")
        await wait_for(pilot, top_is(app, "line 2"))
        assert app.viewer.body.frame.rows[0].mark == "a"
        await pilot.press("apostrophe", "apostrophe")
        await wait_for(pilot, lambda: app.lines[-1] == "line 499")
        # A second key that is not a letter gives the command up; nothing moves.
        await pilot.press("m", "escape", "j")
        await wait_for(pilot, lambda: app.lines[-1] == "line 499")


async def test_context_lines_and_the_filter_on_and_off(alloc):
    write(alloc, LOG, b"".join(b"line %d%s\n" % (i, b" HIT" if i % 30 == 5 else b"")
                               for i in range(300)))
    app = Host(alloc, LOG)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("ampersand", *"HIT", "enter")
        await wait_for(pilot, top_is(app, "line 5 HIT"))
        await pilot.press("C", "2", "enter")
        shown = ["line 5 HIT", "line 6", "line 7", "line 33", "line 34", "line 35 HIT"]
        await wait_for(pilot, lambda: app.lines[:6] == shown)
        assert [row.context for row in app.viewer.body.frame.rows[:3]] == [False, True, True]
        await pilot.press("k")  # the context above the first match
        await wait_for(pilot, top_is(app, "line 4"))
        await pilot.press("backslash")
        await wait_for(pilot, lambda: app.status.filter == "" and app.lines[4] == "line 8")
        assert app.lines[0] == "line 4"
        await pilot.press("backslash")
        await wait_for(pilot, lambda: app.status.filter == "HIT")


async def test_the_field_view_of_the_top_line(alloc):
    write(alloc, LOG, _records(3))
    app = Host(alloc, LOG)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, FieldScreen))
        view = app.screen.view
        assert view.kind == "json" and '  "status": 200,' in view.lines
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, FieldScreen))


async def test_fields_as_columns(alloc):
    write(alloc, LOG, _records(3))
    app = Host(alloc, LOG)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("c", *"level:5,status:3", "enter")
        await wait_for(pilot, lambda: app.lines[0].startswith("info   200 │ ts="))
        await pilot.press("c", "enter")
        await wait_for(pilot, lambda: app.lines[0].startswith('{"ts"'))


async def test_the_histogram_goes_to_the_bucket_picked(alloc):
    write(alloc, LOG, _records(300))
    app = Host(alloc, LOG)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, HistogramScreen)
                       and app.screen.picture is not None and app.screen.picture.done)
        picture = app.screen.picture
        assert picture.width == 10 and picture.totals() == (25, 0, 300)
        await pilot.press("e")
        first = picture.first_with("error")
        assert app.screen.query_one(OptionList).highlighted == first
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, HistogramScreen))
        await wait_for(pilot, lambda: app.lines and '"n": 200' in app.lines[0])


async def test_export_writes_the_view_and_refuses_an_allocation(alloc, tmp_path):
    write(alloc, LOG, _records(300))
    app = Host(alloc, LOG)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("ampersand", *"status>=500", "enter")
        await wait_for(pilot, lambda: app.status.matches == 25)
        await pilot.press("W")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen)
                       and app.screen.query_one("#path", Input).value)
        screen = app.screen
        field = screen.query_one("#path", Input)
        field.value = os.path.join(alloc.alloc_dir, "alloc/data/out.log")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "inside the alloc dir" in str(
            screen.query_one("#message").render()))
        field.value = str(tmp_path / "out.log")
        screen.query_one("#format", RadioSet).query("RadioButton")[2].value = True  # raw
        await pilot.press("enter")
        await wait_for(pilot, lambda: (tmp_path / "out.log").exists()
                       and not isinstance(app.screen, ExportScreen))
        lines = (tmp_path / "out.log").read_text().splitlines()
        assert len(lines) == 25 and all('"status": 503' in line for line in lines)
        assert stat.S_IMODE((tmp_path / "out.log").stat().st_mode) == 0o600


async def test_copy_the_line_and_a_marked_range(alloc):
    write(alloc, LOG, b"".join(b"line %d \x1b]0;title\x07end\n" % i for i in range(50)))
    app = Host(alloc, LOG)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("y", "y")
        await wait_for(pilot, lambda: app.clipboard == "line 0 end")
        await pilot.press("m", "a", "j", "j", "y", "a")
        await wait_for(pilot, lambda: app.clipboard == "line 0 end\nline 1 end\nline 2 end")
