"""Line numbers for files of any size: a sparse index built in the background.

:class:`LineIndex` counts newlines with ``bytes.count`` in big chunks (at
about 2 GB/s) and keeps one checkpoint per ``step`` bytes: the number of
lines that start before that offset. Memory is 16 bytes per checkpoint (a
1 GiB file with the default 1 MiB step: 16 KiB). Any line number or offset
is then one bisect plus counting at most ``step`` bytes.

The index is extended by whoever needs it: a background worker calls
:meth:`LineIndex.build`, and a "go to line" in another thread extends it as
far as it must (the two take turns chunk by chunk). Questions about offsets
the index has not reached yet are answered with None rather than blocking.

Line numbers are 1-based, as in ``less -N``; a line is counted where it
starts, so the piece of a line longer than the pager's row limit shares its
line's number.
"""

from __future__ import annotations

import bisect
import threading
from array import array
from collections.abc import Callable

from .search import Reader, SearchCancelled

STEP = 1024 * 1024
"""Bytes between two checkpoints."""
CHUNK = 8 * 1024 * 1024
"""Bytes counted per read while building."""


class LineIndex:
    """Sparse line index over one byte source (``read(offset, length)``)."""

    def __init__(self, read: Reader, size: Callable[[], int], *, step: int = STEP,
                 chunk: int = CHUNK) -> None:
        self._read = read
        self._size = size
        self.step = step
        self.chunk = max(step, chunk // step * step)
        self._offsets = array("q", [0])
        self._lines = array("q", [0])  # lines that start before the offset, minus one
        self._end = 0  # bytes counted so far
        self._newlines = 0  # newlines in [0, _end)
        self._ends_with_newline = True
        self._lock = threading.RLock()

    # -- state ------------------------------------------------------------

    @property
    def indexed(self) -> int:
        """How many bytes from the start have been counted."""
        return self._end

    @property
    def complete(self) -> bool:
        """Whether the whole file (as it is now) has been counted."""
        return self._end >= self._size()

    @property
    def newlines(self) -> int:
        """Newlines counted so far (the number of complete lines in ``[0, indexed)``)."""
        return self._newlines

    @property
    def line_count(self) -> int:
        """Lines in ``[0, indexed)``: a last line without a newline counts too."""
        if self._end == 0:
            return 0
        return self._newlines + (0 if self._ends_with_newline else 1)

    def reset(self) -> None:
        """Forget everything (after a truncation, or bytes dropped from the head)."""
        with self._lock:
            self._offsets = array("q", [0])
            self._lines = array("q", [0])
            self._end = 0
            self._newlines = 0
            self._ends_with_newline = True

    # -- building ---------------------------------------------------------

    def _extend_once(self, limit: int) -> bool:
        """Count one more chunk (not past ``limit``); False when there is nothing to count."""
        with self._lock:
            start = self._end
            size = min(self._size(), limit)
            if start >= size:
                return False
            if start % self.step:  # a partial step (the end, before the file grew)
                length = min((start // self.step + 1) * self.step - start, size - start)
            else:
                length = min(self.chunk, size - start)
            data = self._read(start, length)
            if not data:
                return False
            pos = 0
            while pos < len(data):
                offset = start + pos
                next_mark = (offset // self.step + 1) * self.step
                piece = min(len(data), next_mark - start)
                self._newlines += data.count(b"\n", pos, piece)
                pos = piece
                if start + pos == next_mark:
                    self._offsets.append(next_mark)
                    self._lines.append(self._newlines)
            self._end = start + len(data)
            self._ends_with_newline = data.endswith(b"\n")
            return True

    def build(self, cancel: threading.Event | None = None,
              progress: Callable[[int, int], None] | None = None) -> None:
        """Count to the current end of the file; ``progress(indexed, size)``
        after each chunk. Raises SearchCancelled when ``cancel`` is set."""
        while True:
            if cancel is not None and cancel.is_set():
                raise SearchCancelled()
            if not self._extend_once(1 << 62):
                return
            if progress is not None:
                progress(self._end, self._size())

    def ensure(self, offset: int, cancel: threading.Event | None = None) -> None:
        """Count at least up to ``offset`` (blocking; cancellable)."""
        while self._end < offset:
            if cancel is not None and cancel.is_set():
                raise SearchCancelled()
            if not self._extend_once(offset + self.chunk):
                return

    # -- questions --------------------------------------------------------

    def line_of(self, offset: int) -> int | None:
        """The 1-based number of the line holding the byte at ``offset``, or
        None when the index has not reached it yet."""
        with self._lock:
            if offset > self._end or (offset == self._end and offset < self._size()):
                return None
            i = bisect.bisect_right(self._offsets, offset) - 1
            base, lines = self._offsets[i], self._lines[i]
        if offset == base:
            return lines + 1
        return lines + self._read(base, offset - base).count(b"\n") + 1

    def offset_of_line(self, number: int, cancel: threading.Event | None = None) -> int | None:
        """The offset where line ``number`` (1-based) starts, counting as far
        as needed; None when the file has fewer lines. Blocking; cancellable."""
        if number <= 1:
            return 0
        want = number - 1  # newlines before the line
        while True:
            with self._lock:
                if self._newlines >= want:
                    i = bisect.bisect_left(self._lines, want) - 1
                    base, lines = self._offsets[i], self._lines[i]
                    break
                reached = self._end
            if cancel is not None and cancel.is_set():
                raise SearchCancelled()
            if not self._extend_once(reached + self.chunk):
                return None
        data = self._read(base, self.step + 1)
        pos = -1
        for _ in range(want - lines):
            pos = data.find(b"\n", pos + 1)
            if pos < 0:  # the file changed under us
                return None
        return base + pos + 1
