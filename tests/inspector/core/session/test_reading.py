"""What the keys of a viewer do, at core speed: the reader session on real
files, without an App."""

from __future__ import annotations

import os

import pytest

from .conftest import LOGS, levels_log, make_set, numbered

APP = "alloc/data/app.log"


# -- paging --------------------------------------------------------------------


def test_opens_at_the_head_with_the_status(reader):
    reader.write(APP, numbered(1000))
    reader.open(reader.alloc, APP, label="abc/" + APP)
    assert reader.lines == [f"line {i}" for i in range(10)]
    status = reader.status
    assert (status.path, status.mode, status.offset, status.size) == (
        "abc/" + APP, "text", 0, len(numbered(1000)))
    assert status.content_type.startswith("text/plain") and 0 < status.percent < 2
    assert reader.frame.mode == "text" and reader.fs is reader.alloc and reader.path == APP


def test_rows_pages_head_and_tail(reader):
    reader.write(APP, numbered(500))
    reader.open(reader.alloc, APP)
    for _ in range(3):
        reader.line_down()
    assert reader.lines[0] == "line 3"
    assert reader.status.offset == numbered(500).index(b"line 3")
    reader.line_up()
    reader.page_down()
    reader.page_down()
    assert reader.lines[0] == "line 22"
    reader.page_up()
    assert reader.lines[0] == "line 12"
    reader.tail()
    assert reader.lines[-1] == "line 499" and reader.status.percent == 100.0
    reader.head()
    assert reader.lines[0] == "line 0"


def test_long_lines_wrap_or_are_cut_and_resizing_lays_out_again(reader):
    reader.write(APP, b"short\n" + b"q" * 5000 + b"\nend\n")
    reader.open(reader.alloc, APP)
    assert reader.lines[1] == "q" * 80  # wrapped to the width
    reader.set_wrap(False)
    assert [len(line) for line in reader.lines] == [5, 2048, 2048, 904, 3]
    assert not reader.status.wrap
    reader.set_wrap(True)
    reader.resize(40, 3)
    assert reader.lines == ["short", "q" * 40, "q" * 40]


def test_a_binary_file_is_a_hex_dump_and_text_can_be_shown_as_hex(reader):
    reader.write("alloc/data/blob.bin", bytes(range(256)) * 4)
    reader.open(reader.alloc, "alloc/data/blob.bin")
    assert reader.frame.mode == "hex" and reader.status.mode == "hex"
    assert reader.lines[1].startswith("00000010  10 11 12 13")
    reader.goto("512")  # in a hex dump a bare number is a byte offset
    assert reader.lines[0].startswith("00000200")
    reader.tail()
    assert reader.lines[-1].startswith("000003f0")
    reader.write(APP, b"hello\n")
    reader.open(reader.alloc, APP)
    reader.set_hex(True)
    assert reader.frame.mode == "hex" and reader.lines[0].startswith("00000000  68 65 6c 6c 6f")
    reader.set_hex(False)
    assert reader.lines == ["hello"]


@pytest.mark.parametrize(("make", "path", "says"), [
    (lambda r: None, "alloc/data/missing.log", "does not exist"),
    (lambda r: None, "alloc/data", "is a directory"),
    (lambda r: os.mkfifo(os.path.join(r.alloc.alloc_dir, "alloc/logs/.web.stdout.fifo")),
     "alloc/logs/.web.stdout.fifo", "FIFO"),
    (lambda r: None, "../../etc/passwd", "escapes"),
])
def test_what_cannot_be_shown_is_a_message(reader, make, path, says):
    make(reader)
    reader.open(reader.alloc, path)
    assert reader.frame.mode == "message" and says in reader.frame.message
    reader.line_down()  # keys do nothing on a message
    assert reader.frame.mode == "message"


def test_a_secret_shows_the_refusal_and_is_never_read(reader):
    task = reader.alloc.new_task_dir("web")
    task.build()
    reader.write("web/secrets/token", b"hunter2\n")
    reader.open(reader.alloc, "web/secrets/token")
    assert "Reading secret file prohibited" in reader.frame.message
    assert all("hunter2" not in repr(frame) for frame in reader.frames)


def test_close_forgets_the_file(reader):
    reader.write(APP, numbered(5))
    reader.open(reader.alloc, APP)
    reader.close()
    assert reader.status is None and reader.path is None and reader.lines == []


# -- rotation sets -------------------------------------------------------------


def test_a_rotation_set_pages_as_one_log_and_names_the_file(reader):
    every = make_set(reader)
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0", label=f"abc/{LOGS}/web.stdout.0")
    assert reader.lines[0] == "f0 line 000" and reader.status.members == 4
    reader.tail()
    assert reader.lines[-1] == "f3 line 049"
    assert reader.status.path == f"abc/{LOGS}/web.stdout.3" and reader.status.member == 4
    reader.head()
    for _ in range(9):
        reader.page_down()
    start = every.index(reader.lines[0])  # every line whole, also those split by a rotation
    assert reader.lines == every[start: start + 10]
    reader.head()
    reader.next_file()
    assert reader.status.path.endswith("web.stdout.1") and reader.status.offset == 0
    reader.previous_file()
    reader.previous_file()
    assert "first file" in reader.notice and reader.lines[0] == "f0 line 000"


