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

import ctypes
import enum
import errno
import fcntl
import os
import select
import struct
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future


def _inotify():
    """watchdog's inotify binding, imported on first use: a process that never
    watches a file does not pay for it."""
    from watchdog.observers import inotify_c

    return inotify_c


class _In:
    """The inotify event bits used here (Linux's ABI, as <sys/inotify.h>)."""

    MODIFY, ATTRIB, CLOSE_WRITE = 0x002, 0x004, 0x008
    MOVED_FROM, MOVED_TO, CREATE, DELETE = 0x040, 0x080, 0x100, 0x200
    DELETE_SELF, MOVE_SELF = 0x400, 0x800
    ONLYDIR, MASK_ADD = 0x01000000, 0x20000000


#: Setting this environment variable to a true value forces the polling backend.
POLLING_ENV = "ALLOCDIR_POLL"

#: Polling period used when polling is forced by the environment.
DEFAULT_POLL_INTERVAL = 0.025

# With inotify, the watcher still looks at the file this often, in case an
# event never comes (a removed parent directory sends nothing at all). A look
# is an fstat and a stat, a few microseconds.
SAFETY_INTERVAL = 0.05

#: Polling period when inotify cannot be had: the user's inotify instances
#: or watches are used up (``fs.inotify.max_user_instances`` /
#: ``max_user_watches``; a task running as the same user can take them all).
#: It costs what the looks above cost with inotify.
FALLBACK_POLL_INTERVAL = SAFETY_INTERVAL


def inotify_failure(error: OSError) -> str:
    """Why inotify could not be used, in words: which limit was reached."""
    if error.errno == errno.EMFILE:
        return "inotify instance limit reached"
    if error.errno == errno.ENOSPC:
        return "inotify watch limit reached"
    return error.strerror or str(error)

# Bytes just before the last known end, kept to tell "truncated then refilled
# past the old size" from "appended".
_FINGERPRINT = 64

# Growth up to this many bytes is checked and fingerprinted in one read.
_ONE_READ = 1 << 16


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


# What a directory watch listens for: anything that can change a file's
# content, size or existence, or create a path someone waits for.
_DIRECTORY_EVENTS = (
    _In.MODIFY | _In.ATTRIB | _In.CLOSE_WRITE | _In.CREATE | _In.DELETE | _In.MOVED_FROM
    | _In.MOVED_TO | _In.DELETE_SELF | _In.MOVE_SELF | _In.ONLYDIR | _In.MASK_ADD)


class _Subscription:
    """Calls ``callback(name)`` from watchdog's inotify thread for each event
    in one directory (``name`` is ``None`` for the directory itself, or when
    events were lost and every file must be looked at)."""

    def __init__(self, callback: Callable[[str | None], None]) -> None:
        self._callback = callback

    def on_event(self, event) -> None:
        self._callback(os.fsdecode(event.name) if event.name else None)

    def on_watch_deleted(self, wd: int) -> None:
        self._callback(None)

    def on_queue_overflow(self) -> None:
        self._callback(None)


class _InotifyHub:
    """Directory watches on watchdog's shared inotify instance: one inotify
    fd and one reader thread for the process, one kernel watch per directory
    however many subscribe. Events reach subscribers straight from that
    thread, with no observer queue in between."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_id = 0

    def subscribe(self, directory: str,
                  callback: Callable[[str | None], None]) -> tuple[int, int]:
        """Call ``callback(name)`` for every event in ``directory``."""
        with self._lock:
            self._next_id += 1
            callback_id = self._next_id
        wd = _inotify().InotifyFD.get_instance().add_callback(
            os.fsencode(directory), _DIRECTORY_EVENTS, _Subscription(callback), callback_id)
        return wd, callback_id

    def unsubscribe(self, token: tuple[int, int]) -> None:
        """Stop a subscription; the kernel watch goes with its last one."""
        _inotify().InotifyFD.get_instance().remove_callbacks([token])


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


class _InotifyPool:
    """Idle inotify instances kept for the next watcher: closing one costs the
    kernel milliseconds (an RCU grace period), removing a watch does not."""

    KEEP = 4

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[int] = []

    def take(self) -> int:
        """An inotify fd with no watches, non-blocking and close-on-exec."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        fd = _inotify().inotify_init()
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
        return fd

    def give(self, fd: int, wds: list[int]) -> None:
        """Take back ``fd`` after removing its watches ``wds``."""
        for wd in wds:
            _inotify().inotify_rm_watch(fd, wd)
        _drain(fd)  # the removal's IN_IGNORED, and anything still queued
        with self._lock:
            if len(self._idle) < self.KEEP:
                self._idle.append(fd)
                return
        os.close(fd)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except BlockingIOError:
        pass


