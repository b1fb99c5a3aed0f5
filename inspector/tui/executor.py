"""The reader session's executor in the terminal app: Textual thread workers.

Each lane of the session runs in a thread worker of the widget that owns
the session (made when the lane has work, finished when it has none, so
``app.workers.wait_for_complete()`` returns once the screen is read). What
a job delivers comes back as a :class:`Delivered` message to that widget:
the event loop runs it between other messages, and a key is never queued
behind more than one frame of a fast writer (the session coalesces).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.message import Message
from textual.widget import Widget

from ..core.session.jobs import LaneExecutor


@dataclass
class Delivered(Message):
    """A session job's result or progress, to apply on the event loop."""

    apply: Callable[[], None]


class TextualExecutor(LaneExecutor):
    """Runs a session's lanes in ``widget``'s thread workers; the widget
    hands each :class:`Delivered` message to :meth:`deliver`."""

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self._widget = widget

    def _spawn(self, runner: Callable[[], None], lane: str) -> None:
        self._widget.run_worker(runner, name=f"session-{lane}", group=f"session-{lane}",
                                thread=True, exit_on_error=False)

    def _post(self, callback: Callable[[], None]) -> None:
        self._widget.post_message(Delivered(callback))

    @staticmethod
    def deliver(message: Delivered) -> None:
        """Apply ``message`` (call it from the widget's handler)."""
        message.stop()
        message.apply()
