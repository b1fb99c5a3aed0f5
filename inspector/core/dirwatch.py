"""Watching the directories a tree shows, at a bounded cost whatever a task
does in them.

``allocdir`` watches files, not directories; a tree of allocations wants to
know when an open directory gains or loses an entry (a log rotated, a file
written), and when an allocation's logs were last written. It needs only
"this directory changed", never the events themselves, so
:class:`DirWatcher` keeps no queue: one inotify instance holds a
non-recursive watch per directory (however many keys share it), and one
reader thread reads the kernel's events in big buffers and only ORs each
event's mask into the entry of its watch. A rename storm of 50,000 renames
a second costs a few percent of a core while it lasts and nothing after:
memory holds one integer per watched directory, and a queue overflow
(``IN_Q_OVERFLOW``) just marks every watched directory :data:`LOOK_AGAIN`.
After each read the thread pauses for :data:`COALESCE` seconds, so events
gather in the kernel and are read in a few big reads rather than one by
one.

Where inotify is unavailable or exhausted (no instance or no watch left, as
a task under the same uid can arrange), a directory is polled instead:
one ``lstat`` per polled directory every :data:`POLL_INTERVAL` seconds, its
identity, mtime and ctime compared. :attr:`DirWatcher.notice` says so, once.

Callers :meth:`~DirWatcher.watch_dir` a directory under a key, take the keys
that changed (with what happened, as inotify mask bits) with
:meth:`~DirWatcher.take` at the pace they choose, :meth:`~DirWatcher.unwatch`
a key when it is closed and :meth:`~DirWatcher.close` at the end.

A watch only reads metadata (it never opens a file). The directory is
opened without following any symlink below the alloc dir (``openat2``
``RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS``, see ``allocdir.dirfd``) and the
watch is added on that open directory through ``/proc/self/fd``, so a
symlink a task swaps in cannot make it watch anything outside. The worst a
task can do is make the tree list a directory again, through
``AllocDir.list`` and its checks.
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import stat
import threading
import time
from collections.abc import Hashable

from allocdir import AllocDirError
from allocdir.dirfd import PATH_DIR_FLAGS, open_beneath, proc_fd_path
from allocdir.watch import _EVENT_HEADER, _INOTIFY_POOL, _In, _inotify

from .failure import failure_text
from .text import printable

# inotify bits not named in allocdir.watch (Linux's ABI, <sys/inotify.h>).
_UNMOUNT, _Q_OVERFLOW, _IGNORED, _EXCL_UNLINK = 0x2000, 0x4000, 0x8000, 0x04000000

WRITTEN = _In.MODIFY | _In.CLOSE_WRITE | _In.CREATE | _In.MOVED_TO
"""Bits of a change that wrote a file or brought one in."""
REMOVED = _In.DELETE | _In.MOVED_FROM
"""Bits of an entry that went away."""
GONE = _In.DELETE_SELF | _In.MOVE_SELF | _UNMOUNT | _IGNORED
"""Bits of the directory itself removed, moved or unmounted: its watch ends."""
LOOK_AGAIN = _Q_OVERFLOW
"""Something changed that was not seen in detail (events lost, or a polled
directory changed): look at the directory again."""

_MASK = (_In.MODIFY | _In.ATTRIB | _In.CLOSE_WRITE | _In.CREATE | _In.DELETE | _In.MOVED_FROM
         | _In.MOVED_TO | _In.DELETE_SELF | _In.MOVE_SELF | _In.ONLYDIR | _EXCL_UNLINK)

COALESCE = 0.05
"""Seconds the reader pauses after a read, letting events gather in the kernel."""
POLL_INTERVAL = 1.0
"""Seconds between looks at the polled directories."""
READ_SIZE = 1 << 16
"""Bytes read from inotify at a time (about 2,000 events)."""


def open_watchable(alloc_dir: str, rel: str) -> tuple[int, str]:
    """An ``O_PATH`` fd of the directory ``rel`` of ``alloc_dir`` and its real
    path, opened without following any symlink below the alloc dir (``rel``
    may go through links inside it: they are resolved first and the result
    must stay inside). Raises OSError or AllocDirError otherwise; the caller
    closes the fd."""
    top = os.path.realpath(alloc_dir)
    path = os.path.realpath(os.path.join(top, rel)) if rel else top
    if path != top and not path.startswith(top.rstrip(os.sep) + os.sep):
        raise AllocDirError(f"{printable(rel)}: escapes the alloc dir")
    root_fd = os.open(top, PATH_DIR_FLAGS)
    try:
        below = os.path.relpath(path, top) if path != top else ""
        return open_beneath(root_fd, below, path, PATH_DIR_FLAGS), path
    finally:
        os.close(root_fd)


def _signature(path: str) -> tuple | None:
    """What polling compares: identity, mtime and ctime (None when gone)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns


