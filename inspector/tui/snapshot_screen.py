"""The `s` dialog: write a tar snapshot of an allocation, with progress.

The field opens filled with a default destination the snapshot rules
accept (`inspector.core.snapshot_default`: the current directory unless it
is inside an allocation or a client root, else `$HOME`, else `/var/tmp`),
with the reason when it is not the current directory. The destination is
shown as the absolute path it resolves to while it is typed, with the
directory a relative path is taken from. What the snapshot holds is
measured in a worker as the dialog opens, and again when the logs option
changes: the estimate is on screen before Enter. Logs are left out unless
asked for, as Nomad's snapshot does, and the dialog says which.

Before anything is written, `inspector.core.actions.snapshot_target`
checks the destination and that the estimated tar fits;
`inspector.core.actions.run_snapshot` writes it and says exactly what is
left on disk when it fails.
"""

from __future__ import annotations

import threading
import time

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Static

from allocdir import AllocDir
from allocdir.fsops import TreeSize
from allocdir.plaintext import size_words

from ..core import actions
from ..core.actions import BusyRegistry, Refused, SnapshotOutcome, SnapshotTarget
from ..core.roots import Root
from ..core.snapshot_default import SnapshotDefault, default_snapshot_path
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
        self.default: SnapshotDefault | None = None

    def compose_body(self) -> ComposeResult:
        """The output file field, where it resolves to, the logs option,
        the estimate, a progress bar."""
        yield Label("Write a tar of alloc/data and each task's local/ to:")
        yield Input(placeholder="finding a place…", id="path")
        yield Static("", id="where", classes="dim", markup=False)
        yield Checkbox("Include the task logs (alloc/logs)", False, id="logs")
        yield Static("measuring…", id="estimate", markup=False)
        yield ProgressBar(id="progress", show_eta=False)

    def compose_buttons(self) -> ComposeResult:
        """Snapshot and Cancel."""
        yield Button("Snapshot", variant="primary", id="start")
        yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Hide the progress bar until the snapshot starts; find the default
        destination and measure what the snapshot holds."""
        self.query_one("#progress").display = False
        self.query_one("#path", Input).focus()
        self._learn_place()
        self._estimate(False)

    @property
    def include_logs(self) -> bool:
        """Whether the snapshot includes ``alloc/logs`` (off by default)."""
        return self.query_one("#logs", Checkbox).value

    @work(thread=True, group="snapshot-cwd")
    def _learn_place(self) -> None:
        cwd = current_dir()
        self.deliver(self._set_place, cwd, default_snapshot_path(self.alloc, self.root, cwd))

    def _set_place(self, cwd: str, default: SnapshotDefault) -> None:
        field = self.query_one("#path", Input)
        if not field.size.width:
            # Not laid out yet: filled now, the field could not scroll to the
            # file name at the end (what one edits), and would show the start.
            self.call_after_refresh(self._set_place, cwd, default)
            return
        self.cwd = cwd
        if not field.value:  # what the user typed meanwhile stays
            field.value = printable(default.path)
            field.cursor_position = len(field.value)
        self.default = default
        self._show_where()

    @on(Checkbox.Changed, "#logs")
    def _logs_changed(self, event: Checkbox.Changed) -> None:
        self._estimate(event.value)

    @work(thread=True, exclusive=True, group="snapshot-estimate")
    def _estimate(self, include_logs: bool) -> None:
        self.deliver(self._show_estimate, "measuring…")
        try:
            size = self.alloc.snapshot_estimate(include_logs=include_logs)
        except Exception as exc:  # said in the dialog; Enter checks again and refuses
            self.deliver(self._show_estimate, f"cannot measure the allocation: {printable(exc)}")
            return
        self.deliver(self._measured, include_logs, size)

    def _measured(self, include_logs: bool, size: TreeSize) -> None:
        if include_logs != self.include_logs:
            return  # the option changed meanwhile: its own estimate follows
        self._show_estimate(estimate_words(size, include_logs))

    def _show_estimate(self, text: str) -> None:
        self.query_one("#estimate", Static).update(plain(text))

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
        default = self.default
        why = f"\n  ({default.why})" if default is not None and default.why else ""
        if typed.strip():
            target = printable(actions.resolve_typed(typed, self.cwd))
            where.update(shown_lines(f"→ {target}\n  (relative paths start in {cwd}){why}"))
        else:
            where.update(shown_lines(f"relative paths start in {cwd}{why}"))

    @on(Input.Submitted, "#path")
    def _submitted(self) -> None:
        if self.enter_confirms():
            self._start()

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
        self.run_check(("target", typed, self.include_logs), self._check_target, typed, cwd,
                       self.include_logs, then=self._checked_target)

    def _check_target(self, typed: str, cwd: str, include_logs: bool) -> SnapshotTarget | Refused:
        return actions.snapshot_target(self.alloc, typed, self.root, cwd, self.busy,
                                       include_logs=include_logs)

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
        self.query_one("#logs", Checkbox).disabled = True
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


def estimate_words(size: TreeSize, include_logs: bool) -> str:
    """What a snapshot of that size holds, in words, saying whether the logs
    are in it."""
    entries = f"{size.entries:,} {'entry' if size.entries == 1 else 'entries'}"
    logs = ("with the task logs (alloc/logs)" if include_logs
            else "logs left out, as Nomad's snapshot does")
    return f"About {size_words(size.content_bytes)} in {entries}; {logs}."
