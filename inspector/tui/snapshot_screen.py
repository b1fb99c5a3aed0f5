"""The `s` dialog: write a tar snapshot of an allocation, with progress.

The destination is shown as the absolute path it resolves to while it is
typed, with the directory a relative path is taken from. Before anything is
written, `inspector.core.actions.snapshot_target` checks the destination and
that the estimated tar fits; `inspector.core.actions.run_snapshot` writes it and
says exactly what is left on disk when it fails.
"""

from __future__ import annotations

import threading
import time

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Button, Input, Label, ProgressBar, Static

from allocdir import AllocDir
from allocdir.plaintext import size_words

from ..core import actions
from ..core.actions import BusyRegistry, Refused, SnapshotOutcome, SnapshotTarget
from ..core.roots import Root
from ..core.text import plain, printable
from .dialog import ActionDialog, current_dir, shown_lines

_REDRAW_EVERY = 0.05  # seconds between progress updates sent to the screen


class SnapshotScreen(ActionDialog):
    """Ask for the output file, check it, then snapshot in a worker with a
    progress bar.

    Dismissed with True once a snapshot was written (or failed, so the tree
    is refreshed), False when nothing was done.
    """

    DEFAULT_CSS = """
    SnapshotScreen ProgressBar { margin: 1 0 0 0; }
    """

    def __init__(self, alloc: AllocDir, root: Root, busy: BusyRegistry | None = None) -> None:
        super().__init__(f"Snapshot {alloc.alloc_id}")
        self.alloc = alloc
        self.root = root
        self.busy = busy if busy is not None else BusyRegistry()
        self.cwd: str | None = None
        self._cancel = threading.Event()
        self._confirm_replace: str | None = None

    def compose_body(self) -> ComposeResult:
        """The output file field, where it resolves to, a progress bar."""
        yield Label("Write a tar of alloc/data and each task's local/ to:")
        yield Input(f"{printable(self.alloc.alloc_id)}.tar", id="path")
        yield Static("", id="where", classes="dim", markup=False)
        yield ProgressBar(id="progress", show_eta=False)

    def compose_buttons(self) -> ComposeResult:
        """Snapshot and Cancel."""
        yield Button("Snapshot", variant="primary", id="start")
        yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Hide the progress bar until the snapshot starts; learn the cwd."""
        self.query_one("#progress").display = False
        self.query_one("#path", Input).focus()
        self._learn_cwd()

    @work(thread=True, group="snapshot-cwd")
    def _learn_cwd(self) -> None:
        self.deliver(self._set_cwd, current_dir())

    def _set_cwd(self, cwd: str) -> None:
        self.cwd = cwd
        self._show_where()

    @on(Input.Changed, "#path")
    def _show_where(self) -> None:
        self._confirm_replace = None
        if self.cwd is None:
            return
        typed = self.query_one("#path", Input).value
        where = self.query_one("#where", Static)
        if not self.cwd:
            where.update(plain("The current directory no longer exists: type an absolute path"))
            return
        cwd = printable(self.cwd)
        if typed.strip():
            target = printable(actions.resolve_typed(typed, self.cwd))
            where.update(shown_lines(f"→ {target}\n  (relative paths start in {cwd})"))
        else:
            where.update(plain(f"relative paths start in {cwd}"))

    @on(Input.Submitted, "#path")
    @on(Button.Pressed, "#start")
    def _start(self) -> None:
        if self.running or self.checking:
            return
        if self.finished:
            self.dismiss(True)
            return
        typed = self.query_one("#path", Input).value
        cwd = self.cwd if self.cwd is not None else current_dir()
        self.say("checking the destination and measuring the allocation…")
        self.run_check(("target", typed), actions.snapshot_target, self.alloc, typed,
                       self.root, cwd, self.busy, then=self._checked_target)

    def _checked_target(self, result: SnapshotTarget | Refused) -> None:
        if isinstance(result, Refused):
            self.say(result.reason, error=True)
            return
        if result.exists and self._confirm_replace != result.path:
            self._confirm_replace = result.path
            self.say(f"{printable(result.path)} exists: press Snapshot again to replace it "
                     "(once the new snapshot is complete)", error=True)
            return
        self.running = True
        self.query_one("#path", Input).disabled = True
        self.query_one("#start", Button).disabled = True
        self.query_one("#progress").display = True
        self._progress(0, result.estimate.content_bytes)
        self._snapshot(result)

    def action_cancel(self) -> None:
        """Stop a running snapshot (its partial file is removed), or close."""
        if self.running:
            self._cancel.set()
            self.say("cancelling…")
        else:
            super().action_cancel()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @work(thread=True, exclusive=True, group="snapshot")
    def _snapshot(self, target: SnapshotTarget) -> None:
        total = target.estimate.content_bytes
        last = 0.0

        def progress(done: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= _REDRAW_EVERY:
                last = now
                if not self.deliver(self._progress, done, total):
                    self._cancel.set()  # the app is gone: stop, remove the partial file

        outcome = actions.run_snapshot(self.alloc, target, self.root, self.busy,
                                       progress=progress, cancel=self._cancel)
        self.deliver(self._ended, outcome)

    def _progress(self, done: int, total: int) -> None:
        self.query_one("#progress", ProgressBar).update(total=max(total, 1), progress=done)
        self.say(f"archived {size_words(done)} of ~{size_words(total)}")

    def _ended(self, outcome: SnapshotOutcome | Refused) -> None:
        self.running = False
        if isinstance(outcome, Refused):
            self._finish(outcome.reason)
            return
        text = outcome.message()
        if outcome.ok:
            self.notify_plain(text, title="Snapshot")
            self.dismiss(True)
        elif outcome.cancelled and outcome.removed:
            self.notify_plain(text, severity="warning")
            self.dismiss(False)
        else:
            self.notify_plain(text, title="Snapshot failed", severity="error")
            self._finish(text)

    def _finish(self, text: str) -> None:
        """Show why it failed; only Close is left."""
        self.finished = True
        self.say(text, error=True)
        self.query_one("#progress").display = False
        start = self.query_one("#start", Button)
        start.disabled = False
        start.label = "Close"
        start.focus()
        self.query_one("#cancel", Button).display = False