class DirWatcher:
    """Directory watches by key; what changed collects, coalesced, until taken.

    Thread-safe. ``coalesce`` and ``poll_interval`` are for tests;
    ``inotify=False`` polls every directory.
    """

    def __init__(self, *, coalesce: float = COALESCE, poll_interval: float = POLL_INTERVAL,
                 inotify: bool = True) -> None:
        self._coalesce = coalesce
        self._poll_interval = poll_interval
        self._lock = threading.Lock()
        self._inotify: int | None = None
        self._inotify_refused = "" if inotify else "inotify is off"
        self._wake = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        self._thread: threading.Thread | None = None
        self._wd_keys: dict[int, set[Hashable]] = {}
        self._key_wd: dict[Hashable, int] = {}
        self._polled: dict[Hashable, list] = {}  # key -> [path, signature]
        self._changed: dict[Hashable, int] = {}
        self._notice: str | None = None
        self._noticed = False
        self._closed = False

    # -- watching ------------------------------------------------------------

    def watch_dir(self, key: Hashable, alloc_dir: str, rel: str) -> bool:
        """Watch the directory ``rel`` of ``alloc_dir`` (not recursively)
        under ``key``; False if it cannot be watched (gone, not a directory,
        outside the alloc dir)."""
        try:
            fd, path = open_watchable(alloc_dir, rel)
        except (OSError, AllocDirError, ValueError):
            return False
        try:
            return self._watch_fd(key, fd, path)
        finally:
            os.close(fd)

    def _watch_fd(self, key: Hashable, fd: int, path: str) -> bool:
        with self._lock:
            if self._closed:
                return False
            inotify = self._ensure_inotify()
        if inotify is not None:
            wd = _inotify().inotify_add_watch(inotify, os.fsencode(proc_fd_path(fd)), _MASK)
            if wd >= 0:
                with self._lock:
                    self._attach(key, wd)
                    self._start_locked()  # again, should it have stopped
                return True
            err = ctypes.get_errno()
            if err != errno.ENOSPC:
                return False
            self._fall_back("inotify watch limit reached (fs.inotify.max_user_watches)")
        signature = _signature(path)
        if signature is None:
            return False
        with self._lock:
            self._detach(key)
            self._polled[key] = [path, signature]
        self._start()
        return True

    def _ensure_inotify(self) -> int | None:
        """The inotify fd (taken on first use), or None when there is none to
        have. Called with the lock held."""
        if self._inotify is None and not self._inotify_refused:
            try:
                self._inotify = _INOTIFY_POOL.take()
            except OSError as exc:
                reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
                self._inotify_refused = f"inotify unavailable ({reason})"
                self._notice = self._notice or self._polling_notice(self._inotify_refused)
            else:
                self._start_locked()
        return self._inotify

    def _polling_notice(self, why: str) -> str:
        return (f"{why}: directories are polled every {self._poll_interval:g} s, "
                "changes show more slowly")

    def _fall_back(self, why: str) -> None:
        with self._lock:
            self._notice = self._notice or self._polling_notice(why)

    def _attach(self, key: Hashable, wd: int) -> None:
        """Record ``key`` on watch ``wd`` (lock held)."""
        if self._key_wd.get(key) != wd:
            self._detach(key)
            self._key_wd[key] = wd
            self._wd_keys.setdefault(wd, set()).add(key)
        self._polled.pop(key, None)

    def _detach(self, key: Hashable) -> None:
        """Forget ``key``'s watch, removing the kernel's watch with its last
        key (lock held)."""
        self._polled.pop(key, None)
        wd = self._key_wd.pop(key, None)
        if wd is None:
            return
        keys = self._wd_keys.get(wd)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._wd_keys[wd]
                if self._inotify is not None:
                    _inotify().inotify_rm_watch(self._inotify, wd)

    def unwatch(self, key: Hashable) -> None:
        """Stop watching ``key`` (nothing if it is not watched)."""
        with self._lock:
            self._detach(key)
            self._changed.pop(key, None)

    def watched(self) -> set:
        """The keys being watched."""
        with self._lock:
            return set(self._key_wd) | set(self._polled)

    def is_watching(self, key: Hashable) -> bool:
        """True while ``key``'s directory is watched (a removed or moved-away
        directory ends its watch)."""
        with self._lock:
            return key in self._key_wd or key in self._polled

    def is_polled(self, key: Hashable) -> bool:
        """True when ``key``'s directory is polled (its files' writes are not seen)."""
        with self._lock:
            return key in self._polled

    def take(self) -> dict[Hashable, int]:
        """The keys whose directory changed since the last call, each with
        the inotify bits of what happened (see :data:`WRITTEN`,
        :data:`REMOVED`, :data:`GONE`, :data:`LOOK_AGAIN`)."""
        with self._lock:
            changed, self._changed = self._changed, {}
        return changed

    @property
    def notice(self) -> str | None:
        """Why directories are polled, the first time it is asked (then None)."""
        with self._lock:
            if self._notice is None or self._noticed:
                return None
            self._noticed = True
            return self._notice

    @property
    def backend(self) -> str:
        """"inotify" while every watch is one, else "polling"."""
        with self._lock:
            return "polling" if self._polled or self._inotify_refused else "inotify"

    def close(self) -> None:
        """Remove every watch and stop the reader thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            os.eventfd_write(self._wake, 1)
        if thread is not None:
            thread.join(timeout=5)
        with self._lock:
            self._release()

    def _release(self) -> None:
        """Give the inotify fd back (its watches removed) and close the
        wake-up (lock held; after the reader has stopped)."""
        if self._inotify is not None:
            _INOTIFY_POOL.give(self._inotify, list(self._wd_keys))
            self._inotify = None
        self._wd_keys.clear()
        self._key_wd.clear()
        self._polled.clear()
        self._changed.clear()
        if self._wake >= 0:
            os.close(self._wake)
            self._wake = -1

    # -- the reader thread ---------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            self._start_locked()
            if not self._closed:
                os.eventfd_write(self._wake, 1)  # look at the poll timeout again

    def _start_locked(self) -> None:
        if (self._thread is None or not self._thread.is_alive()) and not self._closed:
            self._thread = threading.Thread(target=self._run, name="inspector-dirwatch",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        """The reader thread. Should it fail, every watched directory is
        marked to be looked at again and the failure is the notice: the tree
        says watching stopped, rather than silently showing old listings."""
        try:
            self._loop()
        except Exception as exc:
            with self._lock:
                self._notice = (f"watching directories stopped ({failure_text(exc)}): "
                                "press r to refresh")
                self._noticed = False
                for key in list(self._key_wd) + list(self._polled):
                    self._changed[key] = self._changed.get(key, 0) | LOOK_AGAIN

    def _loop(self) -> None:
        poller = select.poll()
        poller.register(self._wake, select.POLLIN)
        pause = select.poll()
        pause.register(self._wake, select.POLLIN)
        registered = None
        next_poll = None
        while True:
            with self._lock:
                if self._closed:
                    return
                inotify, polling = self._inotify, bool(self._polled)
            if inotify is not None and registered is None:
                poller.register(inotify, select.POLLIN)
                registered = inotify
            timeout = -1
            if polling:
                now = time.monotonic()
                next_poll = next_poll if next_poll is not None else now + self._poll_interval
                timeout = max(0, int((next_poll - now) * 1000))
            ready = poller.poll(timeout)
            for fd, _ in ready:
                if fd == self._wake:
                    _drain_eventfd(self._wake)
                elif fd == registered:
                    self._read(fd)
            if polling and time.monotonic() >= next_poll:
                self._poll_dirs()
                next_poll = None
            if any(fd == registered for fd, _ in ready):
                pause.poll(self._coalesce * 1000)  # let events gather (close still wakes it)

    def _read(self, fd: int) -> None:
        """Read what inotify queued, in big reads, and note which watches
        changed: per watch one OR of masks, never a queue of events."""
        masks: dict[int, int] = {}
        unpack = _EVENT_HEADER.unpack_from
        header = _EVENT_HEADER.size
        while True:
            try:
                data = os.read(fd, READ_SIZE)
            except BlockingIOError:
                break
            except OSError:
                break
            offset, size = 0, len(data)
            while offset < size:
                wd, mask, _, length = unpack(data, offset)
                offset += header + length
                masks[wd] = masks.get(wd, 0) | mask
            if size < READ_SIZE // 2:
                break
        if masks:
            with self._lock:
                self._note(masks)

    def _note(self, masks: dict[int, int]) -> None:
        """Merge what was read into the changed keys (lock held)."""
        changed = self._changed
        for wd, mask in masks.items():
            if mask & _Q_OVERFLOW:
                for key in self._key_wd:
                    changed[key] = changed.get(key, 0) | LOOK_AGAIN
                continue
            keys = self._wd_keys.get(wd)
            if not keys:
                continue
            for key in keys:
                changed[key] = changed.get(key, 0) | mask
            if mask & GONE:
                # The directory went (or moved away with its watch): forget the
                # watch, so that watching the key again watches what is there now.
                for key in list(keys):
                    self._detach(key)

    def _poll_dirs(self) -> None:
        """One lstat per polled directory; a changed one is marked LOOK_AGAIN."""
        with self._lock:
            polled = [(key, entry[0], entry[1]) for key, entry in self._polled.items()]
        looks = [(key, _signature(path), before) for key, path, before in polled]
        with self._lock:
            for key, signature, before in looks:
                entry = self._polled.get(key)
                if entry is None or signature == before:
                    continue
                entry[1] = signature
                self._changed[key] = self._changed.get(key, 0) | LOOK_AGAIN


def _drain_eventfd(fd: int) -> None:
    try:
        os.eventfd_read(fd)
    except BlockingIOError:
        pass

