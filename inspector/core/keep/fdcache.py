"""A bounded set of open file descriptors, least recently used closed first.

Keeping follows many files at once (two streams per task, many
allocations). Holding every source and kept file open would let a task that
creates thousands of log sets exhaust the process's fds; opening each one
for every write would cost system calls per event. :class:`FdCache` keeps
at most ``limit`` of them open; one in use (:meth:`FdCache.use`) is never
closed under its user.
"""

from __future__ import annotations

import os
import resource
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

OpenFd = Callable[[], int]
"""Opens the fd of a key when it is not in the cache."""


def raise_fd_limit(wanted: int = 65536) -> int:
    """Raise the soft limit of open files towards ``wanted`` (never above
    the hard limit); return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


class FdCache:
    """Open fds by key, at most ``limit`` of them (plus those in use).

    ``on_close(key, fd)`` is called before an fd is closed (to sync a file
    that was written, for instance)."""

    def __init__(self, limit: int,
                 on_close: Callable[[Hashable, int], None] | None = None) -> None:
        self.limit = max(4, limit)
        self._fds: OrderedDict[Hashable, int] = OrderedDict()
        self._users: dict[Hashable, int] = {}
        self._on_close = on_close

    def __len__(self) -> int:
        return len(self._fds)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._fds

    def peek(self, key: Hashable) -> int | None:
        """The fd of ``key`` if it is open (not counted as a use)."""
        return self._fds.get(key)

    def acquire(self, key: Hashable, opener: OpenFd) -> int:
        """The fd of ``key``, opened with ``opener`` if needed (what it
        raises passes through); not closed by the cache until :meth:`release`."""
        fd = self._fds.get(key)
        if fd is None:
            fd = opener()
            self._fds[key] = fd
        else:
            self._fds.move_to_end(key)
        self._users[key] = self._users.get(key, 0) + 1
        self._trim()
        return fd

    def release(self, key: Hashable) -> None:
        """End a use that :meth:`acquire` began."""
        left = self._users.get(key, 0) - 1
        if left > 0:
            self._users[key] = left
        else:
            self._users.pop(key, None)

    @contextmanager
    def use(self, key: Hashable, opener: OpenFd) -> Iterator[int]:
        """:meth:`acquire` for the length of a ``with`` block."""
        fd = self.acquire(key, opener)
        try:
            yield fd
        finally:
            self.release(key)

    def adopt(self, key: Hashable, fd: int) -> None:
        """Take ``fd`` (just opened by the caller) into the cache under ``key``."""
        old = self._fds.pop(key, None)
        if old is not None and old != fd:
            self._close(key, old)
        self._fds[key] = fd
        self._trim()

    def close(self, key: Hashable) -> None:
        """Close the fd of ``key`` now, if open and not in use."""
        if key in self._fds and key not in self._users:
            self._close(key, self._fds.pop(key))

    def close_where(self, keep: Callable[[Hashable], bool]) -> None:
        """Close every fd (not in use) whose key ``keep`` rejects."""
        for key in [k for k in self._fds if not keep(k) and k not in self._users]:
            self._close(key, self._fds.pop(key))

    def close_all(self) -> None:
        """Close everything (at the end)."""
        while self._fds:
            key, fd = self._fds.popitem(last=False)
            self._close(key, fd)
        self._users.clear()

    def _trim(self) -> None:
        while len(self._fds) > self.limit:
            # The least recently used first; the few in use are skipped.
            victim = next((key for key in self._fds if key not in self._users), None)
            if victim is None:
                return
            self._close(victim, self._fds.pop(victim))

    def _close(self, key: Hashable, fd: int) -> None:
        try:
            if self._on_close is not None:
                self._on_close(key, fd)
        finally:
            os.close(fd)
