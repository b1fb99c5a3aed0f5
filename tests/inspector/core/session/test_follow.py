"""Following with the reader session: the filter and line numbers apply
(``tail -f | grep``, numbered), truncation and rotation keep every line."""

from __future__ import annotations

import os

from .conftest import LOGS, Reader, make_set, numbered

LOG = f"{LOGS}/web.stdout.0"


def follow(reader: Reader, rel: str = LOG) -> None:
    reader.open(reader.alloc, rel, follow=True)
    reader.wait(lambda: reader.follower is not None and reader.follower.wait_watching(0)
                and reader.frame.following)


def test_new_lines_show_as_they_are_written_and_the_position_moves(reader):
    reader.write(LOG, numbered(100))
    follow(reader)
    assert reader.lines[-1] == "line 99" and reader.status.following
    size = reader.status.size
    reader.write(LOG, b"appended now\n", mode="ab")
    reader.wait(lambda: reader.lines[-1] == "appended now")
    assert reader.status.size == size + 13 and reader.status.offset == size + 13
    assert reader.status.percent == 100.0
    reader.follow(False)
    assert not reader.following and reader.lines[-1] == "appended now"


def test_following_with_a_filter_and_numbers_is_tail_f_grep_numbered(reader):
    reader.write(LOG, b"".join(b"%s %d\n" % (b"ERROR" if i % 10 == 3 else b"INFO", i)
                               for i in range(100)))
    reader.open(reader.alloc, LOG)
    reader.set_numbers(True)
    reader.filter("ERROR")
    assert reader.status.matches == 10
    reader.follow(True)
    reader.wait(lambda: reader.frame.following)
    assert reader.lines == [f"ERROR {i}" for i in range(3, 100, 10)]
    assert [row.number for row in reader.frame.rows] == list(range(4, 101, 10))
    reader.write(LOG, b"INFO 100\nERROR 101\nINFO 102\nERROR 103\n", mode="ab")
    reader.wait(lambda: reader.lines[-1] == "ERROR 103")
    assert reader.lines[-2:] == ["ERROR 101", "ERROR 103"]  # no INFO line streams in
    assert [row.number for row in reader.frame.rows][-2:] == [102, 104]
    reader.wait(lambda: reader.status.matches == 12 and reader.status.lines == 104)
    assert reader.status.line == reader.frame.rows[0].number


def test_a_line_written_in_pieces_is_shown_whole(reader):
    reader.write(LOG, b"first\n")
    follow(reader)
    reader.write(LOG, b"half a li", mode="ab")
    reader.wait(lambda: reader.lines[-1] == "half a li")
    reader.write(LOG, b"ne\nnext\n", mode="ab")
    reader.wait(lambda: reader.lines[-1] == "next")
    assert reader.lines[-3:] == ["first", "half a line", "next"]


def test_truncation_keeps_what_was_shown_above_a_separator(reader):
    reader.write(LOG, numbered(10))
    follow(reader)
    reader.write(LOG, b"rewritten\n")
    reader.wait(lambda: reader.lines[-1] == "rewritten"
                and reader.follower.state().lines[-1:] == [b"rewritten"])
    rows = reader.frame.rows
    assert rows[-3].plain == "line 9" and rows[-2].separator == "truncated"
    assert rows[-2].plain.startswith("──") and "truncated" in rows[-2].plain
    assert reader.notice == "truncated"
    reader.write(LOG, b"x" * 50 + b"\n" + b"y" * 50 + b"\n")  # refilled past the old end
    reader.wait(lambda: reader.lines[-1] == "y" * 50)
    assert [row.separator for row in reader.frame.rows].count("truncated") == 2
    assert "line 9" in reader.lines and "rewritten" in reader.lines


