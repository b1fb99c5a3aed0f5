"""The paging operations: what one queued navigation step does to the
:class:`~inspector.core.pager.Pager` of a
:class:`~inspector.core.session.logdoc.LogDocument`.

Each operation runs in the navigation worker, holding the document's lock,
and returns a notice for the user ("" when there is nothing to say). The
table :data:`PAGING` names them; the session queues them by these names.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..pager import Pager, line_text
from ..rotation import LogSource
from ..text import printable

Operation = Callable[["LogDocument", tuple, threading.Event], str]  # noqa: F821


def char_span(data: bytes, start: int, length: int) -> tuple[int, int]:
    """Where bytes ``[start, start+length)`` of a line land in its display text."""
    begin = len(line_text(data[:start]).plain) if start else 0
    end = len(line_text(data[: start + length]).plain)
    return begin, max(end, begin)


def to_member(pager: Pager, step: int) -> str:
    """The start of the file ``step`` files away in the rotation set."""
    source = pager.source
    if not isinstance(source, LogSource) or not source.is_set:
        return "not a rotation set: no other file"
    segments = source.segments()
    current, _ = source.locate(pager.top)
    i = next(i for i, seg in enumerate(segments) if seg.path == current.path) + step
    if i < 0:
        pager.head()
        return "already in the first file of the set"
    if i >= len(segments):
        return "already in the last file of the set"
    pager.goto_exact(segments[i].start)
    return ""


def to_line(pager: Pager, number: int, cancel: threading.Event, index) -> str:
    """Line ``number`` at the top (counting lines as far as needed)."""
    offset = index.offset_of_line(number, cancel)
    if offset is None:
        return f"line {number:,} is past the end ({index.line_count:,} lines)"
    pager.goto(offset) if offset < pager.size else pager.tail()
    return ""


def to_time(pager: Pager, text: str, cancel: threading.Event) -> str:
    """The first line at or after the time ``text`` (a time alone: on the top line's date)."""
    from ..stamps import line_reference
    from ..timestamps import find_time, has_stamps, parse_query

    top = pager.line_containing(pager.top)
    reference = line_reference(top.data) if top is not None else None
    try:
        key = parse_query(text, reference)
    except ValueError as exc:
        return str(exc)
    if not has_stamps(pager.read, pager.size):
        return "no timestamps at the start of the lines: cannot go to a time"
    offset = find_time(pager.read, pager.size, key, cancel=cancel)
    if offset is None:
        pager.tail()
        return f"no line at or after {printable(text)}: showing the end"
    pager.goto(offset)
    return ""


def to_offset(pager: Pager, offset: int) -> str:
    """The line holding byte ``offset`` at the top (past the end: the end)."""
    if offset >= pager.size:
        pager.tail()
        return f"byte {offset:,} is past the end ({pager.size:,} bytes): showing the end"
    pager.goto(offset)
    return ""


def _move(method: str) -> Operation:
    def operation(doc, args: tuple, token: threading.Event) -> str:
        getattr(doc.pager, method)(*args)
        return ""
    operation.__doc__ = f"``Pager.{method}``."
    return operation


def _reveal(doc, args: tuple, token: threading.Event) -> str:
    """Show the match at ``args[0]``, moving only if it is not on screen."""
    if not doc.pager.is_visible(args[0]):
        doc.pager.goto(args[0])
    return ""


def _in_place(doc, change: Callable[[], None]) -> None:
    """Make ``change`` to what is shown, the line on top of the last frame
    staying on top (or, hidden now, the first line shown after it)."""
    pager = doc.pager
    top = getattr(doc, "shown_top", None)
    change()
    if top is not None and top != pager.top:
        pager.goto(top)
    if pager.filter is not None and not pager.screen():
        pager.tail()  # nothing shown below: show the last lines shown


def _filter(doc, args: tuple, token: threading.Event) -> str:
    """Show only the lines matching ``args[0]`` (None: every line)."""
    doc.pager.set_filter(args[0])
    if args[0] is not None and not doc.pager.screen():
        doc.pager.tail()  # nothing matches below: show the last matches
    return ""


def _context(doc, args: tuple, token: threading.Event) -> str:
    """Show ``args[0]`` lines of context around each match of the filter."""
    _in_place(doc, lambda: doc.pager.set_context(args[0]))
    return ""


def _columns(doc, args: tuple, token: threading.Event) -> str:
    """Show every line through ``args[0]`` (chosen fields as columns; None: as it is)."""
    doc.pager.set_render(args[0])
    return ""


def _percent(doc, args: tuple, token: threading.Event) -> str:
    doc.pager.goto(int(doc.pager.size * args[0] / 100))
    return ""


def _nothing(doc, args: tuple, token: threading.Event) -> str:
    return ""


PAGING: dict[str, Operation] = {
    "down": _move("down"),
    "up": _move("up"),
    "page_down": _move("page_down"),
    "page_up": _move("page_up"),
    "head": _move("head"),
    "tail": _move("tail"),
    "goto": _move("goto"),
    "goto_exact": _move("goto_exact"),
    "reveal": _reveal,
    "filter": _filter,
    "context": _context,
    "columns": _columns,
    "file": lambda doc, args, token: to_member(doc.pager, args[0]),
    "percent": _percent,
    "line": lambda doc, args, token: to_line(doc.pager, args[0], token, doc.index()),
    "time": lambda doc, args, token: to_time(doc.pager, args[0], token),
    "offset": lambda doc, args, token: to_offset(doc.pager, args[0]),
    "hex": lambda doc, args, token: doc.set_hex(args[0]),
    "refresh": _nothing,  # the set's directory is listed again before every operation
    "poll": _nothing,  # what changed is picked up before every operation
    "view": _nothing,  # the screen is read again after every pass
}
"""The operations a session queues, by name: moves by row, page and file;
head and tail; go to an offset, a percentage, a line or a time; reveal a
match; the filter, its context lines; fields as columns; hex; and "refresh" (the set's directory listed now),
"poll" (what changed) and "view" (the screen again)."""
