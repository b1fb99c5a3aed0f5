"""The field view of one line (``x`` in the viewer): its fields, one per line.

A JSON record is pretty-printed (nested objects and lists indented), a
logfmt line is shown as ``key = value`` lines. Every line of the view is
text a task cannot use to steer the terminal or the page: control and
invisible characters are visible escapes (``\\x1b``, ``\\u202e``), JSON
strings keep their JSON escapes (``\\n``). A line that is not a record says
what it is, and a record cut by rotation says where its start went.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from ..text import printable
from .fields import decode, parse_record

MAX_VIEW_LINES = 10_000
"""Lines of a field view at most (a record bigger than that is cut, and says so)."""


class FieldView(NamedTuple):
    """What ``x`` shows: a title, where the line is, and the lines of the view."""

    title: str
    where: str
    lines: tuple[str, ...]
    kind: str = ""
    """"json", "logfmt" or "" (not a record)."""

    @property
    def text(self) -> str:
        """The view as one text (title, where, the lines)."""
        return "\n".join((self.title, self.where, "", *self.lines))


def field_view(line) -> FieldView:
    """The field view of ``line`` (a :class:`~inspector.core.session.lines.LineRef`)."""
    record = parse_record(line.data)
    where = printable(line.where)
    notes = []
    if line.cut:
        notes.append("the line is longer than 1 MiB: its start is shown")
    if record.kind == "json":
        body = json.dumps(record.fields, indent=2, ensure_ascii=False, default=str).split("\n")
        title = f"JSON record, {len(record.fields)} fields"
    elif record.kind == "logfmt":
        width = min(24, max(len(printable(k)) for k in record.fields))
        body = [f"{printable(k):<{width}} = {v}" for k, v in record.fields.items()]
        title = f"logfmt, {len(record.fields)} fields"
    else:
        title = "no fields: not a JSON object or logfmt pairs"
        if line.partial:
            title = "the end of a line cut by rotation"
            notes.append("its start was in a file Nomad has deleted")
        elif record.problem:
            title = printable(record.problem)
        body = [decode(line.data)]
    lines = [printable(text) for text in body[:MAX_VIEW_LINES]]
    if len(body) > MAX_VIEW_LINES:
        notes.append(f"{len(body) - MAX_VIEW_LINES:,} more lines not shown")
    return FieldView(title, where + ("; " + "; ".join(notes) if notes else ""), tuple(lines),
                     record.kind)
