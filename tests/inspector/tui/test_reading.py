"""Pilot tests of operator-grade reading in the viewer: rotation sets as one
log, search as in less, filters and levels, line numbers and go-to."""

from __future__ import annotations

import os
import time

import pytest

from inspector.tui.search_bar import SearchBar

from .test_viewer import Host, opened, top_is, wait_for, write

SIZE = (100, 24)
LOGS = "alloc/logs"


def make_set(alloc, files: int = 4, lines: int = 50, stem: str = "web.stdout") -> list[bytes]:
    """A rotation set whose lines are numbered across files; a line is split
    across every rotation."""
    every = [f"f{f} line {i:03d}".encode() for f in range(files) for i in range(lines)]
    data = b"\n".join(every) + b"\n"
    size = len(data) // files
    for f in range(files):
        chunk = data[f * size : (f + 1) * size if f < files - 1 else len(data)]
        write(alloc, f"{LOGS}/{stem}.{f}", chunk)
    return every


async def prompt(pilot, kind: str, text: str) -> None:
    await pilot.press({"/": "slash", "?": "question_mark", "&": "ampersand", ":": "colon"}[kind])
    bar = pilot.app.query_one(SearchBar)
    await wait_for(pilot, lambda: bar.is_open)
    for char in text:
        await pilot.press(char)
    await pilot.press("enter")


# -- 1. a rotation set is one log -------------------------------------------------


async def test_rotation_set_pages_as_one_log_and_names_the_file(alloc):
    every = make_set(alloc)
    app = Host(alloc, f"{LOGS}/web.stdout.0", label=f"abc/{LOGS}/web.stdout.0")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await wait_for(pilot, lambda: app.status.members == 4)
        assert app.lines[0] == "f0 line 000" and app.status.member == 1
        await pilot.press("G")
        await wait_for(pilot, lambda: app.lines[-1] == "f3 line 049")
        await wait_for(pilot, lambda: app.status.path == f"abc/{LOGS}/web.stdout.3")
        assert app.status.member == 4 and app.status.percent == 100.0
        # Every line is whole, including the ones split by a rotation.
        await pilot.press("g")
        await wait_for(pilot, top_is(app, "f0 line 000"))
        for _ in range(8):
            await pilot.press("space")
        await wait_for(pilot, lambda: app.status.member >= 3)
        shown = [line.encode() for line in app.lines]
        start = every.index(shown[0])
        assert shown == every[start : start + len(shown)]
        # ] and [ go to the next and previous file.
        await pilot.press("g", "right_square_bracket")
        await wait_for(pilot, lambda: app.status.path.endswith("web.stdout.1")
                       and app.status.offset == 0)
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: app.status.path.endswith("web.stdout.2"))
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: app.status.path.endswith("web.stdout.1"))
        await pilot.press("left_square_bracket", "left_square_bracket")
        await wait_for(pilot, lambda: "first file" in app.status.notice)
        await wait_for(pilot, top_is(app, "f0 line 000"))


async def test_opening_a_member_starts_there_and_search_crosses_files(alloc):
    make_set(alloc)
    app = Host(alloc, f"{LOGS}/web.stdout.2")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await wait_for(pilot, lambda: app.status.path.endswith("web.stdout.2")
                       and app.status.offset == 0 and app.status.members == 4)
        # A line that is in .0 is found (backward, and forward by wrapping).
        await prompt(pilot, "?", "f0 line 007")
        await wait_for(pilot, lambda: "f0 line 007" in app.lines)
        assert "web.stdout.0" in app.status.notice
        await pilot.press("G")
        await wait_for(pilot, lambda: app.lines[-1] == "f3 line 049")
        await prompt(pilot, "/", "f1 line 020")
        await wait_for(pilot, lambda: "wrapped to the top" in app.status.notice)
        assert "f1 line 020" in app.lines