def test_a_member_opens_at_its_first_byte_and_a_set_name_at_its_first_file(reader):
    make_set(reader)
    reader.open(reader.alloc, f"{LOGS}/web.stdout.2")
    assert reader.status.path.endswith("web.stdout.2") and reader.status.offset == 0
    assert reader.status.members == 4
    os.unlink(os.path.join(reader.alloc.alloc_dir, f"{LOGS}/web.stdout.0"))  # as Nomad does
    reader.open(reader.alloc, f"{LOGS}/web.stdout")
    assert reader.path.endswith("web.stdout.1") and reader.lines[0].startswith("f1 line 0")
    reader.open(reader.alloc, f"{LOGS}/api.stdout")
    assert reader.frame.mode == "message" and "does not exist" in reader.frame.message


def test_a_set_picks_up_new_files_and_drops_rotated_away_ones(reader):
    make_set(reader, files=2, lines=10)
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    reader.write(f"{LOGS}/web.stdout.2", b"third file\n")
    os.unlink(os.path.join(reader.alloc.alloc_dir, f"{LOGS}/web.stdout.0"))
    reader.tail()
    assert reader.lines[-1] == "third file"
    assert "web.stdout.0 rotated away" in reader.notice and reader.status.members == 2
    reader.head()
    assert reader.status.path.endswith("web.stdout.1")


# -- search ----------------------------------------------------------------------


def needles(count: int = 300) -> bytes:
    return b"".join((b"line %03d needle\n" if i in (40, 150, 260) else b"line %03d\n") % i
                    for i in range(count))


def test_search_forward_and_backward_n_keeps_the_direction_and_wraps(reader):
    reader.write(APP, needles())
    reader.open(reader.alloc, APP)
    reader.search("needle")
    assert reader.lines[0] == "line 040 needle" and reader.notice.startswith("/needle at byte")
    reader.search_again()
    assert reader.lines[0] == "line 150 needle"
    reader.search_again(reverse=True)
    assert reader.lines[0] == "line 040 needle"
    reader.tail()
    reader.search("needle", backward=True)
    assert "line 260 needle" in reader.lines and reader.notice.startswith("?needle")
    reader.search_again()  # n goes on backward
    assert reader.lines[0] == "line 150 needle"
    reader.tail()
    reader.search("needle")  # below the tail: wraps to the top, and says so
    assert reader.lines[0] == "line 040 needle" and "wrapped to the top" in reader.notice
    reader.head()
    reader.search_again(reverse=True)
    assert "line 260 needle" in reader.lines and "wrapped to the bottom" in reader.notice


def test_the_current_match_is_marked_apart(reader):
    reader.write(APP, b"conn accepted\nERROR: conn to db refused\nconn refused again\n")
    reader.open(reader.alloc, APP)
    reader.search("conn.*refused")
    rows = reader.frame.rows
    assert rows[1].current == (7, 25) and rows[1].plain[7:25] == "conn to db refused"
    assert rows[0].current is None and rows[2].current is None
    assert reader.frame.highlight.pattern == "conn.*refused"


def test_search_without_match_bad_regex_and_nothing_to_repeat(reader):
    reader.write(APP, numbered(50))
    reader.open(reader.alloc, APP)
    reader.search_again()
    assert reader.notice == "no previous search"
    reader.search("absent")
    assert reader.notice == "no match: absent" and reader.lines[0] == "line 0"
    reader.search("(oops")
    assert reader.notice.startswith("invalid regex")


def test_search_crosses_the_files_of_a_set(reader):
    make_set(reader)
    reader.open(reader.alloc, f"{LOGS}/web.stdout.2")
    reader.search("f0 line 007", backward=True)
    assert "f0 line 007" in reader.lines and "web.stdout.0" in reader.notice


# -- filter and levels -----------------------------------------------------------


def test_filter_shows_matching_lines_with_a_count_and_clears(reader):
    reader.write(APP, levels_log())
    reader.open(reader.alloc, APP)
    reader.filter("ERROR")
    assert len(reader.lines) == 8 and all("ERROR" in line for line in reader.lines)
    status = reader.status
    assert (status.filter, status.matches, status.counting) == ("ERROR", 8, False)
    reader.tail()
    reader.line_up()
    assert reader.lines[-1].endswith("#357")
    reader.filter("")
    assert reader.status.filter == "" and reader.notice == "filter off: every line"
    assert not all("ERROR" in line for line in reader.lines)


def test_a_filter_that_matches_nothing_says_so(reader):
    reader.write(APP, levels_log(50))
    reader.open(reader.alloc, APP)
    reader.filter("PANIC")
    assert reader.lines == [] and reader.status.matches == 0
    assert reader.notice == "no line matches PANIC"


