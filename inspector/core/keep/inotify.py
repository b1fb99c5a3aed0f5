"""Directory watches for keeping: one raw inotify instance, read in the
keeper's own thread, bounded whatever a task does.

Each watched directory has a key. :meth:`DirWatches.wait` returns, per key,
the names that changed (or :data:`EVERYTHING` when it was more than
``MAX_NAMES`` of them, the directory itself changed, or the kernel queue
overflowed): the keeper then looks at those names only. A rename storm or a
million files cost at most one full look per key per wait, never memory in
proportion to the events. Watches are added on a directory already opened
(through its ``/proc/self/fd`` link), so a symlink a task swaps in is never
followed to a directory outside the allocation.

When inotify is not available (no instances left, a kernel without it) the
keeper polls instead: :class:`DirWatches` says so with ``available``.
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import struct
from collections.abc import Callable, Hashable

from allocdir.dirfd import libc, proc_fd_path

IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x002, 0x004, 0x008
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x040, 0x080, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF = 0x400, 0x800
IN_Q_OVERFLOW, IN_IGNORED = 0x4000, 0x8000
IN_ONLYDIR = 0x01000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC

#: What a watched directory reports: content written, entries created,
#: removed or renamed, and the directory itself going away. (The path
#: watched is the ``/proc/self/fd`` link of a directory already open: it
#: must be followed, to that very directory.)
WATCH_MASK = (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM
              | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

EVERYTHING = None
"""In the changes of a key: look at every entry of the directory."""
MAX_NAMES = 1024
"""Names remembered per key in one wait; more, and the key says EVERYTHING."""
READ_SIZE = 1 << 16
MAX_READS = 16
"""inotify reads per wait (1 MiB of events); what is left waits for the next."""

_HEADER = struct.Struct("iIII")

Changes = dict[Hashable, "set[str] | None"]


class DirWatches:
    """Watches on directories, by key; :meth:`wait` says what changed."""

    def __init__(self) -> None:
        self._wds: dict[int, set[Hashable]] = {}
        self._keys: dict[Hashable, int] = {}
        self.available = True
        self.unavailable_reason = ""
        self._event = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        self._poller = select.poll()
        self._poller.register(self._event, select.POLLIN)
        fd = libc().inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            self.available = False
            self.unavailable_reason = os.strerror(err)
            self._fd = -1
        else:
            self._fd = fd
            self._poller.register(fd, select.POLLIN)

    def add(self, key: Hashable, dir_fd: int) -> str:
        """Watch the directory open as ``dir_fd`` under ``key`` (replacing
        what ``key`` watched; the same directory again changes nothing).
        Returns "" or why it cannot be watched (the caller polls it)."""
        if not self.available:
            return self.unavailable_reason
        wd = libc().inotify_add_watch(self._fd, os.fsencode(proc_fd_path(dir_fd)), WATCH_MASK)
        if wd < 0:
            err = ctypes.get_errno()
            self.remove(key)
            if err == errno.ENOSPC:
                return "no inotify watches left (fs.inotify.max_user_watches)"
            return os.strerror(err)
        if self._keys.get(key) != wd:  # (one inode, one watch: the kernel says which)
            self.remove(key)
            self._wds.setdefault(wd, set()).add(key)
            self._keys[key] = wd
        return ""

    def watching(self, key: Hashable) -> bool:
        """Whether ``key`` has a watch."""
        return key in self._keys

    def remove(self, key: Hashable) -> None:
        """Stop watching ``key`` (nothing if it is not watched)."""
        wd = self._keys.pop(key, None)
        if wd is None:
            return
        keys = self._wds.get(wd)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._wds[wd]
                libc().inotify_rm_watch(self._fd, wd)

    def remove_where(self, match: Callable[[Hashable], bool]) -> None:
        """Stop watching every key ``match`` accepts."""
        for key in [k for k in self._keys if match(k)]:
            self.remove(key)

    def wake(self) -> None:
        """Make a :meth:`wait` return now (safe from a signal handler)."""
        try:
            os.eventfd_write(self._event, 1)
        except OSError:
            pass

    def wait_wake(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, letting events gather; True if
        :meth:`wake` cut the sleep short."""
        try:
            ready = select.select([self._event], [], [], max(0.0, timeout))[0]
        except InterruptedError:
            ready = []
        return bool(ready)

    def wait(self, timeout: float) -> tuple[Changes, bool]:
        """Wait up to ``timeout`` seconds for changes; return them and
        whether :meth:`wake` was called. After an overflow every key says
        EVERYTHING."""
        try:
            ready = self._poller.poll(max(0.0, timeout) * 1000)
        except InterruptedError:
            ready = []
        woken = False
        changes: Changes = {}
        for fd, _ in ready:
            if fd == self._event:
                woken = True
                try:
                    os.eventfd_read(self._event)
                except BlockingIOError:
                    pass
            else:
                self._read(changes)
        return changes, woken

    def _read(self, changes: Changes) -> None:
        for _ in range(MAX_READS):
            try:
                data = os.read(self._fd, READ_SIZE)
            except BlockingIOError:
                return
            if not data:
                return
            self._parse(data, changes)
            if len(data) < READ_SIZE - 4096:
                return

    def _parse(self, data: bytes, changes: Changes) -> None:
        # A busy log writes the same name many times between two reads:
        # each (watch, name) is looked at once.
        seen: set[tuple[int, bytes]] = set()
        unpack, header = _HEADER.unpack_from, _HEADER.size
        offset, end = 0, len(data)
        while offset < end:
            wd, mask, _, length = unpack(data, offset)
            start = offset + header
            offset = start + length
            if mask & (IN_Q_OVERFLOW | IN_IGNORED):
                self._lost(wd, mask, changes)
            else:
                seen.add((wd, data[start:offset]))
        for wd, raw in seen:
            keys = self._wds.get(wd)
            if keys:
                name = raw.rstrip(b"\0")
                for key in keys:
                    _note(changes, key, os.fsdecode(name) if name else None)

    def _lost(self, wd: int, mask: int, changes: Changes) -> None:
        """Events were lost (the queue overflowed: every key) or a watch is
        gone with its directory: look at everything."""
        if mask & IN_Q_OVERFLOW:
            for key in self._keys:
                changes[key] = EVERYTHING
            return
        for key in self._wds.pop(wd, ()):
            self._keys.pop(key, None)
            changes[key] = EVERYTHING

    def close(self) -> None:
        """Remove every watch and close the instance."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        os.close(self._event)
        self._wds.clear()
        self._keys.clear()


def _note(changes: Changes, key: Hashable, name: str | None) -> None:
    if key in changes:
        names = changes[key]
        if names is EVERYTHING:
            return
    else:
        names = changes[key] = set()
    if name is None or len(names) >= MAX_NAMES:
        changes[key] = EVERYTHING
    else:
        names.add(name)
