"""Finding the next (or previous) error line of a log, at about grep's speed.

`e`/`E` ask for the next line whose level (:func:`~inspector.core.levels.level_span`)
is an error. Deciding that for every line costs microseconds a line, minutes
for a 2 GB log; and a line that merely contains ``ERROR`` ("INFO retried
after ERROR") is not an error line. So the bytes are scanned in big chunks,
each chunk once by a few regexes that begin with one literal byte (which
``re`` looks for in a tight C loop, at GB/s): together they hit every line
that can be an error line, and only the lines they hit are decoded and
judged, in memory, from the chunk already read. A judged line that is not an
error costs no further read.

What the passes look for (every error line holds one of them):

- ``R`` in ``ERR``/``ERROR``, ``CRIT``/``CRITICAL``, ``EMERG``, ``ALERT``;
  ``L`` ending ``FTL``/``FATAL``; ``C`` ending ``PANIC``: the bare words;
- a line starting ``panic:``, ``fatal error:`` (Go) or ``E``/``F`` and a
  klog time;
- ``v``/``V`` in ``level``/``lvl``/``severity`` followed by ``=`` or ``":``
  and an error value, in any case: logfmt and JSON fields;
- ``[`` and a lower-case error word and ``]``: Envoy's and nginx's ``[error]``,
  ``[critical]``.

A line's level is decided by its first 2048 characters, so only a line's
first ``HEAD_BYTES`` matter: a hit further into a long line is ignored, and a
line longer than a chunk is judged by its head and then skipped.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from .levels import ERROR, ascii_level_span, level_span
from .search import Match, Reader, _check

CHUNK_SIZE = 8 * 1024 * 1024
"""Bytes scanned per read, at most."""
FIRST_CHUNK = 256 * 1024
"""The first read (reads grow from this), so an error close by costs little."""
HEAD_BYTES = 4 * 2048
"""The bytes of a line that decide its level: 2048 characters, at most 4 bytes each."""
CANCEL_EVERY = 1024
"""Lines judged between two looks at the cancel event."""

_VALUE = rb"(?i:err|fatal|ftl|crit|panic|dpanic|emerg|alert)"
# After the "v" of a key: the rest of level/lvl/severity in any case (Python's
# case folding also takes a dotted or dotless i for the i of severity), then
# = or a JSON colon (\s in str patterns takes Unicode spaces: any byte above
# 0x7f, and \x1c-\x1f, may be one), then an error value.
_FIELD_REST = (rb"(?i:el|l|er(?:i|\xc4[\xb0\xb1])ty)"
               rb"(?:=\"?|\"[\s\x1c-\x1f\x80-\xff]*:[\s\x1c-\x1f\x80-\xff]*\")" + _VALUE)
_LINE_HEAD = rb"(?:panic:|fatal error:|[EF][0-9]{4} [0-9]{2}:)"



class _Pass:
    """One literal byte (``anchor``) and the regex that starts with it.

    Where the anchor is rare, ``bytes.find`` (memchr, tens of GB/s) finds it
    and the regex is tried there; where it turns out common (more than one
    try per ``DENSE_BYTES`` scanned), the regex searches by itself (C, a few
    GB/s) for the rest of the chunk. A hit at ``i`` marks the line holding
    ``i + shift``.
    """

    def __init__(self, anchor: bytes, rest: bytes, shift: int = 0) -> None:
        self.regex = re.compile(re.escape(anchor) + rest)
        self.anchor = anchor
        self.shift = shift

    def search(self, data: bytes, pos: int, stop: int) -> int:
        """The first hit in ``data[pos:stop]`` (``pos`` already shifted), or -1."""
        i = data.find(self.anchor, pos, stop)
        if i < 0 or self.regex.match(data, i, stop):
            return i
        begin, tries, pos = pos, 1, i + 1
        while True:
            if tries * DENSE_BYTES > pos - begin + DENSE_BYTES * 16:
                found = self.regex.search(data, pos, stop)
                return -1 if found is None else found.start()
            i = data.find(self.anchor, pos, stop)
            if i < 0 or self.regex.match(data, i, stop):
                return i
            tries += 1
            pos = i + 1

    def hits(self, data: bytes, pos: int, stop: int):
        """Every hit in ``data[pos:stop]``, in order."""
        while (i := self.search(data, pos, stop)) >= 0:
            yield i
            pos = i + 1


DENSE_BYTES = 1024
"""Bytes scanned per anchor found below which a pass leaves the finding to its regex."""

_PASSES = (
    _Pass(b"R", rb"(?:R|IT|G|T)"),
    _Pass(b"L", rb"(?:(?<=FTL)|(?<=FATAL))"),
    _Pass(b"C", rb"(?<=PANIC)"),
    _Pass(b"\n", _LINE_HEAD, shift=1),
    _Pass(b"v", _FIELD_REST),
    _Pass(b"V", _FIELD_REST),
    _Pass(b"[", rb"(?:err|error|crit|critical|alert|emerg|fatal|panic)\]"),
)
"""Together they hit every line that can be an error line (the module docstring)."""
_LINE_PASS = 3
"""The pass of the line starts (a newline, then what starts the line)."""
_FIRST_LINE = re.compile(_LINE_HEAD)


def error_token(data: bytes, line_start: int, line_end: int,
                ascii_only: bool = False) -> tuple[int, int] | None:
    """Where the level token of the line ``data[line_start:line_end]`` is
    (offset in ``data``, length in bytes) when its level is an error, else
    None. ``ascii_only``: ``data`` is known to be ASCII, and the line is
    judged where it lies, without a copy."""
    end = min(line_end, line_start + HEAD_BYTES)
    if ascii_only:
        span = ascii_level_span(data, line_start, end)
        if span is None or span[2] != ERROR:
            return None
        return span[0], span[1] - span[0]
    text = data[line_start:end].decode("utf-8", "surrogateescape")  # a character per bad byte
    span = level_span(text)
    if span is None or span[2] != ERROR:
        return None
    begin = len(text[:span[0]].encode("utf-8", "surrogateescape"))
    return line_start + begin, len(text[span[0]:span[1]].encode("utf-8", "surrogateescape"))


def _first_hits(data: bytes, stop: int) -> list[int]:
    """Each pass's first hit in ``data[:stop]`` (``stop`` for none)."""
    hits = [_next_hit(step, data, 0, stop) for step in _PASSES]
    if _FIRST_LINE.match(data, 0, stop):  # no newline before the first line in the chunk
        hits[_LINE_PASS] = 0
    return hits


