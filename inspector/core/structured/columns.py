"""Chosen fields as columns: ``c`` in the viewer (``level,status:5,trace_id``).

Each structured line is shown as the values of the chosen fields, each in
a column of its own width (12 cells unless ``name:width`` says otherwise,
cut with "…"), then its message and the fields not shown as columns
(``key=value``), so nothing of the record is hidden. A line without
fields keeps its place: empty columns, then the line as it is.

Values are shown as text a task cannot use to steer the terminal: control
characters (a newline inside a JSON string, an ESC) as visible escapes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text import printable
from .fields import MESSAGE_KEYS, MISSING, field_value, first_of, parse_record, value_text

DEFAULT_WIDTH = 12
MAX_WIDTH = 80
MAX_COLUMNS = 12
_SPEC = re.compile(r"([A-Za-z_@][\w.@/-]*)(?::(\d+))?")
SEPARATOR = " │ "


@dataclass(frozen=True)
class Columns:
    """The fields shown as columns: (name, width) pairs, in order."""

    fields: tuple[tuple[str, int], ...]

    def describe(self) -> str:
        """The columns in words, for the status line."""
        return "columns: " + " ".join(
            name if width == DEFAULT_WIDTH else f"{name}:{width}" for name, width in self.fields)

    def render(self, data: bytes) -> bytes:
        """The line ``data`` as its columns, then its message and other fields."""
        record = parse_record(data)
        cells = []
        for name, width in self.fields:
            value = field_value(record.fields, name) if record.structured else MISSING
            text = "" if value is MISSING or value is None else printable(value_text(value))
            cells.append(_fit(text, width))
        rest = self._rest(record, data)
        return ("  ".join(cells) + SEPARATOR).encode() + rest

    def _rest(self, record, data: bytes) -> bytes:
        """What follows the columns: a JSON record's message and remaining
        fields as ``key=value``; any other line as it is."""
        if record.kind != "json":
            return data
        shown = {name for name, _width in self.fields}
        message = first_of(record.fields, MESSAGE_KEYS)
        message_key = next((k for k in MESSAGE_KEYS if k in record.fields), None)
        parts = [printable(value_text(message))] if message is not None else []
        parts += [f"{printable(key)}={printable(value_text(value))}"
                  for key, value in record.fields.items()
                  if key not in shown and key != message_key]
        return " ".join(parts).encode("utf-8", "surrogateescape")


def _fit(text: str, width: int) -> str:
    """``text`` cut or padded to ``width`` characters."""
    if len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text.ljust(width)


def parse_columns(text: str) -> Columns | None:
    """The columns ``text`` names (``level, status:5``), or None for "" (no
    columns). Raises ValueError naming what is wrong."""
    specs = [part.strip() for part in re.split(r"[,\s]+", text.strip()) if part.strip()]
    if not specs:
        return None
    if len(specs) > MAX_COLUMNS:
        raise ValueError(f"at most {MAX_COLUMNS} columns")
    fields = []
    for spec in specs:
        found = _SPEC.fullmatch(spec)
        if found is None:
            raise ValueError(f"not a field name: {printable(spec)!r} "
                             "(e.g. level,status:5,trace_id)")
        width = int(found.group(2)) if found.group(2) else DEFAULT_WIDTH
        fields.append((found.group(1), max(1, min(width, MAX_WIDTH))))
    return Columns(tuple(fields))