def test_the_count_goes_on_with_what_is_appended(reader):
    reader.write(APP, levels_log(400))
    reader.open(reader.alloc, APP)
    reader.filter("ERROR")
    assert reader.status.matches == 8
    reader.write(APP, b"2026-11-28T11:00:00.000Z ERROR [web] appended\n", mode="ab")
    reader.poll()
    assert reader.status.matches == 9
    reader.write(APP, b"2026-11-28T11:00:01.000Z ERR", mode="ab")  # a line being written
    reader.poll()
    reader.write(APP, b"OR [web] whole now\n", mode="ab")
    reader.poll()
    assert reader.status.matches == 10
    reader.write(APP, b"2026-11-28T11:00:00.000Z ERROR [web] rewritten\n")  # truncated
    reader.poll()
    assert reader.status.matches == 1


def test_levels_are_coloured_and_e_goes_to_error_lines(reader):
    reader.write(APP, levels_log())
    reader.open(reader.alloc, APP)
    error = reader.frame.rows[7].text
    assert any("red" in str(span.style) for span in error.spans)
    reader.next_error()
    assert reader.lines[0].endswith("#7") and reader.notice.startswith("error line at byte")
    reader.next_error()
    assert reader.lines[0].endswith("#57")
    reader.next_error(backward=True)
    assert reader.lines[0].endswith("#7")
    reader.next_error(backward=True)
    assert reader.notice == "no error line above"


# -- line numbers and go-to --------------------------------------------------------


def test_line_numbers_in_the_gutter_and_the_count_in_the_status(reader):
    reader.write(APP, levels_log(3000))
    reader.open(reader.alloc, APP)
    reader.set_numbers(True)
    frame = reader.frame
    assert [row.number for row in frame.rows] == list(range(1, 11))
    assert frame.gutter_text(frame.rows[0]) == "     1 "
    assert (reader.status.line, reader.status.lines, reader.status.numbers) == (1, 3000, True)
    reader.goto("1200")
    assert reader.lines[0].endswith("#1199") and reader.frame.rows[0].number == 1200
    reader.set_numbers(False)
    assert reader.frame.gutter_text(reader.frame.rows[0]) == ""


def test_go_to_a_percentage_a_time_and_a_byte_offset(reader):
    data = levels_log(3000)
    reader.write(APP, data)
    reader.open(reader.alloc, APP)
    reader.goto("50%")
    assert reader.status.offset == data.rindex(b"\n", 0, len(data) // 2) + 1
    reader.goto("@2026-11-28T10:40")
    assert reader.lines[0].startswith("2026-11-28T10:40:00")
    reader.goto("@10:41:30")  # a time alone: on the date of the top line
    assert reader.lines[0].startswith("2026-11-28T10:41:30")
    offset = data.index(b"#2000\n") - 10
    reader.goto(hex(offset))
    assert reader.lines[0].endswith("#2000")
    reader.goto(f"b{offset}")
    assert reader.lines[0].endswith("#2000")
    reader.goto("b1G")
    assert "past the end" in reader.notice and reader.status.percent == 100.0


@pytest.mark.parametrize(("typed", "says"), [
    ("abc", "not a line number"),
    ("@soon", "not a timestamp"),
    ("@2026-11-28T25:00", "not a valid time of day"),
    ("999999", "past the end"),
    ("@2027-01-01", "no line at or after"),
])
def test_go_to_errors(reader, typed, says):
    reader.write(APP, levels_log(100))
    reader.open(reader.alloc, APP)
    reader.goto(typed)
    assert says in reader.notice


def test_go_to_a_time_in_a_log_without_timestamps_says_so(reader):
    reader.write(APP, b"no\ntimes\nhere\n")
    reader.open(reader.alloc, APP)
    reader.goto("@2026-11-28")
    assert "no timestamps" in reader.notice


def test_a_deleted_file_stays_readable_and_says_so(reader):
    path = reader.write(APP, numbered(500))
    reader.open(reader.alloc, APP)
    os.unlink(path)
    reader.tail()
    assert reader.lines[-1] == "line 499"
    assert reader.notice == "deleted: still reading the open file"
    reader.search("line 250", backward=True)
    assert "line 250" in reader.lines


def test_line_numbers_say_they_count_from_the_oldest_file_kept(reader):
    """Nomad deleted web.stdout.0-2: line 1 is the first line of .3, and the
    status says so (both front-ends render `lines_origin`)."""
    from inspector.core.session.status import lines_origin

    reader.write(f"{LOGS}/web.stdout.3", numbered(30, "three"))
    reader.write(f"{LOGS}/web.stdout.4", numbered(30, "four"))
    reader.open(reader.alloc, f"{LOGS}/web.stdout.3")
    reader.set_numbers(True)
    assert reader.status.line == 1 and reader.status.first_index == 3
    assert lines_origin(reader.status) == "from .3 (.0–.2 deleted)"
    reader.close()
    make_set(reader, files=2)
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    reader.set_numbers(True)
    assert reader.status.first_index == 0 and lines_origin(reader.status) == ""
