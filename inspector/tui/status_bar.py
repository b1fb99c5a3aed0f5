"""The status line under the viewer: path, size, age, type, position, flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import humanize
from rich.text import Text
from textual.widgets import Static

from ..core.text import printable


@dataclass(frozen=True)
class ViewerStatus:
    """What the viewer reports about the open file (posted as FileViewer.StatusChanged)."""

    path: str
    """The label shown, e.g. "<alloc id>/alloc/logs/web.stdout.0"."""
    size: int
    """File size in bytes."""
    mod_time: datetime | None
    content_type: str
    offset: int
    """Byte offset of the top of the screen."""
    percent: float
    """0..100, how far through the file the bottom of the screen is."""
    following: bool
    mode: str
    """"text", "hex" or "message" (a refusal or error text is shown)."""
    wrap: bool
    notice: str = ""
    """E.g. "searching… 37%", "truncated", "no match"."""


def _age(mod_time: datetime | None) -> str:
    if mod_time is None:
        return ""
    now = datetime.now(timezone.utc) if mod_time.tzinfo else datetime.now()
    return humanize.naturaltime(now - mod_time)


def status_text(status: ViewerStatus) -> Text:
    """Render a status as one line of styled text.

    What changes most and matters most comes first (the line is cut at the
    right edge): path, FOLLOW, the notice, position, then the file's details.
    The path and the notice (which may quote a file name or an error) are
    shown through `printable`.
    """
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append(printable(status.path), style="bold")
    if status.following:
        text.append("  ")
        text.append("FOLLOW", style="bold reverse green")
    if status.notice:
        text.append("  " + printable(status.notice), style="italic yellow")
    if status.mode == "message":
        return text
    details = [
        f"{status.percent:.0f}%",
        f"@{status.offset:,}",
        humanize.naturalsize(status.size, binary=True),
        _age(status.mod_time),
        status.content_type,
    ]
    text.append("  " + printable("  ".join(d for d in details if d)))
    flags = []
    if status.mode == "hex":
        flags.append("HEX")
    elif status.wrap:
        flags.append("WRAP")
    if flags:
        text.append("  " + " ".join(flags), style="bold")
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

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.status: ViewerStatus | None = None

    def show(self, status: ViewerStatus | None) -> None:
        """Display ``status`` (or nothing)."""
        self.status = status
        self.update(status_text(status) if status is not None else "")
