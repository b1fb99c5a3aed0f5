"""The `m` dialog: move an allocation's data and task `local/` dirs elsewhere.

Nomad moves `alloc/data` and each task's `local/` from the previous
allocation into the new one when a task group has a sticky ephemeral disk;
this dialog does the same into an alloc dir the user names, offering to
build it when it is not an alloc dir yet.
"""

from __future__ import annotations

import os

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from allocdir import AllocDir

from .dialog import ActionDialog, PathCheck, describe_error


class MoveScreen(ActionDialog):
    """Ask for the destination alloc dir, confirm building it if needed, move.

    Dismissed with True when something was moved (or a move failed part-way),
    False when nothing was done.
    """

    DEFAULT_CSS = """
    MoveScreen { align: center middle; }
    MoveScreen > Vertical {
        width: 80; height: auto; border: thick $primary; background: $surface;
        padding: 1 2;
    }
    MoveScreen Input { margin: 1 0; }
    MoveScreen #message { margin-bottom: 1; }
    MoveScreen #message.error { color: $error; }
    MoveScreen Horizontal { height: auto; align-horizontal: right; }
    MoveScreen Button { margin-left: 2; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, source: AllocDir) -> None:
        super().__init__()
        self.source = source
        self._build_confirmed_for: str | None = None

    def compose(self) -> ComposeResult:
        """What moves, the destination field, Move and Cancel."""
        tasks = ", ".join(sorted(self.source.task_dirs)) or "no tasks"
        with Vertical() as box:
            box.border_title = f"Move {self.source.alloc_id}"
            yield Label(
                f"Move alloc/data and the local/ dirs of {tasks}\n"
                "into the alloc dir at:"
            )
            yield Input(
                os.path.join(os.path.dirname(self.source.alloc_dir), ""), id="dest"
            )
            yield Static("", id="message")
            with Horizontal():
                yield Button("Move", variant="primary", id="move")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Focus the destination field."""
        self.query_one("#dest", Input).focus()

    @on(Input.Changed, "#dest")
    def _dest_changed(self) -> None:
        if self._build_confirmed_for is not None:
            self._build_confirmed_for = None
            self.query_one("#move", Button).label = "Move"
            self._say("")

    @on(Input.Submitted, "#dest")
    @on(Button.Pressed, "#move")
    def _move(self) -> None:
        if self._finished:
            self.dismiss(True)
            return
        if self.running:
            return
        field = self.query_one("#dest", Input)
        if not field.value.strip():
            self._say("Name the destination alloc dir", error=True)
            return
        self.start_path_check(field)

    def path_checked(self, check: PathCheck) -> None:
        """Refuse a bad destination, offer to build a new one, else start the move."""
        dest = check.path
        if dest == self.source.alloc_dir:
            self._say("The destination is the allocation itself", error=True)
            return
        build = not check.is_alloc_dir
        if build and self._build_confirmed_for != dest:
            if check.exists and not check.is_dir:
                self._say(f"{dest} exists and is not a directory", error=True)
                return
            self._build_confirmed_for = dest
            self.query_one("#move", Button).label = "Build and move"
            self._say(
                f"{dest} is not an alloc dir. Build it (alloc/ with logs, tmp, data) "
                "and move into it?"
            )
            return
        self.running = True
        self.query_one("#dest", Input).disabled = True
        self.query_one("#move", Button).disabled = True
        self._say("building and moving…" if build else "moving…")
        self._run(dest, build)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close (ignored while moving)."""
        if not self.running:
            self.cancel_check()
            self.dismiss(self._finished)

    @work(thread=True, exclusive=True, group="move")
    def _run(self, dest_path: str, build: bool) -> None:
        call = self.app.call_from_thread
        try:
            if build:
                dest = AllocDir(dest_path)
                dest.build()
            else:
                dest = AllocDir.discover(dest_path)
            dest.move(self.source, tasks=list(self.source.task_dirs))
        except Exception as exc:  # reported in the dialog, never a crash of the app
            call(self._failed, exc)
        else:
            call(self._done, dest_path)

    def _done(self, dest: str) -> None:
        self.running = False
        self.app.notify(f"Moved {self.source.alloc_id} data into {dest}", title="Move")
        self.dismiss(True)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self._finished = True
        text = f"Move failed: {describe_error(exc)}"
        self._say(text, error=True)
        self.app.notify(text, title="Move failed", severity="error")
        self.query_one("#move", Button).disabled = False
        self.query_one("#move", Button).label = "Close"
        self.query_one("#cancel", Button).display = False
