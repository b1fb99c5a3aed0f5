"""Change notification for files in an alloc dir: :class:`FileChanges` and
:func:`wait_for_path`.

Nomad polls every 250 ms. Here inotify (through watchdog) wakes the watcher
within a millisecond or so; a polling backend, selected with a
``poll_interval`` or the ``ALLOCDIR_POLL`` environment variable, serves where
inotify is unavailable. Either way the watcher decides what happened by
looking at the file itself (size, identity, the bytes just before the last
known end), so events can be coalesced but never lost.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import stat
import threading
from collections.abc import Callable
from concurrent.futures import Future

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

try:  # watchdog >= 5 pairs IN_MOVED_FROM/IN_MOVED_TO in a delay queue
    from watchdog.observers.inotify_move_event_grouper import InotifyMoveEventGrouper
except ImportError:  # pragma: no cover - other platforms or versions
    InotifyMoveEventGrouper = None

#: Setting this environment variable to a true value forces the polling backend.
POLLING_ENV = "ALLOCDIR_POLL"

#: Polling period used when polling is forced by the environment.
DEFAULT_POLL_INTERVAL = 0.025

# With inotify, the watcher still looks at the file this often, in case an
# event never comes (a removed parent directory sends nothing at all). A look
# is an fstat and a stat, a few microseconds.
SAFETY_INTERVAL = 0.05

# watchdog holds an unpaired IN_MOVED_FROM back for 0.5 s hoping for its
# IN_MOVED_TO. That made a file renamed into another directory show up as
# DELETED half a second late, and made unscheduling its watch (which joins
# the emitter sleeping on that queue) block for as long. The kernel queues
# both halves of a rename together, so a short wait still pairs them.
MOVE_PAIRING_DELAY = 0.01

# Bytes just before the last known end, kept to tell "truncated then refilled
# past the old size" from "appended".
_FINGERPRINT = 64


class _BenignStopRace(logging.Filter):
    """watchdog logs an error when an emitter it is stopping is woken by one
    last event; nothing is lost, and the message would only alarm users."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in record.getMessage()


logging.getLogger("watchdog.observers.inotify").addFilter(_BenignStopRace())


class ChangeEvent(enum.Enum):
    """What happened to a watched file."""

    MODIFIED = "modified"
    TRUNCATED = "truncated"
    DELETED = "deleted"


def polling_forced() -> bool:
    """True when ``ALLOCDIR_POLL`` asks for the polling backend."""
    return os.environ.get(POLLING_ENV, "").strip().lower() not in ("", "0", "false", "no")


def effective_poll_interval(poll_interval: float | None) -> float | None:
    """The polling period to use, or ``None`` for inotify."""
    if poll_interval is not None:
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        return poll_interval
    return DEFAULT_POLL_INTERVAL if polling_forced() else None


class _DirectoryHandler(FileSystemEventHandler):
    """Fans the events of one watched directory out to its subscribers."""

    def __init__(self) -> None:
        self.subscribers: dict[int, Callable[[str], None]] = {}

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = [os.fsdecode(event.src_path)]
        if getattr(event, "dest_path", ""):
            paths.append(os.fsdecode(event.dest_path))
        for callback in list(self.subscribers.values()):
            for path in paths:
                callback(path)


class _InotifyHub:
    """One watchdog observer for the process, one inotify watch per directory,
    reference counted so that closing one watcher never removes another's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._observer: Observer | None = None
        self._watches: dict[str, tuple[object, _DirectoryHandler]] = {}
        self._next_token = 0

    def _ensure_observer(self) -> Observer:
        if InotifyMoveEventGrouper is not None:
            InotifyMoveEventGrouper.delay = MOVE_PAIRING_DELAY
        if self._observer is None or not self._observer.is_alive():
            self._observer = Observer(timeout=0.05)
            self._observer.daemon = True
            self._observer.start()
        return self._observer

    def subscribe(self, directory: str, callback: Callable[[str], None]) -> tuple[str, int]:
        """Call ``callback(path)`` for every event in ``directory``."""
        with self._lock:
            observer = self._ensure_observer()
            if directory not in self._watches:
                handler = _DirectoryHandler()
                watch = observer.schedule(handler, directory, recursive=False)
                self._watches[directory] = (watch, handler)
            self._next_token += 1
            self._watches[directory][1].subscribers[self._next_token] = callback
            return directory, self._next_token

    def unsubscribe(self, token: tuple[str, int]) -> None:
        """Stop a subscription; the directory's watch goes with its last one."""
        directory, number = token
        with self._lock:
            entry = self._watches.get(directory)
            if entry is None:
                return
            watch, handler = entry
            handler.subscribers.pop(number, None)
            if not handler.subscribers:
                del self._watches[directory]
                if self._observer is not None:
                    try:
                        self._observer.unschedule(watch)
                    except KeyError:
                        pass

    def watched_directories(self) -> int:
        """How many directories hold an inotify watch now (for leak checks)."""
        with self._lock:
            return len(self._watches)


HUB = _InotifyHub()


