"""What "go to" accepts, in every front-end (the terminal's ``:`` prompt, the
notebook's go-to box):

========================  ==================================================
``1200``, ``1,200``       line 1200 (1-based, as ``less -N`` numbers lines);
                          in a hex dump, byte offset 1200
``50%``, ``12.5%``        that far through the file (the line holding that byte)
``@2026-11-28T10:15``     the first line at or after that time; ``@10:15``
                          takes the date of the top line; ``@2026-11-28``
                          midnight. A date or time that does not exist
                          (``@T25:00``, ``@2026-02-30``) is an error
``0x1f00``                byte offset, hexadecimal
``b1048576``, ``b64K``    byte offset, decimal, with an optional binary unit
                          ``K``, ``M``, ``G`` or ``T`` (×1024, ×1024², …)
========================  ==================================================

:func:`parse_goto` checks the syntax (and that a time exists) at once, on the
UI thread, so a typo is a clear error before anything is read; where the
target is in the file is found in a worker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text import printable
from ..timestamps import parse_query

_LINE = re.compile(r"\d[\d,_]*")
_PERCENT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*%")
_HEX = re.compile(r"0[xX]([0-9a-fA-F][0-9a-fA-F_]*)")
_BYTES = re.compile(r"[bB]\s*(\d[\d,_]*)\s*([KMGT]?)(?:i?B)?", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SAMPLE_DATE = b"20000101000000000000000"  # any date: only the syntax is checked here

EXAMPLES = "e.g. 1200, 50%, @2026-11-28T10:15, @10:15, 0x1f00, b1048576"


class GotoError(ValueError):
    """What was typed is not a go-to target; the message says why."""


@dataclass(frozen=True)
class GotoLine:
    """Line ``number`` (1-based)."""

    number: int


@dataclass(frozen=True)
class GotoPercent:
    """``percent`` (0..100) of the way through the file."""

    percent: float


@dataclass(frozen=True)
class GotoTime:
    """The first line at or after the time ``text`` (as typed after ``@``)."""

    text: str


@dataclass(frozen=True)
class GotoOffset:
    """Byte ``offset`` of the file (of a rotation set: of the whole set)."""

    offset: int


Goto = GotoLine | GotoPercent | GotoTime | GotoOffset


def parse_goto(text: str, *, hex_mode: bool = False) -> Goto:
    """The target ``text`` names (see the module's table); a bare number is a
    byte offset when ``hex_mode``. Raises :class:`GotoError`."""
    typed = text.strip()
    if not typed:
        raise GotoError(f"nothing to go to ({EXAMPLES})")
    if typed.startswith("@"):
        when = typed[1:].strip()
        try:
            parse_query(when, _SAMPLE_DATE)
        except ValueError as exc:
            raise GotoError(str(exc)) from None
        return GotoTime(when)
    if (found := _PERCENT.fullmatch(typed)) is not None:
        return GotoPercent(min(100.0, float(found.group(1))))
    if typed.endswith("%"):
        raise GotoError(f"not a percentage: '{printable(typed)}' (0% to 100%)")
    if (found := _HEX.fullmatch(typed)) is not None:
        return GotoOffset(int(found.group(1).replace("_", ""), 16))
    if (found := _BYTES.fullmatch(typed)) is not None:
        number = int(found.group(1).replace(",", "").replace("_", ""))
        return GotoOffset(number * _UNITS[found.group(2).upper()])
    if _LINE.fullmatch(typed) is not None:
        number = int(typed.replace(",", "").replace("_", ""))
        return GotoOffset(number) if hex_mode else GotoLine(max(1, number))
    raise GotoError(f"not a line number, N%, @time or byte offset: '{printable(typed)}' "
                    f"({EXAMPLES})")
