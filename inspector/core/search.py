"""Chunked, cancellable search for a literal pattern through byte offsets.

The file is scanned in chunks read at offsets, never as a whole; consecutive
chunks overlap by the pattern length minus one so a match that spans a chunk
boundary is found. Case is smart, like ``less -i``: a pattern with no capital
letter matches any case (ASCII letters), one with a capital matches exactly.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

CHUNK_SIZE = 1024 * 1024
"""Bytes scanned per read."""

Reader = Callable[[int, int], bytes]
"""``read(offset, length) -> bytes``, fewer bytes only at the end of the file."""


class SearchCancelled(Exception):
    """The search was cancelled before it finished."""


@dataclass(frozen=True)
class Match:
    """Where a match was found."""

    offset: int
    length: int


@dataclass(frozen=True)
class SearchPattern:
    """A compiled literal pattern, for bytes (scanning) and text (highlighting)."""

    text: str
    ignore_case: bool

    @classmethod
    def parse(cls, text: str) -> SearchPattern:
        """Compile ``text`` with smart case. Raises ValueError if it is empty."""
        if not text:
            raise ValueError("empty search pattern")
        return cls(text, ignore_case=text == text.lower())

    @property
    def needle(self) -> bytes:
        """The pattern as UTF-8 bytes."""
        return self.text.encode("utf-8")

    @property
    def bytes_regex(self) -> re.Pattern[bytes]:
        """A regex finding the pattern in raw bytes."""
        return re.compile(re.escape(self.needle), re.IGNORECASE if self.ignore_case else 0)

    @property
    def text_regex(self) -> re.Pattern[str]:
        """A regex finding the pattern in decoded text (for highlighting)."""
        return re.compile(re.escape(self.text), re.IGNORECASE if self.ignore_case else 0)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise SearchCancelled()


def search_forward(
    read: Reader,
    size: int,
    pattern: SearchPattern,
    start: int,
    *,
    chunk_size: int = CHUNK_SIZE,
    cancel: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
) -> Match | None:
    """Return the first match starting at or after ``start``, or None.

    ``progress`` is called with the percentage of the range scanned after each
    chunk; setting ``cancel`` makes the search raise SearchCancelled.
    """
    regex = pattern.bytes_regex
    length = len(pattern.needle)
    overlap = length - 1
    pos = max(0, start)
    span = max(1, size - pos)
    while pos < size:
        _check(cancel)
        data = read(pos, chunk_size + overlap)
        found = regex.search(data)
        if found is not None:
            return Match(pos + found.start(), length)
        if len(data) < chunk_size + overlap:
            break
        pos += chunk_size
        if progress is not None:
            progress(min(100.0, 100.0 * (pos - start) / span))
    return None


def search_backward(
    read: Reader,
    pattern: SearchPattern,
    before: int,
    *,
    chunk_size: int = CHUNK_SIZE,
    cancel: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
) -> Match | None:
    """Return the last match starting before ``before``, or None."""
    needle = pattern.needle
    length = len(needle)
    flags = re.IGNORECASE if pattern.ignore_case else 0
    # A lookahead finds overlapping matches, so the last one is really the last.
    regex = re.compile(b"(?=" + re.escape(needle) + b")", flags)
    high = before
    span = max(1, before)
    while high > 0:
        _check(cancel)
        low = max(0, high - chunk_size)
        data = read(low, high - low + length - 1)
        last = None
        for found in regex.finditer(data):
            if found.start() >= high - low:
                break
            last = found.start()
        if last is not None:
            return Match(low + last, length)
        high = low
        if progress is not None:
            progress(min(100.0, 100.0 * (before - high) / span))
    return None
