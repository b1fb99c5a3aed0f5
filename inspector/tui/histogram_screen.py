"""``i``: when did it start? Lines per level over time, as lnav's histogram.

The counts come from a scan of the whole log, set or stream in a worker
(:mod:`inspector.core.histogram`); the screen fills in while it runs
(sparklines of errors, warnings and all lines on top, one row per time
bucket below). ``enter`` on a bucket goes to its first line (``:@time``),
``e`` puts the cursor on the first bucket with an error.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..core.histogram import Histogram
from ..core.levels import ERROR

BAR = 16
"""Cells of a bucket's error bar."""
BLOCKS = " ▏▎▍▌▋▊▉█"


def _bar(value: int, peak: int, width: int = BAR) -> str:
    """``value`` against ``peak`` as a bar of eighth blocks, ``width`` cells."""
    if not peak or not value:
        return " " * width
    eighths = max(1, round(value * width * 8 / peak))
    full, part = divmod(eighths, 8)
    return ("█" * full + (BLOCKS[part] if part else "")).ljust(width)


def bucket_row(picture: Histogram, index: int, peak: int) -> Text:
    """One bucket as a row: its start, the error bar, errors, warnings, lines."""
    errors, warns, lines = picture.counts[index]
    start = picture.start(index)
    when = start.strftime("%Y-%m-%d" if picture.width >= 86400 else "%m-%d %H:%M:%S"
                          if picture.width < 60 else "%m-%d %H:%M")
    row = Text(f"{when:<15} ", end="")
    row.append(_bar(errors, peak), style="bold red")
    row.append(f" {errors:>7,} err", style="bold red" if errors else "dim")
    row.append(f" {warns:>7,} warn", style="bold yellow" if warns else "dim")
    row.append(f" {lines:>9,} lines", style="green")
    return row


class HistogramScreen(ModalScreen[None]):
    """The histogram of the session's document (see the module)."""

    DEFAULT_CSS = """
    HistogramScreen { align: center middle; }
    HistogramScreen > Vertical {
        width: 100%; height: 100%; border: thick $primary; background: $surface;
    }
    HistogramScreen #spark { height: auto; padding: 0 1; }
    HistogramScreen OptionList { height: 1fr; border: none; }
    HistogramScreen #hint { height: 1; color: $text-muted; padding: 0 1; }
    """

    BINDINGS = [
        Binding("escape,q,i", "close", "Close"),
        Binding("e", "first_error", "First bucket with an error"),
    ]

    def __init__(self, session, buckets: int = 120) -> None:
        super().__init__()
        self.session = session
        self.buckets = buckets
        self.picture: Histogram | None = None

    def compose(self) -> ComposeResult:
        """The sparklines, the buckets, a hint."""
        with Vertical() as box:
            box.border_title = "Lines per level over time: scanning…"
            yield Static("", id="spark", markup=False)
            yield OptionList(id="buckets")
            yield Static("enter: go to the bucket's first line  e: first error  escape: back",
                         id="hint", markup=False)

    def on_mount(self) -> None:
        """Start the scan; the picture fills in as it runs."""
        self.query_one(OptionList).focus()
        if self.session.records.histogram(self._show, progress=self._show,
                                          buckets=self.buckets) is None:
            self._box.border_title = "Lines per level over time: nothing to count"

    @property
    def _box(self) -> Vertical:
        return self.query_one(Vertical)

    def _show(self, picture: Histogram) -> None:
        if not self.is_attached:
            return
        self.picture = picture
        done = "" if picture.done else \
            f": scanning {100 * picture.scanned / max(1, picture.total):.0f}%"
        self._box.border_title = f"Lines per level, {picture.width_words} a bucket{done}"
        self.query_one("#spark", Static).update(self._sparklines(picture))
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        peak = max((c[0] for c in picture.counts), default=0)
        options.clear_options()
        options.add_options([Option(bucket_row(picture, i, peak), id=str(i))
                             for i in range(len(picture.counts))])
        if picture.counts:
            options.highlighted = min(highlighted or 0, len(picture.counts) - 1)

    @staticmethod
    def _sparklines(picture: Histogram) -> Text:
        errors, warns, lines = picture.totals()
        text = Text(end="")
        for label, column, style, total in (("errors", 0, "bold red", errors),
                                            ("warns ", 1, "bold yellow", warns),
                                            ("lines ", 2, "green", lines)):
            text.append(f"{label} ", style="bold")
            text.append(picture.sparkline(column), style=style)
            text.append(f" {total:,}\n")
        forms = ", ".join(picture.forms) or "none found"
        untimed = f"; {picture.untimed:,} lines before the first timestamp" \
            if picture.untimed else ""
        text.append(f"levels counted as written: {forms}{untimed}", style="dim")
        return text

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Go to the first line of the bucket picked."""
        if self.picture is not None and event.option.id is not None:
            self.session.records.goto_bucket(self.picture, int(event.option.id))
            self.action_close()

    def action_first_error(self) -> None:
        """Put the cursor on the first bucket holding an error line."""
        if self.picture is not None:
            first = self.picture.first_with(ERROR)
            if first is not None:
                self.query_one(OptionList).highlighted = first
            else:
                self.notify("no error line counted (yet)", markup=False)

    def action_close(self) -> None:
        """Stop the scan and go back to the viewer."""
        self.session.records.cancel_histogram()
        self.dismiss(None)
