"""Names, sizes and times as plain text, the same for every front-end: the
escaping rule for names a task chose, one unit style for sizes, and ages
that never fail whatever time a task gave its files.

Kept apart from :mod:`allocdir.display` (the HTML and IPython reprs) so that a
terminal front-end gets these without the rest.
"""

from __future__ import annotations

import re
from datetime import datetime

import humanize

from .fileinfo import time_in_range

# The same rule as ``inspector.core.text.printable`` (the library cannot
# import the application): C0, DEL and C1 controls; line and paragraph
# separators; bidirectional controls, which make a name read differently from
# what it is; and lone surrogates, which is how Python decodes the bytes of a
# name that are not UTF-8.
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\udc80-\udcff]"
)
_NAMED = {"\x1b": "\\x1b", "\n": "\\n", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"  # the undecodable byte itself
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def visible(value: object) -> str:
    """``value`` as a string with every control character shown as an escape
    (``\\x1b``, ``\\n``, ``\\t``, ``\\xNN``, ``\\uNNNN``), on one line."""
    text = value if isinstance(value, str) else str(value)
    if _UNPRINTABLE.search(text) is None:
        return text
    return _UNPRINTABLE.sub(_escape, text)


def size_words(size: int) -> str:
    """A size in binary units, as ``ls -h`` counts, e.g. "12.3 KiB": the one
    unit style of every front-end."""
    return humanize.naturalsize(size, binary=True)


OUT_OF_RANGE = "out of range"
"""What a time beyond what a ``datetime`` holds is shown as (a task may give
its files any time: see :data:`allocdir.fileinfo.MOD_TIME_MAX`)."""


def age_words(when: datetime, now: datetime) -> str:
    """How long ago ``when`` was, e.g. "3 minutes ago"; "out of range" for a
    time that stands for one out of range. Never raises."""
    if not time_in_range(when):
        return OUT_OF_RANGE
    try:
        return humanize.naturaltime(now - when)
    except (OverflowError, ValueError):  # within hours of year 1 or 9999
        return iso(when)


def iso(when: datetime) -> str:
    """``when`` in ISO 8601, to the second, in its own time zone; for a time
    out of range, says so and which way."""
    if not time_in_range(when):
        return f"{OUT_OF_RANGE} ({'after 9999' if when.year > 5000 else 'before 0001'})"
    return when.isoformat(timespec="seconds")
