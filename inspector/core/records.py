"""Multi-line records: a timestamped line and the lines after it that have none.

A stack trace, a wrapped message or a multi-line JSON dump follows the line
that logged it, without a timestamp of its own. They belong together: the
``&`` filter shows a matching record whole (an error's trace comes with it,
and a match in the trace shows the line that logged it), ``e``/``E`` stop at
an error record once (not at each line of its trace), and a merged stream
keeps a record's lines together.

The rule, for a log whose first lines have timestamps (:meth:`Records.timed`):
a record is a line with a timestamp (:func:`~inspector.core.stamps.line_stamp`)
and the lines after it without one, up to :data:`RECORD_BYTES` from its
start. A line without a timestamp further than that from the last one, or
before the first, is a record of its own; so is every line of a log
without timestamps. Finding a record's start or end reads at most
``RECORD_BYTES`` around it, whatever the file holds (a 1 GiB line, a million
lines without a time).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .search import Match, Reader, SearchPattern, search_backward, search_forward
from .stamps import STAMP_WINDOW, line_stamp
from .timestamps import has_stamps

RECORD_BYTES = 64 * 1024
"""A record's lines start within this many bytes of its start."""
PIECE = 2048
"""The pieces a long line is shown in (the pager's ``MAX_LINE_BYTES``): a
line that runs past a record's limit leaves the record at a piece's end."""
PROBE = 64 * 1024
"""Bytes at the start of a log looked at to tell whether it has timestamps."""
_HEAD = STAMP_WINDOW + 64
"""Bytes of a line enough to tell whether it has a timestamp."""


