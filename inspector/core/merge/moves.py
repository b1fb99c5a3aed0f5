"""The navigation operations on a merged stream: what a queued move does to
a :class:`~inspector.core.merge.document.MergedDocument`'s view.

The view is a cursor (the place before the top line) and the wrapped row of
that line shown first, as a pager's anchor is an offset and a row. Each
operation runs in the navigation worker, holding the document's lock, and
returns a notice for the user ("" when there is nothing to say); the table
:data:`MOVES` names them as :data:`~inspector.core.session.paging.PAGING`
does for one log, so the session queues them alike.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..pager import Row
from ..stamps import line_reference, seconds_key
from ..text import printable
from . import order
from .order import Cursor, Entry, Hit

Move = Callable[["MergedDocument", tuple, threading.Event], str]  # noqa: F821


def screen(doc) -> list[tuple[Entry, Row]]:
    """The rows on screen: from the top cursor down, at most a screen."""
    rows: list[tuple[Entry, Row]] = []
    skip = doc.top_row
    for entry in order.walk(doc.parts, doc.top, doc.shown):
        rows.extend((entry, row) for row in doc.parts[entry.part].rows(entry.line)[skip:])
        skip = 0
        if len(rows) >= doc.height:
            break
    return rows[:doc.height]


def _rows(doc, entry: Entry) -> int:
    return len(doc.parts[entry.part].rows(entry.line))


def down(doc, count: int) -> None:
    """``count`` rows towards the end (never past the last screen)."""
    skip = doc.top_row + count
    for entry in order.walk(doc.parts, doc.top, doc.shown):
        rows = _rows(doc, entry)
        if skip < rows:
            doc.top, doc.top_row = entry.before, skip
            break
        skip -= rows
    else:
        tail(doc)
        return
    _keep_full(doc)


def up(doc, count: int) -> None:
    """``count`` rows towards the start."""
    if doc.top_row >= count:
        doc.top_row -= count
        return
    need = count - doc.top_row
    entries = order.before(doc.parts, doc.top, doc.shown, need)
    for entry in reversed(entries):
        rows = _rows(doc, entry)
        if need <= rows:
            doc.top, doc.top_row = entry.before, rows - need
            return
        need -= rows
    if entries:
        doc.top = entries[0].before
    doc.top_row = 0


def head(doc) -> None:
    """The start of the stream."""
    doc.top, doc.top_row = order.head(doc.parts), 0


def tail(doc) -> None:
    """The last screen of the stream, as the sources are now."""
    doc.top, doc.top_row = order.end(doc.parts), 0
    up(doc, doc.height)


def goto(doc, place: Hit | Cursor) -> None:
    """The line of ``place`` (a cursor, or where a search found something) at the top."""
    doc.top = place.cursor if isinstance(place, Hit) else tuple(place)
    doc.top_row = 0
    _keep_full(doc)


def _keep_full(doc) -> None:
    """A screen that ends short of its height, away from the start: show the last screen."""
    if len(screen(doc)) < doc.height and doc.top != order.head(doc.parts):
        tail(doc)


def reveal(doc, hit: Hit) -> None:
    """Show ``hit``, moving only when it is not on screen."""
    for entry, _row in screen(doc):
        line = entry.line
        if entry.part == hit.part and line.start <= doc.parts[hit.part].local(hit.at) < line.end:
            return
    goto(doc, hit)


def set_filter(doc, pattern) -> None:
    """Show only the records matching ``pattern`` (None: every line)."""
    doc.filter = pattern
    for part in doc.parts:
        part.set_filter(pattern)
    doc.top_row = 0
    if pattern is not None and not screen(doc):
        tail(doc)


def percent(doc, share: float) -> str:
    """That far through the stream: through its span of time, or, without
    any time, through its bytes in source order."""
    span = doc.time_span()
    if span is not None:
        first, last = span
        goto(doc, order.cursor_at_time(doc.parts, seconds_key(first + (last - first) * share
                                                               / 100)))
        return ""
    target = int(sum(doc.parts[s].size() for s in doc.shown) * share / 100)
    cursor = list(order.head(doc.parts))
    for s in doc.shown:
        part = doc.parts[s]
        if target >= part.size():
            target -= part.size()
            cursor[s] = part.end
            continue
        cursor[s] = part.absolute(part.line_start(target))
        break
    goto(doc, tuple(cursor))
    return ""


def to_line(doc, number: int, token: threading.Event) -> str:
    """Line ``number`` of the source of the top line (line numbers are each source's own)."""
    s = doc.top_part
    part = doc.parts[s]
    if part.doc is None:
        return f"{part.tag} has no lines yet"
    index = part.doc.index()
    offset = index.offset_of_line(number, token)
    if offset is None:
        return f"{part.tag} line {number:,} is past its end ({index.line_count:,} lines)"
    goto(doc, order.cursor_at(doc.parts, s, part.line_start(offset)))
    return f"{part.tag} line {number:,}"


def to_time(doc, text: str, token: threading.Event) -> str:
    """The first line at or after the time ``text`` (a time alone: on the
    top line's date, in its zone)."""
    from ..timestamps import parse_query

    rows = screen(doc)
    reference = line_reference(rows[0][1].line.data) if rows else None
    try:
        key = parse_query(text, reference or doc.reference())
    except ValueError as exc:
        return str(exc)
    if not any(doc.parts[s].timed for s in doc.shown):
        return "no timestamps at the start of the lines: cannot go to a time"
    cursor = order.cursor_at_time(doc.parts, key, cancel=token)
    if all(cursor[s] >= doc.parts[s].end for s in doc.shown):
        tail(doc)
        return f"no line at or after {printable(text)}: showing the end"
    goto(doc, cursor)
    return ""


def show_sources(doc, hidden: frozenset[int]) -> str:
    """Show only the sources not ``hidden``, keeping the place: the top
    line stays on top (when its source is hidden, the first line shown
    from its time on)."""
    rows = screen(doc)
    doc.hidden = frozenset(s for s in hidden if 0 <= s < len(doc.parts))
    if rows:
        entry, row = rows[0]
        if entry.part in doc.hidden:
            doc.top, doc.top_row = order.cursor_at_time(doc.parts, entry.key), 0
        else:
            doc.top = order.cursor_at(doc.parts, entry.part, entry.line.start)
            doc.top_row = row.index
    if not doc.shown:
        return "every source hidden: t shows them again"
    _keep_full(doc)
    return ""


def _move(function: Callable, *fixed) -> Move:
    def operation(doc, args: tuple, token: threading.Event) -> str:
        return function(doc, *fixed, *args) or ""
    operation.__doc__ = function.__doc__
    return operation


def _say(notice: str) -> Move:
    return lambda doc, args, token: notice


MOVES: dict[str, Move] = {
    "down": _move(down),
    "up": _move(up),
    "page_down": lambda doc, args, token: down(doc, doc.height) or "",
    "page_up": lambda doc, args, token: up(doc, doc.height) or "",
    "head": _move(head),
    "tail": _move(tail),
    "goto": _move(goto),
    "goto_exact": _move(goto),
    "reveal": _move(reveal),
    "filter": _move(set_filter),
    "percent": _move(percent),
    "line": lambda doc, args, token: to_line(doc, args[0], token),
    "time": lambda doc, args, token: to_time(doc, args[0], token),
    "sources": _move(show_sources),
    "file": _say("a merged stream: [ and ] move between the files of one log"),
    "offset": _say("a byte offset is a place in one file: in a merged stream, "
                   "go to @time, N% or a line of the top line's log"),
    "hex": lambda doc, args, token: "no hex dump of a merged stream" if args[0] else "",
    "refresh": lambda doc, args, token: "",  # every source is looked at before each move
    "poll": lambda doc, args, token: "",
    "view": lambda doc, args, token: "",
}
"""The operations a session queues on a merged stream, by name (those of
one log, and "sources": which sources are shown)."""
