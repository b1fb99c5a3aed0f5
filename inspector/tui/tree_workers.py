"""The tree model's executor in the terminal app: each job in a Textual
thread worker of the widget that owns the model; its outcome comes back as
a :class:`TreeDelivery` message to that widget, which applies it on the
event loop (between keys, never beside another call into the model)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.message import Message
from textual.widget import Widget

from ..core.tree.jobs import LIST, Token, Work, finish


@dataclass
class TreeDelivery(Message):
    """A tree job's outcome, to apply on the event loop."""

    apply: Callable[[], None]


class TreeWorkers:
    """Runs the model's jobs in ``widget``'s thread workers (see the module
    docstring); the widget hands each :class:`TreeDelivery` to ``apply``."""

    def __init__(self, widget: Widget) -> None:
        self._widget = widget

    def submit(self, work: Work, token: Token, *, done=None, failed=None, lane: str = LIST,
               **_ignored) -> None:
        """Run ``work`` in a thread worker (see ``inspector.core.tree.jobs``)."""
        def run() -> None:
            deliver = finish(token, work, done, failed)
            if deliver is not None:
                self._widget.post_message(TreeDelivery(deliver))

        self._widget.run_worker(run, name=lane, group=lane, thread=True, exit_on_error=False)