async def test_set_picks_up_new_files_and_drops_rotated_away_ones(alloc):
    make_set(alloc, files=2, lines=10)
    app = Host(alloc, f"{LOGS}/web.stdout.0")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await wait_for(pilot, lambda: app.status.members == 2)
        write(alloc, f"{LOGS}/web.stdout.2", b"third file\n")
        os.unlink(os.path.join(alloc.alloc_dir, f"{LOGS}/web.stdout.0"))
        await pilot.press("G")
        await wait_for(pilot, lambda: app.lines[-1] == "third file")
        await wait_for(pilot, lambda: "web.stdout.0 rotated away" in app.status.notice)
        assert app.status.members == 2
        await pilot.press("g")
        await wait_for(pilot, lambda: app.status.path.endswith("web.stdout.1"))


async def test_follow_a_set_from_its_last_file(alloc):
    make_set(alloc, files=3, lines=10)
    app = Host(alloc, f"{LOGS}/web.stdout.0", follow=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.status is not None and app.status.following)
        await wait_for(pilot, lambda: app.lines and app.lines[-1] == "f2 line 009")
        assert app.viewer.path.endswith("web.stdout.2")
        # The status names the followed file as the last of the set.
        await wait_for(pilot, lambda: (app.status.member, app.status.members) == (3, 3))
        write(alloc, f"{LOGS}/web.stdout.3", b"fourth\n")
        await wait_for(pilot, lambda: app.lines[-1] == "fourth")
        assert app.status.member == app.status.members
        # Nomad deletes the oldest file: it leaves the set, with a notice, while following.
        os.unlink(os.path.join(alloc.alloc_dir, f"{LOGS}/web.stdout.0"))
        await wait_for(pilot, lambda: "web.stdout.0 rotated away" in app.status.notice
                       and app.status.following, timeout=5)
        await pilot.press("f")
        await wait_for(pilot, lambda: not app.status.following and app.status.members == 3)


# -- 2. search as in less ----------------------------------------------------------


def needles(count: int = 300) -> bytes:
    return b"".join(
        (b"line %03d needle\n" if i in (40, 150, 260) else b"line %03d\n") % i
        for i in range(count)
    )


async def test_question_mark_searches_backward_and_n_keeps_the_direction(alloc):
    write(alloc, "alloc/data/app.log", needles())
    app = Host(alloc, "alloc/data/app.log")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("G")
        await wait_for(pilot, lambda: app.lines[-1] == "line 299")
        await prompt(pilot, "?", "needle")
        await wait_for(pilot, lambda: "line 260 needle" in app.lines)
        assert app.status.notice.startswith("?needle")
        await pilot.press("n")  # n goes on backward
        await wait_for(pilot, top_is(app, "line 150 needle"))
        await pilot.press("N")  # N goes the other way
        await wait_for(pilot, lambda: "line 260 needle" in app.lines)


async def test_search_after_tail_wraps_and_n_starts_from_the_view(alloc):
    write(alloc, "alloc/data/app.log", needles())
    app = Host(alloc, "alloc/data/app.log")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("G")
        await wait_for(pilot, lambda: app.lines[-1] == "line 299")
        # The matches are above: the search wraps around to them, and says so.
        await prompt(pilot, "/", "needle")
        await wait_for(pilot, top_is(app, "line 040 needle"))
        assert "wrapped to the top" in app.status.notice
        await pilot.press("n")
        await wait_for(pilot, top_is(app, "line 150 needle"))
        # After moving away, n and N start from the view, not the last match.
        await pilot.press("g")
        await wait_for(pilot, top_is(app, "line 000"))
        await pilot.press("N")  # nothing above the head: wraps to the last match
        await wait_for(pilot, lambda: "line 260 needle" in app.lines)
        assert "wrapped to the bottom" in app.status.notice


async def test_regex_search_and_current_match_stands_out(alloc):
    write(alloc, "alloc/data/app.log",
          b"conn accepted\nERROR: conn to db refused\nconn refused again\n")
    app = Host(alloc, "alloc/data/app.log")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await prompt(pilot, "/", "conn.*refused")
        await wait_for(pilot, lambda: app.status.notice.startswith("/conn.*refused"))
        body = app.viewer.body

        def styles(y):
            return {seg.text: seg.style for seg in body.render_line(y) if seg.text.strip()}

        current = styles(1)["conn to db refused"]
        other = styles(2)["conn refused"]
        assert current.bgcolor is not None and other.bgcolor is not None
        assert current.bgcolor != other.bgcolor  # the current match is highlighted apart
        assert "conn accepted" in styles(0)  # no match on the first line: not highlighted
        await prompt(pilot, "/", "ERR.R")
        await wait_for(pilot, lambda: app.status.notice.startswith("/ERR.R"))


