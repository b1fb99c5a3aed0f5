"""Names, sizes and times as plain text, the same for every front-end: the
escaping rule for names a task chose, one unit style for sizes, and ages
that never fail whatever time a task gave its files.

Kept apart from :mod:`allocdir.render` (the HTML and IPython reprs) so that a
terminal front-end gets these without the rest. :func:`visible` is the one
escaping rule of the project: ``inspector.core.text.printable`` is this very
function, and ``allocdir.render.esc`` (HTML) applies it before escaping.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

import humanize

from .times import time_in_range

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
"""The bidirectional controls, as the body of a regex character class: they
make text read differently from what it is. A browser obeys them and a
terminal does not, so the notebook shows them in file content too."""

# What a name may not show as itself (the one rule of every front-end;
# ``inspector.core.text.printable`` is this function), as ranges of code points:
_HIDDEN = (
    (0x00, 0x1F), (0x7F, 0x9F),  # C0, DEL and C1 controls
    (0x2028, 0x2029),  # line and paragraph separators
    (0xD800, 0xDFFF),  # lone surrogates: how Python decodes a name's non-UTF-8 bytes
    # Format characters (category Cf: zero-width spaces and joiners, bidi
    # controls, the soft hyphen, the BOM, invisible operators, tags...) and
    # the other default-ignorable code points, which render as nothing, so
    # that two names that look alike are told apart. Kept: the variation
    # selectors (FE00-FE0F, E0100-E01EF), which choose a glyph of an emoji or
    # an ideograph. Cf as of Unicode 15.1 (a test checks it against
    # ``unicodedata``).
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x0600, 0x0605), (0x061C, 0x061C),
    (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2),
    (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F),
    (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD),
    (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE00FF),
    (0xE01F0, 0xE0FFF),
    # Noncharacters: never text, shown blank or as a box.
    (0xFDD0, 0xFDEF), *((plane + 0xFFFE, plane + 0xFFFF) for plane in range(0, 0x110000, 0x10000)),
)
_UNPRINTABLE = re.compile(
    "[" + "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
                  for a, b in _HIDDEN) + "]"
)
_NAMED = {"\x1b": "\\x1b", "\n": "\\n", "\t": "\\t"}
_ZWJ = "\u200d"
_EMOJI_BEFORE_ZWJ = frozenset({"So", "Sk"})  # a pictograph, a skin tone modifier


def _joins_emoji(text: str, at: int) -> bool:
    """True for a zero-width joiner inside an emoji sequence (👩‍💻): it is
    drawn as one pictograph there, and shown as is."""
    if at == 0 or at + 1 >= len(text):
        return False
    before, after = text[at - 1], text[at + 1]
    return (before == "\ufe0f" or unicodedata.category(before) in _EMOJI_BEFORE_ZWJ) \
        and unicodedata.category(after) == "So"


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    if char == _ZWJ and _joins_emoji(match.string, match.start()):
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"  # the undecodable byte itself
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(value: object) -> str:
    """``value`` as a string with every character that would not show as
    itself written as an escape (``\\x1b``, ``\\n``, ``\\t``, ``\\xNN``,
    ``\\uNNNN``, ``\\UNNNNNNNN``), on one line: controls, line separators,
    an undecodable byte of a file name (``\\xNN`` of that byte), format and
    other invisible characters (zero-width spaces and joiners, bidi
    controls, the soft hyphen, tags) and noncharacters. Printable non-ASCII
    (é, 中, emoji, a zero-width joiner inside an emoji) is kept as is."""
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
its files any time: see :data:`allocdir.times.MOD_TIME_MAX`)."""


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
