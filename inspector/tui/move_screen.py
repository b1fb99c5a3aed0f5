"""The `m` dialog: move an allocation's data and task `local/` dirs elsewhere.

Nomad moves `alloc/data` and each task's `local/` from the previous
allocation into the new one when a task group has a sticky ephemeral disk;
this dialog does the same into an alloc dir the user names, or builds one
in a directory that does not exist yet or is empty. The field starts empty:
there is no destination a user could confirm by pressing Enter twice.

Before anything moves the dialog shows what moves (with sizes) and where
(the absolute path, and whether an alloc dir is built there), and asks for
a second Move. `inspector.core.actions.move_target` decides what is refused.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Button, Input, Label, Static

from allocdir import AllocDir

from ..core import actions
from ..core.actions import BusyRegistry, MovePart, MoveTarget, Refused
from .dialog import ActionDialog, current_dir, describe_error, shown_lines
from .liveness_note import LivenessNote
from ..core.roots import Root
from ..core.text import plain, printable


class MoveScreen(ActionDialog):
    """Ask for the destination, show the plan, move once confirmed.

    Dismissed with True when something was moved (or a move failed part-way),
    False when nothing was done.
    """

    DEFAULT_CSS = """
    MoveScreen #parts { padding-left: 2; }
    """

    def __init__(self, source: AllocDir, root: Root, busy: BusyRegistry | None = None) -> None:
        super().__init__(f"Move {source.alloc_id}")
        self.source = source
        self.root = root
        self.busy = busy if busy is not None else BusyRegistry()
        self.cwd: str | None = None
        self.parts: list[MovePart] | None = None
        self._confirmed: tuple[str, MoveTarget] | None = None  # typed text, checked target

    def compose_body(self) -> ComposeResult:
        """What moves, the destination field, where it resolves to."""
        yield Label(
            f"Move the data of {printable(self.source.alloc_id)} into another alloc dir: an "
            "existing one (e.g. the replacement allocation), or a directory that does not "
            "exist yet or is empty, to build one there. What moves:",
            markup=False,
        )
        yield Static("measuring…", id="parts", markup=False)
        yield LivenessNote(self.source.alloc_dir, id="liveness")
        yield Input(placeholder="destination: /path/to/<alloc id>", id="dest")
        yield Static("", id="where", classes="dim", markup=False)

    def compose_buttons(self) -> ComposeResult:
        """Move and Cancel."""
        yield Button("Move", variant="primary", id="move")
        yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Focus the destination field; measure what moves."""
        self.query_one("#dest", Input).focus()
        self._measure()

    @work(thread=True, group="move-measure")
    def _measure(self) -> None:
        parts = actions.move_parts(self.source)
        self.deliver(self._measured, parts, current_dir())

    def _measured(self, parts: list[MovePart], cwd: str) -> None:
        self.parts, self.cwd = parts, cwd
        self.query_one("#parts", Static).update(
            shown_lines("\n".join(part.describe() for part in parts)))
        self._show_where()

    @on(Input.Changed, "#dest")
    def _dest_changed(self) -> None:
        if self._confirmed is not None:
            self._confirmed = None
            self.query_one("#move", Button).label = "Move"
            self.say("")
        self._show_where()

    def _show_where(self) -> None:
        typed = self.query_one("#dest", Input).value
        where = self.query_one("#where", Static)
        if self.cwd is None or not typed.strip():
            where.update("")
        elif not self.cwd and not actions.resolve_typed(typed, "").startswith("/"):
            where.update(plain("The current directory no longer exists: type an absolute path"))
        else:
            where.update(plain(f"→ {actions.resolve_typed(typed, self.cwd)}"))

    @on(Input.Submitted, "#dest")
    def _submitted(self) -> None:
        if self.enter_confirms():
            self._move()

    @on(Button.Pressed, "#move")
    def _move(self) -> None:
        if self.finished:
            self.dismiss(True)
            return
        if self.running or self.checking:
            return
        typed = self.query_one("#dest", Input).value
        if not self.query_one(LivenessNote).known:
            self.say("Still looking whether the allocation is in use…", error=True)
            return
        if self._confirmed is not None and self._confirmed[0] == typed:
            self._start(self._confirmed[1])
            return
        cwd = self.cwd if self.cwd is not None else current_dir()
        self.say("checking the destination…")
        self.run_check(("dest", typed), actions.move_target, self.source, typed, self.root,
                       cwd, self.busy, then=lambda result: self._checked_dest(typed, result))

    def _checked_dest(self, typed: str, result: MoveTarget | Refused) -> None:
        if isinstance(result, Refused):
            self.say(result.reason, error=True)
            return
        if self.query_one("#dest", Input).value != typed:
            return  # edited meanwhile: the next Move checks the new text
        self._confirmed = (typed, result)
        button = "Build and move" if result.build else "Move"
        self.query_one("#move", Button).label = button
        self.say(f"{result.describe()}\nPress {button} to confirm.")

    def _start(self, target: MoveTarget) -> None:
        self.running = True
        self.query_one("#dest", Input).disabled = True
        self.query_one("#move", Button).disabled = True
        self.say("building and moving…" if target.build else "moving…")
        self._run(target, self.cwd or "")

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @work(thread=True, exclusive=True, group="move")
    def _run(self, target: MoveTarget, cwd: str) -> None:
        try:
            refusal = actions.run_move(self.source, target, self.root, cwd, self.busy)
        except Exception as exc:  # reported in the dialog, never a crash of the app
            self.deliver(self._failed, exc)
        else:
            self.deliver(self._refused if refusal else self._done, refusal or target)

    def _done(self, target: MoveTarget) -> None:
        self.running = False
        self.notify_plain(
            f"Moved the data of {printable(self.source.alloc_id)} into "
            f"{printable(target.path)}", title="Move")
        self.dismiss(True)

    def _refused(self, reason: str) -> None:
        """Refused when checked again: nothing was done; the user may retry."""
        self.running = False
        self._confirmed = None
        self.query_one("#dest", Input).disabled = False
        move = self.query_one("#move", Button)
        move.disabled = False
        move.label = "Move"
        self.say(reason, error=True)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.finished = True
        text = f"Move failed: {describe_error(exc)}"
        self.say(text, error=True)
        self.notify_plain(text, title="Move failed", severity="error")
        move = self.query_one("#move", Button)
        move.disabled = False
        move.label = "Close"
        move.focus()
        self.query_one("#cancel", Button).display = False
