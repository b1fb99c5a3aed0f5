"""The field view of a line (``x``): its JSON pretty-printed or its logfmt
pairs, one per line, every character a task wrote shown as plain text."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..core.structured.view import FieldView
from ..core.text import plain


class FieldScreen(ModalScreen[None]):
    """A modal showing a :class:`~inspector.core.structured.view.FieldView`;
    escape, q or x closes it; y copies it (OSC 52)."""

    DEFAULT_CSS = """
    FieldScreen { align: center middle; }
    FieldScreen > VerticalScroll {
        width: 100; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    FieldScreen #where { color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape,q,x", "close", "Close"),
        Binding("y", "copy", "Copy the fields"),
    ]

    def __init__(self, view: FieldView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        """The title, where the line is, its fields."""
        with VerticalScroll() as box:
            box.border_title = plain(self.view.title)
            yield Static(plain(self.view.where), id="where", markup=False)
            yield Static(Text("\n".join(self.view.lines), end=""), id="fields", markup=False)

    def action_close(self) -> None:
        """Back to the viewer."""
        self.dismiss(None)

    def action_copy(self) -> None:
        """Copy the fields as shown (OSC 52), bounded as every copy is."""
        from ..core.clipboard import clipboard_text

        copied = clipboard_text([line.encode() for line in self.view.lines])
        self.app.copy_to_clipboard(copied.text)
        self.notify(copied.describe(), markup=False)
