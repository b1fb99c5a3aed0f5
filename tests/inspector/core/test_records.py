"""Multi-line records: a stack trace belongs to the timestamped line before
it, for the ``&`` filter (shown with its line), for ``e``/``E`` (judged as
one error) and for merging; bounded whatever the file holds."""

from __future__ import annotations

import random

import pytest

from inspector.core import records as records_module
from inspector.core.levels import find_level_line
from inspector.core.pager import Pager
from inspector.core.records import RECORD_BYTES, Records, find_error_record
from inspector.core.search import SearchPattern

TRACE = (b"2026-11-28T10:00:00.000Z INFO start\n"
         b"2026-11-28T10:00:01.000Z ERROR request failed\n"
         b"java.lang.NullPointerException: boom\n"
         b"    at com.example.Handler(Handler.java:12)\n"
         b"    ERROR inside the trace\n"
         b"2026-11-28T10:00:02.000Z INFO recovered\n"
         b"2026-11-28T10:00:03.000Z INFO about to crash\n"
         b"panic: runtime error: index out of range\n"
         b"goroutine 1 [running]:\n"
         b"2026-11-28T10:00:04.000Z INFO restarted\n")


class Bytes:
    """A byte source over ``data`` that counts what is read."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.read_bytes = 0

    def size(self) -> int:
        return len(self.data)

    def read(self, offset: int, length: int) -> bytes:
        piece = self.data[offset:offset + max(0, length)]
        self.read_bytes += len(piece)
        return piece


def shown(data: bytes, pattern: str, height: int = 50) -> list[str]:
    pager = Pager(Bytes(data), height=height)
    pager.set_filter(SearchPattern.parse(pattern))
    return [row.text.plain for row in pager.screen()]


def test_a_match_shows_its_whole_record():
    assert shown(TRACE, "ERROR") == [
        "2026-11-28T10:00:01.000Z ERROR request failed", "java.lang.NullPointerException: boom",
        "    at com.example.Handler(Handler.java:12)", "    ERROR inside the trace"]
    # a match in the trace shows the line that logged it
    assert shown(TRACE, "goroutine") == [
        "2026-11-28T10:00:03.000Z INFO about to crash", "panic: runtime error: index out of range",
        "goroutine 1 [running]:"]


def test_a_log_without_timestamps_filters_lines_alone():
    data = b"ERROR one\n  trace of one\nINFO two\nERROR three\n"
    assert shown(data, "ERROR") == ["ERROR one", "ERROR three"]


def test_paging_a_filtered_log_backward_shows_what_forward_shows():
    rnd = random.Random(5)
    lines = []
    for i in range(400):
        level = rnd.choice([b"INFO", b"INFO", b"ERROR", b"WARN"])
        lines.append(b"2026-11-28T10:%02d:%02d.000Z %s event %d\n" % (i // 60, i % 60, level, i))
        lines += [b"    at frame %d.%d\n" % (i, k) for k in range(rnd.choice([0, 0, 1, 3]))]
    data = b"".join(lines)
    pager = Pager(Bytes(data), height=7)
    pager.set_filter(SearchPattern.parse("ERROR"))
    forward, line = [], pager.line_at(0)
    while line is not None:
        forward.append(line.start)
        line = pager.line_at(line.end)
    backward, line = [], pager.line_before(len(data))
    while line is not None:
        backward.append(line.start)
        line = pager.line_before(line.start)
    assert forward == backward[::-1] and forward
    expected = []  # every ERROR line and the trace lines under it
    in_error = False
    offset = 0
    for line in lines:
        if line.startswith(b"2026"):
            in_error = b"ERROR" in line
        if in_error:
            expected.append(offset)
        offset += len(line)
    assert forward == expected


def test_following_a_filter_reads_the_last_records_only():
    pager = Pager(Bytes(TRACE), height=3)
    pager.set_filter(SearchPattern.parse("crash"))
    assert [line.data for line in pager.tail_lines(0, 3)] == [
        b"2026-11-28T10:00:03.000Z INFO about to crash",
        b"panic: runtime error: index out of range", b"goroutine 1 [running]:"]
    cut = TRACE.index(b"panic:")
    assert [line.data for line in pager.tail_lines(cut, 3)] == [
        b"panic: runtime error: index out of range", b"goroutine 1 [running]:"]


def errors(data: bytes, backward: bool = False) -> list[bytes]:
    source = Bytes(data)
    found, pos = [], len(data) if backward else 0
    while (match := find_error_record(source.read, len(data), pos, Records(source.read,
                                                                           source.size),
                                      backward=backward)) is not None:
        line_start = data.rfind(b"\n", 0, match.offset) + 1
        found.append(data[line_start:data.index(b"\n", match.offset)])
        pos = match.offset if backward else match.offset + 1
    return found


def test_e_stops_once_per_error_record_and_at_a_panic_under_another_line():
    expected = [b"2026-11-28T10:00:01.000Z ERROR request failed",
                b"panic: runtime error: index out of range"]
    assert errors(TRACE) == expected
    assert errors(TRACE, backward=True) == expected[::-1]
    # line by line, the trace's own ERROR would be a stop of its own
    read = Bytes(TRACE).read
    inside = find_level_line(read, len(TRACE), TRACE.index(b"java"))
    assert TRACE[inside.offset:].startswith(b"ERROR inside")


def test_e_from_inside_a_trace_goes_to_the_next_record():
    source = Bytes(TRACE)
    match = find_error_record(source.read, len(TRACE), TRACE.index(b"java"),
                              Records(source.read, source.size))
    assert TRACE[match.offset:].startswith(b"panic:")


def reference_heads(data: bytes) -> list[int]:
    """The record start of each line, by the rule, one line at a time."""
    from inspector.core.stamps import line_stamp

    heads, head, offset = [], None, 0
    for line in data.splitlines(keepends=True):
        if line_stamp(line.rstrip(b"\n")) is not None:
            head = offset
        elif head is None or offset - head >= records_module.RECORD_BYTES:
            head = None
        heads.append(head if head is not None else offset)
        offset += len(line)
    return heads


@pytest.mark.parametrize("seed", range(4))
def test_every_line_finds_the_record_the_rule_gives(seed, monkeypatch):
    monkeypatch.setattr(records_module, "RECORD_BYTES", 512)
    rnd = random.Random(seed)
    lines = [b"2026-11-28T10:00:00.000Z INFO first\n"]
    for i in range(300):
        if rnd.random() < 0.3:
            lines.append(b"2026-11-28T10:%02d:00.000Z INFO %d\n" % (i % 60, i))
        else:
            lines.append(b"  continued " + b"x" * rnd.randrange(0, 120) + b"\n")
    data = b"".join(lines)
    source = Bytes(data)
    records = Records(source.read, source.size)
    offset = 0
    for line, head in zip(lines, reference_heads(data), strict=True):
        assert records.head_of(offset + len(line) // 2) == head
        start, end = records.span(offset)
        assert start == head and end > offset
        offset += len(line)


def test_a_huge_line_without_a_newline_costs_a_bounded_read():
    data = b"2026-11-28T10:00:00.000Z INFO " + b"y" * (40 * 1024 * 1024)
    source = Bytes(data)
    records = Records(source.read, source.size)
    assert records.timed
    middle = len(data) // 2
    source.read_bytes = 0
    assert records.head_of(middle) is None  # a piece of a line too long for any record
    assert records.span(0) == (0, RECORD_BYTES)
    assert source.read_bytes < 4 * RECORD_BYTES
    pager = Pager(source, height=5)
    pager.set_filter(SearchPattern.parse("INFO"))
    source.read_bytes = 0
    rows = pager.screen()
    assert rows[0].text.plain.startswith("2026-11-28T10:00:00.000Z INFO")
    assert source.read_bytes < 8 * RECORD_BYTES
