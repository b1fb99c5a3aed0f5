"""A field expression as a pattern the scans take, beside the regex one.

The ``&`` filter, its count, paging through the filtered lines and
following them all scan with a pattern's chunk methods (``first_in``,
``last_in``, ``count_lines_in``, ``matches_line``: see
:class:`~inspector.core.search.SearchPattern`). :class:`FieldPattern`
has the same methods, so a field expression filters, counts and follows
exactly as a regex does, at the same streaming pace.

It is fast where it can be: the bytes of a field name a matching line must
hold (``status`` for ``status>=500``) are looked for first with
``bytes.find``, and only the lines holding them are parsed (JSON with the C
parser). :func:`parse_filter` decides what the user typed is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from ..search import SearchPattern, _find_any
from .expr import Expression, ExpressionError, parse_expression
from .fields import parse_record

def parse_filter(text: str):
    """What the ``&`` filter ``text`` is: a :class:`FieldPattern` for a field
    expression (see :mod:`.expr`), else a regex
    (:meth:`SearchPattern.parse`). Raises ValueError with the reason."""
    try:
        expression = parse_expression(text)
    except ExpressionError as exc:
        raise ValueError(str(exc)) from None
    if expression is None:
        return SearchPattern.parse(text)
    return FieldPattern(expression.text, expression)


@dataclass(frozen=True)
class FieldPattern:
    """Lines whose fields satisfy an :class:`~.expr.Expression`."""

    text: str
    expression: Expression = field(compare=False, repr=False)
    ignore_case = False
    regex = True
    is_literal = False
    prefilter = None
    fold = False
    kind = "fields"
    """What the status line calls it."""

    @cached_property
    def needles(self) -> tuple[bytes, ...] | None:
        """Bytes of which every matching line holds one (field names), or None."""
        return self.expression.needles()

    @cached_property
    def text_regex(self) -> re.Pattern[str]:
        """The fields named and their values, to highlight on screen."""
        names = "|".join(re.escape(name.rsplit(".", 1)[-1])
                         for name in self.expression.names)
        return re.compile(rf'"?(?:{names})"?\s*[:=]\s*(?:"(?:[^"\\]|\\.)*"|[^\s,}}\]]*)')

    def hay(self, data: bytes) -> bytes:
        """What the needles are looked for in: the bytes as they are."""
        return data

    def matches_line(self, line: bytes) -> bool:
        """Whether one line (without its newline) matches."""
        needles = self.needles
        if needles is not None and _find_any(line, needles, 0, len(line)) < 0:
            return False
        return self.expression.holds(parse_record(line), line)

    def _lines(self, data: bytes, lo: int, end: int):
        """(start, end) of the lines starting in ``[lo, end)`` that may match,
        in order (every line, without needles)."""
        needles = self.needles
        pos = lo
        while pos < end:
            if needles is not None:
                hit = _find_any(data, needles, pos, end)
                if hit < 0:
                    return
                start = max(pos, data.rfind(b"\n", 0, hit) + 1)
            else:
                start = pos
            stop = data.find(b"\n", start, end)
            stop = end if stop < 0 else stop
            yield start, stop
            pos = stop + 1

    def first_in(self, data: bytes, lo: int, hi: int, end: int | None = None,
                 hay: bytes | None = None) -> tuple[int, int] | None:
        """The first matching line starting in ``[lo, hi)`` (``data[lo]``
        starts a line), as its (start, end)."""
        end = len(data) if end is None else end
        for start, stop in self._lines(data, lo, end):
            if start >= hi:
                return None
            line = data[start:stop]
            if self.expression.holds(parse_record(line), line):
                return start, max(stop, start + 1)
        return None

    def last_in(self, data: bytes, lo: int, hi: int, end: int | None = None,
                hay: bytes | None = None) -> tuple[int, int] | None:
        """The last matching line starting in ``[lo, hi)``, as its (start, end)."""
        end = len(data) if end is None else end
        needles = self.needles
        limit = hi
        while limit > lo:
            start = max(lo, data.rfind(b"\n", lo, limit - 1) + 1)
            stop = _line_end(data, start, end)
            if needles is not None:
                hit = max(data.rfind(needle, lo, stop) for needle in needles)
                if hit < 0:
                    return None
                if hit < start:  # no needle in this line: on to the line holding the hit
                    start = max(lo, data.rfind(b"\n", lo, hit) + 1)
                    stop = _line_end(data, hit, end)
            line = data[start:stop]
            if self.expression.holds(parse_record(line), line):
                return start, max(stop, start + 1)
            limit = start
        return None

    def count_lines_in(self, data: bytes, end: int) -> int:
        """How many lines of ``data[:end]`` match."""
        holds = self.expression.holds
        count = 0
        for start, stop in self._lines(data, 0, end):
            line = data[start:stop]
            if holds(parse_record(line), line):
                count += 1
        return count

    def spans_in(self, data: bytes, end: int):
        """(start, end) of each matching line of ``data[:end]``, in order."""
        holds = self.expression.holds
        for start, stop in self._lines(data, 0, end):
            line = data[start:stop]
            if holds(parse_record(line), line):
                yield start, stop


def _line_end(data: bytes, pos: int, end: int) -> int:
    """Where the line going on at ``pos`` ends (its newline, or ``end``)."""
    stop = data.find(b"\n", pos, end)
    return end if stop < 0 else stop
