"""Background work of a reader session: one staleness rule and the executors.

Every job a session starts (reading a screen, searching, counting a
filter's lines, numbering lines, following) carries a :class:`Token`: the
session's generation when it started, plus a cancel event. A token is
cancelled once either moved on (another file was opened, the job was
replaced or cancelled), and what a cancelled job delivers is dropped: that
is the only rule that decides staleness. A token also stands in for the
``threading.Event`` the core scans take as ``cancel`` (``is_set``, ``wait``).

Jobs run through an :class:`Executor` the front-end supplies: it runs the
work off the UI thread and delivers the result, and the progress the work
reports, back on the UI thread. Progress is coalesced: while a report waits
for the UI thread a newer one replaces it, so a fast writer or a long scan
can never queue up work ahead of the keys.

Jobs run in lanes: the jobs of one lane run one at a time, in the order
they were submitted; lanes run side by side. Long lanes (the follower and
its frames) run until cancelled and get threads of their own; background
lanes are not waited for by :meth:`LaneExecutor.wait_idle`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

_log = logging.getLogger("inspector.session")

NAV, SEARCH, COUNT, INDEX, FOLLOW, FOLLOWER = (
    "nav", "search", "count", "index", "follow", "follower")
"""The lanes a session uses: navigation (open, moves, the screen), search,
the filter's count, the line index, follow frames, the follower itself."""
RECORD, EXPORT, HISTOGRAM = "record", "export", "histogram"
"""The lanes of lines taken out (:mod:`.records`): a line or a range (the
field view, a copy), an export, the histogram."""
LONG = frozenset({FOLLOW, FOLLOWER, EXPORT, HISTOGRAM})
"""Lanes whose jobs run until cancelled (or for long): each gets a thread of its own."""
BACKGROUND = frozenset({COUNT, INDEX, FOLLOW, FOLLOWER, EXPORT, HISTOGRAM})
"""Lanes nobody waits for: what the user asked is shown without them."""

_NOTHING = object()


class Clock:
    """A session's generation. :meth:`advance` cancels every token issued
    before it (the session opened another file, or closed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0
        self._live: weakref.WeakSet[Token] = weakref.WeakSet()

    @property
    def value(self) -> int:
        """The current generation."""
        return self._value

    def token(self) -> Token:
        """A new token of the current generation."""
        with self._lock:
            token = Token(self, self._value)
            self._live.add(token)
        return token

    def advance(self) -> int:
        """Move on: every token issued so far is cancelled. Returns the new generation."""
        with self._lock:
            self._value += 1
            live, self._live = list(self._live), weakref.WeakSet()
        for token in live:
            token.cancel()
        return self._value


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
        """True once cancelled, or once the session moved to another generation."""
        return self._event.is_set() or self._clock.value != self.generation

    def is_set(self) -> bool:
        """Same as :attr:`cancelled` (the core scans poll ``cancel.is_set()``)."""
        return self.cancelled

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled (True) or ``timeout`` seconds passed (False)."""
        return self._event.wait(timeout) or self.cancelled


class Job:
    """What a work function is given: its token, and a way to report progress."""

    def __init__(self, run: _Run) -> None:
        self._run = run
        self.token = run.token

    @property
    def cancelled(self) -> bool:
        """True once the job's result would be dropped: stop early."""
        return self.token.cancelled

    def report(self, value: Any) -> None:
        """Hand ``value`` to the job's progress callback on the UI thread. If
        an earlier report is still waiting for the UI thread, it is replaced."""
        self._run.report(value)

    def wait_delivered(self, timeout: float) -> bool:
        """Block until the last report reached the UI thread (True), the job
        was cancelled or ``timeout`` passed (False): a producer waits here
        rather than making what nobody will see."""
        return self._run.wait_delivered(timeout)


Work = Callable[[Job], Any]


