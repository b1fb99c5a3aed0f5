"""Field expressions: ``level>=warn``, ``status>=500``, ``trace_id=abc``.

The ``&`` filter takes a field expression wherever it takes a regex. The
grammar is small on purpose::

    expression  :=  clause { ("or" | "||") clause }
    clause      :=  comparison { ("and" | "&&") comparison }
    comparison  :=  NAME OP VALUE
    NAME        :=  a key, or a dotted path into nested JSON: http.status
    OP          :=  =  ==  !=  <  <=  >  >=  ~ (regex)  !~
    VALUE       :=  a word without spaces, or "a double-quoted string"

``and`` binds tighter than ``or``; there are no parentheses, so a text in
parentheses is always a regex: ``(trace_id=abc)`` matches those bytes.
Anything that is not a whole expression is a regex, as before.

How a comparison reads a value:

- numbers compare as numbers when both sides are numbers (``status>=500``
  matches ``"status":503`` and ``status=503``);
- a level field (``level``, ``lvl``, ``severity``) compares by rank,
  debug < info < warn < error, with the usual spellings (``WARNING``,
  ``err``, ``fatal``); on a line without such a field, ``level`` is the
  line's own level as the viewer colours it (hclog's ``[ERROR]``);
- other values compare as text; ``=`` and ``~`` ignore case when the value
  has no capital (smart case, as search does);
- a field the line does not have matches only ``!=`` and ``!~``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..levels import DEBUG, ERROR, INFO, WARN, level_named, level_of
from .fields import LEVEL_KEYS, MISSING, Record, field_value, value_text

RANKS = {DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3}
"""The order of levels for ``<`` and ``>``."""
OPERATORS = ("==", "!=", "<=", ">=", "!~", "=", "<", ">", "~")
_NAME = r"[A-Za-z_@][\w.@/-]*"
_TOKEN = re.compile(
    rf'\s*(?:(?P<name>{_NAME})\s*(?P<op>==|!=|<=|>=|!~|=|<|>|~)\s*'
    r'(?P<value>"(?:[^"\\]|\\.)*"|[^\s"]+)|(?P<join>and|or|&&|\|\|)(?=\s|$))')
_ESCAPE = re.compile(r"\\(.)")


class ExpressionError(ValueError):
    """A field expression that cannot be evaluated (a bad regex in ``~``)."""


@dataclass(frozen=True)
class Comparison:
    """``name op value``, evaluated on one record."""

    name: str
    op: str
    value: str

    @property
    def level_field(self) -> bool:
        """Whether the name is a level field (compared by rank)."""
        return self.name.lower() in LEVEL_KEYS

    def __post_init__(self) -> None:
        if self.op in ("~", "!~"):
            flags = re.IGNORECASE if self.value == self.value.lower() else 0
            try:
                object.__setattr__(self, "_regex", re.compile(self.value, flags))
            except re.error as exc:
                raise ExpressionError(f"invalid regex after {self.op}: {exc}") from None

    def holds(self, record: Record, data: bytes) -> bool:
        """Whether the comparison holds for ``record`` (of the line ``data``)."""
        value = field_value(record.fields, self.name) if record.fields else MISSING
        if value is MISSING and self.level_field and self.name.lower() == "level":
            value = level_of(data[:4096].decode("utf-8", "replace")) or MISSING
        if value is MISSING or value is None:
            return self.op in ("!=", "!~")
        if self.op in ("~", "!~"):
            found = self._regex.search(value_text(value)) is not None
            return found if self.op == "~" else not found
        order = self._compare(value)
        if order is None:
            return self.op == "!="
        return {"=": order == 0, "==": order == 0, "!=": order != 0, "<": order < 0,
                "<=": order <= 0, ">": order > 0, ">=": order >= 0}[self.op]

    def _compare(self, value: Any) -> int | None:
        """-1, 0 or 1 as ``value`` is below, equal to or above the
        expression's value; None when they cannot be ordered."""
        if self.level_field:
            mine, theirs = level_named(value_text(value)), level_named(self.value)
            if mine is not None and theirs is not None:
                return _sign(RANKS[mine] - RANKS[theirs])
        number, wanted = _number(value), _number(self.value)
        if number is not None and wanted is not None:
            return _sign(number - wanted)
        text, wanted_text = value_text(value), self.value
        if wanted_text == wanted_text.lower():
            text = text.lower()
        return _sign((text > wanted_text) - (text < wanted_text))


def _sign(number: float) -> int:
    return (number > 0) - (number < 0)


def _number(value: Any) -> float | None:
    """``value`` as a number (a JSON number, or text spelling one), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else float(value)
    if isinstance(value, str) and value and value[0] in "+-.0123456789":
        try:
            number = float(value)
        except ValueError:
            return None
        return None if math.isnan(number) else number
    return None


@dataclass(frozen=True)
class Expression:
    """Clauses joined by ``or``, each a list of comparisons joined by ``and``."""

    text: str
    clauses: tuple[tuple[Comparison, ...], ...]

    def holds(self, record: Record, data: bytes) -> bool:
        """Whether the line ``data``, whose record is ``record``, matches."""
        return any(all(c.holds(record, data) for c in clause) for clause in self.clauses)

    @property
    def names(self) -> list[str]:
        """Every field named, in order."""
        return list(dict.fromkeys(c.name for clause in self.clauses for c in clause))

    def needles(self) -> tuple[bytes, ...] | None:
        """Bytes of which every matching line holds one: per clause, the last
        part of a field name it needs (``status`` for ``http.status>=500``);
        None when a clause needs none (``level>=warn`` on a text log, or a
        ``!=`` that a line without the field matches)."""
        needles = []
        for clause in self.clauses:
            needed = [c.name.rsplit(".", 1)[-1] for c in clause
                      if c.op not in ("!=", "!~") and c.name.lower() != "level"]
            if not needed:
                return None
            needles.append(max(needed, key=len).encode())
        return tuple(dict.fromkeys(needles))


def parse_expression(text: str) -> Expression | None:
    """The field expression ``text`` spells, or None when it is not one (it
    is then a regex). Raises :class:`ExpressionError` for an expression
    whose ``~`` regex does not compile."""
    clauses: list[tuple[Comparison, ...]] = []
    clause: list[Comparison] = []
    pos, expect_comparison = 0, True
    while pos < len(text):
        if not text[pos:].strip():
            break
        found = _TOKEN.match(text, pos)
        if found is None:
            return None
        pos = found.end()
        if found.group("join"):
            if expect_comparison:
                return None
            if found.group("join") in ("or", "||"):
                clauses.append(tuple(clause))
                clause = []
            expect_comparison = True
            continue
        if not expect_comparison:
            return None
        value = found.group("value")
        if value.startswith('"'):
            value = _ESCAPE.sub(r"\1", value[1:-1])
        clause.append(Comparison(found.group("name"), found.group("op"), value))
        expect_comparison = False
    if expect_comparison:
        return None
    clauses.append(tuple(clause))
    return Expression(text.strip(), tuple(clauses))
