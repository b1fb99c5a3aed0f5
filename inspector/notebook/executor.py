"""The reader session's executor in a notebook: the shared worker pool, one
serial lane per kind of job, and the kernel's event loop for what they deliver.

A widget's navigation, search, count and line index run on the pool shared
by every widget (:func:`~inspector.notebook._ui.pool`), one job at a time
per lane; a follow (the follower and its frames) runs until stopped, so it
gets threads of its own (``inspector-nb-follow…``) and never holds a pool
worker. What the jobs deliver is applied on the kernel's loop through the
widget's :class:`~inspector.notebook._ui.UiScheduler` (at once in a worker
when there is no loop: a script, a test).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..core.session.jobs import LONG, LaneExecutor
from ._ui import UiScheduler, pool


class NotebookExecutor(LaneExecutor):
    """Runs a widget's session jobs; ``ui`` applies their results."""

    def __init__(self, ui: UiScheduler) -> None:
        super().__init__()
        self.ui = ui
        self._deliveries = threading.RLock()

    def _spawn(self, runner: Callable[[], None], lane: str) -> None:
        if lane in LONG:
            threading.Thread(target=runner, name=f"inspector-nb-{lane}", daemon=True).start()
        else:
            pool().submit(runner)

    def _post(self, callback: Callable[[], None]) -> None:
        if self.ui.loop is None:
            with self._deliveries:  # no loop: one delivery at a time, in the worker
                callback()
        else:
            self.ui.call(callback)

    def settle(self, timeout: float) -> None:
        """Block until what was asked is shown (TimeoutError after ``timeout``).
        On the loop's thread, what the jobs deliver is applied meanwhile."""
        deadline = time.monotonic() + timeout
        on_loop = self.ui.on_loop_thread
        while True:
            if on_loop:
                self.ui.flush()
            if not self.busy:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"still busy after {timeout:g} s")
            self.wait_idle(0.005 if on_loop else 0.05)