def _limit(head: int, line: int) -> int:
    """Where the record starting at ``head`` ends at the latest, for its line
    starting at ``line``: the end of that line's piece reaching
    ``RECORD_BYTES`` from ``head``."""
    reach = head + RECORD_BYTES - line
    return line + PIECE * -(-reach // PIECE) if reach > 0 else line


class Records:
    """The records of one log, read through ``read(offset, length)`` with
    ``size()`` its current size. Not thread-safe: each reader (the pager, a
    scan) has its own."""

    def __init__(self, read: Reader, size: Callable[[], int]) -> None:
        self._read = read
        self._size = size
        self._timed = False
        self._probed = -1  # the size when last probed
        self._last: tuple[int, int] | None = None  # the last record found: (start, end)

    @property
    def timed(self) -> bool:
        """Whether the log's first lines have timestamps (looked at again
        while it is short and has none)."""
        if not self._timed:
            size = self._size()
            if size != self._probed and (self._probed < PROBE or size < self._probed):
                self._probed = size
                self._timed = has_stamps(self._read, size, PROBE)  # stops at the first
        return self._timed

    def forget(self) -> None:
        """The file was rewritten: nothing found before holds."""
        self._timed, self._probed, self._last = False, -1, None

    def grown(self) -> None:
        """Bytes were appended: a record that ended at the old end may go on."""
        self._last = None

    def head_of(self, offset: int) -> int | None:
        """The start of the record holding the byte at ``offset``, or None
        for a piece of a line too long to be anyone's (its own record)."""
        last = self._last
        if last is not None and last[0] <= offset < last[1]:
            return last[0]
        low = max(0, offset - 2 * RECORD_BYTES)
        data = self._read(low, offset - low + _HEAD)
        newline = data.rfind(b"\n", 0, offset - low)
        if newline < 0 and low > 0:
            return None
        line = head = newline + 1
        if self.timed:
            start = line
            while not _stamped(data, start):
                before = data.rfind(b"\n", 0, start - 1) + 1 if start else -1
                if before < 0 or (before == 0 and low > 0) or line - before >= RECORD_BYTES:
                    break  # before the first timestamp, or too far back: its own record
                start = before
            else:
                head = start
        return low + head if offset < _limit(low + head, low + line) else None

    def end_of(self, head: int) -> int:
        """Where the record starting at ``head`` ends: at the next line with a
        timestamp, at the first line starting ``RECORD_BYTES`` on, inside a
        line running past that (see :func:`_limit`), or at the end of the
        file; a record whose first line has no timestamp is that line."""
        data = self._read(head, RECORD_BYTES + PIECE + _HEAD)
        gathers = self.timed and _stamped(data, 0)  # else a record of one line
        pos = 0
        while True:
            limit = _limit(0, pos)
            newline = data.find(b"\n", pos, limit)
            if newline < 0:  # the line runs to the limit, or the file ends first
                end = min(len(data), limit)
                break
            pos = newline + 1
            if pos >= RECORD_BYTES or pos >= len(data) or not gathers or _stamped(data, pos):
                end = pos
                break
        self._last = (head, head + end)
        return head + end

    def span(self, offset: int, *, backward: bool = False) -> tuple[int, int]:
        """(start, end) of the record holding the byte at ``offset``. A piece
        of a line too long to belong to a record is one of its own: the
        piece from ``offset`` (``backward``: the piece ending just after it)."""
        head = self.head_of(offset)
        if head is None:
            return (offset + 1 - PIECE, offset + 1) if backward else (offset, offset + PIECE)
        last = self._last
        if last is not None and last[0] == head:
            return last
        return head, self.end_of(head)

    # -- what the filter shows ------------------------------------------------

    def matches(self, pattern: SearchPattern, start: int, end: int) -> bool:
        """Whether the record ``[start, end)`` holds a match of ``pattern``."""
        return search_forward(self._read, self._size(), pattern, start, end=end,
                              first_chunk=end - start or 1) is not None

    def next_matching(self, pattern: SearchPattern, offset: int, *,
                      cancel: threading.Event | None = None,
                      progress: Callable[[float], None] | None = None,
                      first_chunk: int | None = None) -> int | None:
        """Where the first line shown by a filter on ``pattern`` at or after
        ``offset`` (a line start) starts: ``offset`` itself when its record
        matches, else the start of the next record holding a match."""
        size = self._size()
        if offset >= size:
            return None
        start, end = self.span(offset)
        if start < offset and self.matches(pattern, start, end):
            return offset
        if start < offset:
            offset = end
        found = search_forward(self._read, size, pattern, offset, cancel=cancel,
                               progress=progress, first_chunk=first_chunk)
        if found is None:
            return None
        head = self.head_of(found.offset)
        return max(offset, head if head is not None else found.offset)

    def previous_matching(self, pattern: SearchPattern, offset: int, *, lower: int = 0,
                          cancel: threading.Event | None = None,
                          progress: Callable[[float], None] | None = None,
                          first_chunk: int | None = None) -> int | None:
        """The end of the last bytes a filter on ``pattern`` shows before
        ``offset`` (a line start) and after ``lower``: of the last record
        holding a match (the match itself may lie before ``lower``: a
        record's trace written after it is shown), or None."""
        if offset <= lower:
            return None
        start, end = self.span(offset - 1, backward=True)
        if self.matches(pattern, start, end):
            return offset
        if start <= lower:
            return None
        floor = self.span(lower)[0] if lower > 0 else 0
        found = search_backward(self._read, pattern, start, lower=min(floor, lower),
                                cancel=cancel, progress=progress, first_chunk=first_chunk)
        if found is None:
            return None
        shown = min(self.span(found.offset)[1], start)
        return shown if shown > lower else None

    # -- what e and E find -------------------------------------------------------

    def error_record(self, match: Match | None, backward: bool) -> tuple[Match | None, int]:
        """Judge an error line found by the level scan: (the match to go to,
        where to scan on from when it is skipped). An error line inside an
        error record's continuation is that record's: going forward it is
        skipped (the record was, or will be, found by its first line);
        going backward the record's first line is the one found."""
        if match is None or not self.timed:
            return match, -1
        start, end = self.span(match.offset)
        if start >= match.offset or self._line_start(match.offset) == start:
            return match, -1
        token = _error_token(self._read(start, 4 * 2048))
        if token is None:  # a trace under a line that is not an error: the line itself
            return match, -1
        if backward:
            return Match(start + token[0], token[1]), -1
        return None, end

    def _line_start(self, offset: int) -> int:
        """Where the line holding ``offset`` starts (within ``RECORD_BYTES``)."""
        low = max(0, offset - RECORD_BYTES)
        return low + self._read(low, offset - low).rfind(b"\n") + 1


def _stamped(data: bytes, start: int) -> bool:
    """Whether the line starting at ``data[start]`` has a timestamp."""
    end = data.find(b"\n", start, start + _HEAD)
    return line_stamp(data[start:end if end >= 0 else start + _HEAD]) is not None


def _error_token(head: bytes) -> tuple[int, int] | None:
    from .levelscan import error_token

    end = head.find(b"\n")
    return error_token(head, 0, len(head) if end < 0 else end)


def find_error_record(read: Reader, size: int, start: int, records: Records, *,
                      backward: bool = False, cancel: threading.Event | None = None,
                      progress: Callable[[float], None] | None = None) -> Match | None:
    """The next (``backward``: previous) error record from ``start``: as
    :func:`~inspector.core.levels.find_level_line`, but an error line in the
    trace of an error is that error's (see :meth:`Records.error_record`)."""
    from .levels import find_level_line

    while True:
        match = find_level_line(read, size, start, backward=backward, cancel=cancel,
                                progress=progress)
        found, resume = records.error_record(match, backward)
        if resume < 0:
            return found
        start = resume
