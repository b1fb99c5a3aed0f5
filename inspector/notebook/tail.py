"""``tail``: the last lines of a file, as plain text.

Read backwards from the end by the pager (``inspector.core.pager.Pager``),
so it costs the same on an 8 GiB log as on a small one; colours and every
other escape sequence are dropped (``line_text``), so the text is safe to
print in a terminal too. No widgets: usable without ipywidgets.
"""

from __future__ import annotations

from ..core.pager import Pager
from ..core.viewing import NotViewable, open_for_viewing, set_member
from .viewer import resolve


class TailText(str):
    """The text ``tail`` returns: a ``str`` that a notebook or IPython shows
    as the lines themselves rather than as a quoted string."""

    def _repr_pretty_(self, p, cycle: bool) -> None:
        p.text(str(self))

    @property
    def lines(self) -> list[str]:
        """The lines, without their newlines."""
        return self.split("\n") if self else []


def tail(target, path: str, lines: int = 10) -> TailText:
    """The last ``lines`` lines of ``path`` of ``target`` (an ``AllocDir``, or
    a ``NotebookRoot`` with the path starting with an alloc id prefix).

    A line longer than 2048 bytes counts as one line per 2048 bytes, as in
    the pager. A rotated log is read with its whole rotation set (the last
    lines of its newest file, and of the one before when that is short); a
    set may be named without an index (``alloc/logs/web.stdout``). Raises
    :class:`~inspector.core.viewing.NotViewable` (a clear one-line reason)
    for a secret, a FIFO, a socket, a directory or a missing file; nothing
    is opened that could block.
    """
    if lines < 0:
        raise ValueError(f"lines must be 0 or more, not {lines}")
    fs, rel = resolve(target, path)
    try:
        rel = set_member(fs, rel, newest=True)
    except FileNotFoundError as missing:
        raise NotViewable(f"{rel} does not exist ({missing}).") from None
    opened = open_for_viewing(fs, rel, as_set=True)
    try:
        if lines == 0:
            return TailText("")
        pager = Pager(opened.source, hex_mode=False, height=lines)
        pager.tail()
        return TailText("\n".join(row.text.plain for row in pager.screen()))
    finally:
        opened.source.close()


__all__ = ["NotViewable", "TailText", "tail"]
