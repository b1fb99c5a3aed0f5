"""Hex dump rows: an offset column, 16 bytes in hex, and their ASCII."""

from __future__ import annotations

from rich.text import Text

ROW_BYTES = 16
"""Bytes shown on one hex row."""

_PRINTABLE = {i for i in range(0x20, 0x7F)}


def offset_digits(size: int) -> int:
    """Hex digits needed for the offsets of a file of ``size`` bytes (at least 8)."""
    return max(8, len(f"{max(size - 1, 0):x}"))


def hex_part(data: bytes) -> str:
    """The hex column of a row: two groups of eight bytes, padded to full width."""
    cells = [f"{b:02x}" for b in data[:ROW_BYTES]]
    cells += ["  "] * (ROW_BYTES - len(cells))
    return " ".join(cells[:8]) + "  " + " ".join(cells[8:])


def ascii_part(data: bytes) -> str:
    """The ASCII column of a row: printable bytes as themselves, others as '.'."""
    return "".join(chr(b) if b in _PRINTABLE else "." for b in data[:ROW_BYTES])


def format_row(offset: int, data: bytes, size: int = 0) -> Text:
    """Format one row of at most 16 bytes read at ``offset``.

    ``size`` (the file size) fixes the width of the offset column so that
    every row of a file lines up.
    """
    text = Text(end="")
    text.append(f"{offset:0{offset_digits(size)}x}", style="bold cyan")
    text.append("  ")
    text.append(hex_part(data))
    text.append("  │")
    text.append(ascii_part(data), style="green")
    text.append(" " * (ROW_BYTES - len(data[:ROW_BYTES])) + "│")
    return text


def dump(offset: int, data: bytes, size: int = 0) -> list[Text]:
    """Format consecutive rows of ``data`` read at ``offset`` (a multiple of 16)."""
    return [
        format_row(offset + i, data[i : i + ROW_BYTES], size)
        for i in range(0, len(data), ROW_BYTES)
    ]
