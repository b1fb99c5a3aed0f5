"""Background work of the tree model: the staleness rule and the executor.

Every job the model starts (discovering the allocations, listing a
directory, looking at the logs dirs) carries a :class:`Token`: the model's
generation when it started, plus a cancel event. The model moves to a new
generation when it reloads, which cancels every older token, and what a
cancelled job delivers is dropped: a listing of a tree that was replaced
never lands in the new one.

Jobs run through an executor the front-end supplies. The protocol is the
reader session's (``submit(work, token, *, done, failed, lane)``, ``work``
called with a :class:`Job`), so one executor serves both: the terminal
runs each job in a Textual thread worker, the notebook in its widget's
serial queue. ``done(result)`` and ``failed(error)`` run where the model
lives (the UI thread, or the notebook's queue), never beside another call
into the model. :class:`InlineExecutor` runs a job at once, in the caller's
thread: tests and scripts drive the model with it at core speed.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, Protocol

LIST, DISCOVER, LOOK = "tree-list", "tree-discover", "tree-look"
"""The lanes of the tree's jobs: listing directories, discovering the
allocations, looking at the logs dirs."""


class Token:
    """The staleness of one job: cancelled once :meth:`cancel` was called or
    its clock moved on. Usable wherever a cancel ``Event`` is expected."""

    __slots__ = ("_clock", "generation", "_event", "__weakref__")

    def __init__(self, clock: Clock, generation: int) -> None:
        self._clock = clock
        self.generation = generation
        self._event = threading.Event()

    def cancel(self) -> None:
        """Cancel the job: what it delivers from now on is dropped."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once cancelled, or once the clock moved to another generation."""
        return self._event.is_set() or self._clock.value != self.generation

    def is_set(self) -> bool:
        """Same as :attr:`cancelled` (for code that polls ``cancel.is_set()``)."""
        return self.cancelled


class Clock:
    """A model's generation: :meth:`advance` cancels every token issued before."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0
        self._live: weakref.WeakSet[Token] = weakref.WeakSet()

    def token(self) -> Token:
        """A new token of the current generation."""
        with self._lock:
            token = Token(self, self.value)
            self._live.add(token)
        return token

    def advance(self) -> None:
        """Move on: every token issued so far is cancelled."""
        with self._lock:
            self.value += 1
            live, self._live = list(self._live), weakref.WeakSet()
        for token in live:
            token.cancel()


class Job:
    """What a work function is given: its token (stop early once cancelled)."""

    __slots__ = ("token",)

    def __init__(self, token: Token) -> None:
        self.token = token

    @property
    def cancelled(self) -> bool:
        """True once what the job returns would be dropped."""
        return self.token.cancelled

    def report(self, value: Any) -> None:
        """Progress is not reported by the tree's jobs (the session's
        executors call it; it is accepted and ignored here)."""


Work = Callable[[Job], Any]


class Executor(Protocol):
    """What a front-end supplies to run the model's jobs."""

    def submit(self, work: Work, token: Token, *, done: Callable[[Any], None] | None = None,
               failed: Callable[[BaseException], None] | None = None, lane: str = LIST,
               ) -> None:
        """Run ``work(job)`` off the UI thread; then, where the model lives
        and unless ``token`` is cancelled by then, ``done(result)`` or
        ``failed(error)``."""


def finish(token: Token, work: Work, done, failed) -> Callable[[], None] | None:
    """Run ``work`` (in a worker) and return what delivers its outcome (to
    run where the model lives), or None when the token was cancelled first.
    What the executors share."""
    if token.cancelled:
        return None
    try:
        result = work(Job(token))
    except Exception as exc:  # delivered to `failed`: a job's failure is never lost
        error = exc
        return lambda: None if token.cancelled or failed is None else failed(error)
    return lambda: None if token.cancelled or done is None else done(result)


class InlineExecutor:
    """Runs each job at once in the caller's thread and delivers its outcome
    there (a job submitted while another is delivered runs after it)."""

    def __init__(self) -> None:
        self._queue: list[Callable[[], None]] = []
        self._running = False
        self.submitted = 0
        """How many jobs were submitted (tests count the listings)."""

    def submit(self, work: Work, token: Token, *, done=None, failed=None, lane: str = LIST,
               **_ignored) -> None:
        """See :meth:`Executor.submit`."""
        self.submitted += 1
        self._queue.append(lambda: _run(finish(token, work, done, failed)))
        if self._running:
            return
        self._running = True
        try:
            while self._queue:
                self._queue.pop(0)()
        finally:
            self._running = False


def _run(deliver: Callable[[], None] | None) -> None:
    if deliver is not None:
        deliver()