async def test_invalid_regex_says_why(alloc):
    write(alloc, "alloc/data/app.log", b"a\n")
    app = Host(alloc, "alloc/data/app.log")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await prompt(pilot, "/", "(oops")
        await wait_for(pilot, lambda: app.status.notice.startswith("invalid regex"))


# -- 3. filters and levels -----------------------------------------------------------


def levels_log(count: int = 400) -> bytes:
    kinds = ["INFO", "INFO", "WARN", "INFO", "DEBUG"]
    return b"".join(
        (b"2026-11-28T10:%02d:%02d.000Z %-5s [web] #%d\n"
         % (i // 60, i % 60, b"ERROR" if i % 50 == 7 else kinds[i % 5].encode(), i))
        for i in range(count)
    )


async def test_filter_shows_matching_lines_with_a_count_and_clears(alloc):
    write(alloc, "alloc/data/app.log", levels_log())
    app = Host(alloc, "alloc/data/app.log")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await prompt(pilot, "&", "ERROR")
        await wait_for(pilot, lambda: app.lines and all("ERROR" in line for line in app.lines))
        assert len(app.lines) == 8 and app.lines[0].endswith("#7")
        await wait_for(pilot, lambda: app.status.matches == 8 and not app.status.counting)
        assert app.status.filter == "ERROR"
        await pilot.press("G", "k")
        await wait_for(pilot, lambda: app.lines[-1].endswith("#357"))
        await prompt(pilot, "&", "")
        await wait_for(pilot, lambda: app.status.filter == "" and "filter off" in app.status.notice)
        await wait_for(pilot, lambda: not all("ERROR" in line for line in app.lines))


async def test_a_long_filter_scan_is_cancelled_by_escape(alloc):
    path = write(alloc, "alloc/data/huge.log", b"start\n")
    os.truncate(path, 4 * 1024**3)  # sparse: zeros, no newline, no match
    app = Host(alloc, "alloc/data/huge.log")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await prompt(pilot, "&", "never there")
        await wait_for(pilot, lambda: app.status.notice.startswith("scanning")
                       or app.status.counting)
        await pilot.pause(0.3)
        started = time.monotonic()
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.status.notice == "filter cancelled: every line")
        assert time.monotonic() - started < 3
        assert app.escaped == 0 and app.status.filter == ""
        assert app.lines[0] == "start"


async def test_levels_are_coloured_and_e_jumps_to_errors(alloc):
    write(alloc, "alloc/data/app.log", levels_log())
    app = Host(alloc, "alloc/data/app.log")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        strip = list(app.viewer.body.render_line(7))
        error = [seg for seg in strip if seg.text == "ERROR"]
        assert error and error[0].style.color is not None and error[0].style.bold
        warn = [seg for seg in app.viewer.body.render_line(2) if seg.text == "WARN"]
        assert warn and warn[0].style.color is not None
        await pilot.press("e")  # after the top line: the next error line
        await wait_for(pilot, lambda: app.lines[0].endswith("#7"))
        assert "error line" in app.status.notice
        await pilot.press("e")
        await wait_for(pilot, lambda: app.lines[0].endswith("#57"))
        await pilot.press("e")
        await wait_for(pilot, lambda: app.lines[0].endswith("#107"))
        await pilot.press("E")
        await wait_for(pilot, lambda: app.lines[0].endswith("#57"))
        await pilot.press("E", "E")
        await wait_for(pilot, lambda: app.status.notice == "no error line above")


# -- 4. lines and go-to ---------------------------------------------------------------


async def test_line_numbers_and_go_to_line_percent_and_time(alloc):
    write(alloc, "alloc/data/app.log", levels_log(3000))
    app = Host(alloc, "alloc/data/app.log")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("number_sign")
        await wait_for(pilot, lambda: app.viewer.body.gutter_lines()[:1] == ["     1 "])
        await wait_for(pilot, lambda: app.status.lines == 3000 and app.status.line == 1)
        assert app.lines[0].startswith("2026-11-28T10:00:00")
        await prompt(pilot, ":", "1200")
        await wait_for(pilot, lambda: app.lines[0].endswith("#1199"))
        await wait_for(pilot, lambda: app.viewer.body.gutter_lines()[0].strip() == "1200")
        assert app.status.line == 1200
        await pilot.press("5", "0", "percent_sign", "enter")  # a digit opens the go-to prompt
        await wait_for(pilot, lambda: app.status.offset == 63906)  # the line holding byte 50%
        assert app.status.line == 1513 and app.lines[0].endswith("#1512")
        await prompt(pilot, ":", "@2026-11-28T10:40")
        await wait_for(pilot, lambda: app.lines[0].startswith("2026-11-28T10:40:00"))
        await prompt(pilot, ":", "999999")
        await wait_for(pilot, lambda: "past the end" in app.status.notice)
        await pilot.press("number_sign")
        await wait_for(pilot, lambda: app.viewer.body.gutter_lines()[0] == "")


async def test_go_to_a_time_in_a_log_without_timestamps_says_so(alloc):
    write(alloc, "alloc/data/app.log", b"no\ntimes\nhere\n")
    app = Host(alloc, "alloc/data/app.log")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await prompt(pilot, ":", "@2026-11-28")
        await wait_for(pilot, lambda: "no timestamps" in app.status.notice)


@pytest.mark.parametrize("text, notice", [(":abc", "not a line number"), (":@soon", "not a timestamp")])
async def test_go_to_rejects_nonsense(alloc, text, notice):
    write(alloc, "alloc/data/app.log", b"2026-11-28T10:00:00Z a\n")
    app = Host(alloc, "alloc/data/app.log")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await prompt(pilot, ":", text[1:])
        await wait_for(pilot, lambda: notice in app.status.notice)


# -- 5. what the session fixed ------------------------------------------------------


async def test_following_with_a_filter_and_numbers_is_tail_f_grep_numbered(alloc):
    log = "alloc/logs/web.stdout.0"
    write(alloc, log, b"".join(b"%s %d\n" % (b"ERROR" if i % 10 == 3 else b"INFO", i)
                               for i in range(100)))
    app = Host(alloc, log)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await pilot.press("number_sign")
        await prompt(pilot, "&", "ERROR")
        await wait_for(pilot, lambda: app.status.matches == 10 and not app.status.counting)
        await pilot.press("f")
        await wait_for(pilot, lambda: app.status.following)
        offset = app.status.offset
        write(alloc, log, b"INFO 100\nERROR 101\nINFO 102\nERROR 103\n", mode="ab")
        await wait_for(pilot, lambda: app.lines and app.lines[-1] == "ERROR 103")
        assert app.lines[-2:] == ["ERROR 101", "ERROR 103"]  # no INFO line streams in
        assert [g.strip() for g in app.viewer.body.gutter_lines()[-2:]] == ["102", "104"]
        await wait_for(pilot, lambda: app.status.matches == 12)
        assert app.status.offset > offset  # the position moves with the file


async def test_a_notice_lasts_until_the_next_command(alloc):
    write(alloc, "alloc/data/app.log", levels_log(3000))
    app = Host(alloc, "alloc/data/app.log")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await prompt(pilot, ":", "@yesterday")
        await wait_for(pilot, lambda: "not a timestamp" in app.status.notice)
        await prompt(pilot, ":", "@10:09")
        await wait_for(pilot, lambda: app.lines[0].startswith("2026-11-28T10:09:00"))
        assert app.status.notice == ""
        await prompt(pilot, "/", "absent")
        await wait_for(pilot, lambda: app.status.notice == "no match: absent")
        await pilot.press("j")
        await wait_for(pilot, lambda: app.status.notice == "")


async def test_a_time_that_does_not_exist_is_an_error(alloc):
    write(alloc, "alloc/data/app.log", levels_log(300))
    app = Host(alloc, "alloc/data/app.log")
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        await prompt(pilot, ":", "@2026-11-28T25:00")
        await wait_for(pilot, lambda: "not a valid time of day" in app.status.notice)
        assert app.lines[0].startswith("2026-11-28T10:00:00")
