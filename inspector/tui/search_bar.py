"""The one-line prompt at the bottom of the viewer: `/` and `?` search,
`&` filter, `:` go to (a line, a percentage, a time), `c` columns, `C`
context lines."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.dom import NoScreen
from textual.message import Message
from textual.widgets import Input, Label

PLACEHOLDERS = {
    "/": "search forward (regex, smart case); enter: find, escape: close",
    "?": "search backward (regex, smart case); enter: find, escape: close",
    "&": "show only lines matching (regex); empty: show every line",
    ":": "N · N% · @10:00 · 0x1f00",
    "c": "fields as columns, e.g. level,status:5,trace_id; empty: the lines as they are",
    "C": "lines of context around each match of the & filter (as grep -C); 0: none",
}
"""What each prompt asks for. The `:` hint is short enough for the viewer
at 60×20 (line N, N percent, the first line at or after a time, a byte
offset); F1 says more."""


class SearchBar(Horizontal):
    """A one-line prompt; hidden until opened with the kind of prompt.

    Enter posts :class:`SearchBar.Submitted` with the kind (``/``, ``?``,
    ``&``, ``:``) and the text (an empty search repeats the last one, an
    empty filter clears it); escape posts :class:`SearchBar.Dismissed`.
    Either way the bar hides itself.
    """

    DEFAULT_CSS = """
    SearchBar {
        display: none;
        dock: bottom;
        height: 1;
        background: $boost;
    }
    SearchBar.-open {
        display: block;
    }
    SearchBar Label {
        width: auto;
        padding: 0 0 0 1;
        color: $accent;
        text-style: bold;
    }
    SearchBar > Input, SearchBar > Input:focus {
        width: 1fr;
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    """

    BINDINGS = [Binding("escape", "dismiss", "Close the prompt", show=False)]

    class Submitted(Message):
        """The user asked to search for (filter by, go to) ``pattern``."""

        def __init__(self, pattern: str, kind: str = "/") -> None:
            super().__init__()
            self.pattern = pattern
            self.kind = kind

    class Dismissed(Message):
        """The user closed the bar without submitting."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.kind = "/"

    def compose(self) -> ComposeResult:
        """The prompt character and the text field."""
        yield Label("/")
        yield Input(placeholder=PLACEHOLDERS["/"], select_on_focus=False)

    @property
    def is_open(self) -> bool:
        """Whether the bar is shown."""
        return self.has_class("-open")

    def open(self, kind: str = "/", value: str = "") -> None:
        """Show the bar for ``kind`` with ``value`` typed, and focus it."""
        self.kind = kind
        self.query_one(Label).update(kind)
        field = self.query_one(Input)
        field.placeholder = PLACEHOLDERS.get(kind, "")
        field.value = value
        field.cursor_position = len(value)
        self.add_class("-open")
        # At once, not after the messages already queued: the keys typed
        # right after the one that opened the prompt are read into it.
        try:
            self.screen.set_focus(field)
        except NoScreen:  # not on a screen (yet): the usual, later focus
            field.focus()

    def close(self) -> None:
        """Hide the bar."""
        self.remove_class("-open")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.close()
        self.post_message(self.Submitted(event.value, self.kind))

    def action_dismiss(self) -> None:
        """Close the bar without submitting."""
        self.close()
        self.post_message(self.Dismissed())
