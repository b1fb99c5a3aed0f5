"""What a session hands a front-end to draw: an immutable :class:`Frame`.

Frames and their parts are immutable records (named tuples: cheap to make,
as a follow makes one per change). A frame is built whole in a worker, from
one state of the document: its
rows, their line numbers, where the current match is, and where in the file
the screen is (:class:`Place`) all come from the same pass, so a frame can
never show one file's rows with another file's offset. The session adds the
:class:`~inspector.core.session.status.Status` on the UI thread.

The rows' ``Text`` objects are shared with the pager's caches: a renderer
copies one before styling it (``Text.copy``).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from rich.text import Text

from .status import Status

SEPARATOR_STYLE = "bold yellow"
"""The style of a separator row ("── truncated ──")."""


class FrameRow(NamedTuple):
    """One screen row."""

    text: Text
    """What the row shows (never modify it: copy it to style it)."""
    number: int | None = None
    """The line number in the gutter (on the first row of a line), or None."""
    current: tuple[int, int] | None = None
    """Where the current match is in ``text`` (characters), or None."""
    separator: str = ""
    """For a separator row: its label ("truncated", "recreated"); ``text`` is a rule."""
    context: bool = False
    """Shown only as context around a match of the filter (drawn dimmed)."""
    at: object = None
    """The document's position of the start of the row's line (None: not a line)."""
    mark: str = ""
    """The letters of the marks on the row's line (drawn apart), e.g. "a"."""
    tag: Text | None = None
    """In a merged stream: the row's source (``web▸err``, coloured, plain text)."""

    @property
    def plain(self) -> str:
        """The row as plain text."""
        return self.text.plain


class Place(NamedTuple):
    """Where the screen is, measured in the same pass as its rows."""

    path: str = ""
    """The file holding the top row (of a set: that member; when following: the file followed)."""
    offset: int = 0
    """The byte offset of the top row in ``path``."""
    member: int = 1
    members: int = 1
    size: int = 0
    """The size of the document (of a set: all its files)."""
    percent: float = 0.0
    line: int | None = None
    """The line number of the top row, when known."""
    top: object = 0
    """The document's position of the first row's line (for a search from the view)."""
    first_end: object = 0
    """The position just after the first row's line."""
    bottom: object = 0
    """The position just after the last row."""
    condition: str = ""
    """What holds of the file while it holds ("deleted: still reading the
    open file"): the status says it when no notice is shown."""
    first_index: int = 0
    """The N of the oldest file of a rotation set still on disk (above 0
    when Nomad deleted the earlier ones: line numbers count from it)."""


class Frame(NamedTuple):
    """One consistent picture of the open file (or the message shown instead)."""

    mode: str = "message"
    """"text", "hex" or "message"."""
    rows: tuple[FrameRow, ...] = ()
    message: str = ""
    """In "message" mode: why nothing is shown (plain text, already escaped)."""
    place: Place = Place()
    highlight: re.Pattern[str] | None = None
    """Highlight the matches of this pattern (the search, else the filter)."""
    numbers: bool = False
    """Whether a line-number gutter is shown."""
    gutter: int = 0
    """The gutter's width in cells (digits and a space), when shown."""
    tags: int = 0
    """In a merged stream: the width of the source tags' gutter (0: none)."""
    status: Status | None = None
    """Filled in by the session (None when no file is open)."""
    following: bool = False
    serial: int = 0
    """Grows with every frame built for the session's document."""

    @property
    def lines(self) -> list[str]:
        """The rows as plain text (a message: its lines)."""
        if self.mode == "message":
            return self.message.splitlines()
        return [row.text.plain for row in self.rows]

    def gutter_text(self, row: FrameRow) -> str:
        """The gutter of ``row`` ("" without line numbers)."""
        if not self.numbers:
            return ""
        width = self.gutter - 1
        if row.number is None:
            return " " * self.gutter
        return f"{row.number:>{width}} "

    def tag_text(self, row: FrameRow) -> Text:
        """The source tag of ``row``, padded to the tag gutter (empty without one)."""
        if not self.tags:
            return Text("", end="")
        tag = row.tag.copy() if row.tag is not None else Text("", end="")
        tag.pad_right(self.tags - tag.cell_len)
        return tag


def separator_text(label: str, width: int) -> Text:
    """A rule across the screen with ``label`` (e.g. "truncated") in it."""
    middle = f" {label} "
    side = max(2, (width - len(middle)) // 2)
    return Text("─" * side + middle + "─" * side, style=SEPARATOR_STYLE, end="")


def message_frame(message: str, status: Status | None = None) -> Frame:
    """A frame that shows ``message`` instead of a file."""
    return Frame(mode="message", message=message, status=status)
