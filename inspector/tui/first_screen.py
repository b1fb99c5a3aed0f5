"""The file pane before a file is opened: the summary of the allocation
under the tree's cursor, or the client root's table
(:mod:`inspector.core.first_screen` gathers and words them; this widget
only draws). Gathered in a thread worker, a moment after the cursor stops
(:data:`SETTLE` seconds), the gathering for a row the cursor left cancelled:
moving through the tree never waits on the disk."""

from __future__ import annotations

import threading

from rich.text import Text
from textual import work
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Static

from ..core.first_screen import alloc_card, root_card
from ..core.roots import Root
from ..core.strays import NonAllocDir
from ..core.text import printable

SETTLE = 0.25
"""Seconds the cursor rests on a row before its summary is gathered."""


class FirstScreenCard(VerticalScroll):
    """A scrollable card of plain text: what the selected row holds."""

    DEFAULT_CSS = """
    FirstScreenCard { height: 1fr; padding: 0 1; }
    FirstScreenCard > Static { width: 1fr; }
    """

    def __init__(self, root: Root, **kwargs) -> None:
        super().__init__(**kwargs)
        self.root = root
        self.shown_for: object = ()  # the allocation (None: the root) the card is of
        self._wanted: object = ()
        self._cancel = threading.Event()
        self._timer: Timer | None = None

    def compose(self):
        """The text."""
        yield Static(Text("gathering…", style="dim"), id="card-text", markup=False)

    def show_for(self, alloc, allocs: list) -> None:
        """Show the summary of ``alloc`` (None: the root's table of
        ``allocs``), once the cursor has rested on it for a moment."""
        wanted = (alloc, tuple(allocs) if alloc is None else ())
        if wanted == self._wanted:
            return
        self._wanted = wanted
        self._cancel.set()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SETTLE, lambda: self._start(wanted, list(allocs)))

    def _start(self, wanted: tuple, allocs: list) -> None:
        if wanted != self._wanted:
            return
        alloc = wanted[0]
        self._cancel = threading.Event()
        self._gather(alloc, allocs, self._cancel)

    @work(thread=True, exclusive=True, group="first-screen")
    def _gather(self, alloc, allocs: list, cancel: threading.Event) -> None:
        try:
            if isinstance(alloc, NonAllocDir):
                text = printable(alloc.refusal("summarize"))
            elif alloc is None:
                text = root_card(self.root.description, allocs, cancel)
            else:
                text = alloc_card(alloc, cancel)
        except Exception as exc:  # said on the card, never a crash of the app
            text = f"Could not gather the summary: {printable(exc)}"
        if not cancel.is_set():
            try:
                self.app.call_from_thread(self._show, cancel, alloc, text)
            except RuntimeError:  # the app is gone
                pass

    def _show(self, cancel: threading.Event, alloc, text: str) -> None:
        if cancel is not self._cancel or cancel.is_set():
            return  # the cursor moved on meanwhile
        self.shown_for = alloc
        self.query_one("#card-text", Static).update(Text(text, end=""))

    @property
    def text(self) -> str:
        """What the card says now (plain)."""
        return str(self.query_one("#card-text", Static).content)


__all__ = ["SETTLE", "FirstScreenCard"]
