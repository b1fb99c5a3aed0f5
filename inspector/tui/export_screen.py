"""``W``: write lines of the open log to a file of the operator's, with progress.

What (the view: the lines the ``&`` filter shows with their context; the
lines between two marks; everything; a time range) and how (plain, escaped
or raw) are picked in the dialog; the destination is shown as the absolute
path it resolves to and checked in a worker before anything is written
(:func:`inspector.core.export.export_target`: never inside an allocation
or below a client root). The default is a new file named after the log and
the time, in the current directory, or the home directory when the current
one is inside an allocation.
"""

from __future__ import annotations

import os
import posixpath
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Button, Input, Label, ProgressBar, RadioButton, RadioSet, Static

from allocdir.plaintext import size_words

from ..core import export
from ..core.text import plain, printable
from .dialog import ActionDialog, current_dir, shown_lines

SCOPES = ((export.VIEW, "the view: the lines the & filter shows (all lines without one)"),
          (export.MARKS, "the lines between two marks"),
          (export.ALL, "everything: the whole log or rotation set"),
          (export.TIME, "a time range"))
FORMATS = ((export.PLAIN, "plain text, as shown (escape sequences dropped)"),
           (export.ESCAPED, "escaped (control characters as \\x1b…)"),
           (export.RAW, "raw bytes, exactly as written"))
RANGE_HINTS = {export.MARKS: "two mark letters, e.g. ab",
               export.TIME: "from [to], e.g. 10:15 10:30, or 2026-11-28T10:15"}


def default_name(label: str, now: datetime | None = None) -> str:
    """A file name for an export of ``label``: the alloc id's first 8
    characters, the log's name, the time."""
    now = now or datetime.now()
    alloc = label.split("/", 1)[0][:8] if "/" in label else ""
    name = posixpath.basename(label.rstrip("/")) or "log"
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in f"{alloc}-{name}".strip("-"))
    return f"{safe}-{now:%Y%m%d-%H%M%S}.log"


def default_dir(roots: list[str]) -> str:
    """Where an export goes by default: the current directory, else the home
    directory, else /var/tmp (the first that is no place refused). Blocking."""
    for candidate in (current_dir(), os.path.expanduser("~"), "/var/tmp"):
        if candidate and os.path.isdir(candidate) and \
                export.place_refusal(os.path.join(os.path.realpath(candidate), "x"),
                                     roots) is None:
            return os.path.realpath(candidate)
    return "/var/tmp"


