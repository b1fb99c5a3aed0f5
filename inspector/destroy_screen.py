"""The `D` dialog: destroy an allocation once its id has been typed."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from allocdir import AllocDir

from .dialog import ActionDialog, describe_error


class DestroyScreen(ActionDialog):
    """Type the alloc id to enable Destroy; Cancel has the focus at first.

    Dismissed with True when `AllocDir.destroy()` ran (even if it reported
    errors: part of the allocation may be gone), False when cancelled.
    """

    DEFAULT_CSS = """
    DestroyScreen { align: center middle; }
    DestroyScreen > Vertical {
        width: 76; height: auto; border: thick $error; background: $surface;
        padding: 1 2;
    }
    DestroyScreen Input { margin: 1 0; }
    DestroyScreen #message { margin-bottom: 1; }
    DestroyScreen #message.error { color: $error; }
    DestroyScreen Horizontal { height: auto; align-horizontal: right; }
    DestroyScreen Button { margin-left: 2; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, alloc: AllocDir) -> None:
        super().__init__()
        self.alloc = alloc

    def compose(self) -> ComposeResult:
        """The warning, the id field, Destroy (disabled) and Cancel."""
        with Vertical() as box:
            box.border_title = f"Destroy {self.alloc.alloc_id}"
            yield Label(
                f"This removes {self.alloc.alloc_dir} and everything in it.\n"
                "Type the allocation id to confirm:"
            )
            yield Input(placeholder=self.alloc.alloc_id, id="confirm")
            yield Static("", id="message")
            with Horizontal():
                yield Button("Destroy", variant="error", id="destroy", disabled=True)
                yield Button("Cancel", variant="primary", id="cancel")

    def on_mount(self) -> None:
        """Focus Cancel, so enter alone never destroys."""
        self.query_one("#cancel", Button).focus()

    @property
    def confirmed(self) -> bool:
        """True when the typed text is exactly the alloc id."""
        return self.query_one("#confirm", Input).value == self.alloc.alloc_id

    @on(Input.Changed, "#confirm")
    def _typed(self) -> None:
        self.query_one("#destroy", Button).disabled = not self.confirmed or self.running

    @on(Input.Submitted, "#confirm")
    @on(Button.Pressed, "#destroy")
    def _destroy(self) -> None:
        if self._finished:
            self.dismiss(True)
            return
        if self.running or not self.confirmed:
            return
        self.running = True
        self.query_one("#confirm", Input).disabled = True
        self.query_one("#destroy", Button).disabled = True
        self._say("destroying…")
        self._run()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without destroying (ignored while destroying)."""
        if not self.running:
            self.dismiss(self._finished)

    @work(thread=True, exclusive=True, group="destroy")
    def _run(self) -> None:
        try:
            self.alloc.destroy()
        except Exception as exc:  # reported in the dialog, never a crash of the app
            self.app.call_from_thread(self._failed, exc)
        else:
            self.app.call_from_thread(self._done)

    def _done(self) -> None:
        self.running = False
        self.app.notify(f"Allocation {self.alloc.alloc_id} destroyed", title="Destroy")
        self.dismiss(True)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self._finished = True
        text = f"Destroy failed: {describe_error(exc)}"
        self._say(text, error=True)
        self.app.notify(text, title="Destroy failed", severity="error")
        self.query_one("#destroy", Button).display = False
        cancel = self.query_one("#cancel", Button)
        cancel.label = "Close"
        cancel.focus()