def _next_hit(step: _Pass, data: bytes, pos: int, stop: int) -> int:
    """The pass's first hit at or after ``pos`` (shifted), ``stop`` for none."""
    hit = step.search(data, max(0, pos - step.shift), stop)
    return stop if hit < 0 else hit + step.shift


def _first_error(data: bytes, stop: int, lowest: int, cancel) -> tuple[int, int] | None:
    """The first error line of ``data[:stop]`` (whole lines, the first at 0)
    whose token is at or after ``lowest``: (token offset, length)."""
    hits = _first_hits(data, stop)
    passes = tuple(enumerate(_PASSES))
    ascii_only = data.isascii()
    judged = 0
    while (hit := min(hits)) < stop:
        line_start = data.rfind(b"\n", 0, hit) + 1
        line_end = data.find(b"\n", hit, stop)
        if line_end < 0:
            line_end = stop
        if hit - line_start < HEAD_BYTES:
            token = error_token(data, line_start, line_end, ascii_only)
            if token is not None and token[0] >= lowest:
                return token
            judged += 1
            if judged % CANCEL_EVERY == 0:
                _check(cancel)
        pos = line_end + 1
        for i, step in passes:  # a pass searches again only once the scan is past its hit
            if hits[i] < pos:
                found = step.search(data, pos - step.shift, stop)
                hits[i] = stop if found < 0 else found + step.shift
    return None


def _line_start(read: Reader, offset: int) -> int | None:
    """Where the line holding ``offset`` starts, looked for within
    ``HEAD_BYTES`` before it; None for a line starting further back (its
    level token, if any, lies before ``offset``)."""
    low = max(0, offset - HEAD_BYTES)
    newline = read(low, offset - low).rfind(b"\n")
    if newline >= 0:
        return low + newline + 1
    return 0 if low == 0 else None