class ExportScreen(ActionDialog):
    """Pick what to write and where, check, then write in a worker with a
    progress bar. Dismissed with True once written."""

    DEFAULT_CSS = """
    ExportScreen RadioSet { width: 100%; margin: 1 0 0 0; }
    ExportScreen ProgressBar { margin: 1 0 0 0; }
    """

    def __init__(self, session, root=None) -> None:
        super().__init__("Write lines to a file")
        self.session = session
        self.roots = export.avoided_roots(session.fs, root)
        self.cwd: str | None = None
        self._cancel = None
        self._confirm_replace: str | None = None

    def compose_body(self) -> ComposeResult:
        """What, how, where."""
        yield Label("Write to:")
        yield Input("", id="path", placeholder="a file outside every allocation")
        yield Static("", id="where", classes="dim", markup=False)
        with RadioSet(id="scope"):
            for i, (_scope, words) in enumerate(SCOPES):
                yield RadioButton(words, value=i == 0)
        yield Input("", id="range", placeholder="", disabled=True)
        with RadioSet(id="format"):
            for i, (_fmt, words) in enumerate(FORMATS):
                yield RadioButton(words, value=i == 0)
        yield ProgressBar(id="progress", show_eta=False)

    def compose_buttons(self) -> ComposeResult:
        """Export and Cancel."""
        yield Button("Export", variant="primary", id="start")
        yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Hide the progress bar; pick the default destination in a worker."""
        self.query_one("#progress").display = False
        self.query_one("#path", Input).focus()
        self._learn_place()

    @work(thread=True, group="export-place")
    def _learn_place(self) -> None:
        self.deliver(self._set_place, current_dir(), default_dir(self.roots))

    def _set_place(self, cwd: str, directory: str) -> None:
        self.cwd = cwd or directory
        field = self.query_one("#path", Input)
        if not field.value:
            field.value = os.path.join(directory, default_name(self.session.status.path
                                                               if self.session.status else ""))
        self._show_where()

    @property
    def scope(self) -> str:
        """The scope picked."""
        return SCOPES[max(0, self.query_one("#scope", RadioSet).pressed_index)][0]

    @property
    def fmt(self) -> str:
        """The format picked."""
        return FORMATS[max(0, self.query_one("#format", RadioSet).pressed_index)][0]

    @on(RadioSet.Changed, "#scope")
    def _scope_changed(self) -> None:
        field = self.query_one("#range", Input)
        hint = RANGE_HINTS.get(self.scope, "")
        field.placeholder, field.disabled = hint, not hint

    @on(Input.Changed, "#path")
    def _show_where(self) -> None:
        self._confirm_replace = None
        if self.cwd is None:
            return
        typed = self.query_one("#path", Input).value.strip()
        where = self.query_one("#where", Static)
        if typed:
            target = os.path.normpath(os.path.join(self.cwd, os.path.expanduser(typed)))
            where.update(shown_lines(f"→ {printable(target)}"))
        else:
            where.update(plain(f"relative paths start in {printable(self.cwd)}"))

    @on(Input.Submitted)
    @on(Button.Pressed, "#start")
    def _start(self) -> None:
        if self.running or self.checking:
            return
        if self.finished:
            self.dismiss(False)
            return
        plan = self._plan()
        if isinstance(plan, str):
            self.say(plan, error=True)
            return
        typed = self.query_one("#path", Input).value
        self.say("checking the destination…")
        self.run_check(("target", typed, plan), export.export_target, typed,
                       self.cwd or current_dir(), self.roots,
                       then=lambda result: self._checked(plan, result))

    def _plan(self):
        scope, typed = self.scope, self.query_one("#range", Input).value.split()
        if scope == export.TIME:
            return self.session.records.plan(scope, self.fmt, since=typed[0] if typed else "",
                                             until=" ".join(typed[1:2]))
        return self.session.records.plan(scope, self.fmt, marks="".join(typed))

    def _checked(self, plan, result) -> None:
        if not isinstance(result, export.ExportTarget):
            self.say(str(result), error=True)
            return
        if result.exists and self._confirm_replace != result.path:
            self._confirm_replace = result.path
            self.say(f"{printable(result.path)} exists: press Export again to replace it "
                     "(once the export is complete)", error=True)
            return
        self.running = True
        for widget in self.query("Input, RadioSet"):
            widget.disabled = True
        self.query_one("#start", Button).disabled = True
        self.query_one("#progress").display = True
        self.say("writing…")
        self._cancel = self.session.records.export(plan, result, self.roots, self._ended,
                                                  progress=self._progress)

    def _progress(self, done_total: tuple[int, int]) -> None:
        done, total = done_total
        if self.is_attached:
            self.query_one("#progress", ProgressBar).update(total=max(total, 1), progress=done)
            self.say(f"read {size_words(done)} of {size_words(total)}")

    def _ended(self, outcome) -> None:
        self.running = False
        text = outcome.message()
        if outcome.written:
            self.notify_plain(text, title="Export")
            if self.is_attached:
                self.dismiss(True)
            return
        if outcome.cancelled:
            self.notify_plain(text, severity="warning")
            if self.is_attached:
                self.dismiss(False)
            return
        self.notify_plain(text, title="Export failed", severity="error")
        if self.is_attached:
            self.finished = True
            self.say(text, error=True)
            self.query_one("#progress").display = False
            start = self.query_one("#start", Button)
            start.disabled, start.label = False, "Close"
            start.focus()

    def action_cancel(self) -> None:
        """Stop a running export (nothing is left of it), or close."""
        if self.running and self._cancel is not None:
            self._cancel.set()
            self.say("cancelling…")
        else:
            super().action_cancel()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
