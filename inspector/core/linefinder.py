"""Finding lines in bytes, the way ``less`` does: the line that starts at an
offset, the one that ends at it, and the one that holds it, reading only
the bytes around the offset (through the pager's block cache). A line
longer than ``max_line_bytes`` is cut into pieces at multiples of that
length from its start, so every piece is found again from either side; in
hex mode every row is 16 bytes at a multiple of 16. A mixin of
:class:`~inspector.core.pager.Pager`: it reads through ``_read`` and knows
the file's size from ``_size``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from inspector.core.hexdump import ROW_BYTES


@dataclass(frozen=True)
class Line:
    """One line (or one piece of a long line, or one hex row) of the file."""

    start: int
    """Byte offset of the first byte."""
    end: int
    """Byte offset just after the line, its newline included."""
    data: bytes
    """The bytes of the line without its newline."""
    newline: bool
    """True when the line ends with a newline (False for a piece of a longer line)."""


class LineFinder:
    """Unfiltered line lookups of a pager (see the module)."""

    def _line_at(self, offset: int) -> Line | None:
        if self.hex_mode:
            data = self._read(offset, ROW_BYTES)
            return Line(offset, offset + len(data), data, False) if data else None
        cap = self.max_line_bytes
        data = self._read(offset, cap + 1)
        if not data:
            return None
        nl = data.find(b"\n")
        if nl >= 0:
            return Line(offset, offset + nl + 1, data[:nl], True)
        if len(data) <= cap:
            return Line(offset, offset + len(data), data, False)
        return Line(offset, offset + cap, data[:cap], False)

    def _line_before(self, offset: int) -> Line | None:
        if offset <= 0:
            return None
        if self.hex_mode:
            start = (offset - 1) // ROW_BYTES * ROW_BYTES
            return Line(start, offset, self._read(start, offset - start), False)
        start = self._start_before(offset)
        line = self._line_at(start)
        if line is None or line.end != offset:
            # Only when the file changed under us: show the bytes as one piece.
            data = self._read(start, offset - start)
            line = Line(start, offset, data.rstrip(b"\n"), data.endswith(b"\n"))
        return line

    def _line_start(self, offset: int) -> int | None:
        """Return where the line holding the byte just before ``offset`` begins.

        Scans back at most ``back_scan_limit`` bytes; None when no newline was
        found in that range (the line is longer than that).
        """
        cap = self.max_line_bytes
        for span in (min(offset, cap + 2), min(offset, self.back_scan_limit)):
            low = offset - span
            data = self._read(low, span)
            nl = data.rfind(b"\n", 0, len(data) - 1)
            if nl >= 0:
                return low + nl + 1
            if low == 0:
                return 0
        return None

    def _start_before(self, offset: int) -> int:
        cap = self.max_line_bytes
        line_start = self._line_start(offset)
        if line_start is None:
            return max(0, offset - cap)
        length = offset - line_start
        if self._read(offset - 1, 1) == b"\n":
            pieces = 0 if length <= cap + 1 else math.ceil((length - cap - 1) / cap)
        else:
            pieces = math.ceil(length / cap) - 1
        return line_start + pieces * cap

    def _line_containing(self, offset: int) -> Line | None:
        if offset >= self._size:
            return self._line_before(self._size)
        if self.hex_mode:
            return self._line_at(offset // ROW_BYTES * ROW_BYTES)
        line_start = self._line_start(offset + 1)
        if line_start is None:
            start = offset
        else:
            whole = (offset - line_start) // self.max_line_bytes
            start = line_start + max(0, whole - 1) * self.max_line_bytes
        line = self._line_at(start)
        while line is not None and line.end <= offset:
            line = self._line_at(line.end)
        return line