class _Wakeup:
    """A level-triggered wake-up shared by a watcher and its event sources."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending = False
        self.closed = False

    def set(self) -> None:
        with self._cond:
            self._pending = True
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait(self, timeout: float) -> bool:
        """Wait for a wake-up or ``timeout``; False once closed."""
        with self._cond:
            if not self._pending and not self.closed:
                self._cond.wait(timeout)
            self._pending = False
            return not self.closed


class FileChanges:
    """The change events of one file: an iterator, an async iterator and a
    context manager. ``close()`` stops the watch and ends the iteration.

    Created by ``AllocDir.change_events``, which has checked the path and
    opened the file (``fd``, owned by this object from then on).
    """

    def __init__(self, path: str, fd: int, cur_offset: int, *,
                 poll_interval: float | None = None) -> None:
        self.path = path
        self._fd = fd
        self._identity = _identity(os.fstat(fd))
        self._size = cur_offset
        self._mtime_ns = os.fstat(fd).st_mtime_ns
        self._fingerprint = self._read_fingerprint(cur_offset)
        self._poll = effective_poll_interval(poll_interval)
        self._wake = _Wakeup()
        # "" while the file is there, "gone" once seen gone, "reported" after DELETED.
        self._gone = ""
        self._lock = threading.Lock()
        self._token = None
        if self._poll is None:
            self._token = HUB.subscribe(os.path.dirname(path), self._on_directory_event)

    def _on_directory_event(self, path: str) -> None:
        if path == self.path:
            self._wake.set()

    @property
    def backend(self) -> str:
        """``"inotify"`` or ``"polling"``."""
        return "polling" if self._poll is not None else "inotify"

    def close(self) -> None:
        """Stop watching; a blocked iteration ends. Safe to call twice."""
        with self._lock:
            if self._wake.closed:
                return
            self._wake.close()
            if self._token is not None:
                HUB.unsubscribe(self._token)
            os.close(self._fd)

    @property
    def closed(self) -> bool:
        """True once closed (explicitly or after DELETED)."""
        return self._wake.closed

    def __enter__(self) -> "FileChanges":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> "FileChanges":
        return self

    def __next__(self) -> ChangeEvent:
        event = self.next_event(None)
        if event is None:
            raise StopIteration
        return event

    def __aiter__(self) -> "FileChanges":
        return self

    async def __anext__(self) -> ChangeEvent:
        event = await asyncio.to_thread(self.next_event, None)
        if event is None:
            raise StopAsyncIteration
        return event

    def next_event(self, timeout: float | None) -> ChangeEvent | None:
        """Block until the next event; ``None`` when closed or after ``timeout``."""
        if self._gone:
            self.close()
            return None if self._gone == "reported" else self._report_deleted()
        interval = self._poll if self._poll is not None else SAFETY_INTERVAL
        waited = 0.0
        while True:
            if not self._wake.wait(interval):
                return None
            with self._lock:
                if self._wake.closed:
                    return None
                event = self._check()
            if event is ChangeEvent.DELETED:
                self.close()
                return self._report_deleted()
            if event is not None:
                return event
            waited += interval
            if timeout is not None and waited >= timeout:
                return None

    def _check(self) -> ChangeEvent | None:
        st = os.fstat(self._fd)
        gone = st.st_nlink == 0 or not self._path_is_ours()
        event = None
        if st.st_size < self._size or self._refilled(st.st_size):
            event = ChangeEvent.TRUNCATED
        elif st.st_size > self._size or st.st_mtime_ns != self._mtime_ns:
            event = ChangeEvent.MODIFIED
        self._size, self._mtime_ns = st.st_size, st.st_mtime_ns
        if event is not None:
            self._fingerprint = self._read_fingerprint(st.st_size)
        if gone:
            self._gone = "gone"
            if event is None:
                return ChangeEvent.DELETED
            self._wake.set()  # report DELETED on the next call
        return event

    def _report_deleted(self) -> ChangeEvent:
        self._gone = "reported"
        return ChangeEvent.DELETED

    def _path_is_ours(self) -> bool:
        try:
            return _identity(os.stat(self.path)) == self._identity
        except OSError:
            return False

    def _read_fingerprint(self, end: int) -> bytes:
        start = max(0, end - _FINGERPRINT)
        try:
            return os.pread(self._fd, end - start, start)
        except OSError:
            return b""

    def _refilled(self, size: int) -> bool:
        # Grown past the old end, but the bytes before the old end changed:
        # it was truncated and written again between two looks.
        if size <= self._size or not self._fingerprint:
            return False
        start = max(0, self._size - _FINGERPRINT)
        return os.pread(self._fd, self._size - start, start) != self._fingerprint


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def _nearest_existing_dir(path: str) -> str:
    current = os.path.dirname(path)
    while current and not os.path.isdir(current):
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return current or "/"


def wait_for_path(path: str, *, poll_interval: float | None = None) -> "Future[None]":
    """A future that resolves once ``path`` exists; ``cancel()`` stops the watch.

    One short-lived thread waits on inotify events of the nearest existing
    ancestor directory (moving down as directories appear), or polls.
    """
    future: Future[None] = Future()
    poll = effective_poll_interval(poll_interval)
    wake = _Wakeup()
    future.add_done_callback(lambda _: wake.close())
    thread = threading.Thread(target=_wait_loop, args=(path, future, wake, poll),
                              name=f"allocdir-wait:{os.path.basename(path)}", daemon=True)
    thread.start()
    return future


def _wait_loop(path: str, future: Future, wake: _Wakeup, poll: float | None) -> None:
    token = None
    watched = None
    try:
        while not future.done():
            if os.path.lexists(path):
                _resolve(future)
                return
            if poll is None:
                directory = _nearest_existing_dir(path)
                if directory != watched:
                    if token is not None:
                        HUB.unsubscribe(token)
                    token = HUB.subscribe(directory, lambda _p: wake.set())
                    watched = directory
                    continue  # it may have appeared while subscribing
            if not wake.wait(poll if poll is not None else SAFETY_INTERVAL):
                return
    except Exception as e:  # report, rather than leave the future pending
        if not future.done():
            try:
                future.set_exception(e)
            except Exception:
                pass
    finally:
        if token is not None:
            HUB.unsubscribe(token)


def _resolve(future: Future) -> None:
    try:
        future.set_result(None)
    except Exception:
        pass  # cancelled in the meantime


def is_watchable(mode: int) -> bool:
    """Only regular files have change events."""
    return stat.S_ISREG(mode)
