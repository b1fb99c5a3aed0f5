"""The viewer's keys for structured logs and evidence: marks, the field view,
columns, context lines, the filter on and off, copy, export, the histogram.

A mixin of :class:`~inspector.tui.viewer.FileViewer` (its bindings are
:data:`TOOL_BINDINGS`, listed in the viewer's). What each key does is the
reader session's (:mod:`inspector.core.session`): this module reads the
keys, opens the prompts and screens, and copies with OSC 52.

Two-key commands, as in ``less`` and ``vim``: ``m`` then a letter marks the
top line, ``'`` then a letter goes to that mark (``''``: back to before the
last jump), ``y`` then ``y`` (or enter) copies the current line, ``y`` then
a letter the lines from that mark to the current line. Escape, or any
other key, gives the command up.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding

TOOL_BINDINGS = [
    Binding("m", "pending('m')", "Mark the top line (m then a letter)", show=False),
    Binding("apostrophe", "pending(\"'\")", "Go to a mark (' then the letter; '' back)",
            key_display="'", show=False),
    Binding("y", "pending('y')", "Copy the line (yy), or from a mark (y then the letter)",
            show=False),
    Binding("x", "fields", "Fields of the current line (JSON, logfmt)", show=False),
    Binding("c", "columns", "Fields as columns (e.g. level,status:5)", show=False),
    Binding("C", "context", "Context lines around the & filter's matches", show=False),
    Binding("backslash", "toggle_filter", "& filter off / on, the line kept in place",
            key_display="\\", show=False),
    Binding("i", "histogram", "Histogram: lines per level over time", show=False),
    Binding("W", "export", "Write the view, marks, all or a time range to a file",
            show=False),
]
"""The keys of this module, in the viewer's BINDINGS."""

PENDING_HINTS = {
    "m": "mark: type a letter",
    "'": "go to mark: type its letter (' : back)",
    "y": "copy: y the line, or a mark's letter for the lines from it",
}


class ViewerTools:
    """Structured logs and evidence keys of the viewer (see the module)."""

    _pending = ""

    def action_pending(self, command: str) -> None:
        """Wait for the second key of ``m``, ``'`` or ``y``."""
        if self.mode != "text":
            return
        self._pending = command
        self.app.notify(PENDING_HINTS[command], timeout=2)

    def on_key(self, event: events.Key) -> None:
        """The second key of a two-key command."""
        command, self._pending = self._pending, ""
        if not command:
            return
        event.stop()
        event.prevent_default()
        char = event.character or ""
        session = self._ready()
        if event.key == "escape":
            return
        if command == "m" and char.isascii() and char.isalpha():
            session.marks.set(char)
        elif command == "'" and (char == "'" or (char.isascii() and char.isalpha())):
            session.marks.jump(char)
        elif command == "y" and (char == "y" or event.key == "enter"):
            session.records.copy(self._copy)
        elif command == "y" and char.isascii() and char.isalpha():
            session.records.copy(self._copy, mark=char)

    def _copy(self, text) -> None:
        """Put the copied text on the clipboard (OSC 52: over SSH too)."""
        self.app.copy_to_clipboard(text.text)

    def action_fields(self) -> None:
        """Show the fields of the current line."""
        from .field_screen import FieldScreen

        self._ready().records.field_view(lambda view: self.app.push_screen(FieldScreen(view)))

    def action_columns(self) -> None:
        """Ask for the fields to show as columns."""
        self._open_prompt("c")

    def action_context(self) -> None:
        """Ask for the context lines around the & filter's matches."""
        self._open_prompt("C")

    def action_toggle_filter(self) -> None:
        """Switch the & filter off (the top line kept) or back on."""
        self._ready().toggle_filter()

    def action_histogram(self) -> None:
        """Lines per level over time; picking a bucket goes there."""
        from .histogram_screen import HistogramScreen

        if self.mode == "text":
            self.app.push_screen(HistogramScreen(self._ready()))

    def action_export(self) -> None:
        """Write lines of the log to a file of the operator's."""
        from .export_screen import ExportScreen

        if self.mode == "text":
            root = getattr(self.app, "alloc_root", None)
            self.app.push_screen(ExportScreen(self._ready(), root))

    def tool_prompt(self, kind: str, text: str) -> bool:
        """Apply what was typed at the ``c`` or ``C`` prompt; False for another prompt."""
        session = self._ready()
        if kind == "c":
            session.set_columns(text)
        elif kind == "C":
            number = text.strip() or "0"
            if number.isdigit():
                session.set_context(int(number))
            else:
                self.app.notify(f"context: a number of lines, not {text.strip()!r}",
                                severity="warning", markup=False)
        else:
            return False
        return True
