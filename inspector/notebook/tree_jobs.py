"""The tree model's executor in a notebook: the widget's serial queue.

A browser's model lives in its :class:`~inspector.notebook._ui.SerialQueue`:
every call into it (a click, ``expand()``, the filter box) is an operation
of that queue, and so is every job the model submits, its work and then its
delivery, one after the other. The model is never touched by two threads at
once and needs no lock; the widgets get what the queue computed through the
kernel's loop (:class:`~inspector.notebook._ui.UiScheduler`). The lanes and
tokens are the reader session's (:class:`~inspector.core.session.jobs.LaneExecutor`).
"""

from __future__ import annotations

from collections.abc import Callable

from ..core.session.jobs import LaneExecutor
from ._ui import SerialQueue


class QueueExecutor(LaneExecutor):
    """Runs the model's jobs, and delivers them, as operations of ``queue``;
    should a delivery fail, ``on_error`` is told (the browser says it)."""

    def __init__(self, queue: SerialQueue, on_error: Callable[[BaseException], None]) -> None:
        super().__init__()
        self.queue = queue
        self._on_error = on_error

    def _spawn(self, runner: Callable[[], None], lane: str) -> None:
        self.queue.submit(runner)

    def _post(self, callback: Callable[[], None]) -> None:
        try:
            callback()  # in the queue's thread, right after the work
        except Exception as exc:
            self._on_error(exc)
