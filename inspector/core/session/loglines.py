"""The lines of a log or rotation set taken out on request (the
:class:`~inspector.core.session.lines.Lines` of a
:class:`~inspector.core.session.logdoc.LogDocument`).

Positions are byte offsets of the whole set. Long reads (an export, the
histogram, ``nb.frame``) go through a snapshot of the set
(:meth:`~inspector.core.rotation.LogSource.snapshot`): they read the files
as they were when asked, side by side with the pager and the follower,
and a rotation meanwhile moves nothing under them. A mark is anchored to
the bytes the set has dropped since it opened, so it stays on its line
when Nomad deletes the set's first file, and is gone with it.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator

from ..search import MAX_LINE_READ, _check
from .lines import CHUNK, MAX_LINE, Chunk, LineRef

BACK_LIMIT = MAX_LINE
"""How far back the start of a line is looked for."""


class LogLines:
    """:class:`~inspector.core.session.lines.Lines` for a ``LogDocument``
    (a mixin: it reads ``self.source``)."""

    def line_at(self, position: int, limit: int = MAX_LINE) -> LineRef | None:
        """The whole line holding byte ``position`` of the set."""
        source = self.source
        if position >= source.size():
            return None
        start = _line_start(source.read, position)
        data = source.read(start, limit + 1)
        newline = data.find(b"\n")
        cut = newline < 0 and len(data) > limit
        data = data[:newline] if newline >= 0 else data[:limit]
        if data.endswith(b"\r"):
            data = data[:-1]
        partial = start == 0 and self.head_gone()
        return LineRef(start, data, self.describe(start), cut=cut, partial=partial)

    def head_gone(self) -> bool:
        """Whether files before the first one still on disk were deleted
        (so the first line may be the end of a record cut by rotation)."""
        source = self.source
        segments = source.segments() if getattr(source, "is_set", False) else []
        return bool(getattr(source, "dropped", 0)) or bool(segments and segments[0].index > 0)

    def chunks(self, start: int | None = None, end: int | None = None,
               cancel: threading.Event | None = None, size: int = CHUNK) -> Iterator[Chunk]:
        """Whole lines from the one holding ``start`` to the one holding
        ``end``, read from a snapshot of the set taken now."""
        snapshot = getattr(self.source, "snapshot", None)
        source = snapshot() if snapshot is not None else self.source
        try:
            yield from _chunks(source, start, end, cancel, size)
        finally:
            if snapshot is not None:
                source.close()

    def anchor(self, position: int) -> int:
        """``position`` counted from the first byte the set ever had."""
        return position + getattr(self.source, "dropped", 0)

    def resolve(self, anchor: int) -> int | None:
        """The position of ``anchor`` now; None once its file was deleted."""
        position = anchor - getattr(self.source, "dropped", 0)
        return position if position >= 0 else None

    def time_position(self, text: str, cancel: threading.Event | None = None) -> int | None:
        """The first line at or after the time ``text`` (``@10:15`` takes the
        date of the first line with one)."""
        from ..timestamps import find_time, line_stamp, parse_query

        source = self.source
        head = source.read(0, 64 * 1024).split(b"\n")
        reference = next((s for s in map(line_stamp, head) if s is not None), None)
        key = parse_query(text, reference)
        return find_time(source.read, source.size(), key, cancel=cancel)


def _line_start(read, position: int) -> int:
    """Where the line holding ``position`` starts (looked for within
    :data:`BACK_LIMIT` bytes; further back, ``position`` itself)."""
    low = max(0, position - BACK_LIMIT)
    newline = read(low, position - low).rfind(b"\n")
    if newline >= 0:
        return low + newline + 1
    return 0 if low == 0 else position


def _line_end(read, position: int, size: int) -> int:
    """Just past the newline ending the line holding ``position`` (within
    :data:`BACK_LIMIT` bytes; further, that far)."""
    data = read(position, min(BACK_LIMIT, size - position))
    newline = data.find(b"\n")
    return position + (newline + 1 if newline >= 0 else len(data))


def _chunks(source, start: int | None, end: int | None, cancel, size: int) -> Iterator[Chunk]:
    total = source.size()
    pos = 0 if start is None else _line_start(source.read, min(max(0, start), total))
    stop = total if end is None else _line_end(source.read, min(max(0, end), total), total)
    segments = source.segments() if getattr(source, "segments", None) else []
    starts = [seg.start for seg in segments]
    want = size
    while pos < stop:
        _check(cancel)
        data = source.read(pos, min(want, stop - pos))
        if not data:
            return
        if pos + len(data) < stop:
            cut = data.rfind(b"\n") + 1
            if not cut and want < MAX_LINE_READ:
                want *= 4  # a line longer than the read: read it whole
                continue
            if cut:  # a line longer than MAX_LINE_READ is handed out in pieces
                data = data[:cut]
        yield Chunk(pos, data, _origins(segments, starts, pos, len(data)))
        pos += len(data)
        want = size


def _origins(segments, starts: list[int], pos: int, length: int) -> tuple:
    """(offset in the chunk, member name, offset in the member) where each
    member's bytes begin within ``[pos, pos + length)``."""
    if not segments:
        return ()
    i = max(0, bisect.bisect_right(starts, pos) - 1)
    out = []
    while i < len(segments) and segments[i].start < pos + length:
        seg = segments[i]
        if seg.size or i == len(segments) - 1:
            at = max(pos, seg.start)
            out.append((at - pos, seg.name, at - seg.start))
        i += 1
    return tuple(out)
