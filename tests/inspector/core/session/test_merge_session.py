"""A reader session on a merged stream (an allocation's logs as one), run by
the inline executor: every key of one log works on it."""

from __future__ import annotations

import os

from inspector.core.merge import alloc_sources, log_sources

from .conftest import LOGS, Reader


def stamp(second: int) -> str:
    return f"2024-01-01T10:{second // 60:02d}:{second % 60:02d}Z"


def two_streams(reader: Reader, count: int = 60) -> None:
    """web's stdout on even seconds, stderr on odd ones (an error with a trace at 31)."""
    out = "".join(f"{stamp(s)} out {s}\n" for s in range(0, count, 2))
    err = "".join(f"{stamp(s)} {'ERROR boom' if s == 31 else 'err'} {s}\n"
                  + ("  at trace.py:1\n" if s == 31 else "") for s in range(1, count, 2))
    reader.write(f"{LOGS}/web.stdout.0", out.encode())
    reader.write(f"{LOGS}/web.stderr.0", err.encode())


def open_web(reader: Reader, follow: bool = False) -> None:
    reader.open_merged(log_sources(reader.alloc, "web"), label="web", follow=follow)


def texts(reader: Reader) -> list[str]:
    return [line.split(" ", 1)[1] for line in reader.lines]


def tags(reader: Reader) -> list[str]:
    return [row.tag.plain for row in reader.frame.rows]


def test_a_task_opens_as_its_stdout_and_stderr_in_time_order_with_tags(reader):
    two_streams(reader)
    open_web(reader)
    assert texts(reader)[:4] == ["out 0", "err 1", "out 2", "err 3"]
    assert tags(reader)[:2] == ["web▸out", "web▸err"]
    assert reader.frame.tags == len("web▸out ")
    assert reader.status.path == "alloc/logs/web.stdout.0"  # the top line's file


def test_paging_both_ways_g_and_G(reader):
    two_streams(reader)
    open_web(reader)
    reader.page_down()
    assert texts(reader)[0] == "out 10"
    reader.tail()
    assert texts(reader)[-1] == "err 59" and reader.status.percent == 100.0
    reader.page_up()
    assert texts(reader)[0] == "out 40" and texts(reader)[-1] == "err 49"
    reader.head()
    assert texts(reader)[0] == "out 0"


def test_go_to_a_time_lands_on_the_first_line_at_or_after_it(reader):
    two_streams(reader)
    open_web(reader)
    reader.goto("@10:00:40")
    assert texts(reader)[0] == "out 40"
    reader.goto("@10:00:41")
    assert texts(reader)[0] == "err 41"


def test_search_wraps_and_next_error_takes_its_trace_with_it(reader):
    two_streams(reader)
    open_web(reader)
    reader.search("out 4")  # on screen: the view stays, the match is marked
    assert texts(reader)[0] == "out 0" and reader.frame.rows[4].current is not None
    reader.search_again()
    assert texts(reader)[0] == "out 40"
    reader.search_again(reverse=True)
    assert "out 4" in texts(reader)
    reader.tail()
    reader.search_again()
    assert "out 4" in texts(reader) and "wrapped" in reader.notice
    reader.head()
    reader.next_error()
    assert reader.lines[:2] == ["2024-01-01T10:00:31Z ERROR boom 31", "  at trace.py:1"]


def test_the_filter_shows_matching_records_with_their_trace_and_counts(reader):
    two_streams(reader)
    open_web(reader)
    reader.filter("boom")
    assert reader.lines == ["2024-01-01T10:00:31Z ERROR boom 31", "  at trace.py:1"]
    assert reader.status.matches == 1
    reader.filter("")
    assert len(reader.lines) == 10


def test_hiding_a_source_keeps_the_place(reader):
    two_streams(reader)
    open_web(reader)
    reader.goto("@10:00:20")
    reader.set_sources({1})
    assert texts(reader)[:3] == ["out 20", "out 22", "out 24"]
    assert reader.sources == [("web▸out", True), ("web▸err", False)]
    reader.set_sources(set())
    assert texts(reader)[:2] == ["out 20", "err 21"]


def test_line_numbers_are_each_sources_own(reader):
    two_streams(reader)
    reader.set_numbers(True)
    open_web(reader)
    numbers = [row.number for row in reader.frame.rows[:4]]
    assert numbers == [1, 1, 2, 2]


def test_a_source_without_timestamps_is_merged_first_in_file_order_and_said(reader):
    two_streams(reader)
    reader.write(f"{LOGS}/db.stdout.0", b"plain one\nplain two\n")
    reader.open_merged(alloc_sources(reader.alloc), label="all logs")
    assert reader.lines[:2] == ["plain one", "plain two"]
    assert "no timestamps in db▸out" in reader.status.notice


def test_following_shows_lines_from_every_source_across_rotation(reader):
    two_streams(reader, count=20)
    open_web(reader, follow=True)
    reader.wait(lambda: reader.follower is not None and reader.follower.wait_watching(0)
                and reader.frame.following)
    assert texts(reader)[-1] == "err 19"
    reader.write(f"{LOGS}/web.stdout.0", f"{stamp(20)} out new\n".encode(), "ab")
    reader.wait(lambda: texts(reader)[-1] == "out new")
    reader.write(f"{LOGS}/web.stderr.1", f"{stamp(21)} err rotated\n".encode())
    reader.wait(lambda: texts(reader)[-1] == "err rotated")
    reader.write(f"{LOGS}/web.stdout.0", f"{stamp(22)} out again\n".encode(), "ab")
    reader.wait(lambda: texts(reader)[-2:] == ["err rotated", "out again"])
    reader.follow(False)
    assert not reader.following and texts(reader)[-1] == "out again"


def test_a_stream_written_later_joins_the_merge(reader):
    reader.write(f"{LOGS}/web.stdout.0", f"{stamp(1)} out 1\n".encode())
    open_web(reader)
    assert texts(reader) == ["out 1"]
    reader.write(f"{LOGS}/web.stderr.0", f"{stamp(0)} err 0\n".encode())
    reader.tail()  # G looks at every source now
    assert texts(reader) == ["err 0", "out 1"]
    assert "web▸err: web.stderr.0 appeared" in reader.notice


def test_a_source_deleted_mid_merge_is_a_notice_not_a_crash(reader):
    two_streams(reader)
    open_web(reader)
    os.unlink(os.path.join(reader.alloc.alloc_dir, LOGS, "web.stderr.0"))
    reader.tail()
    assert reader.notice == "web▸err: deleted: still reading the open file"
    assert texts(reader)[-2:] == ["out 58", "err 59"]
