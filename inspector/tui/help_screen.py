"""The `F1` help: every key of the app, the tree and the viewer.

Built from the widgets' BINDINGS, so it lists exactly what the keys do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

Section = tuple[str, Sequence[BindingType]]
"""A titled group of bindings, e.g. ("Viewer", FileViewer.BINDINGS)."""


def _as_bindings(bindings: Iterable[BindingType]) -> Iterable[Binding]:
    for binding in bindings:
        yield from Binding.make_bindings([binding])


def key_rows(app, bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """(keys, description) rows; keys bound to the same action are merged."""
    rows: dict[str, tuple[list[str], str]] = {}
    for binding in _as_bindings(bindings):
        if binding.system or binding.action.startswith("app."):
            continue  # an app key repeated in a widget (F1) is listed once, with the app's
        # Keys of one action (also with different arguments, e.g. the digits) share a row.
        keys, description = rows.setdefault(
            binding.action.split("(")[0],
            ([], binding.description or binding.tooltip or binding.action),
        )
        display = "enter" if binding.key == "enter" else app.get_key_display(binding)
        if display not in keys:
            keys.append(display)
    return [(" ".join(keys), description) for keys, description in rows.values()]


class HelpScreen(ModalScreen[None]):
    """A modal listing every key, closed with escape, q or F1."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 72;
        max-height: 90%;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("f1", "close", "Close", show=False),
    ]

    def __init__(self, sections: Sequence[Section]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        """A scrollable table of every key."""
        with VerticalScroll() as scroll:
            scroll.border_title = "Keys"
            scroll.border_subtitle = "escape / q / F1 to close"
            yield Static(self._table(), id="help-keys")

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """(section, keys, description) for every key shown."""
        return [
            (title, keys, description)
            for title, bindings in self.sections
            for keys, description in key_rows(self.app, bindings)
        ]

    def _table(self) -> Table:
        table = Table(box=None, show_header=False, expand=True, padding=(0, 1))
        table.add_column("key", style="bold", no_wrap=True, width=22)
        table.add_column("action")
        section = None
        for title, keys, description in self.rows:
            if title != section:
                if section is not None:
                    table.add_row("", "")
                table.add_row(f"[b u]{title}[/]", "")
                section = title
            table.add_row(keys, description)
        return table

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
