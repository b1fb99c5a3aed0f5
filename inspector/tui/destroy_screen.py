"""The `D` dialog: destroy an allocation once its id has been typed (in a
keep directory: remove a kept copy, worded so).

The id field has the focus, so what is typed goes there; Enter with
anything but the id says so rather than closing; Destroy stays disabled
until the id matches. What is refused (`inspector.core.actions.destroy_refusal`:
the client root, a data_dir, a mount point, an allocation another action is
running on…) is said as soon as the dialog opens, and checked again right
before destroying.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Button, Input, Label

from allocdir import AllocDir

from ..core import actions
from ..core.actions import BusyRegistry
from .dialog import ActionDialog, describe_error
from .liveness_note import LivenessNote
from ..core.roots import Root
from ..core.text import printable


class DestroyScreen(ActionDialog):
    """Type the alloc id to enable Destroy.

    Dismissed with True when `AllocDir.destroy()` ran (even if it reported
    errors: part of the allocation may be gone), False when cancelled.
    """

    DEFAULT_CSS = """
    DestroyScreen > #box { border: thick $error; }
    """

    def __init__(self, alloc: AllocDir, root: Root, busy: BusyRegistry | None = None) -> None:
        words = actions.destroy_words(alloc)  # a kept copy is removed, not destroyed
        super().__init__(f"{words.title} {alloc.alloc_id}")
        self.words = words
        self.alloc = alloc
        self.root = root
        self.busy = busy if busy is not None else BusyRegistry()
        self.refusal: str | None = None
        """Why this allocation cannot be destroyed (None: not refused, or not known yet)."""

    def compose_body(self) -> ComposeResult:
        """The warning and the id field."""
        yield Label(self.words.warning.format(path=printable(self.alloc.alloc_dir)),
                    markup=False)
        yield LivenessNote(self.alloc.alloc_dir, id="liveness")
        yield Label("Type the allocation id to confirm:", id="prompt")
        yield Input(placeholder=printable(self.alloc.alloc_id), id="confirm")

    def compose_buttons(self) -> ComposeResult:
        """Destroy (disabled until the id is typed) and Cancel."""
        yield Button(self.words.title, variant="error", id="destroy", disabled=True)
        yield Button("Cancel", variant="primary", id="cancel")

    def on_mount(self) -> None:
        """Focus the id field; find out at once whether destroying is refused."""
        self.query_one("#confirm", Input).focus()
        self.run_check("refusal", actions.destroy_refusal, self.alloc, self.root, self.busy,
                       then=self._checked)

    def _checked(self, refusal: str | None) -> None:
        if isinstance(refusal, actions.Refused):  # the check itself failed
            refusal = refusal.reason
        self.refusal = refusal
        if refusal:
            self.say(self._cannot(refusal), error=True)
        self._update_button()

    def _cannot(self, refusal: str) -> str:
        """The refusal, worded for this dialog: "Cannot destroy: …"."""
        title = self.words.title
        return f"Cannot {title[:1].lower()}{title[1:]}: {refusal}"

    @property
    def confirmed(self) -> bool:
        """True when the typed text is exactly the alloc id."""
        return self.query_one("#confirm", Input).value == self.alloc.alloc_id

    def _update_button(self) -> None:
        self.query_one("#destroy", Button).disabled = (
            not self.confirmed or self.running or bool(self.refusal) or self.finished)

    @on(Input.Changed, "#confirm")
    def _typed(self) -> None:
        self._update_button()
        if self.confirmed and not self.refusal and not self.running:
            self.say("")

    @on(Input.Submitted, "#confirm")
    def _submitted(self) -> None:
        if self.enter_confirms():
            self._destroy()

    @on(Button.Pressed, "#destroy")
    def _destroy(self) -> None:
        if self.finished:
            self.dismiss(True)
            return
        if self.running:
            return
        if self.refusal:
            self.say(self._cannot(self.refusal), error=True)
            return
        if not self.confirmed:
            self.say(f"Type the alloc id to confirm: {printable(self.alloc.alloc_id)}",
                     error=True)
            return
        if not self.query_one(LivenessNote).known:
            self.say("Still looking whether the allocation is in use…", error=True)
            return
        self.running = True
        self.query_one("#confirm", Input).disabled = True
        self._update_button()
        self.say(f"{self.words.doing}…")
        self._run()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @work(thread=True, exclusive=True, group="destroy")
    def _run(self) -> None:
        try:
            refusal = actions.run_destroy(self.alloc, self.root, self.busy)
        except Exception as exc:  # reported in the dialog, never a crash of the app
            self.deliver(self._failed, exc)
        else:
            self.deliver(self._refused if refusal else self._done, refusal)

    def _done(self, _: None) -> None:
        self.running = False
        words = self.words
        self.notify_plain(f"{words.what} {printable(self.alloc.alloc_id)} {words.done}",
                          title=words.title)
        self.dismiss(True)

    def _refused(self, refusal: str) -> None:
        """Refused when checked again right before: nothing was destroyed."""
        self.running = False
        self.refusal = refusal
        self.query_one("#confirm", Input).disabled = False
        self._update_button()
        self.say(self._cannot(refusal), error=True)
        self.notify_plain(self._cannot(refusal), title=f"{self.words.title} refused",
                          severity="warning")

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.finished = True
        text = f"{self.words.title} failed: {describe_error(exc)}"
        self.say(text, error=True)
        self.notify_plain(text, title=f"{self.words.title} failed", severity="error")
        self.query_one("#destroy", Button).display = False
        cancel = self.query_one("#cancel", Button)
        cancel.label = "Close"
        cancel.focus()
