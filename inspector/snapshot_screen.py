"""The `s` dialog: write a tar snapshot of an allocation, with progress."""

from __future__ import annotations

import os
import time

import humanize
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, ProgressBar, Static

from allocdir import AllocDir, snapshot_error_filename

from .dialog import ActionDialog, PathCheck

_REDRAW_EVERY = 0.05  # seconds between progress updates sent to the screen


class SnapshotCancelled(Exception):
    """Raised from the progress callback to stop a snapshot the user cancelled."""


class SnapshotScreen(ActionDialog):
    """Ask for the output file, then snapshot in a worker with a progress bar.

    Dismissed with True once a snapshot was written (or failed half-way, so
    the tree is refreshed), False when nothing was done.
    """

    DEFAULT_CSS = """
    SnapshotScreen { align: center middle; }
    SnapshotScreen > Vertical {
        width: 76; height: auto; border: thick $primary; background: $surface;
        padding: 1 2;
    }
    SnapshotScreen Input { margin: 1 0; }
    SnapshotScreen ProgressBar { margin: 1 0 0 0; }
    SnapshotScreen #message { margin: 1 0; }
    SnapshotScreen #message.error { color: $error; }
    SnapshotScreen Horizontal { height: auto; align-horizontal: right; }
    SnapshotScreen Button { margin-left: 2; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, alloc: AllocDir) -> None:
        super().__init__()
        self.alloc = alloc
        self._cancel = False
        self._confirm_overwrite: str | None = None

    def compose(self) -> ComposeResult:
        """The output file field, a progress bar, Snapshot and Cancel."""
        with Vertical() as box:
            box.border_title = f"Snapshot {self.alloc.alloc_id}"
            yield Label("Write a tar of alloc/data and each task's local/ to:")
            yield Input(f"{self.alloc.alloc_id}.tar", id="path")
            yield ProgressBar(id="progress", show_eta=False)
            yield Static("", id="message")
            with Horizontal():
                yield Button("Snapshot", variant="primary", id="start")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Hide the progress bar until the snapshot starts."""
        self.query_one("#progress").display = False

    @on(Input.Submitted, "#path")
    @on(Button.Pressed, "#start")
    def _start(self) -> None:
        if self.running:
            return
        if self._finished:
            self.dismiss(True)
            return
        self.start_path_check(self.query_one("#path", Input))

    def path_checked(self, check: PathCheck) -> None:
        """Refuse a directory, ask before overwriting a file, else start the snapshot."""
        path = check.path
        if check.is_dir:
            self._say(f"{path} is a directory: name a file", error=True)
            return
        if check.exists and self._confirm_overwrite != path:
            self._confirm_overwrite = path
            self._say(f"{path} exists: press Snapshot again to overwrite it", error=True)
            return
        self.running = True
        self.query_one("#path", Input).disabled = True
        self.query_one("#start", Button).disabled = True
        self.query_one("#progress").display = True
        self._say("measuring…")
        self._snapshot(path)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Stop a running snapshot, or close the dialog."""
        if self.running:
            self._cancel = True
            self._say("cancelling…")
        else:
            self.cancel_check()
            self.dismiss(self._finished)

    @work(thread=True, exclusive=True, group="snapshot")
    def _snapshot(self, path: str) -> None:
        call = self.app.call_from_thread
        try:
            total = self.alloc.snapshot_size()
        except Exception as exc:  # a vanished or unreadable alloc dir
            call(self._failed, path, exc, created=False)
            return
        call(self._progress, 0, total)
        last = 0.0

        def progress(done: int) -> None:
            nonlocal last
            if self._cancel:
                raise SnapshotCancelled()
            now = time.monotonic()
            if now - last >= _REDRAW_EVERY:
                last = now
                call(self._progress, done, total)

        try:
            out = open(path, "wb")
        except OSError as exc:
            call(self._failed, path, exc, created=False)
            return
        try:
            with out:
                self.alloc.snapshot(out, progress=progress)
                out.flush()
                size = os.fstat(out.fileno()).st_size
        except Exception as exc:
            if self._cancel:  # allocdir may wrap SnapshotCancelled in its own error
                removed = ""
                try:
                    os.unlink(path)
                except OSError as error:
                    removed = str(error) or type(error).__name__
                call(self._cancelled, path, removed)
            else:
                call(self._failed, path, exc, created=True)
        else:
            call(self._done, path, size)

    def _progress(self, done: int, total: int) -> None:
        self.query_one("#progress", ProgressBar).update(total=max(total, 1), progress=done)
        self._say(
            f"archived {humanize.naturalsize(done)} of {humanize.naturalsize(total)}"
        )

    def _finish(self) -> None:
        self.running = False
        self._finished = True
        self.query_one("#start", Button).disabled = False
        self.query_one("#start", Button).label = "Close"
        self.query_one("#cancel", Button).display = False

    def _done(self, path: str, size: int) -> None:
        self.running = False
        text = f"Snapshot of {self.alloc.alloc_id} written to {path} ({humanize.naturalsize(size)})"
        self.app.notify(text, title="Snapshot")
        self.dismiss(True)

    def _failed(self, path: str, exc: BaseException, *, created: bool) -> None:
        reason = str(exc) or type(exc).__name__
        if created:
            marker = snapshot_error_filename(self.alloc.alloc_id)
            text = (
                f"Snapshot failed: {reason}\nThe partial tar is kept at {path}; "
                f"it ends with {marker} holding the error."
            )
        else:
            text = f"Snapshot failed: {reason}\nNothing was written."
        self._say(text, error=True)
        self.app.notify(text, title="Snapshot failed", severity="error")
        self._finish()

    def _cancelled(self, path: str, error: str) -> None:
        self.running = False
        if error:
            text = f"Snapshot cancelled; the partial {path} could not be removed: {error}"
        else:
            text = f"Snapshot cancelled; {path} removed"
        self.app.notify(text, severity="warning")
        self.dismiss(False)