class Executor(Protocol):
    """What a front-end supplies to run a session's jobs."""

    def submit(self, work: Work, token: Token, *, done: Callable[[Any], None] | None = None,
               failed: Callable[[BaseException], None] | None = None,
               progress: Callable[[Any], None] | None = None,
               discard: Callable[[Any], None] | None = None, lane: str = NAV) -> None:
        """Run ``work(job)`` off the UI thread, after the earlier jobs of
        ``lane``. On the UI thread, unless ``token`` is cancelled by then:
        ``progress(value)`` for the latest report, then ``done(result)`` or
        ``failed(error)``; a result dropped as stale goes to ``discard``
        (to close what it holds)."""

    def close(self) -> None:
        """Accept no more jobs; what is queued is dropped."""


class _Run:
    """One submitted job: its callbacks and the progress not yet delivered."""

    def __init__(self, executor: LaneExecutor, work: Work, token: Token, done, failed, progress,
                 discard, lane: str) -> None:
        self.executor = executor
        self.work, self.token, self.lane = work, token, lane
        self.done, self.failed, self.progress = done, failed, progress
        self.discard = discard
        self._lock = threading.Lock()
        self._pending: Any = _NOTHING
        self._scheduled = False
        self._delivered = threading.Event()
        self._delivered.set()

    # -- worker side --------------------------------------------------------

    def execute(self) -> None:
        result: Any = _NOTHING
        error: BaseException | None = None
        if not self.token.cancelled:
            try:
                result = self.work(Job(self))
            except BaseException as exc:  # noqa: BLE001 - delivered to `failed`, never lost
                error = exc
        # Posted after any progress still pending: the last report comes first.
        self.executor._post(lambda: self._finish(result, error))

    def report(self, value: Any) -> None:
        if self.progress is None or self.token.cancelled:
            return
        with self._lock:
            self._pending = value
            self._delivered.clear()
            if self._scheduled:
                return
            self._scheduled = True
        self.executor._post(self._deliver_progress)

    def wait_delivered(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.token.cancelled:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self._delivered.wait(min(left, 0.05)):
                return True
        return False

    # -- UI side ------------------------------------------------------------

    def _deliver_progress(self) -> None:
        with self._lock:
            value, self._pending = self._pending, _NOTHING
            self._scheduled = False
        try:
            if value is not _NOTHING and not self.token.cancelled:
                self.progress(value)
        finally:
            self._delivered.set()

    def _finish(self, result: Any, error: BaseException | None) -> None:
        self._delivered.set()
        try:
            if self.token.cancelled:
                if result is not _NOTHING and self.discard is not None:
                    self.discard(result)
                return
            if result is _NOTHING and error is None:
                return
            if error is not None:
                if self.failed is None:
                    raise error
                self.failed(error)
            elif self.done is not None:
                self.done(result)
        finally:
            self.executor._finished(self)


class LaneExecutor:
    """The lanes, their queues and the count of jobs still to deliver, for
    every executor. A subclass says how a lane's runner starts (``_spawn``)
    and how a callback reaches the UI thread (``_post``)."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._lanes: dict[str, deque[_Run]] = {}
        self._running: set[str] = set()
        self._foreground = 0
        self._closed = False

    def submit(self, work: Work, token: Token, *, done: Callable[[Any], None] | None = None,
               failed: Callable[[BaseException], None] | None = None,
               progress: Callable[[Any], None] | None = None,
               discard: Callable[[Any], None] | None = None, lane: str = NAV) -> None:
        """See :meth:`Executor.submit`."""
        run = _Run(self, work, token, done, failed, progress, discard, lane)
        with self._lock:
            if self._closed:
                return
            self._lanes.setdefault(lane, deque()).append(run)
            if lane not in BACKGROUND:
                self._foreground += 1
            start = lane not in self._running
            self._running.add(lane)
        if start:
            self._spawn(lambda: self._drain(lane), lane)

    def _drain(self, lane: str) -> None:
        """Run the jobs of ``lane`` until its queue is empty (in the runner's thread)."""
        while True:
            with self._lock:
                runs = self._lanes.get(lane)
                if not runs:
                    self._running.discard(lane)
                    self._lock.notify_all()
                    return
                run = runs.popleft()
            run.execute()

    def _finished(self, run: _Run) -> None:
        if run.lane in BACKGROUND:
            return
        with self._lock:
            self._foreground -= 1
            self._lock.notify_all()

    @property
    def busy(self) -> bool:
        """True while a job of a foreground lane is queued, running or undelivered."""
        return self._foreground > 0

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no foreground job is left (True) or ``timeout`` (False)."""
        with self._lock:
            return self._lock.wait_for(lambda: self._foreground <= 0, timeout)

    def wait_lanes(self, lanes, timeout: float | None = None) -> bool:
        """Block until no job of ``lanes`` runs or waits (True), or ``timeout`` (False)."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._running & set(lanes), timeout)

    def close(self) -> None:
        """See :meth:`Executor.close`."""
        with self._lock:
            self._closed = True
            for lane, runs in self._lanes.items():
                if lane not in BACKGROUND:
                    self._foreground -= len(runs)
                runs.clear()
            self._lock.notify_all()

    def _spawn(self, runner: Callable[[], None], lane: str) -> None:
        raise NotImplementedError

    def _post(self, callback: Callable[[], None]) -> None:
        raise NotImplementedError


def _safely(callback: Callable[[], None]) -> None:
    try:
        callback()
    except Exception:  # a failing delivery must not kill the thread delivering it
        _log.exception("a session delivery failed")


class ThreadExecutor(LaneExecutor):
    """Runs each lane in a thread of its own (made when the lane has work,
    gone when it has none), for headless code and the notebook.

    ``post`` makes a callback run on the UI thread (e.g. an event loop's
    ``call_soon_threadsafe``); without it, deliveries run at once in the
    worker's thread, one at a time."""

    def __init__(self, post: Callable[[Callable[[], None]], None] | None = None, *,
                 name: str = "inspector-session") -> None:
        super().__init__()
        self._poster = post
        self._name = name
        self._deliveries = threading.RLock()

    def _spawn(self, runner: Callable[[], None], lane: str) -> None:
        threading.Thread(target=runner, name=f"{self._name}-{lane}", daemon=True).start()

    def _post(self, callback: Callable[[], None]) -> None:
        if self._poster is not None:
            self._poster(callback)
            return
        with self._deliveries:
            _safely(callback)


class InlineExecutor(LaneExecutor):
    """For tests: a job runs at once in the caller's thread and its result is
    delivered there, in order (a job submitted while another runs comes
    after it). Long lanes (follow) run in threads; what they deliver waits
    until the caller's thread calls :meth:`pump` or :meth:`wait_until`."""

    def __init__(self) -> None:
        super().__init__()
        self._owner = threading.get_ident()
        self._draining = False
        self._later: deque[Callable[[], None]] = deque()
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()

    def _spawn(self, runner: Callable[[], None], lane: str) -> None:
        if lane in LONG:
            threading.Thread(target=runner, name=f"inspector-inline-{lane}", daemon=True).start()
            return
        self._later.append(runner)
        if self._draining:
            return
        self._draining = True
        try:
            while self._later:
                self._later.popleft()()
        finally:
            self._draining = False

    def _post(self, callback: Callable[[], None]) -> None:
        if threading.get_ident() == self._owner:
            callback()
        else:
            self._queue.put(callback)

    def pump(self, timeout: float = 0.0) -> int:
        """Deliver what threads handed over (waiting up to ``timeout`` for
        the first); returns how many deliveries ran."""
        count = 0
        try:
            callback = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
        except queue.Empty:
            return 0
        while True:
            callback()
            count += 1
            try:
                callback = self._queue.get_nowait()
            except queue.Empty:
                return count

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0,
                   what: str = "") -> None:
        """Deliver until ``predicate()`` holds; TimeoutError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{what or predicate} did not happen within {timeout:g} s")
            self.pump(min(left, 0.1))


def locked(method):
    """Run a session's ``method`` holding the session's lock (``self._lock``),
    so front-ends and headless callers may call it from any thread."""
    def run_locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)
    run_locked.__name__, run_locked.__doc__ = method.__name__, method.__doc__
    return run_locked