_INOTIFY_POOL = _InotifyPool()


# What a wake-up says (see _InotifyWakeup.wait); lower is more to look at.
CLOSED, LOOK, WRITTEN, IGNORED = 0, 1, 2, 3

# Events that change a file's content but never which file a name leads to.
_CONTENT_EVENTS = _In.MODIFY | _In.CLOSE_WRITE
_EVENT_HEADER = struct.Struct("iIII")
_INOTIFY_BUFFER = 1 << 16


class _InotifyWakeup:
    """A wake-up driven by an inotify instance of the watcher's own, waited on
    in the watcher's own thread: nothing is handed between threads on the way
    from the kernel to the reader, which keeps a change to the reader within
    about a tenth of a millisecond, as ``tail -F``.

    ``close()`` may come from another thread while one waits: the fds are
    released by whoever leaves last.
    """

    def __init__(self, directories: list[str], names: set[str]) -> None:
        self.names = {os.fsencode(name) for name in names}
        self._inotify = _INOTIFY_POOL.take()
        self._wds: list[int] = []
        try:
            mask = _DIRECTORY_EVENTS & ~_In.MASK_ADD
            for directory in directories:
                wd = _inotify().inotify_add_watch(self._inotify, os.fsencode(directory), mask)
                if wd < 0:
                    err = ctypes.get_errno()
                    raise OSError(err, os.strerror(err), directory)
                self._wds.append(wd)
            self._event = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        except BaseException:
            _INOTIFY_POOL.give(self._inotify, self._wds)
            raise
        self._poller = select.poll()
        self._poller.register(self._inotify, select.POLLIN)
        self._poller.register(self._event, select.POLLIN)
        # The bytes of the most common news, a write to one of ``names``:
        # recognised without parsing.
        self._writes = {_event_bytes(wd, _In.MODIFY, name)
                        for wd in self._wds for name in self.names}
        self._lock = threading.Lock()
        self._waiters = 0
        self._pending = False
        self.closed = False

    def set(self) -> None:
        with self._lock:
            if not self.closed:
                self._pending = True
                os.eventfd_write(self._event, 1)

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            os.eventfd_write(self._event, 1)
            if not self._waiters:
                self._release()

    def _release(self) -> None:
        _INOTIFY_POOL.give(self._inotify, self._wds)
        os.close(self._event)

    def wait(self, timeout: float) -> int:
        """Wait for an event in the directory or ``timeout``: :data:`CLOSED`
        once closed, :data:`WRITTEN` when the only news is content written to
        one of ``names``, :data:`IGNORED` when it is only about other files,
        :data:`LOOK` for anything else (a timeout included)."""
        with self._lock:
            if self.closed:
                return CLOSED
            if self._pending:
                self._pending = False
                _drain(self._event)
                return LOOK
            self._waiters += 1
        try:
            ready = self._poller.poll(timeout * 1000)
        finally:
            with self._lock:
                self._waiters -= 1
                if self.closed and not self._waiters:
                    self._release()
        with self._lock:
            if self.closed:
                return CLOSED
            if not ready:
                return LOOK
            signal = IGNORED
            for fd, _ in ready:
                if fd == self._event:
                    self._pending = False
                    _drain(self._event)
                    signal = LOOK
                elif signal != LOOK:
                    signal = min(signal, self._read_events())
            return signal

    def _read_events(self) -> int:
        """Read what inotify queued (in one read: the buffer holds far more
        than poll() saw) and say what it means for ``names``."""
        try:
            data = os.read(self._inotify, _INOTIFY_BUFFER)
        except BlockingIOError:
            return IGNORED
        if data in self._writes:
            return WRITTEN
        if len(data) == _INOTIFY_BUFFER:
            _drain(self._inotify)
            return LOOK
        signal = IGNORED
        offset = 0
        while offset < len(data):
            _, mask, _, length = _EVENT_HEADER.unpack_from(data, offset)
            name = data[offset + _EVENT_HEADER.size:offset + _EVENT_HEADER.size + length]
            offset += _EVENT_HEADER.size + length
            name = name.rstrip(b"\0")
            if name and name not in self.names:
                continue
            if name and not mask & ~_CONTENT_EVENTS:
                signal = min(signal, WRITTEN)
            else:
                return LOOK  # created, removed, renamed, the directory itself, overflow
        return signal


