"""The paging operations of a reader: what one queued navigation step does
to a :class:`~inspector.core.pager.Pager`, and what a navigation pass read.

Moved here unchanged from the terminal viewer, so that every front-end
applies the same operations (see :mod:`inspector.core.session`).
"""

from __future__ import annotations

import threading

from rich.text import Text

from inspector.core.pager import Pager, Row, line_text
from inspector.core.rotation import LogSource
from inspector.core.text import printable

SEPARATOR_STYLE = "bold yellow"


class Screen:
    """What one navigation pass read, for the event loop to show."""

    def __init__(self, rows: list[Row], size: int = 0, percent: float = 0.0) -> None:
        self.rows = rows
        self.numbers: list[int | None] = []
        self.size = size
        self.percent = percent
        self.file = ""
        self.file_offset = 0
        self.member = 1
        self.members = 1
        self.top_line: int | None = None
        self.notices: list[str] = []
        self.changed = True
        self.rebased = False



def separator(label: str, width: int) -> Text:
    """A rule across the screen with ``label`` (e.g. "truncated") in it."""
    middle = f" {label} "
    side = max(2, (width - len(middle)) // 2)
    return Text("─" * side + middle + "─" * side, style=SEPARATOR_STYLE, end="")


def char_span(data: bytes, start: int, length: int) -> tuple[int, int]:
    """Where bytes ``[start, start+length)`` of a line land in its display text."""
    begin = len(line_text(data[:start]).plain) if start else 0
    end = len(line_text(data[: start + length]).plain)
    return begin, max(end, begin)


def apply(pager: Pager, op: str, args: list, cancel: threading.Event, index) -> str:
    """Apply one queued navigation operation (in the worker thread); return a notice or ""."""
    pager.sync()
    if op == "down":
        pager.down(args[0])
    elif op == "up":
        pager.up(args[0])
    elif op == "page_down":
        pager.page_down()
    elif op == "page_up":
        pager.page_up()
    elif op == "head":
        pager.head()
    elif op in ("tail", "sync_tail"):
        pager.tail()
    elif op == "reveal":
        if not pager.is_visible(args[0]):
            pager.goto(args[0])
    elif op == "goto":
        pager.goto(args[0])
    elif op == "goto_exact":
        pager.goto_exact(args[0])
    elif op == "refresh":
        refresh = getattr(pager.source, "refresh", None)
        if refresh is not None:
            change = refresh(force=True)
            pager.notices.extend(change.notices)
            if change.dropped or change.reshaped:
                pager._rebase(change.dropped)
            pager.sync()
    elif op == "filter":
        pager.set_filter(args[0])
        if args[0] is not None and not pager.screen():
            pager.tail()  # nothing matches below: show the last matches
    elif op == "file":
        return to_member(pager, args[0])
    elif op == "percent":
        pager.goto(int(pager.size * args[0] / 100))
    elif op == "line":
        return to_line(pager, args[0], cancel, index)
    elif op == "time":
        return to_time(pager, args[0], cancel)
    elif op == "reopen":
        fs, path = args
        try:
            source = LogSource(fs, path)
        except Exception:
            return ""  # keep showing the old file (e.g. the new one is gone)
        old = pager.source
        pager.replace_source(source)
        close = getattr(old, "close", None)
        if close is not None:
            close()
    return ""


def to_member(pager: Pager, step: int) -> str:
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
    from inspector.core.lineindex import LineIndex

    if index is None:
        index = LineIndex(pager.read, lambda: pager.size)
    offset = index.offset_of_line(number, cancel)
    if offset is None:
        return f"line {number:,} is past the end ({index.line_count:,} lines)"
    pager.goto(offset) if offset < pager.size else pager.tail()
    return ""


def to_time(pager: Pager, text: str, cancel: threading.Event) -> str:
    from inspector.core.timestamps import find_time, has_stamps, line_stamp, parse_query

    top = pager._line_at(pager.top)
    reference = line_stamp(top.data) if top is not None else None
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


def screen_of(pager: Pager, rows: list[Row], index) -> Screen:
    """Line numbers of the rows and where the top is (which member)."""
    screen = Screen(rows=rows, size=pager.size, percent=pager.percent(rows))
    top = rows[0].line.start if rows else pager.top
    source = pager.source
    if isinstance(source, LogSource):
        seg, local = source.locate(top)
        segments = source.segments()
        screen.file = seg.path
        screen.file_offset = local
        screen.member = next((i + 1 for i, s in enumerate(segments) if s.path == seg.path), 1)
        screen.members = len(segments)
    else:
        screen.file_offset = top
    if index is not None and rows:
        numbers: list[int | None] = []
        previous: tuple[int, int] | None = None  # (line start, its number)
        for row in rows:
            line = row.line
            if row.index > 0:
                numbers.append(None)
                continue
            number = None
            if previous is not None and line.start - previous[0] <= 64 * 1024:
                gap = pager.read(previous[0], line.start - previous[0])
                number = previous[1] + gap.count(b"\n")
            else:
                number = index.line_of(line.start)
            numbers.append(number)
            if number is not None:
                previous = (line.start, number)
        screen.numbers = numbers
        screen.top_line = numbers[0] if numbers else None
    return screen
