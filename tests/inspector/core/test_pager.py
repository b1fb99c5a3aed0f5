"""Byte-offset paging: lines, movement, tail, long lines, decoding."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocdir.testing import temp_alloc_dir
from inspector.core.pager import (
    MAX_LINE_CHARS,
    BlockCache,
    FsSource,
    Pager,
    line_text,
    wrap_starts,
)


class MemorySource:
    """A ByteSource over bytes that counts what is read."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.bytes_read = 0
        self.reads = 0

    def size(self) -> int:
        return len(self.data)

    def read(self, offset: int, length: int) -> bytes:
        chunk = self.data[offset : offset + length]
        self.bytes_read += len(chunk)
        self.reads += 1
        return chunk


class SparseSource:
    """A huge file that is zeros except for given byte strings at given offsets."""

    def __init__(self, size: int, pieces: dict[int, bytes]) -> None:
        self._size = size
        self.pieces = pieces
        self.bytes_read = 0

    def size(self) -> int:
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        length = max(0, min(length, self._size - offset))
        buf = bytearray(length)
        for at, data in self.pieces.items():
            lo, hi = max(at, offset), min(at + len(data), offset + length)
            if lo < hi:
                buf[lo - offset : hi - offset] = data[lo - at : hi - at]
        self.bytes_read += length
        return bytes(buf)


def numbered(count: int) -> bytes:
    return b"".join(b"line %d\n" % i for i in range(count))


def shown(pager: Pager) -> list[str]:
    return [row.text.plain for row in pager.screen()]


def test_head_shows_first_lines_with_their_offsets():
    pager = Pager(MemorySource(b"alpha\nbeta\ngamma\n"), height=10)
    rows = pager.screen()
    assert [r.text.plain for r in rows] == ["alpha", "beta", "gamma"]
    assert [(r.line.start, r.line.end) for r in rows] == [(0, 6), (6, 11), (11, 17)]


def test_down_and_up_move_by_lines():
    pager = Pager(MemorySource(numbered(100)), height=5)
    pager.down(3)
    assert shown(pager)[0] == "line 3"
    pager.up(2)
    assert shown(pager)[0] == "line 1"
    pager.up(10)
    assert shown(pager)[0] == "line 0"


def test_page_down_and_up():
    pager = Pager(MemorySource(numbered(100)), height=10)
    pager.page_down()
    assert shown(pager)[0] == "line 10"
    pager.page_down()
    pager.page_up()
    assert shown(pager)[0] == "line 10"


def test_tail_shows_last_screenful_and_down_stops_there():
    pager = Pager(MemorySource(numbered(100)), height=5)
    pager.tail()
    assert shown(pager) == [f"line {i}" for i in range(95, 100)]
    assert pager.percent() == 100.0
    pager.down(50)
    assert shown(pager) == [f"line {i}" for i in range(95, 100)]
    pager.up(1)
    assert shown(pager)[0] == "line 94"


def test_tail_of_short_file_is_head():
    pager = Pager(MemorySource(b"one\ntwo\n"), height=5)
    pager.tail()
    assert shown(pager) == ["one", "two"]
    assert pager.top == 0


def test_percent_reflects_bottom_of_screen():
    data = numbered(100)
    pager = Pager(MemorySource(data), height=10)
    assert pager.percent() == pytest.approx(100 * len(numbered(10)) / len(data))


def test_empty_file():
    pager = Pager(MemorySource(b""), height=5)
    assert pager.screen() == []
    pager.tail()
    pager.down(3)
    pager.up(3)
    assert pager.screen() == []
    assert pager.percent() == 100.0


def test_file_without_final_newline_shows_last_line():
    pager = Pager(MemorySource(b"first\nlast without newline"), height=1)
    pager.tail()
    rows = pager.screen()
    assert [r.text.plain for r in rows] == ["last without newline"]
    assert rows[0].line.newline is False


def test_blank_lines_are_lines():
    pager = Pager(MemorySource(b"\n\nx\n\n"), height=10)
    assert shown(pager) == ["", "", "x", ""]
    pager.tail()
    assert shown(pager) == ["", "", "x", ""]


def test_crlf_lines_drop_the_carriage_return():
    pager = Pager(MemorySource(b"one\r\ntwo\r\n"), height=5)
    assert shown(pager) == ["one", "two"]


def test_invalid_utf8_is_replaced_not_fatal():
    pager = Pager(MemorySource(b"ok \xff\xfe bytes\n\xe2\x82\n"), height=5)
    assert shown(pager) == ["ok \ufffd\ufffd bytes", "\ufffd"]


def test_long_line_is_split_in_pieces_and_reads_stay_small():
    source = MemorySource(b"x" * 10_000_000)
    pager = Pager(source, height=20, max_line_bytes=1000)
    rows = pager.screen()
    assert len(rows) == 20
    assert all(r.line.end - r.line.start == 1000 for r in rows)
    pager.tail()
    assert pager.screen()[-1].line.end == 10_000_000
    pager.up(5)
    pager.page_up()
    assert source.bytes_read < 2_000_000


