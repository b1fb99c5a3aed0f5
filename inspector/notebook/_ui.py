"""How the notebook widgets do their work without freezing the kernel.

Every read of the disk happens in a worker thread: a small pool shared by
all widgets, with one :class:`SerialQueue` per widget so that its
operations (page down, tail, go to offset…) run one at a time and in order,
as in the terminal app. A follower has threads of its own (it blocks on
change events for as long as it runs).

Widgets are changed on the kernel's event loop, never from a worker: a
:class:`UiScheduler` created while the kernel runs a cell captures that
loop, and workers hand it what to apply (``loop.call_soon_threadsafe``), so
a widget is only ever touched by the thread that also handles the user's
clicks. Outside a kernel (a script, a test) there is no loop and changes
are applied in the worker that made them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

_log = logging.getLogger("inspector.notebook")

WORKERS = 4
"""Threads shared by every widget's operations."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def widgets():
    """The ``ipywidgets`` module, or an ImportError that says how to get it."""
    try:
        import ipywidgets
    except ImportError as exc:  # the optional extra is not installed
        raise ImportError(
            "the notebook widgets need ipywidgets: pip install 'allocdir-inspector[notebook]'"
        ) from exc
    return ipywidgets


def pool() -> ThreadPoolExecutor:
    """The worker threads shared by every widget (created on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="inspector-nb")
        return _pool


class UiScheduler:
    """Applies changes to widgets on the kernel's event loop.

    ``call(fn, *args)`` from any thread runs ``fn`` on the loop that was
    running when the scheduler was made (in order, batched), or at once when
    there was none. With a ``key``, a call still pending under that key is
    replaced rather than queued behind: while a long cell keeps the loop
    busy, a follower's redraws do not pile up, only the newest waits.
    ``flush()`` on the loop's thread applies what is pending right away (a
    cell waiting for a widget sees its final state).
    """

    def __init__(self) -> None:
        try:
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None
        self._thread = threading.get_ident() if self.loop is not None else None
        self._lock = threading.Lock()
        self._pending: deque[list] = deque()  # [fn, args, key]
        self._keyed: dict[object, list] = {}
        self._scheduled = False

    @property
    def on_loop_thread(self) -> bool:
        """True when called from the thread that runs the loop."""
        return self._thread is not None and threading.get_ident() == self._thread

    def call(self, fn: Callable, *args, key: object = None) -> None:
        """Run ``fn(*args)`` where widgets may be changed."""
        if self.loop is None:
            _safely(fn, args)
            return
        with self._lock:
            entry = self._keyed.get(key) if key is not None else None
            if entry is not None:
                entry[0], entry[1] = fn, args
            else:
                entry = [fn, args, key]
                self._pending.append(entry)
                if key is not None:
                    self._keyed[key] = entry
            schedule = not self._scheduled
            self._scheduled = True
        if self.on_loop_thread:
            self.flush()
        elif schedule:
            try:
                self.loop.call_soon_threadsafe(self.flush)
            except RuntimeError:  # the loop is closed (kernel shutting down)
                self.flush()

    def flush(self) -> None:
        """Apply every pending change now (on the loop's thread)."""
        with self._lock:
            items = list(self._pending)
            self._pending.clear()
            self._keyed.clear()
            self._scheduled = False
        for fn, args, _ in items:
            _safely(fn, args)


def _safely(fn: Callable, args: tuple) -> None:
    try:
        fn(*args)
    except Exception:  # a broken redraw must not kill the worker or the loop
        _log.exception("notebook widget update failed")


class SerialQueue:
    """Runs one widget's operations in the shared pool, one at a time, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ops: deque[Callable[[], None]] = deque()
        self._busy = False
        self._idle = threading.Event()
        self._idle.set()
        self.closed = False

    def submit(self, op: Callable[[], None]) -> None:
        """Queue ``op`` (run in a worker thread); ignored once closed."""
        with self._lock:
            if self.closed:
                return
            self._ops.append(op)
            self._idle.clear()
            start = not self._busy
            self._busy = True
        if start:
            pool().submit(self._drain)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._ops:
                    self._busy = False
                    self._idle.set()
                    return
                op = self._ops.popleft()
            _safely(op, ())

    def idle(self) -> bool:
        """True when nothing is queued or running."""
        return self._idle.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or running; False on timeout."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        """Drop what is queued and accept nothing more."""
        with self._lock:
            self.closed = True
            self._ops.clear()


STATIC_EVERY = 1.0
"""Seconds between two updates of the static copy of a displayed widget."""


class Widget:
    """Base of the notebook front-end's widgets: ``widget`` is the ipywidgets
    box shown in the cell; the object itself displays as it.

    Its mime bundle also carries a static ``text/html`` rendering of what it
    shows (:meth:`_html`), and, displayed in IPython, that copy is kept
    current (``update_display``, at most every :data:`STATIC_EVERY` seconds
    and once after the last change): a notebook exported to HTML, or opened
    without a live kernel, still shows the evidence.
    """

    widget = None
    _ui: UiScheduler | None = None
    _handles: list | None = None
    _publishing = False

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """Display as the ipywidgets box (a live widget in Jupyter), with a
        readable ``text/plain`` state and a static ``text/html`` copy."""
        data = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        data["text/plain"] = self._plain()
        data["text/html"] = ('<div class="allocdir-inspector-static">' + self._html()
                             + "</div>")
        return data

    def _ipython_display_(self) -> None:
        """Display in IPython with a display id, so the static copy can follow the widget."""
        from IPython.display import display

        handle = display(self._repr_mimebundle_(), raw=True, display_id=True)
        if handle is not None:
            self._handles = [*(self._handles or []), handle]

    def _published(self) -> None:
        """What the widget shows changed (call on the loop): its static copy
        in every display of it follows, soon."""
        ui = self._ui
        if not self._handles or self._publishing or ui is None or ui.loop is None:
            return
        self._publishing = True
        try:
            ui.loop.call_later(STATIC_EVERY, self._publish)
        except RuntimeError:  # the loop is closed: the kernel is going
            self._publishing = False

    def _publish(self) -> None:
        self._publishing = False
        bundle = self._repr_mimebundle_()
        for handle in self._handles or ():
            try:
                handle.update(bundle, raw=True)
            except Exception:  # a kernel shutting down: the static copy stays as it was
                _log.debug("could not update a display", exc_info=True)

    def _html(self) -> str:
        """What the widget shows, as static HTML (escaped)."""
        from .html import name_html

        lines = self._plain().splitlines()
        return "<pre>" + "\n".join(name_html(line) for line in lines) + "</pre>"

    def _plain(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return self._plain()


def wait_until(predicate: Callable[[], bool], timeout: float, what: str,
               step: float = 0.01) -> None:
    """Block (a worker, a test) until ``predicate()`` or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:g} s")
        time.sleep(step)


async def await_until(predicate: Callable[[], bool], timeout: float, what: str,
                      step: float = 0.01) -> None:
    """Await (in a notebook cell, on the kernel's loop) ``predicate()``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:g} s")
        await asyncio.sleep(step)
