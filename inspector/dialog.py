"""What the `s`, `m` and `D` dialogs share: the message line, error text, path checks.

A dialog never touches the file system on the event loop: the path the user
typed is looked at in a thread worker (`ActionDialog.start_path_check`) and
the answer comes back to `ActionDialog.path_checked`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from textual import work
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from .roots import is_alloc_dir


def describe_error(exc: BaseException) -> str:
    """One line per failed step of an AllocDirError, else the error's text."""
    errors = getattr(exc, "errors", None) or []
    lines = [str(exc) or type(exc).__name__]
    lines += [f"  • {err}" for err in errors if str(err) not in lines[0]]
    return "\n".join(lines)


@dataclass(frozen=True)
class PathCheck:
    """What is at the path a user typed into a dialog."""

    raw: str
    """The text as typed (stripped)."""
    path: str
    """The absolute path, `~` expanded."""
    exists: bool
    is_dir: bool
    is_alloc_dir: bool
    error: str = ""
    """Why the path could not be looked at (the other fields are then False)."""


def inspect_path(raw: str) -> PathCheck:
    """Resolve and look at a typed path. Blocking: run it in a worker."""
    try:
        path = os.path.abspath(os.path.expanduser(raw))
    except OSError as exc:  # e.g. the current directory was removed
        return PathCheck(raw, raw, False, False, False, f"{raw}: {describe_error(exc)}")
    return PathCheck(
        raw, path, os.path.exists(path), os.path.isdir(path), is_alloc_dir(path)
    )


class ActionDialog(ModalScreen[bool]):
    """Base of the action dialogs: a `#message` line, a running flag, path checks.

    `running` is True while the action runs; `_finished` once it failed and
    the dialog only offers Close. Subclasses compose a Static `#message`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.running = False
        self._finished = False
        self._checking: str | None = None  # the typed text being checked

    def _say(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#message", Static)
        message.update(text)
        message.set_class(error, "error")

    def start_path_check(self, field: Input) -> bool:
        """Start looking at the path typed in `field`; False if a check already runs."""
        if self._checking is not None:
            return False
        self._checking = field.value.strip()
        self._check_path(field, self._checking)
        return True

    def cancel_check(self) -> None:
        """Forget a running path check (its answer will be ignored)."""
        self._checking = None

    @work(thread=True, exclusive=True, group="dialog-check")
    def _check_path(self, field: Input, raw: str) -> None:
        check = inspect_path(raw)
        self.app.call_from_thread(self._path_checked, field, check)

    def _path_checked(self, field: Input, check: PathCheck) -> None:
        if self._checking != check.raw:
            return  # cancelled, or the dialog was closed meanwhile
        self._checking = None
        if field.value.strip() != check.raw:
            return  # edited meanwhile: the next submit checks the new text
        if check.error:
            self._say(check.error, error=True)
            return
        self.path_checked(check)

    def path_checked(self, check: PathCheck) -> None:
        """Act on the checked path (on the event loop)."""
        raise NotImplementedError
