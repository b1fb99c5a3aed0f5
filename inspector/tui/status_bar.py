"""The status line: file, position, line, filter, flags, size, age, type
(rendering :class:`~inspector.core.session.status.Status`)."""

from __future__ import annotations

import posixpath
import re
from datetime import datetime, timezone

from rich.text import Text
from textual.widgets import Static

from allocdir.plaintext import age_words, size_words

from ..core.session.status import Status, lines_origin
from ..core.text import printable

ViewerStatus = Status
"""The status the viewer posts: :class:`inspector.core.session.status.Status`
(the model lives in core; this module only renders it)."""

_ALLOC_ID = re.compile(r"^([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=/)")


def _age(mod_time: datetime | None) -> str:
    if mod_time is None:
        return ""
    now = datetime.now(timezone.utc) if mod_time.tzinfo else datetime.now()
    return age_words(mod_time, now)


def short_path(path: str) -> str:
    """The label with a leading alloc id cut to its first 8 characters."""
    return _ALLOC_ID.sub(r"\1…", path)


def status_text(status: ViewerStatus, width: int | None = None) -> Text:
    """Render a status as one line of styled text, fitting ``width`` cells.

    What changes most and matters most comes first (the line is cut at the
    right edge): path (with the file's place in its rotation set), FOLLOW,
    the position (line, percent, offset, and where line numbers count from
    when Nomad deleted the first files of the set), the filter, the notice,
    flags, then the file's details: a notice never pushes the position
    off the line. The allocation's full id is shown when the line up to the
    notice fits in ``width``, else its first 8 characters; when the notice
    cannot fit whole, the longest path with which the position does, else the
    file name alone. The path and the notice (which may quote a file name or an
    error) are shown through `printable`.
    """
    paths = [printable(p) for p in (status.path, short_path(status.path),
                                    posixpath.basename(status.path))]
    if not width:
        return _status_line(status, paths[0])
    # The longest path with which the notice still shows whole, else the
    # longest with which the position does, else the file name.
    for upto in (NOTICE, POSITION):
        for path in paths:
            if _status_line(status, path, upto=upto).cell_len <= width:
                return _status_line(status, path)
    return _status_line(status, paths[-1])


POSITION, NOTICE = "position", "notice"
"""How much of the line must fit for a longer path to be shown."""


def _status_line(status: ViewerStatus, path: str, *, upto: str | None = None) -> Text:
    """The status line showing ``path``; with ``upto`` only up to the
    position or the notice."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append(path, style="bold")
    if status.members > 1:
        text.append(f" [{status.member}/{status.members}]", style="bold")
    if status.following:
        text.append("  ")
        text.append("FOLLOW", style="bold reverse green")
    if status.mode == "message":
        if status.notice:
            text.append("  " + printable(status.notice), style="italic yellow")
        return text
    position = []
    if status.line is not None:
        total = f"/{status.lines:,}" if status.lines is not None else ""
        position.append(f"L{status.line:,}{total}")
    elif status.numbers and status.indexing:
        position.append("L…")
    position += [f"{status.percent:.0f}%", f"@{status.offset:,}"]
    text.append("  " + "  ".join(position))
    origin = lines_origin(status)
    if origin:
        text.append(f" {origin}", style="yellow")
    if upto == POSITION:
        return text
    if status.filter:
        count = "…" if status.matches is None else f"{status.matches:,}"
        more = "+" if status.counting else ""
        text.append(f"  &{printable(status.filter)}: {count}{more} lines", style="bold magenta")
    if status.notice:
        text.append("  " + printable(status.notice), style="italic yellow")
    if upto == NOTICE:
        return text
    flags = []
    if status.mode == "hex":
        flags.append("HEX")
    elif status.wrap:
        flags.append("WRAP")
    else:
        flags.append("NOWRAP")
    text.append("  " + " ".join(flags), style="bold")
    details = [size_words(status.size), _age(status.mod_time), status.content_type]
    text.append("  " + printable("  ".join(d for d in details if d)), style="dim")
    return text


class StatusBar(Static):
    """One line showing the viewer's status; ``show(None)`` clears it."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    AGE_TICK = 5.0
    """Seconds between redraws, so that the file's age keeps ticking."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.status: ViewerStatus | None = None

    def on_mount(self) -> None:
        """Redraw now and then: "3 minutes ago" must not stay 3 minutes."""
        self.set_interval(self.AGE_TICK, self._tick)

    def _tick(self) -> None:
        if self.status is not None and self.status.mod_time is not None:
            self._draw()

    def on_resize(self) -> None:
        """The full allocation id shows or not with the width."""
        self._draw()

    def show(self, status: ViewerStatus | None) -> None:
        """Display ``status`` (or nothing). One line of a fixed size: the
        screen is not laid out again (a followed log changes it often)."""
        if status == self.status:
            return
        self.status = status
        self._draw()

    def _draw(self) -> None:
        status = self.status
        width = self.content_size.width or None
        self.update(status_text(status, width) if status is not None else "", layout=False)
