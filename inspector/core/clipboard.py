"""Copying lines to the operator's clipboard with OSC 52, over SSH too.

A terminal that supports OSC 52 (xterm, kitty, iTerm2, WezTerm, Windows
Terminal, foot; tmux with ``set-clipboard on``) puts the text of
``ESC ] 52 ; c ; <base64> BEL`` on the clipboard of the machine the
operator sits at, however many SSH hops away the inspector runs. What is
copied is sanitised text only (:func:`clipboard_text`): the lines as the
viewer shows them, colours and every escape sequence and control character
but tab and newline dropped, so a log cannot smuggle a sequence into the
operator's terminal through a paste; and bounded (:data:`MAX_COPY` bytes,
terminals and tmux drop longer writes), cut at a line and said so.
"""

from __future__ import annotations

import base64
from typing import NamedTuple

from .text import ansi_text

MAX_COPY = 64 * 1024
"""Bytes of text copied at most (UTF-8; about 87 KiB once in base64)."""


class CopyText(NamedTuple):
    """What is copied: the text, how many lines, and whether it was cut."""

    text: str
    lines: int
    cut: bool = False

    def describe(self) -> str:
        """What was copied, in words."""
        what = f"{self.lines:,} line{'s' if self.lines != 1 else ''}"
        size = len(self.text.encode("utf-8"))
        if self.cut:
            return f"copied the first {what} ({size:,} bytes, the most a terminal takes)"
        return f"copied {what} ({size:,} bytes) to the clipboard"


def clipboard_text(lines: list[bytes], limit: int = MAX_COPY, more: bool = False) -> CopyText:
    """The text of ``lines`` (bytes without newlines) to copy: sanitised,
    at most ``limit`` bytes of whole lines (one line is cut if it alone is
    longer). ``more``: there were more lines than given (a range cut)."""
    out: list[str] = []
    size = 0
    cut = more
    for data in lines:
        text = ansi_text(data.rstrip(b"\r").decode("utf-8", "replace")).plain
        cost = len(text.encode("utf-8")) + 1
        if size + cost > limit:
            if not out:
                out.append(text.encode("utf-8")[:limit].decode("utf-8", "ignore"))
            cut = True
            break
        out.append(text)
        size += cost
    return CopyText("\n".join(out), len(out), cut)


def osc52(text: str) -> str:
    """The OSC 52 sequence putting ``text`` on the clipboard (what Textual's
    ``App.copy_to_clipboard`` writes)."""
    return f"\x1b]52;c;{base64.b64encode(text.encode('utf-8')).decode('ascii')}\a"
