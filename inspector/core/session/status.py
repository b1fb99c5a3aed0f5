"""What the status line says about an open file, and how long a notice lasts.

:class:`Status` is a value: the session makes a new one whenever anything in
it changes, and front-ends render it (the terminal app in one line, the
notebook in HTML).

A notice ("no match: x", "truncated", "searching… 40%") belongs to what made
it. :class:`Notices` keeps the one shown: a command that moves or changes the
view clears it, so "not a timestamp: 'yesterday'" is gone after a good
``:@09:00`` and "no match" does not follow the user to another file. What a
command's background work says later (a search's result, a go-to that found
nothing) is shown only if no newer command came since; events of the file
itself (rotated away, truncated) are shown when they happen.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class Status(NamedTuple):
    """What the session reports about the open file."""

    path: str
    """The label shown, e.g. "<alloc id>/alloc/logs/web.stdout.0" (of a
    rotation set: the file at the top of the screen, or the file followed)."""
    size: int
    """File size in bytes (of a rotation set: of all its files)."""
    mod_time: datetime | None
    content_type: str
    offset: int
    """Byte offset of the top of the screen (in the file named by ``path``)."""
    percent: float
    """0..100, how far through the file (set) the bottom of the screen is."""
    following: bool
    mode: str
    """"text", "hex" or "message" (a refusal or error text is shown)."""
    wrap: bool
    notice: str = ""
    """E.g. "searching… 37%", "truncated", "no match"."""
    member: int = 1
    """Which file of the rotation set is at the top (1-based)."""
    members: int = 1
    """How many files the rotation set has (1: a plain file)."""
    line: int | None = None
    """The line number at the top of the screen, when known."""
    lines: int | None = None
    """How many lines the file has, once counted."""
    indexing: bool = False
    """Lines are being counted."""
    filter: str = ""
    """The `&` filter, if any."""
    matches: int | None = None
    """How many lines match the filter (so far, while ``counting``)."""
    counting: bool = False
    numbers: bool = False
    """Line numbers are shown."""
    first_index: int = 0
    """The N of the oldest file of the rotation set still on disk: above 0
    when Nomad deleted the earlier ones, and line numbers count from it."""


def lines_origin(status: Status) -> str:
    """Where line numbers count from, when that is not the start of the
    log: "from .3 (.0–.2 deleted)" when Nomad deleted the earlier files of
    the set; "" otherwise. Both front-ends show it beside the line number."""
    first = status.first_index
    if first <= 0 or status.line is None and not status.numbers:
        return ""
    gone = ".0" if first == 1 else f".0–.{first - 1}"
    return f"from .{first} ({gone} deleted)"


class Notices:
    """The notice shown now, and which command it belongs to.

    Commands are numbered as they come (:meth:`command`); a notice said for
    command ``n`` (:meth:`say`) is shown only while ``n`` is the latest, and
    an event's notice (``owner`` None) is shown whatever the command."""

    def __init__(self) -> None:
        self.text = ""
        self.serial = 0

    def command(self, clear: bool = True) -> int:
        """A new command: returns its number; it clears the notice unless ``clear`` is False."""
        self.serial += 1
        if clear:
            self.text = ""
        return self.serial

    def say(self, text: str, owner: int | None = None) -> bool:
        """Show ``text`` (of command ``owner``, or of an event); False when a
        newer command made it stale."""
        if owner is not None and owner != self.serial:
            return False
        self.text = text
        return True

    def clear(self, owner: int | None = None) -> None:
        """Clear the notice (if it still belongs to ``owner``'s time)."""
        if owner is None or owner == self.serial:
            self.text = ""
