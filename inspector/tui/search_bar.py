"""The `/` search input shown at the bottom of the viewer."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label


class SearchBar(Horizontal):
    """A one-line prompt for a search pattern; hidden until opened.

    Enter posts :class:`SearchBar.Submitted` with the pattern (an empty
    pattern means "repeat the last search"); escape posts
    :class:`SearchBar.Dismissed`. Either way the bar hides itself.
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

    BINDINGS = [Binding("escape", "dismiss", "Close search", show=False)]

    class Submitted(Message):
        """The user asked to search for ``pattern``."""

        def __init__(self, pattern: str) -> None:
            super().__init__()
            self.pattern = pattern

    class Dismissed(Message):
        """The user closed the bar without searching."""

    def compose(self) -> ComposeResult:
        """The `/` prompt and the pattern field."""
        yield Label("/")
        yield Input(placeholder="search (smart case); enter: find, escape: close")

    @property
    def is_open(self) -> bool:
        """Whether the bar is shown."""
        return self.has_class("-open")

    def open(self) -> None:
        """Show the bar with an empty input and focus it."""
        self.add_class("-open")
        field = self.query_one(Input)
        field.value = ""
        field.focus()

    def close(self) -> None:
        """Hide the bar."""
        self.remove_class("-open")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.close()
        self.post_message(self.Submitted(event.value))

    def action_dismiss(self) -> None:
        """Close the bar without searching."""
        self.close()
        self.post_message(self.Dismissed())
