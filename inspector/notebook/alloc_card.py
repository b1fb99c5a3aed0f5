"""An allocation's card in a widget: its summary (tasks, dirs, mounts,
newest logs) shown at once with the sizes "measuring…", then filled in
with measured numbers when a walk of ``alloc/data`` and each ``local/``
ends. The walk has no entry budget (it is the number asked for, not a
bound), runs on the shared worker pool, and is cancelled when another card
is shown; the static ``_repr_html_`` of an ``AllocDir`` is the bounded one
(``allocdir.summary``)."""

from __future__ import annotations

import threading

from allocdir import AllocDir
from allocdir.cards import alloc_html
from allocdir.render import TAGS, esc
from allocdir.summary import Budget, summarize_alloc

from ..core.failure import failure_text
from ._ui import UiScheduler, pool, widgets


class AllocCard:
    """The card widget (``widget``); :meth:`show` from any thread."""

    def __init__(self, ui: UiScheduler) -> None:
        self.widget = widgets().HTML()
        self._ui = ui
        self._lock = threading.Lock()  # a card replaced is never drawn over the new one
        self._cancel = threading.Event()
        self._measured = threading.Event()
        self._measured.set()

    def show(self, alloc) -> None:
        """Show ``alloc``'s card (an ``AllocDir``; anything else clears the
        card) and start measuring its sizes. Blocking for the summary's
        bounded listings: call it from a worker."""
        if not isinstance(alloc, AllocDir):
            self.clear()
            return
        with self._lock:
            self._cancel.set()
            cancel = self._cancel = threading.Event()
            # Its own event: the end of a walk cancelled meanwhile is not this one's.
            done = self._measured = threading.Event()
        try:
            first = alloc_html(summarize_alloc(alloc, measure_sizes=False))
            self._set(first, cancel)
        except BaseException:
            done.set()  # nothing to wait for: the failure is the caller's to say
            raise
        pool().submit(self._measure, alloc, cancel, done, first)

    def _measure(self, alloc, cancel: threading.Event, done: threading.Event,
                 first: str) -> None:
        try:
            summary = summarize_alloc(alloc, budget=Budget(per_dir=None, cancel=cancel))
            self._set(alloc_html(summary), cancel)
        except Exception as exc:  # said on the card, not lost in the pool
            failed = f"measuring the sizes failed: {failure_text(exc)}"
            self._set(f'{first}<div style="{TAGS["error"]}">{esc(failed)}</div>', cancel)
        finally:
            done.set()

    def _set(self, html: str, cancel: threading.Event) -> None:
        with self._lock:
            if not cancel.is_set():
                self._ui.call(setattr, self.widget, "value", html, key="card")

    def clear(self) -> None:
        """No card (a file is shown instead)."""
        with self._lock:
            self._cancel.set()
            self._ui.call(setattr, self.widget, "value", "", key="card")

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until the sizes shown are measured (or the walk stopped)."""
        return self._measured.wait(timeout)