def _after_line(read: Reader, pos: int, size: int, cancel) -> int:
    """The offset after the newline ending the line that goes on at ``pos``."""
    while pos < size:
        _check(cancel)
        data = read(pos, CHUNK_SIZE)
        if not data:
            break
        newline = data.find(b"\n")
        if newline >= 0:
            return pos + newline + 1
        pos += len(data)
    return size


def find_error_forward(read: Reader, size: int, start: int, *,
                       cancel: threading.Event | None = None,
                       progress: Callable[[float], None] | None = None) -> Match | None:
    """The first error line whose level token is at or after ``start``; its
    match covers the token. ``cancel`` stops it (SearchCancelled)."""
    pos = _line_start(read, start)
    if pos is None:  # inside a line whose token lies before start
        pos = _after_line(read, start, size, cancel)
    span = max(1, size - start)
    chunk = FIRST_CHUNK
    while pos < size:
        _check(cancel)
        data = read(pos, chunk)
        if not data:
            break
        at_end = pos + len(data) >= size
        stop = len(data) if at_end else data.rfind(b"\n") + 1
        if stop == 0:  # one line longer than the read: judged by its head, then skipped
            head = data if len(data) >= HEAD_BYTES else read(pos, HEAD_BYTES)
            end = head.find(b"\n")
            token = error_token(head, 0, len(head) if end < 0 else end)
            if token is not None and pos + token[0] >= start:
                return Match(pos + token[0], token[1])
            pos = _after_line(read, pos + len(data), size, cancel)
            continue
        found = _first_error(data, stop, start - pos, cancel)
        if found is not None:
            return Match(pos + found[0], found[1])
        pos += stop
        chunk = min(chunk * 4, CHUNK_SIZE)
        if progress is not None:
            progress(min(100.0, 100.0 * (pos - start) / span))
    return None


def _line_starts_with_hits(data: bytes, first: int, limit: int) -> list[int]:
    """The starts (in ``[first, limit)``) of the lines of ``data`` that a
    pass hits within their head, last first."""
    starts = set()
    if _FIRST_LINE.match(data, first):
        starts.add(first)
    for step in _PASSES:
        for hit in step.hits(data, max(0, first - step.shift), len(data)):
            hit += step.shift
            line_start = data.rfind(b"\n", 0, hit) + 1 if step.shift == 0 else hit
            if line_start >= limit:
                break
            if line_start >= first and hit - line_start < HEAD_BYTES:
                starts.add(line_start)
    return sorted(starts, reverse=True)


def find_error_backward(read: Reader, before: int, *,
                        cancel: threading.Event | None = None,
                        progress: Callable[[float], None] | None = None) -> Match | None:
    """The last error line whose level token is before ``before``; its
    match covers the token. Chunks are scanned from ``before`` back."""
    high = before  # lines starting before here are still to be judged
    chunk = FIRST_CHUNK
    while high > 0:
        _check(cancel)
        low = max(0, high - chunk)
        lead = 1 if low else 0  # the byte before low says whether a line starts at low
        data = read(low - lead, high - low + lead + HEAD_BYTES)
        limit = high - low + lead
        first = data.find(b"\n", 0, limit) + 1 if lead else 0
        if lead and first == 0:
            first = limit  # no line starts in this chunk: all of it is inside one line
        judged = 0
        for line_start in _line_starts_with_hits(data, first, limit):
            line_end = data.find(b"\n", line_start)
            token = error_token(data, line_start, len(data) if line_end < 0 else line_end)
            if token is not None and low - lead + token[0] < before:
                return Match(low - lead + token[0], token[1])
            judged += 1
            if judged % CANCEL_EVERY == 0:
                _check(cancel)
        high = low - lead + first if first < limit else low
        chunk = min(chunk * 4, CHUNK_SIZE)
        if progress is not None:
            progress(min(100.0, 100.0 * (before - high) / max(1, before)))
    return None
