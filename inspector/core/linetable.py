"""The lines of a document as rows of a table, streamed: what ``nb.frame``
turns into a pandas DataFrame (pandas is the notebook's; nothing here
imports it).

Each line is a row: its time (the sortable key of
:func:`~inspector.core.timestamps.line_stamp`, padded to one width, or of the record's time
field), its level (``error``, ``warn``, ``info``, ``debug`` or None),
its source (the file of a rotation set, or the log of a merged stream,
it comes from), its byte offset in that source, its text (escaped as
:func:`~inspector.core.text.printable` does: a table is shown too), and,
for a JSON or logfmt line, its record's fields.

Bounded whatever a task writes: lines are read through
:meth:`~inspector.core.session.lines.Lines.chunks` (a chunk at a time),
handed out in batches of :data:`BATCH` rows, at most ``limit`` rows in
all, and at most :data:`MAX_FIELDS` distinct field names (the others are
counted in :attr:`RowBatch.dropped_fields`, never kept).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, NamedTuple

from .levels import level_named, level_of
from .structured.fields import LEVEL_KEYS, MAX_RECORD, TIME_KEYS, decode, first_of, text_fields
from .text import printable
from .stamps import fixed_key
from .timestamps import line_stamp

BASE_COLUMNS = ("time", "level", "source", "offset", "text")
"""The columns every row has, before the fields of its record."""
BATCH = 16_384
"""Rows handed out at a time."""
MAX_FIELDS = 256
"""Distinct field names kept as columns, at most."""
TEXT_LIMIT = 64 * 1024
"""Characters of a line's text kept in the table, at most."""


class RowBatch(NamedTuple):
    """Rows of the table, as columns: the base columns, and the fields of
    the records (one list per field name, None where a row has no such
    field), with each row's field names (None for a line that is no
    record)."""

    columns: dict[str, list]
    fields: dict[str, list]
    shapes: list[tuple[str, ...] | None]
    dropped_fields: int = 0
    """Fields left out of these rows because :data:`MAX_FIELDS` names were kept already."""

    def __len__(self) -> int:
        return len(self.shapes)

    @property
    def records(self) -> list[dict | None]:
        """Each row's fields as a dict (None for a line that is no record)."""
        fields = self.fields
        return [None if shape is None else {name: fields[name][row] for name in shape}
                for row, shape in enumerate(self.shapes)]


def _shown(text: str) -> str:
    """``text`` as it may be shown: itself when every character prints."""
    return text if text.isprintable() else printable(text)


def _field(value: Any) -> Any:
    """A field's value as kept: strings escaped, the rest as parsed."""
    return _shown(value) if isinstance(value, str) else value


_CONTROL_BYTES = bytes([*range(0x0a), *range(0x0b, 0x20), 0x7f])
"""The ASCII bytes that do not print, but the newline."""


def printable_chunk(data: bytes) -> bool:
    """Whether every line of ``data`` prints as it is (ASCII, no control
    byte): then no line of it needs escaping, nor to be looked at for it."""
    return data.isascii() and len(data.translate(None, _CONTROL_BYTES)) == len(data)