def test_piece_boundaries_agree_forward_and_backward():
    data = b"a" * 2500 + b"\n" + b"b" * 1000 + b"\n" + b"c" * 1001
    pager = Pager(MemorySource(data), height=100, max_line_bytes=1000)
    forward = [r.line.start for r in pager.screen()]
    pager.tail()
    assert [r.line.start for r in pager.screen()] == forward


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from([b"a", b"\n", b"\r", b"\xc3\xa9", b"bb"]), max_size=200),
    st.integers(min_value=2, max_value=9),
)
def test_walking_up_retraces_walking_down(parts, cap):
    data = b"".join(parts)
    pager = Pager(MemorySource(data), height=1, max_line_bytes=cap)
    starts = []
    line = pager.line_at(0)
    while line is not None:
        starts.append(line.start)
        assert line.end - line.start <= cap + 1
        line = pager.line_at(line.end)
    back = []
    offset = len(data)
    while (line := pager.line_before(offset)) is not None:
        back.append(line.start)
        offset = line.start
    assert back[::-1] == starts


def test_line_containing_finds_the_line_of_a_byte():
    data = numbered(50)
    pager = Pager(MemorySource(data), height=5)
    offset = data.index(b"line 33")
    line = pager.line_containing(offset + 3)
    assert line.data == b"line 33"
    pager.goto(offset + 3)
    assert shown(pager)[0] == "line 33"
    pager.goto(data.index(b"line 48"))
    assert shown(pager)[-1] == "line 49"


def test_sync_picks_up_growth_and_truncation():
    source = MemorySource(numbered(3))
    pager = Pager(source, height=10)
    assert shown(pager) == ["line 0", "line 1", "line 2"]
    source.data += b"line 3\n"
    assert pager.sync() is True
    assert shown(pager)[-1] == "line 3"
    pager.tail()
    source.data = b"new\n"
    pager.sync()
    assert shown(pager) == ["new"]


def test_wrap_splits_rows_and_moves_within_a_line():
    pager = Pager(MemorySource(b"0123456789abcdefghij\nshort\n"), height=3, width=8, wrap=True)
    assert shown(pager) == ["01234567", "89abcdef", "ghij"]
    pager.down(1)
    assert shown(pager) == ["89abcdef", "ghij", "short"]
    pager.up(1)
    assert shown(pager)[0] == "01234567"
    pager.tail()
    assert shown(pager) == ["89abcdef", "ghij", "short"]


def test_wrap_of_wide_characters_counts_cells():
    assert wrap_starts("日本語テキスト", 4) == [0, 2, 4, 6]
    assert wrap_starts("", 4) == [0]


def test_hex_mode_rows_are_16_bytes():
    data = bytes(range(256)) + b"tail"
    pager = Pager(MemorySource(data), hex_mode=True, height=4)
    rows = pager.screen()
    assert [r.line.start for r in rows] == [0, 16, 32, 48]
    assert rows[1].text.plain.startswith("00000010  10 11 12")
    pager.tail()
    rows = pager.screen()
    assert rows[-1].line.start == 256
    assert rows[-1].text.plain.rstrip().endswith("│tail            │")
    pager.up(1)
    assert pager.screen()[0].line.start == 192


def test_line_text_renders_ansi_and_strips_control_characters():
    text = line_text(b"\x1b[31mred\x1b[0m plain\x07\x00 \x1b]bad")
    assert text.plain.startswith("red plain ")
    assert "\x1b" not in text.plain and "\x07" not in text.plain
    assert any(
        (span.start, span.end) == (0, 3) and span.style.color.number == 1 for span in text.spans
    )
    assert line_text(b"a\tb").plain == "a       b"
    assert "\n" not in line_text(b"x\x0by\x0cz\xc2\x85w\xe2\x80\xa8v").plain


def test_line_text_caps_long_lines_before_parsing():
    text = line_text(b"\x1b[32m" + b"y" * 100_000)
    assert len(text.plain) <= MAX_LINE_CHARS + 1
    assert text.plain.endswith("…")


def test_block_cache_serves_repeated_reads_from_memory():
    source = MemorySource(numbered(10_000))
    cache = BlockCache(source, block_size=4096, max_blocks=4)
    first = cache.read(100, 50)
    again = cache.read(120, 30)
    assert first[20:] == again
    assert source.reads == 1
    assert cache.read(4090, 20) == source.data[4090:4110]


def test_sparse_huge_file_head_and_tail_read_little():
    size = 8 * 1024**3
    source = SparseSource(size, {0: b"head line\nsecond\n", size - 14: b"\nthe very end\n"})
    pager = Pager(source, height=40)
    assert shown(pager)[:2] == ["head line", "second"]
    pager.tail()
    assert shown(pager)[-1] == "the very end"
    assert source.bytes_read < 3 * 1024 * 1024


def test_fs_source_reads_by_offset_and_survives_deletion():
    with temp_alloc_dir() as alloc:
        path = f"{alloc.alloc_dir}/alloc/data/app.log"
        with open(path, "wb") as fh:
            fh.write(numbered(1000))
        source = FsSource(alloc, "alloc/data/app.log")
        try:
            assert source.size() == len(numbered(1000))
            assert source.read(7, 6) == b"line 1"
            with open(path, "ab") as fh:
                fh.write(b"more\n")
            assert source.size() == len(numbered(1000)) + 5
            os.unlink(path)
            pager = Pager(source, height=2)
            pager.tail()
            assert shown(pager) == ["line 999", "more"]
        finally:
            source.close()
