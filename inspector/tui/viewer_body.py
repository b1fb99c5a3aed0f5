"""The viewer's rows: draws a session's :class:`~inspector.core.session.frame.Frame`
with Textual's Line API, one cached strip per row."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from rich.segment import Segment
from rich.text import Text
from textual.events import Resize
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from ..core.session.frame import Frame, FrameRow
from ..core.text import plain

MATCH_STYLE = "black on #d7d75f"
CURRENT_MATCH_STYLE = "bold black on #5fafff"
GUTTER_STYLE = "dim"
CONTEXT_STYLE = "dim"
"""Rows shown only as context around a match of the filter."""
MARK_STYLE = "on #34405c"
"""The rows of a marked line."""
DRAWN_ROWS = 512
"""Rows kept as drawn (a few screens' worth)."""


class ViewerBody(Widget):
    """Draws the rows of the frame it was given; never reads the file itself."""

    DEFAULT_CSS = """
    ViewerBody {
        height: 1fr;
        width: 1fr;
    }
    ViewerBody.-message {
        color: $text-warning;
    }
    """

    scroll_x_cells: reactive[int] = reactive(0)

    @dataclass
    class Resized(Message):
        """The body changed size: the viewer lays the rows out again."""

        width: int
        height: int

    def __init__(self) -> None:
        super().__init__()
        self._frame = Frame()
        self._texts: list[Text] = []
        self._strips: dict[int, Strip] = {}
        self._base = None  # the widget's own style, under the rows
        # What rows looked like, by what they show: a frame that scrolled by
        # one line (a followed log, `j`) draws one new row, not the screen.
        self._drawn: OrderedDict[tuple, tuple[Text, Strip]] = OrderedDict()

    @property
    def frame(self) -> Frame:
        """The frame drawn."""
        return self._frame

    def on_resize(self, event: Resize) -> None:
        """Tell the viewer to lay out what fits the new size."""
        self.post_message(self.Resized(event.size.width, event.size.height))

    def watch_scroll_x_cells(self) -> None:
        """Redraw after a sideways scroll."""
        self._strips = {}
        self.refresh()

    def show(self, frame: Frame) -> None:
        """Draw ``frame`` (a frame with the same rows as the last is not redrawn)."""
        old, self._frame = self._frame, frame
        if (frame.rows is old.rows and frame.mode == old.mode and frame.message == old.message
                and frame.highlight == old.highlight and frame.gutter == old.gutter):
            return
        if frame.mode == "message":
            # Messages quote file names and errors: each line is shown as plain text.
            self._texts = [plain(line) for line in frame.message.splitlines()]
            self.add_class("-message")
        else:
            self._texts = [row.text for row in frame.rows]
            self.remove_class("-message")
        self._strips = {}
        self.refresh()

    def plain_lines(self) -> list[str]:
        """The rows shown, as plain text (what a user reads), without the gutter."""
        return [text.plain for text in self._texts]

    def gutter_lines(self) -> list[str]:
        """The line-number gutter of each row ("" without line numbers)."""
        frame = self._frame
        if frame.mode == "message":
            return ["" for _ in self._texts]
        return [frame.gutter_text(row) for row in frame.rows]

    def tag_lines(self) -> list[str]:
        """The source tag of each row of a merged stream ("" for one log)."""
        frame = self._frame
        if frame.mode == "message" or not frame.tags:
            return ["" for _ in self._texts]
        return [row.tag.plain if row.tag is not None else "" for row in frame.rows]

    def notify_style_update(self) -> None:
        """The styles changed (focus, theme): draw with the new ones."""
        super().notify_style_update()
        self._base = None
        self._strips = {}

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of the frame, scrolled sideways and cut to the width."""
        width = self.size.width
        strip = self._strips.get(y)
        if strip is None or strip.cell_length != width:
            base = self._base
            if base is None:  # it walks every ancestor's styles: once, not per row
                base = self._base = self.rich_style
            strip = self._cached_row(y, width, base) if y < len(self._texts) else \
                Strip.blank(width, base)
            strip = self._strips[y] = strip.crop_extend(0, width, base)
        return strip

    def _cached_row(self, y: int, width: int, base) -> Strip:
        frame, text = self._frame, self._texts[y]
        row = frame.rows[y] if frame.mode != "message" else None
        key = (id(text), row.number if row else None, row.current if row else None,
               row.context if row else False, row.mark if row else "",
               row.tag.plain if row is not None and row.tag is not None else None,
               frame.highlight, frame.numbers, frame.gutter, frame.tags, self.scroll_x_cells,
               width, base)
        drawn = self._drawn.get(key)
        if drawn is not None and drawn[0] is text:
            self._drawn.move_to_end(key)
            return drawn[1]
        strip = self._render_row(y, width, base)
        self._drawn[key] = (text, strip)  # the text is kept: its id is not reused meanwhile
        if len(self._drawn) > DRAWN_ROWS:
            self._drawn.popitem(last=False)
        return strip

    def _render_row(self, y: int, width: int, base) -> Strip:
        frame = self._frame
        text = self._texts[y]
        row = frame.rows[y] if frame.mode != "message" else None
        if row is not None and not row.separator and (frame.highlight is not None or row.current
                                                      or row.context or row.mark):
            text = text.copy()
            if row.context:
                text.stylize(CONTEXT_STYLE)
            if row.mark:
                text.stylize(MARK_STYLE)
            if frame.highlight is not None and not row.context:
                text.highlight_regex(frame.highlight, MATCH_STYLE)
            if row.current is not None:
                text.stylize(CURRENT_MATCH_STYLE, *row.current)
        # Unstyled text takes the widget's colours, not the terminal's default.
        body = Strip(list(Segment.apply_style(text.render(self.app.console, end=""), base)))
        x = self.scroll_x_cells
        if row is None or not (frame.numbers or frame.tags):
            return body.crop_extend(x, x + width, base)
        gutter = frame.tag_text(row)  # a merged stream's source, then the line number
        if frame.numbers:
            gutter.append_text(self._gutter(row))
        gutter_strip = Strip(list(Segment.apply_style(gutter.render(self.app.console, end=""),
                                                      base)))
        body = body.crop_extend(x, x + max(0, width - gutter.cell_len), base)
        return Strip.join([gutter_strip, body])

    def _gutter(self, row: FrameRow) -> Text:
        text = self._frame.gutter_text(row)
        if row.mark and text[:2] == "  ":  # the mark's letter where the number leaves room
            text = f"'{row.mark[0]}" + text[2:]
        return Text(text, style=GUTTER_STYLE if row.number is not None else "", end="")
