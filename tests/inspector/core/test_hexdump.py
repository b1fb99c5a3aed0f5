"""Hex dump rows."""

from __future__ import annotations

from inspector.core.hexdump import ascii_part, dump, format_row, hex_part, offset_digits


def test_full_row_has_offset_hex_and_ascii():
    row = format_row(0x20, b"Hello, world!\x00\x01\xff").plain
    assert row == (
        "00000020  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 00 01 ff  │Hello, world!...│"
    )


def test_short_row_is_padded_so_columns_line_up():
    full = format_row(0, b"a" * 16).plain
    short = format_row(16, b"ab").plain
    assert len(short) == len(full)
    assert short.endswith("│ab              │")
    assert hex_part(b"ab").startswith("61 62   ")


def test_offset_column_grows_for_huge_files():
    assert offset_digits(100) == 8
    assert offset_digits(8 * 1024**3) == 9
    assert format_row(0x1FFFFFFF0, b"x", size=8 * 1024**3).plain.startswith("1fffffff0  78")


def test_non_printable_bytes_show_as_dots():
    assert ascii_part(bytes([0, 9, 10, 0x7F, 0x80, 0x41])) == ".....A"


def test_dump_splits_into_rows_of_16():
    rows = dump(32, bytes(40))
    assert [r.plain[:8] for r in rows] == ["00000020", "00000030", "00000040"]
