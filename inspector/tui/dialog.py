"""What the `s`, `m` and `D` dialogs share: the layout, the message line,
plain-text rendering, and checks run off the event loop.

A dialog never touches the file system on the event loop: its checks (the
functions of `inspector.core.actions`) run in a thread worker
(`ActionDialog.run_check`) and the answer comes back on the event loop.

Layout: the box is as wide as it can be up to 84 columns and as tall as its
content up to the screen; the buttons are docked at its bottom and the rest
scrolls, so at 80×24 and down to 60×20 every button stays on screen and
reachable with Tab. Texts wrap at word boundaries.

Enter guard: keys typed into the running app by mistake (a shell command
meant for another window, ``ls -la⏎``) must not confirm an action. Enter
in a dialog's field confirms only once the dialog has been shown for
`ActionDialog.ENTER_GUARD` seconds; an Enter before that is ignored, said,
and starts the wait again. The buttons (reached with Tab, or clicked) are
not guarded: moving the focus there is a deliberate act.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static

from ..core.actions import Refused
from ..core.text import plain, printable


def describe_error(exc: BaseException) -> str:
    """One line per failed step of an AllocDirError, else the error's text;
    every line shown through `printable`."""
    errors = getattr(exc, "errors", None) or []
    lines = [printable(str(exc) or type(exc).__name__)]
    lines += [f"  • {printable(err)}" for err in errors if printable(err) not in lines[0]]
    return "\n".join(lines)


def shown_lines(text: str) -> Text:
    """``text`` as plain Text: its own line breaks kept, any other control
    character escaped. Callers build ``text`` from `printable` parts."""
    return Text("\n".join(printable(line) for line in text.split("\n")), end="")


class ActionDialog(ModalScreen[bool]):
    """Base of the action dialogs.

    Subclasses give a title, compose their body and buttons, and call
    `say` for the message line. `running` is True while the action runs;
    `finished` once it failed and the dialog only offers Close.
    """

    DEFAULT_CSS = """
    ActionDialog { align: center middle; }
    ActionDialog > #box {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    ActionDialog #box > Static, ActionDialog #box > Label { width: 100%; }
    ActionDialog Input { margin: 1 0 0 0; }
    ActionDialog .dim { color: $text-muted; }
    ActionDialog #message { margin-top: 1; }
    ActionDialog #message.error { color: $error; }
    ActionDialog #buttons {
        dock: bottom; height: auto; margin-top: 1; align-horizontal: right;
    }
    ActionDialog #buttons Button { margin-left: 2; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    ENTER_GUARD = 0.5
    """Seconds after the dialog is shown (or after an Enter it ignored)
    during which Enter in its field does not confirm."""

    clock: Callable[[], float] = staticmethod(time.monotonic)
    """The clock the Enter guard reads (monotonic seconds)."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title
        self.running = False
        self.finished = False
        self._checking: object = None  # identifies the check whose answer is awaited
        self._enter_from = float("inf")  # Enter confirms from this clock time on

    def on_screen_resume(self) -> None:
        """The dialog is shown: Enter confirms once it has been for a moment."""
        self._enter_from = self.clock() + self.ENTER_GUARD

    def enter_confirms(self) -> bool:
        """Whether an Enter typed in the dialog's field now may confirm.
        Not within `ENTER_GUARD` seconds of the dialog being shown or of
        an Enter ignored before: that one is ignored, said, and the wait
        starts again (a burst of typed-ahead lines never gets through)."""
        now = self.clock()
        if now >= self._enter_from:
            return True
        self._enter_from = now + self.ENTER_GUARD
        self.say("Enter ignored: the dialog had only just opened. Press Enter again, or Tab "
                 "to the button.", error=True)
        return False

    def compose(self) -> ComposeResult:
        """The box: the docked buttons, the body, the message line."""
        with VerticalScroll(id="box") as box:
            box.border_title = plain(self.title_text)
            with Horizontal(id="buttons"):
                yield from self.compose_buttons()
            yield from self.compose_body()
            yield Static("", id="message", markup=False)

    def compose_body(self) -> Iterable[Widget]:
        """The widgets above the message line."""
        return ()

    def compose_buttons(self) -> Iterable[Widget]:
        """The buttons, left to right."""
        return ()

    def say(self, text: str, *, error: bool = False) -> None:
        """Show ``text`` (plain, see `shown_lines`) on the message line."""
        message = self.query_one("#message", Static)
        message.update(shown_lines(text))
        message.set_class(error, "error")
        if text:  # on a small screen the message (the box's last line) may be below the fold
            self.query_one("#box", VerticalScroll).scroll_end(animate=False)

    def notify_plain(self, text: str, **kwargs: Any) -> None:
        """An app notification of ``text``, never read as markup."""
        self.app.notify(shown_lines(text).plain, markup=False, **kwargs)

    # -- checks off the event loop --------------------------------------------

    def run_check(self, key: object, check: Callable[..., Any], *args: Any,
                  then: Callable[[Any], None]) -> None:
        """Run ``check(*args)`` in a worker and pass its result to ``then``
        on the event loop, unless another check was started or the check
        was cancelled meanwhile. An exception becomes a `Refused`."""
        self._checking = key
        self._check_worker(key, check, args, then)

    def cancel_check(self) -> None:
        """Forget a running check (its answer will be ignored)."""
        self._checking = None

    @property
    def checking(self) -> bool:
        """True while a check's answer is awaited."""
        return self._checking is not None

    @work(thread=True, exclusive=True, group="dialog-check")
    def _check_worker(self, key: object, check: Callable[..., Any], args: tuple,
                      then: Callable[[Any], None]) -> None:
        try:
            result = check(*args)
        except Exception as exc:  # shown in the dialog, never a crash of the app
            result = Refused(f"the check failed: {printable(exc)}")
        self.deliver(self._deliver_check, key, then, result)

    def deliver(self, callback: Callable[..., Any], *args: Any) -> bool:
        """From a worker: run ``callback(*args)`` on the event loop. False
        when the app has gone meanwhile (the worker then just ends)."""
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:
            return False
        return True

    def _deliver_check(self, key: object, then: Callable[[Any], None], result: Any) -> None:
        if self._checking != key or not self.is_attached:
            return
        self._checking = None
        then(result)

    # -- closing --------------------------------------------------------------

    def action_cancel(self) -> None:
        """Close (ignored while the action runs; subclasses may cancel it)."""
        if not self.running:
            self.cancel_check()
            self.dismiss(self.finished)


def current_dir() -> str:
    """The working directory relative paths are taken from (blocking), or
    "" when it was removed (only absolute paths are accepted then)."""
    try:
        return os.getcwd()
    except OSError:
        return ""


__all__ = ["ActionDialog", "current_dir", "describe_error", "shown_lines"]