class _Builder:
    """Rows of one batch, built line by line into columns."""

    def __init__(self, names: set[str], fields: bool) -> None:
        self.times: list = []
        self.levels: list = []
        self.sources: list = []
        self.offsets: list = []
        self.texts: list = []
        self.shapes: list = []  # each row's field names (None: no record)
        self.known: dict[tuple, tuple] = {}  # one tuple per distinct set of field names
        # Runs of records with the same field names: (names, first row, values of each row).
        self.runs: list[tuple[tuple, int, list[tuple]]] = []
        self.run: tuple | None = None  # the run the last row is in
        self.names = names  # the field names kept so far (shared across batches)
        self.fields = fields
        self.dropped = 0

    def add(self, line: bytes, source: str, offset: int, clean: bool = False) -> None:
        """One row for ``line`` (without its newline); ``clean``: it prints
        as it is (:func:`printable_chunk`)."""
        if line.endswith(b"\r"):
            line = line[:-1]
        parse = self.fields and len(line) <= MAX_RECORD
        whole = decode(line if parse else line[:TEXT_LIMIT * 4])
        text = whole[:TEXT_LIMIT] if len(whole) > TEXT_LIMIT else whole
        fields = text_fields(whole) if parse else None
        shown = text if clean or text.isprintable() else printable(text)
        stamp = level = None
        if fields:
            stamp = _stamp_of(first_of(fields, TIME_KEYS))
            named = first_of(fields, LEVEL_KEYS)
            level = level_named(named) if isinstance(named, str) else None
            # A printable line without escapes holds only printable values.
            fields = self._kept(fields, clean=shown is text and "\\" not in text)
        if stamp is None:
            stamp = line_stamp(line)
        self.times.append(None if stamp is None else fixed_key(stamp).decode())
        self.levels.append(level or level_of(text[:2048]))
        self.sources.append(source)
        self.offsets.append(offset)
        self.texts.append(shown)
        self._add_fields(fields)

    def _add_fields(self, fields: dict | None) -> None:
        if fields is None:
            self.shapes.append(None)
            self.run = None
            return
        shape = tuple(fields)
        if self.run is None or shape != self.run[0]:
            shape = self.known.setdefault(shape, shape)
            self.run = (shape, len(self.shapes), [])
            self.runs.append(self.run)
        self.run[2].append(tuple(fields.values()))
        self.shapes.append(self.run[0])

    def _kept(self, fields: dict, clean: bool) -> dict:
        names = self.names
        if names.issuperset(fields):
            pass
        elif len(names) + len(fields) <= MAX_FIELDS:
            names.update(fields)
        else:
            for name in fields:
                if name not in names and len(names) < MAX_FIELDS:
                    names.add(name)
            kept = {k: v for k, v in fields.items() if k in names}
            self.dropped += len(fields) - len(kept)
            fields = kept
        if clean:
            return fields
        return {name: _field(value) for name, value in fields.items()}

    def batch(self) -> RowBatch:
        """The rows built, as a batch: the values of each run of records
        with the same field names turned into columns at once."""
        columns: dict[str, list] = {}
        for shape, first, values in self.runs:
            for name, run_values in zip(shape, zip(*values, strict=True), strict=True):
                column = columns.get(name)
                if column is None:
                    column = columns[name] = [None] * first
                elif len(column) < first:
                    column.extend([None] * (first - len(column)))
                column.extend(run_values)
        rows = len(self.shapes)
        for column in columns.values():
            column.extend([None] * (rows - len(column)))
        base = dict(zip(BASE_COLUMNS, (self.times, self.levels, self.sources, self.offsets,
                                       self.texts), strict=True))
        return RowBatch(base, columns, self.shapes, self.dropped)

    def __len__(self) -> int:
        return len(self.shapes)


def _stamp_of(value: Any) -> bytes | None:
    """The sortable key of a record's time field written as text."""
    if isinstance(value, str):
        return line_stamp(value.encode("utf-8", "surrogateescape"))
    return None


def table_rows(lines, *, limit: int = 1_000_000, where=None, fields: bool = True,
               start: Any = None, end: Any = None, source: str = "",
               cancel: threading.Event | None = None, batch: int = BATCH
               ) -> Iterator[RowBatch]:
    """The lines of ``lines`` (a :class:`~inspector.core.session.lines.Lines`)
    from ``start`` to ``end``, at most ``limit`` of them, as batches of
    rows. ``where``: only the lines a pattern (a regex or a field
    expression, :func:`~inspector.core.structured.pattern.parse_filter`)
    matches. ``source`` names a document without sources of its own (one
    file). ``fields``: False leaves the records unparsed. Blocking;
    ``cancel`` stops it (``SearchCancelled``)."""
    names: set[str] = set()
    left = max(0, limit)
    rows = _Builder(names, fields)
    for chunk in lines.chunks(start, end, cancel):
        if not left:
            break
        data = chunk.data
        origins = chunk.origins or ((0, source, chunk.start if isinstance(chunk.start, int)
                                     else 0),)
        at, (next_at, name, base) = 0, origins[0]
        clean = printable_chunk(data)
        for begin, line in _chunk_lines(data, where):
            while at + 1 < len(origins) and origins[at + 1][0] <= begin:
                at += 1
                next_at, name, base = origins[at]
            rows.add(line, name, base + begin - next_at, clean)
            left -= 1
            if len(rows.shapes) >= batch:
                yield rows.batch()
                rows = _Builder(names, fields)
            if not left:
                break
    if rows.shapes:
        yield rows.batch()


def _chunk_lines(data: bytes, where) -> Iterator[tuple[int, bytes]]:
    """(offset, line without its newline) of the lines of a chunk that
    ``where`` matches (every line when it is None)."""
    if where is not None:
        from .export import matching_spans

        for begin, stop in matching_spans(where, data, len(data)):
            yield begin, data[begin:stop].rstrip(b"\n")
        return
    lines = data.split(b"\n")
    if not lines[-1]:  # the chunk ends with a newline: no line after it
        lines.pop()
    begin = 0
    for line in lines:
        yield begin, line
        begin += len(line) + 1
