"""Search, ``e``/``E``, the filter's count and line numbers on a merged stream.

Each runs per source, from the cursor, through the sources' own
thread-safe reads (a scan runs in its worker beside the navigation), and
takes the first find in the stream's order: once a source found something,
the others are searched only up to where their lines come after it (a
binary search on their times), so a find close by costs little however
long the other logs are. The place of a find is a cursor
(:func:`~inspector.core.merge.order.cursor_at`) and the offset in its
source (:class:`~inspector.core.merge.order.Hit`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..records import Records, find_error_record
from ..search import Match, SearchPattern, search_backward, search_forward
from ..session.document import Found
from . import order
from .order import Cursor, Hit
from .part import Reading

Finder = Callable[[Reading, int, int, bool, threading.Event], Match | None]
"""``find(reading, low, high, backward, token)``: the first (last) find in
``[low, high)`` of one source's log, local offsets."""


def search(doc, pattern: SearchPattern, start: Cursor, backward: bool,
           token: threading.Event, progress: Callable[[float], None]) -> Found:
    """The next match of ``pattern`` from ``start`` in one direction,
    wrapping around the end (as in one log)."""
    def find(reading: Reading, low: int, high: int, back: bool, cancel) -> Match | None:
        if back:
            return search_backward(reading.read, pattern, high, lower=low, cancel=cancel)
        return search_forward(reading.read, reading.size(), pattern, low, end=high,
                              cancel=cancel)

    readings = _readings(doc)
    hit = _first(doc, readings, find, start, backward, token, progress)
    if hit is not None:
        return _found(doc, hit)
    wrapped = _first(doc, readings, find, start, backward, token, progress, wrap=True)
    return _found(doc, wrapped, wrapped=wrapped is not None)


def find_level(doc, start: Cursor, backward: bool, token: threading.Event,
               progress: Callable[[float], None]) -> Found:
    """The next (previous) error record from ``start`` (no wrapping)."""
    def find(reading: Reading, low: int, high: int, back: bool, cancel) -> Match | None:
        records = Records(reading.read, reading.size)
        size = reading.size()
        match = find_error_record(reading.read, size, high if back else low, records,
                                  backward=back, cancel=cancel)
        inside = match is not None and (match.offset >= low if back else match.offset < high)
        return match if inside else None

    return _found(doc, _first(doc, _readings(doc), find, start, backward, token, progress))


def _readings(doc) -> list[Reading]:
    """A reading of every source for this scan (a hidden one is only seeked)."""
    return [part.scan() for part in doc.parts]


def _first(doc, readings: list[Reading], find: Finder, start: Cursor, backward: bool,
           token: threading.Event, progress: Callable[[float], None], *,
           wrap: bool = False) -> tuple[Hit, int] | None:
    """The find that comes first (last) in the stream's order from ``start``:
    (where, its length), or None."""
    best: tuple[bytes, int, Match] | None = None
    shown = doc.shown
    for done, s in enumerate(shown):
        reading = readings[s]
        here = reading.local(start[s])
        low, high = (here, reading.size()) if backward == wrap else (0, here)
        if best is not None:  # only what comes before (after) the best so far
            key, t = best[0], best[1]
            bound = reading.find(key + b"\x00" if s < t else key, cancel=token)
            low, high = (max(low, bound), high) if backward else (low, min(high, bound))
        if low < high:
            match = find(reading, low, high, backward, token)
            if match is not None:
                key = reading.key_at(reading.line_start(match.offset))
                if best is None or ((key, s) > best[:2] if backward else (key, s) < best[:2]):
                    best = (key, s, match)
        progress(100.0 * (done + 1) / max(1, len(shown)))
    if best is None:
        return None
    key, s, match = best
    reading = readings[s]
    cursor = order.cursor_at(readings, s, reading.line_start(match.offset), cancel=token)
    return Hit(cursor, s, reading.absolute(match.offset)), match.length


def _found(doc, hit: tuple[Hit, int] | None, wrapped: bool = False) -> Found:
    if hit is None:
        return Found(None)
    where, length = hit
    part = doc.parts[where.part]
    describe = f"in {part.tag}"
    if part.doc is not None:
        describe += " " + part.doc.describe(part.local(where.at))
    return Found(Match(where, length), wrapped, describe)


def count(doc, pattern: SearchPattern, token: threading.Event,
          progress: Callable[[int], None]) -> int:
    """How many lines of the sources shown match ``pattern`` (each source
    counted on from its last count when it only grew)."""
    total = 0
    for s in doc.shown:
        part = doc.parts[s]
        if part.doc is not None:
            base = total
            total += part.doc.count(pattern, token, lambda n, base=base: progress(base + n))
    return total


def build_index(doc, token: threading.Event, progress: Callable[[int], None]) -> int | None:
    """Count every shown source's lines (each numbers its own)."""
    total = 0
    for s in doc.shown:
        part = doc.parts[s]
        if part.doc is not None:
            total += part.doc.build_index(token, progress) or 0
    return total
