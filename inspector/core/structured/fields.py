"""The fields of one log line: a JSON object, or logfmt ``key=value`` pairs.

Structured loggers write one record per line: zap, zerolog, slog and
logrus as JSON objects (``{"level":"error","ts":…,"msg":…}``), Go kit,
logrus' text format and hclog's trailing pairs as logfmt (``level=error
msg="…" status=503``). :func:`parse_record` reads either; a line that is
neither has no fields.

A line that starts like a JSON object but does not parse is not silently
dropped: its :attr:`Record.problem` says why (a record cut by a rotation
Nomad did not finish, hashicorp/nomad#1048, is one run of bytes in a
rotation set and parses whole; what is left is a record whose start was
in a file Nomad has deleted since).

Nothing here reads files: the caller hands the line's bytes over (at most
:data:`MAX_RECORD` of them are parsed).
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

MAX_RECORD = 1 << 20
"""Bytes of a line parsed as a record, at most (a longer line has no fields)."""
LOGFMT_PAIR = re.compile(
    r'(?:^|(?<=[\s,]))([A-Za-z_@][\w.@/-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)')
"""A logfmt pair: a key, ``=``, and a bare or double-quoted value."""
_ESCAPE = re.compile(r"\\(.)")


class Record(NamedTuple):
    """What a line holds: its kind ("json", "logfmt", or "" for none), its
    fields (name → value: JSON values, or strings for logfmt), and for a
    line that looks like a record but is not one, why not."""

    kind: str
    fields: dict
    problem: str = ""

    @property
    def structured(self) -> bool:
        """Whether the line has fields."""
        return bool(self.kind)


NO_FIELDS = Record("", {})


def decode(data: bytes) -> str:
    """A line's bytes as text: UTF-8, an undecodable byte kept as a
    surrogate escape (shown later as ``\\xNN`` of that byte)."""
    return data.decode("utf-8", "surrogateescape")


def parse_record(data: bytes) -> Record:
    """The record of one line (without its newline)."""
    if len(data) > MAX_RECORD:
        return Record("", {}, f"a line of {len(data):,} bytes: longer than "
                              f"{MAX_RECORD >> 20} MiB, not parsed")
    stripped = data.strip()
    if stripped[:1] == b"{":
        text = decode(stripped)
        try:
            value = json.loads(text)
        except ValueError as exc:
            return Record("", {}, f"not a whole JSON record ({exc})")
        except RecursionError:  # a task nesting arrays deeper than the parser's stack guard
            return Record("", {}, "a JSON record nested too deep to parse")
        if isinstance(value, dict):
            return Record("json", value)
        return NO_FIELDS
    pairs = logfmt_pairs(decode(stripped))
    return Record("logfmt", pairs) if pairs else NO_FIELDS


_SCAN = json.JSONDecoder().scan_once
"""json's scanner, without ``json.loads``' wrappers: (value, end) of the value at an index."""
_ASCII_SPACE = " \t\n\r\x0b\x0c"
"""What ``bytes.strip`` strips: the text of a line is stripped as its bytes are."""


def text_fields(text: str) -> dict | None:
    """The fields of a line already decoded (:func:`decode`, without its
    newline), as :func:`parse_record` finds them, or None where it finds
    none (a line that is no record, or a JSON record that does not parse):
    for a caller that keeps the text too, so the line is decoded once. The
    caller keeps to :data:`MAX_RECORD`."""
    stripped = text.strip(_ASCII_SPACE)
    if stripped[:1] == "{":
        try:
            value, end = _SCAN(stripped, 0)
        except (ValueError, StopIteration, RecursionError):  # RecursionError: nested too deep
            return None
        return value if end == len(stripped) else None
    return logfmt_pairs(stripped) or None


def logfmt_pairs(text: str) -> dict[str, str]:
    """The ``key=value`` pairs of a line (values unquoted), in order."""
    if "=" not in text:
        return {}
    pairs: dict[str, str] = {}
    for found in LOGFMT_PAIR.finditer(text):
        value = found.group(2)
        if value.startswith('"'):
            value = _ESCAPE.sub(_unescape, value[1:-1])
        pairs[found.group(1)] = value
    return pairs


def _unescape(found: re.Match) -> str:
    char = found.group(1)
    return {"n": "\n", "t": "\t", "r": "\r"}.get(char, char)


MISSING = object()
"""What :func:`field_value` returns for a field the record does not have."""


def field_value(fields: dict, name: str) -> Any:
    """The value of ``name`` in ``fields``: the key itself, else a dotted
    path into nested objects and lists (``http.status``, ``items.0.id``);
    :data:`MISSING` when there is none."""
    if name in fields:
        return fields[name]
    value: Any = fields
    for part in name.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def value_text(value: Any) -> str:
    """A field's value as one line of text: strings as they are, the rest as
    compact JSON (``true``, ``12.5``, ``{"a":1}``)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


MESSAGE_KEYS = ("msg", "message", "@message", "MESSAGE", "log")
"""The fields that hold a record's message, in the order they are looked for."""
TIME_KEYS = ("time", "ts", "@timestamp", "timestamp", "t")
"""The fields that hold a record's time, in the order they are looked for."""
LEVEL_KEYS = ("level", "lvl", "severity", "@level", "loglevel")
"""The fields that hold a record's level, in the order they are looked for."""


def first_of(fields: dict, keys: tuple[str, ...]) -> Any:
    """The value of the first of ``keys`` that ``fields`` has, else None."""
    for key in keys:
        value = fields.get(key, MISSING)
        if value is not MISSING:
            return value
    return None