def test_a_deleted_file_is_waited_for_and_followed_again(reader):
    path = reader.write("alloc/data/app.log", b"first life\n")
    follow(reader, "alloc/data/app.log")
    os.unlink(path)
    reader.wait(lambda: reader.notice.startswith("deleted"))
    assert reader.following  # as tail -F: waiting for it to come back
    reader.write("alloc/data/app.log", b"second life\n")
    reader.wait(lambda: reader.lines[-1] == "second life")
    assert reader.frame.rows[-2].separator == "recreated" and "first life" in reader.lines
    reader.follow(False)
    reader.head()  # the document reads the new file now
    assert reader.lines[0] == "second life"


def test_without_reopen_a_deleted_file_ends_the_follow(alloc):
    reader = Reader(alloc, reopen=False)
    path = reader.write("alloc/data/app.log", b"x\n")
    follow(reader, "alloc/data/app.log")
    os.unlink(path)
    reader.wait(lambda: not reader.following)
    assert reader.notice == "deleted" and reader.lines[-1] == "x"
    reader.close()


def test_rotation_continues_in_the_next_file_with_a_split_line_whole(reader):
    reader.write(LOG, b"before\nsplit-")
    follow(reader)
    reader.wait(lambda: reader.lines[-1] == "split-")
    reader.write(f"{LOGS}/web.stdout.1", b"across\nnext file\n")
    reader.wait(lambda: reader.lines[-1] == "next file")
    assert reader.lines[-3:] == ["before", "split-across", "next file"]
    reader.wait(lambda: reader.path.endswith("web.stdout.1"))
    assert reader.status.path.endswith("web.stdout.1")
    assert (reader.status.member, reader.status.members) == (2, 2)
    reader.follow(False)
    reader.head()
    assert reader.lines[:3] == ["before", "split-across", "next file"]


def test_following_a_set_starts_at_its_last_file_and_drops_rotated_away_ones(reader):
    make_set(reader, files=3, lines=10)
    follow(reader)
    assert reader.lines[-1] == "f2 line 009" and reader.path.endswith("web.stdout.2")
    assert (reader.status.member, reader.status.members) == (3, 3)
    os.unlink(os.path.join(reader.alloc.alloc_dir, LOG))
    reader.poll()  # the set's directory is listed again while following
    reader.wait(lambda: "web.stdout.0 rotated away" in reader.notice)
    assert reader.following and reader.status.members == 2


def test_moving_up_stops_following_moving_down_does_nothing(reader):
    reader.write(LOG, numbered(100))
    follow(reader)
    reader.page_down()
    assert reader.following
    reader.line_up()
    assert not reader.following and reader.lines[-1] == "line 98"


def test_a_search_stops_following_and_shows_the_match(reader):
    reader.write(LOG, numbered(300))
    follow(reader)
    reader.search("line 42")
    assert not reader.following and "line 42" in reader.lines


def test_resizing_and_wrapping_while_following_lay_the_rows_out_again(reader):
    reader.write(LOG, numbered(100))
    follow(reader)
    reader.resize(80, 4)
    reader.wait(lambda: len(reader.lines) == 4)
    reader.write(LOG, b"w" * 100 + b"\n", mode="ab")
    reader.wait(lambda: reader.lines[-1] == "w" * 20)
    assert reader.lines[-2] == "w" * 80
    reader.set_wrap(False)
    reader.wait(lambda: reader.lines[-1] == "w" * 100)
    assert reader.lines == ["line 97", "line 98", "line 99", "w" * 100]


def test_a_fast_writer_gets_a_screen_of_its_newest_lines(reader):
    reader.write(LOG, b"")
    reader.set_wrap(False)
    follow(reader)
    chunk = b"".join(b"%06d " % i + b"x" * 93 + b"\n" for i in range(1000))
    for n in range(50):  # 5 MB as fast as the disk takes it
        reader.write(LOG, chunk.replace(b"x" * 8, b"round%03d" % n), mode="ab")
    reader.wait(lambda: reader.lines and reader.lines[-1].startswith("000999 round049"))
    assert [line[:15] for line in reader.lines] == [
        f"{i:06d} round049" for i in range(990, 1000)]
