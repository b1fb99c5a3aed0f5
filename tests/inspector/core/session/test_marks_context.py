"""Context lines around the & filter, switching it off and on in place,
marks and the way back, at core speed."""

from __future__ import annotations

import time

from .conftest import LOGS, make_set, numbered


def _log(reader, count: int = 100) -> None:
    data = b"".join(b"line %d%s\n" % (i, b" HIT" if i % 25 == 10 else b"")
                    for i in range(count))
    reader.write(f"{LOGS}/web.stdout.0", data)
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")


def test_context_lines_show_around_each_match_dimmed(reader):
    _log(reader)
    reader.filter("HIT")
    assert reader.lines == ["line 10 HIT", "line 35 HIT", "line 60 HIT", "line 85 HIT"]
    reader.set_context(2)  # the line on top stays on top
    assert reader.lines[:5] == ["line 10 HIT", "line 11", "line 12", "line 33", "line 34"]
    reader.line_up(2)
    assert reader.lines == ["line 8", "line 9", "line 10 HIT", "line 11", "line 12",
                            "line 33", "line 34", "line 35 HIT", "line 36", "line 37"]
    dim = [row.context for row in reader.frame.rows]
    assert dim == [True, True, False, True, True, True, True, False, True, True]
    assert reader.status.matches == 4  # the count is of matches, not context
    reader.page_down()
    assert reader.lines[:5] == ["line 58", "line 59", "line 60 HIT", "line 61", "line 62"]
    reader.tail()
    assert reader.lines[-1] == "line 87"
    reader.set_context(0)
    assert reader.lines[-1] == "line 85 HIT"


def test_context_before_a_filter_says_it_waits_for_one(reader):
    _log(reader)
    reader.set_context(3)
    assert reader.notice == "3 lines of context around each match (once a & filter is set)"
    assert reader.lines[0] == "line 0"


def test_toggling_the_filter_keeps_the_current_line_in_place(reader):
    _log(reader)
    reader.resize(80, 2)
    reader.filter("HIT")
    reader.line_down()
    assert reader.lines[0] == "line 35 HIT"
    reader.toggle_filter()
    assert reader.lines == ["line 35 HIT", "line 36"]
    assert reader.status.filter == "" and "\\ again: back on" in reader.notice
    reader.line_down(3)
    assert reader.lines[0] == "line 38"
    reader.toggle_filter()
    assert reader.status.filter == "HIT" and reader.lines[0] == "line 60 HIT"


def test_nothing_to_toggle_says_so(reader):
    _log(reader)
    reader.toggle_filter()
    assert reader.notice == "no filter to switch on: set one with &"


def test_marks_jump_and_come_back(reader):
    _log(reader)
    reader.goto("20")
    reader.marks.set("a")
    assert reader.notice.startswith("mark 'a: ") and reader.lines[0] == "line 19"
    assert reader.frame.rows[0].mark == "a"
    reader.goto("70")
    assert reader.lines[0] == "line 69" and not reader.frame.rows[0].mark
    reader.marks.jump("a")
    assert reader.lines[0] == "line 19"
    reader.marks.jump("'")
    assert reader.lines[0] == "line 69"
    reader.marks.jump("'")
    assert reader.lines[0] == "line 19"
    reader.marks.jump("z")
    assert reader.notice == "no mark 'z (set one with mz)"
    reader.marks.set("1")
    assert "a mark is a letter" in reader.notice


def test_a_mark_stays_on_its_line_when_the_first_file_is_deleted(reader):
    import os

    expected = make_set(reader, files=3, lines=40)
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    reader.goto("100")
    reader.marks.set("b")
    assert reader.lines[0] == expected[99]
    reader.goto("10")
    reader.marks.set("c")
    os.unlink(os.path.join(reader.alloc.alloc_dir, LOGS, "web.stdout.0"))
    reader.tail()  # the set's directory is listed again: its head is gone
    reader.marks.jump("b")
    assert reader.lines[0] == expected[99]
    reader.marks.jump("c")
    assert reader.notice == "mark 'c is gone: its line was in a file Nomad deleted"


def test_a_mark_while_following_is_a_now_divider(reader):
    path = reader.write(f"{LOGS}/web.stdout.0", numbered(5))
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0", follow=True)
    reader.wait(lambda: reader.lines[-1:] == ["line 4"])
    reader.marks.set("n")
    assert reader.notice.startswith("mark 'n: the end of web.stdout.0, now")
    with open(path, "ab") as f:
        f.write(b"new 1\nnew 2\n")
    reader.wait(lambda: reader.lines[-1:] == ["new 2"])
    rows = reader.frame.rows
    divider = next(i for i, row in enumerate(rows) if row.separator)
    assert rows[divider - 1].plain == "line 4" and rows[divider + 1].plain == "new 1"
    assert rows[divider].separator.startswith("'n now ")
    assert len(rows) <= reader.view.height


def test_copy_the_current_line_and_a_marked_range(reader):
    data = b"".join(b"line %d \x1b]52;c;ZXZpbA==\x07\x1b[31mred\x1b[0m\n" % i for i in range(30))
    reader.write(f"{LOGS}/web.stdout.0", data)
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    copied = []
    reader.records.copy(copied.append)
    assert copied[-1].text == "line 0 red" and copied[-1].lines == 1
    reader.marks.set("a")
    reader.goto("4")
    reader.records.copy(copied.append, mark="a")
    assert copied[-1].text.splitlines() == [f"line {i} red" for i in range(4)]
    assert reader.notice == "copied 4 lines (43 bytes) to the clipboard"


def test_a_copy_is_bounded(reader):
    reader.write(f"{LOGS}/web.stdout.0", b"".join(b"%06d " % i + b"y" * 993 + b"\n"
                                                  for i in range(500)))
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    reader.marks.set("a")
    reader.tail()
    copied = []
    started = time.monotonic()
    reader.records.copy(copied.append, mark="a")
    assert copied[-1].cut and len(copied[-1].text.encode()) <= 64 * 1024
    assert copied[-1].text.splitlines()[0].startswith("000000 ")
    assert "copied the first" in reader.notice
    assert time.monotonic() - started < 5
