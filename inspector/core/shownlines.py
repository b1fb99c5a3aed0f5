"""What a pager shows besides the lines themselves: context lines around
the matches of a filter (as ``grep -C``), and lines rendered another way
(a structured line's fields as columns).

With ``&ERROR`` and a context of 3, the pager shows each matching line
with the 3 lines before and after it; the others stay hidden. The lines
are walked through the pager's block cache, never more than ``context``
lines away from the line in question, so a context costs a few line reads
a row. A mixin of :class:`~inspector.core.pager.Pager`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .pager import Line


class ShownLines:
    """Context lines and rendered lines of a pager (see the module)."""

    def set_context(self, lines: int) -> None:
        """Show ``lines`` lines of context around each match of the filter."""
        self.context = max(0, lines)
        self._memo.clear()
        self.top_row = 0

    def set_render(self, render: Callable[[bytes], bytes] | None) -> None:
        """Show every line through ``render`` (None: as it is)."""
        self.render = render
        self._texts.clear()
        self._rows.clear()
        self.top_row = 0

    def is_context(self, line) -> bool:
        """Whether ``line`` is shown only as context of a match (dimmed)."""
        return (self.context > 0 and self._filter is not None and not self.hex_mode
                and not self._filter.matches_line(line.data))

    def _near_match(self, line: Line, after: bool = True) -> bool:
        """Whether ``line`` matches or a match lies within ``context`` lines
        above it (``after``: or below it)."""
        matches = self._filter.matches_line
        if matches(line.data):
            return True
        above, below = line, line
        for _ in range(self.context):
            above = self._line_before(above.start) if above is not None else None
            below = self._line_at(below.end) if after and below is not None else None
            if above is None and below is None:
                return False
            if (above is not None and matches(above.data)) or \
                    (below is not None and matches(below.data)):
                return True
        return False

    def _context_after(self, offset: int) -> Line | None:
        """The first line at or after ``offset`` that matches or is within
        ``context`` lines of a match."""
        line = self._line_at(offset)
        if line is None or self._near_match(line, after=False):
            return line
        match = self._matching_line(offset, backward=False)
        if match is None:
            return None
        first = match
        for _ in range(self.context):
            above = self._line_before(first.start)
            if above is None or above.start < line.start:
                break
            first = above
        return first

    def _context_before(self, offset: int) -> Line | None:
        """The last line before ``offset`` that matches or is within
        ``context`` lines of a match."""
        line = self._line_before(offset)
        if line is None or self._near_match(line):
            return line
        match = self._matching_line(line.start, backward=True)
        if match is None:
            return None
        last = match
        for _ in range(self.context):
            below = self._line_at(last.end)
            if below is None or below.end > line.start:
                break
            last = below
        return last