def _event_bytes(wd: int, mask: int, name: bytes) -> bytes:
    """An inotify event as the kernel queues it (name NUL-padded to 16)."""
    padded = name + b"\0" * (16 - len(name) % 16)
    return _EVENT_HEADER.pack(wd, mask, 0, len(padded)) + padded


class FileChanges:
    """The change events of one file: an iterator, an async iterator and a
    context manager. ``close()`` stops the watch and ends the iteration.

    Created by ``AllocDir.change_events``, which has checked the path and
    opened the file (``fd``, owned by this object from then on). ``path`` is
    where the file really is; ``link_path``, when the path asked for went
    through a symlink, is that path: the file counts as deleted once it no
    longer leads to the same file (the link removed or repointed), as Nomad,
    which stats the path, sees it.
    """

    def __init__(self, path: str, fd: int, cur_offset: int, *,
                 poll_interval: float | None = None, link_path: str | None = None) -> None:
        self.path = path
        self._paths = [path] + ([link_path] if link_path and link_path != path else [])
        self._fd = fd
        st = os.fstat(fd)
        self._identity = _identity(st)
        self._size = cur_offset
        # Already shorter than the reader's offset: whatever comes next, the
        # reader must start again from 0.
        self._shrunk_before = st.st_size < cur_offset
        self._mtime_ns = st.st_mtime_ns
        self._fingerprint = self._read_fingerprint(cur_offset)
        self._head = self._read_head(cur_offset)
        self._poll = effective_poll_interval(poll_interval)
        # "" while the file is there, "gone" once seen gone, "reported" after DELETED.
        self._gone = ""
        self._lock = threading.Lock()
        self._tokens = []
        self._names = {os.path.basename(p) for p in self._paths}
        self.fallback = ""
        """Why inotify could not be used ("inotify watch limit reached"…):
        the watcher polls every ``FALLBACK_POLL_INTERVAL`` instead. Empty
        when inotify (or polling asked for) is used."""
        self._wake: _Wakeup | _InotifyWakeup = _Wakeup()
        if self._poll is None:
            self._watch(sorted({os.path.dirname(p) for p in self._paths}))
        if self._shrunk_before:
            self._wake.set()

    def _watch(self, directories: list[str]) -> None:
        """Watch with an inotify instance of our own; else (out of instances)
        share watchdog's, one thread hand-off slower; else (out of instances
        or watches altogether) poll, and say why in ``fallback``."""
        try:
            self._wake = _InotifyWakeup(directories, self._names)
            return
        except OSError:
            pass
        try:
            for directory in directories:
                self._tokens.append(HUB.subscribe(directory, self._on_directory_event))
        except OSError as error:
            for token in self._tokens:
                HUB.unsubscribe(token)
            self._tokens = []
            self._poll = FALLBACK_POLL_INTERVAL
            self.fallback = inotify_failure(error)

    def _on_directory_event(self, name: str | None) -> None:
        if name is None or name in self._names:
            self._wake.set()

    @property
    def backend(self) -> str:
        """``"inotify"`` or ``"polling"``."""
        return "polling" if self._poll is not None else "inotify"

    @property
    def poll_interval(self) -> float | None:
        """Seconds between two looks when polling; None with inotify."""
        return self._poll

    def close(self) -> None:
        """Stop watching; a blocked iteration ends. Safe to call twice."""
        with self._lock:
            if self._wake.closed:
                return
            self._wake.close()
            for token in self._tokens:
                HUB.unsubscribe(token)
            os.close(self._fd)

    @property
    def size(self) -> int:
        """The file's size when the last event was decided: after MODIFIED a
        reader may read up to here at once, without probing for the end."""
        return self._size

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
        import asyncio  # only async callers pay for it

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
        now = time.monotonic()
        deadline = None if timeout is None else now + timeout
        next_look = now + interval  # look at everything at least this often
        while True:
            wait = next_look - now if deadline is None else min(next_look, deadline) - now
            signal = self._wake.wait(max(0.0, wait))
            if signal is CLOSED or signal is False:
                return None
            now = time.monotonic()
            if signal is IGNORED and now < next_look:
                continue  # another file of the directory
            with self._lock:
                if self._wake.closed:
                    return None
                event = self._check(look_at_path=signal is not WRITTEN)
            if signal is not WRITTEN:
                next_look = now + interval
            if event is ChangeEvent.DELETED:
                self.close()
                return self._report_deleted()
            if event is not None:
                return event
            if deadline is not None and now >= deadline:
                return None

    def _check(self, look_at_path: bool = True) -> ChangeEvent | None:
        """Compare the file with what was last seen. ``look_at_path`` also
        checks that its path still leads to it (not needed when inotify said
        only that content was written)."""
        st = os.fstat(self._fd)
        gone = st.st_nlink == 0 or (look_at_path and not self._path_is_ours())
        size = st.st_size
        event = None
        if self._shrunk_before or size < self._size:
            self._shrunk_before = False
            event = ChangeEvent.TRUNCATED
            self._fingerprint = self._read_fingerprint(size)
            self._head = self._read_head(size)
        elif size > self._size:
            event = ChangeEvent.TRUNCATED if self._refilled(size) else ChangeEvent.MODIFIED
        elif st.st_mtime_ns != self._mtime_ns:
            event = ChangeEvent.MODIFIED
            self._fingerprint = self._read_fingerprint(size)
            self._head = self._read_head(size)
        self._size, self._mtime_ns = size, st.st_mtime_ns
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
            return all(_identity(os.stat(p)) == self._identity for p in self._paths)
        except OSError:
            return False

    def _read_fingerprint(self, end: int) -> bytes:
        start = max(0, end - _FINGERPRINT)
        try:
            return os.pread(self._fd, end - start, start)
        except OSError:
            return b""

    def _read_head(self, end: int) -> bytes:
        try:
            return os.pread(self._fd, min(_FINGERPRINT, end), 0) if end else b""
        except OSError:
            return b""

    def _refilled(self, size: int) -> bool:
        """Whether the file, grown to ``size``, was truncated and written
        again past its old end between two looks: the bytes before the old
        end, or the first bytes of the file, changed. (Both: lines may end
        alike, in a run of one character, but rarely begin alike.) Takes the
        new fingerprints on the way, the tail in the same read when the
        growth is small."""
        head = self._head
        if len(head) < _FINGERPRINT or head != self._read_head(len(head)):
            self._head = self._read_head(size)
            if head and self._head[:len(head)] != head:
                self._fingerprint = self._read_fingerprint(size)
                return True
        before, old_end = self._fingerprint, self._size
        start, new_start = max(0, old_end - _FINGERPRINT), max(0, size - _FINGERPRINT)
        if size - start <= _ONE_READ:
            data = os.pread(self._fd, size - start, start)
            old, self._fingerprint = data[:old_end - start], data[new_start - start:]
        else:
            old = os.pread(self._fd, old_end - start, start)
            self._fingerprint = self._read_fingerprint(size)
        return bool(before) and old != before


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
                        token = None
                    try:
                        token = HUB.subscribe(directory, lambda _p: wake.set())
                    except OSError:  # out of inotify instances or watches: look instead
                        poll = FALLBACK_POLL_INTERVAL
                        continue
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
