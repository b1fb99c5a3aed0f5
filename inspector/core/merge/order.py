"""The order of a merged stream, and where a place in it is.

**The rule.** Lines are merged by their key, ties by source order (the
source listed first goes first), and each source's lines keep their order.
A line's key is the latest time its source has shown up to it, counted
from where the reading began (a line without a time of its own, such as a
stack trace, takes the time before it and stays with it; a clock going
backwards does not reorder its source: its lines keep the last time until
the clock catches up). Lines before a source's first time (all of a source
without times) have the lowest key: they come first, in file order.

**A place** in the stream is a *cursor*: one absolute offset per source
(:class:`~inspector.core.merge.part.Part`), the next line of each not yet
shown. Cursors compare as tuples, which for two places of one stream is
the stream's order. Nothing is indexed: going forward is a k-way merge of
the sources' next lines; going backward takes each source's last lines
before the cursor and merges them forward (the last lines of the merge are
among each source's last as many lines, so that is enough); going to a
time or to a line of one source seeks every other source by binary search
on its times.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

from ..pager import Line
from ..stamps import LOWEST
from .part import Part

Cursor = tuple[int, ...]


class Entry(NamedTuple):
    """One line of the stream: its source, the line, its key and the cursor
    just before it (the place where it is the next line)."""

    part: int
    line: Line
    key: bytes
    before: Cursor


def walk(parts: Sequence[Part], cursor: Cursor, shown: Sequence[int]) -> Iterator[Entry]:
    """The lines of the sources ``shown`` from ``cursor`` on, in order."""
    position = list(cursor)
    heads: dict[int, tuple[Line, bytes]] = {}
    runs: dict[int, bytes] = {}
    for s in shown:
        local = parts[s].local(cursor[s])
        runs[s] = parts[s].seed(local)
        _load(parts[s], local, heads, runs)
    while heads:
        s = min(heads, key=lambda i: (heads[i][1], i))
        line, key = heads.pop(s)
        yield Entry(s, line, key, tuple(position))
        position[s] = parts[s].absolute(line.end)
        _load(parts[s], line.end, heads, runs)


def _load(part: Part, local: int, heads: dict, runs: dict) -> None:
    """Make ``part``'s next line at ``local`` its head, keyed."""
    line = part.line_at(local)
    if line is None:
        return
    own = part.own_key(line)
    run = runs[part.index]
    if own is not None and own < run:
        part.backwards = True
    key = run if own is None or own < run else own
    runs[part.index] = key
    heads[part.index] = (line, key)


def before(parts: Sequence[Part], cursor: Cursor, shown: Sequence[int],
           lines: int) -> list[Entry]:
    """The last ``lines`` lines (at least; fewer at the start) before
    ``cursor``, in order, each with the cursor before it.

    Each source gives a few of its last lines, not ``lines`` of them: the
    merge of what was taken is right from the latest first-taken line of a
    source with more lines before it (whatever else that source holds
    comes before it), and a source whose first line cuts the answer short
    gives twice as many again."""
    want = dict.fromkeys(shown, -(-lines // max(1, len(shown))) + 1)
    windows: dict[int, list[Line]] = {}
    more = set(shown)  # sources that may have lines before their window
    start = list(cursor)
    while True:
        for s in list(more):
            found = windows.setdefault(s, [])
            part, local = parts[s], parts[s].local(start[s])
            taken = []
            while len(found) + len(taken) < want[s]:
                line = part.line_before(local)
                if line is None:
                    more.discard(s)
                    break
                taken.append(line)
                local = line.start
            if taken:
                taken.reverse()
                found[:0] = taken
                start[s] = part.absolute(found[0].start)
        entries = list(_merge_windows(parts, {s: w for s, w in windows.items() if w},
                                      start, cursor))
        firsts = {(entry.part, entry.line.start): i for i, entry in enumerate(entries)}
        cut, cutting = 0, []
        for s in more:
            if windows[s]:
                at = firsts[(s, windows[s][0].start)]
                if at > cut:
                    cut, cutting = at, [s]
                elif at == cut:
                    cutting.append(s)
        sure = entries[cut:]
        if len(sure) >= lines or not more:
            return sure[-lines:] if lines < len(sure) else sure
        for s in cutting or more:
            want[s] *= 2


def _merge_windows(parts: Sequence[Part], windows: dict[int, list[Line]], start: list[int],
                   cursor: Cursor) -> Iterator[Entry]:
    """The lines of ``windows`` (each source's last lines before ``cursor``),
    merged by the rule from the cursor ``start``."""
    position = list(start)
    runs = {s: parts[s].seed(parts[s].local(start[s])) for s in windows}
    next_index = dict.fromkeys(windows, 0)
    heads: dict[int, tuple[Line, bytes]] = {}

    def load(s: int) -> None:
        i = next_index[s]
        if i >= len(windows[s]):
            position[s] = cursor[s]
            return
        line = windows[s][i]
        own = parts[s].own_key(line)
        run = runs[s]
        key = run if own is None or own < run else own
        runs[s] = key
        heads[s] = (line, key)

    for s in windows:
        load(s)
    while heads:
        s = min(heads, key=lambda i: (heads[i][1], i))
        line, key = heads.pop(s)
        yield Entry(s, line, key, tuple(position))
        position[s] = parts[s].absolute(line.end)
        next_index[s] += 1
        load(s)


def cursor_at(parts: Sequence[Part], s: int, local: int, cancel=None) -> Cursor:
    """The cursor whose next line is the line of source ``s`` starting at
    ``local``: every other source seeked to its first line that comes after
    it by the rule (a time later than its key, or as late from a source
    listed after ``s``)."""
    key = parts[s].key_at(local)
    out = []
    for t, part in enumerate(parts):
        if t == s:
            out.append(part.absolute(local))
        elif key == LOWEST and t > s:
            out.append(part.absolute(0))
        else:
            bound = key + b"\x00" if t < s else key
            out.append(part.absolute(part.find(bound, cancel=cancel)))
    return tuple(out)


def cursor_at_time(parts: Sequence[Part], key: bytes, cancel=None) -> Cursor:
    """The cursor of the first line whose time is ``key`` or later."""
    return tuple(part.absolute(part.find(key, cancel=cancel)) for part in parts)


def head(parts: Sequence[Part]) -> Cursor:
    """The cursor of the stream's start."""
    return tuple(part.absolute(0) for part in parts)


def end(parts: Sequence[Part]) -> Cursor:
    """The cursor of the stream's end (as the sources are now)."""
    return tuple(part.end for part in parts)


class Hit(NamedTuple):
    """Where a search or ``e`` found something: the cursor of its line, the
    source, and the absolute offset of the match in that source."""

    cursor: Cursor
    part: int
    at: int
