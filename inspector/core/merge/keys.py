"""The keys of a chunk of one source's lines, in bulk: the rule of
:func:`~inspector.core.stamps.line_stamp`, made fast for the common case.

A source writes its timestamps one way (``2026-11-28T10:15:00.1234Z ``,
``2026/11/28 10:15:00 ``…). Once a line shows that way, a :class:`Shape`
remembers it: the stamp's layout (digits and separators), which it ends
with, and where. Then a chunk is keyed with a few operations over all its
lines at once (cut each line's head, compare their layouts together, drop
the separators) instead of a regular expression per line. A line that is
not of the shape (a stack trace, another format) gets the general rule, one
line at a time; a chunk with none of the shape looks for a new one.

The shape only stands for the general rule where it gives the same key:
the stamp starts the line, has a time of day, and ends with ``Z`` (a time
in UTC) or a space (a time without a zone, which nothing can extend after
a space). A zone offset, an epoch or an access log's time keep the general
rule. The fields' ranges (no month 13) are checked once per distinct second.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re

from ..stamps import LOWEST, _IN_LINE, line_stamp

_DIGITS = b"0123456789"
_TO_ZERO = bytes.maketrans(_DIGITS, b"0" * 10)
_NOT_DIGITS = bytes(b for b in range(256) if b not in _DIGITS and b != ord("\n"))
_ENDS = (b"Z", b"z", b" ")
_SECOND = 14
"""Digits of a key up to its seconds: the fields whose ranges are checked."""
_MINUTE = 12
_FIELDS = re.compile(rb"\d{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[01]\d|2[0-3])"
                     rb"[0-5]\d(?:[0-5]\d|60)?")


class Shape:
    """How one source's lines start: a stamp laid out as ``layout`` (its
    digits as ``0``), ending with ``Z`` or a space."""

    def __init__(self, layout: bytes) -> None:
        self.layout = layout
        self.width = len(layout)
        self._valid: set[bytes] = set()

    @classmethod
    def of(cls, line: bytes) -> Shape | None:
        """The shape of ``line``'s stamp, when it has one the shape can stand for."""
        found = _IN_LINE.match(line)
        if found is None or found.start(1) != 0:
            return None
        iso_end = found.end(1)
        zone = found.group(2)
        if zone is not None and zone not in (b"Z", b"z"):
            return None
        end = line[iso_end:iso_end + 1]
        if end not in _ENDS or iso_end < 16:  # no time of day: "2026-11-28 10:15" extends it
            return None
        return cls(line[:iso_end + 1].translate(_TO_ZERO))

    def fits(self, head: bytes) -> bool:
        """Whether ``head`` (a line's first :attr:`width` bytes) is of the shape."""
        return head.translate(_TO_ZERO) == self.layout

    def in_range(self, keys: list[bytes], ordered: bool, blob: bytes = b"") -> bool:
        """Whether every key of ``keys`` has its fields in range: each
        distinct minute (second) looked at once, found by bisection when
        ``ordered``; ``blob``, the keys joined by newlines, has the seconds
        looked at all at once (the layout gives every key one width)."""
        width = len(keys[0])
        seconds_ok = width < _SECOND or (
            blob and blob[_MINUTE::width + 1].translate(None, b"012345") == b"")
        cut = _MINUTE if seconds_ok else _SECOND
        if not ordered:
            return all(self._fields_ok(head) for head in {key[:cut] for key in keys})
        i, count = 0, len(keys)
        while i < count:
            head = keys[i][:cut]
            if not self._fields_ok(head):
                return False
            i = bisect.bisect_right(keys, head + b"\xff", i)
        return True

    def _fields_ok(self, head: bytes) -> bool:
        valid = self._valid
        if head in valid:
            return True
        if _FIELDS.fullmatch(head) is None:
            return False
        if len(valid) > 4096:
            valid.clear()
        valid.add(head)
        return True

    def key(self, head: bytes) -> bytes | None:
        """The key of one line's head of the shape (None: a field out of range)."""
        key = head.translate(None, _NOT_DIGITS)
        return key if self._fields_ok(key[:_SECOND]) else None


def chunk_keys(lines: list[bytes], skip: int, shape: Shape | None,
               run: bytes) -> tuple[list[bytes], Shape | None]:
    """The merge keys of ``lines`` (each without its newline; its first
    ``skip`` bytes are not the log's) carried on from ``run`` (a line's key
    is the latest time so far), and the shape to try on the next chunk."""
    if not lines:
        return [], shape
    if shape is None:
        shape = _find_shape(lines, skip)
    if shape is not None:
        blob = _fast(lines, skip, shape)
        if blob is not None:
            keys = blob.split(b"\n")
            ordered = keys == sorted(keys)
            if shape.in_range(keys, ordered, blob):
                return _carried(keys, run, ordered), shape
    keys, fitted = _general(lines, skip, shape)
    return _carried(keys, run, False), shape if fitted else _find_shape(lines, skip)


def _carried(keys: list[bytes], run: bytes, ordered: bool) -> list[bytes]:
    """``keys`` each raised to the latest before it (and ``run``)."""
    if ordered:
        if keys[0] >= run:
            return keys
        behind = bisect.bisect_right(keys, run)
        return [run] * behind + keys[behind:]
    return list(itertools.accumulate(keys, max, initial=run))[1:]


def _fast(lines: list[bytes], skip: int, shape: Shape) -> bytes | None:
    """Every line's key, joined by newlines, when every line is of
    ``shape``, else None."""
    heads = b"\n".join(map(operator.itemgetter(slice(skip, skip + shape.width)), lines))
    if heads.translate(_TO_ZERO) != (shape.layout + b"\n") * (len(lines) - 1) + shape.layout:
        return None
    return heads.translate(None, _NOT_DIGITS)


def _general(lines: list[bytes], skip: int, shape: Shape | None) -> tuple[list[bytes], bool]:
    """Each line's own key (:data:`LOWEST` without one), line by line, and
    whether any line was of ``shape``."""
    keys = []
    fitted = False
    width = shape.width if shape is not None else 0
    for line in lines:
        key = None
        if shape is not None:
            head = line[skip:skip + width]
            if shape.fits(head):
                fitted = True
                key = shape.key(head)
        if key is None:
            key = line_stamp(line[skip:] if skip else line) or LOWEST
        keys.append(key)
    return keys, fitted


def _find_shape(lines: list[bytes], skip: int) -> Shape | None:
    """The shape of the first of ``lines`` with a stamp (looked for in the first few)."""
    for line in lines[:64]:
        shape = Shape.of(line[skip:] if skip else line)
        if shape is not None:
            return shape
    return None
