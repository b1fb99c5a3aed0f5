"""The tree model's executor in a notebook: the widget's serial queue.

A browser's model lives in its :class:`~inspector.notebook._ui.SerialQueue`:
every call into it (a click, ``expand()``, the filter box) is an operation
of that queue, and so is every job the model submits, its work and then its
delivery, one after the other. The model is never touched by two threads at
once and needs no lock; the widgets get what the queue computed through the
kernel's loop (:class:`~inspector.notebook._ui.UiScheduler`).
"""

from __future__ import annotations

from collections.abc import Callable

from ..core.tree.jobs import LIST, Token, Work, finish
from ._ui import SerialQueue


class QueueExecutor:
    """Runs the model's jobs as operations of ``queue``; should delivering
    an outcome fail, ``on_error`` is told (the browser says it)."""

    def __init__(self, queue: SerialQueue, on_error: Callable[[BaseException], None]) -> None:
        self.queue = queue
        self._on_error = on_error

    def submit(self, work: Work, token: Token, *, done=None, failed=None, lane: str = LIST,
               **_ignored) -> None:
        """Queue ``work`` and, right after it in the same operation, its delivery."""
        def run() -> None:
            deliver = finish(token, work, done, failed)
            try:
                if deliver is not None:
                    deliver()
            except Exception as exc:
                self._on_error(exc)

        self.queue.submit(run)
