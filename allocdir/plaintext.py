"""Names and sizes as plain text, the same for every front-end: the escaping
rule for names a task chose, and one unit style for sizes.

Kept apart from :mod:`allocdir.display` (the HTML and IPython reprs) so that a
terminal front-end gets these without the rest.
"""

from __future__ import annotations

import re

import humanize

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
