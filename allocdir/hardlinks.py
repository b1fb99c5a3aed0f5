"""Whether a file reached outside every ``secrets/`` and ``private/`` is also a
file inside one: a hard link a task made to carry a secret out. Where those
are plain directories on the alloc dir's file system (when not root; a
``private/`` a task made), a link can join them to ``local/``; a tmpfs (the
secrets dir as root) is another device, which no link can cross.

The answer costs a bounded amount whatever a task puts in its dirs:

- One scan looks at every entry of the alloc dir, of each task dir and of
  each protected tree on the file's device, at most :data:`SCAN_ENTRIES` of
  them, for at most :data:`SCAN_SECONDS`, at most :data:`MAX_DEPTH` levels
  deep. A scan that stops short, or cannot read a protected dir, answers
  "treat it as a secret" (fail closed) and says why.
- A scan that gave up is kept for :data:`RETRY_SECONDS` (its answer only
  ever refuses). A complete scan is kept per alloc dir and device, with the
  identity and ``ctime`` of every directory it looked in; the next question
  re-checks those (one ``fstat`` each) and reuses the scan if none changed.
  A task cannot set a ``ctime``: any entry added, removed or renamed in one
  of them changes it. A scan is kept only when every such ``ctime`` is
  older than :data:`SETTLED_SECONDS` (a change within the same clock tick
  would not show), and it is checked again right after it is made, so that
  an entry moved during the scan from a directory not yet seen into one
  already seen is not missed.

Nothing in a protected dir is opened: names are listed and ``lstat``-ed.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from array import array
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass

from .dirfd import DIR_FLAGS, PATH_DIR_FLAGS, identity, lstat_at, open_beneath, open_dir
from .errors import AllocDirError
from .layout import SHARED_ALLOC_NAME, TASK_PRIVATE, TASK_SECRETS

SCAN_ENTRIES = 10_000
"""Entries one scan looks at, in all, before it gives up (and fails closed)."""
SCAN_SECONDS = 0.25
"""Time one scan may take (a slow file system) before it gives up."""
MAX_DEPTH = 32
"""Levels of a protected tree a scan goes down before it gives up."""
SETTLED_SECONDS = 1.0
"""A scan is kept only if no directory it looked in changed this recently."""
RETRY_SECONDS = 10.0
"""A scan that gave up is kept this long at most, then made again."""
CACHED_SCANS = 32
"""Scans kept (one per alloc dir and device)."""

PROTECTED_NAMES = frozenset({TASK_SECRETS.casefold(), TASK_PRIVATE.casefold()})
"""Task dir entries (compared case-insensitively) whose content is never read."""

_ATTEMPTS = 3


class _GaveUp(Exception):
    """A scan stopped short; the message says why."""


@dataclass(frozen=True)
class _Scan:
    stamps: tuple[tuple[str, tuple[int, int], int], ...]
    """(path below the alloc dir, identity, ctime_ns) of every directory looked in."""
    inodes: array
    """Sorted inode numbers of the regular files in the protected trees."""
    gave_up: str
    """Why the scan stopped short ("" when it saw everything)."""
    settled: bool
    made: float

    def holds(self, ino: int) -> bool:
        at = bisect_left(self.inodes, ino)
        return at < len(self.inodes) and self.inodes[at] == ino


class _Budget:
    def __init__(self) -> None:
        self.left = SCAN_ENTRIES
        self.deadline = time.monotonic() + SCAN_SECONDS

    def spend(self, where: str) -> None:
        self.left -= 1
        if self.left < 0:
            raise _GaveUp(f"{where} and the rest of the task dirs hold more than "
                          f"{SCAN_ENTRIES:,} entries to look through")
        if self.left % 256 == 0 and time.monotonic() > self.deadline:
            raise _GaveUp(f"looking through {where} took more than {SCAN_SECONDS} s")


class _Scanner:
    """One scan of an alloc dir's protected trees on one device."""

    def __init__(self, dev: int) -> None:
        self.dev = dev
        self.budget = _Budget()
        self.stamps: list[tuple[str, tuple[int, int], int]] = []
        self.inodes: list[int] = []

    def stamp(self, rel: str, st: os.stat_result) -> None:
        self.stamps.append((rel, identity(st), st.st_ctime_ns))

    def subdirs(self, fd: int, rel: str, *, files: bool = False) -> list[str]:
        """The subdirectories of ``fd``; with ``files``, the inode of each
        regular file goes into the scan."""
        found = []
        with os.scandir(fd) as entries:
            for entry in entries:
                self.budget.spend(rel or ".")
                if entry.is_dir(follow_symlinks=False):
                    found.append(entry.name)
                elif files and entry.is_file(follow_symlinks=False):
                    try:
                        self.inodes.append(entry.stat(follow_symlinks=False).st_ino)
                    except FileNotFoundError:
                        pass
        return found

    def enter(self, parent_fd: int, name: str, rel: str) -> int | None:
        """Open the directory ``name`` and stamp it, or None when it is gone,
        no longer a directory, or on another device (nothing to look at
        there: the parent's stamp shows such a change)."""
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            if e.errno == errno.ELOOP:
                return None
            raise _GaveUp(f"{rel} cannot be looked through: {e.strerror}") from None
        st = os.fstat(fd)
        if st.st_dev != self.dev:
            os.close(fd)
            return None
        self.stamp(rel, st)
        return fd

    def alloc(self, root_fd: int) -> None:
        self.stamp("", os.fstat(root_fd))
        for task in self.subdirs(root_fd, ""):
            if task == SHARED_ALLOC_NAME:
                continue
            try:
                task_fd = os.open(task, DIR_FLAGS, dir_fd=root_fd)
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as e:
                raise _GaveUp(f"{task} cannot be looked through: {e.strerror}") from None
            try:
                self.stamp(task, os.fstat(task_fd))
                for name in self.subdirs(task_fd, task):
                    if name.casefold() in PROTECTED_NAMES:
                        self.tree(task_fd, name, f"{task}/{name}")
            finally:
                os.close(task_fd)

    def tree(self, parent_fd: int, name: str, rel: str) -> None:
        """Every regular file of the protected tree ``name``, depth first,
        holding at most :data:`MAX_DEPTH` directory fds."""
        try:
            if lstat_at(parent_fd, name).st_dev != self.dev:
                return  # another file system (the secrets tmpfs): no link can cross
        except FileNotFoundError:
            return
        top = self.enter(parent_fd, name, rel)
        if top is None:
            return
        stack: list[tuple[int, str, list[str]]] = []
        try:
            stack.append((top, rel, self.subdirs(top, rel, files=True)))
            while stack:
                fd, where, pending = stack[-1]
                if not pending:
                    os.close(fd)
                    stack.pop()
                    continue
                if len(stack) >= MAX_DEPTH:
                    raise _GaveUp(f"{where} is nested more than {MAX_DEPTH} levels deep")
                child = pending.pop()
                child_rel = f"{where}/{child}"
                child_fd = self.enter(fd, child, child_rel)
                if child_fd is not None:
                    stack.append((child_fd, child_rel,
                                  self.subdirs(child_fd, child_rel, files=True)))
        finally:
            for fd, _, _ in stack:
                os.close(fd)


def _scan(root: str, dev: int) -> _Scan:
    started = time.time()
    scanner = _Scanner(dev)
    gave_up = ""
    root_fd = open_dir(root)
    try:
        scanner.alloc(root_fd)
    except _GaveUp as e:
        gave_up = str(e)
    finally:
        os.close(root_fd)
    settled_before = int((started - SETTLED_SECONDS) * 1e9)
    settled = all(ctime < settled_before for _, _, ctime in scanner.stamps)
    return _Scan(tuple(scanner.stamps), array("Q", sorted(set(scanner.inodes))), gave_up,
                 settled, time.monotonic())


def _unchanged(root: str, scan: _Scan) -> bool:
    """True when every directory the scan looked in is still there, the same
    directory, with the same ``ctime``."""
    try:
        root_fd = open_dir(root)
    except (OSError, AllocDirError):
        return False
    try:
        for rel, ident, ctime in scan.stamps:
            try:
                fd = open_beneath(root_fd, rel, rel, PATH_DIR_FLAGS)
            except (OSError, AllocDirError):
                return False
            try:
                st = os.fstat(fd)
            finally:
                os.close(fd)
            if identity(st) != ident or st.st_ctime_ns != ctime:
                return False
        return True
    finally:
        os.close(root_fd)


class _Scans:
    """The scans kept, most recently used last; safe across threads."""

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[str, int], _Scan] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int]) -> _Scan | None:
        with self._lock:
            scan = self._kept.get(key)
            if scan is not None:
                self._kept.move_to_end(key)
            return scan

    def put(self, key: tuple[str, int], scan: _Scan) -> None:
        with self._lock:
            self._kept[key] = scan
            self._kept.move_to_end(key)
            while len(self._kept) > CACHED_SCANS:
                self._kept.popitem(last=False)

    def drop(self, key: tuple[str, int]) -> None:
        with self._lock:
            self._kept.pop(key, None)


_SCANS = _Scans()


def _current_scan(root: str, dev: int) -> _Scan | None:
    """A scan of ``root`` on ``dev`` that still holds, made now if need be;
    None when the tree kept changing under every attempt."""
    key = (root, dev)
    kept = _SCANS.get(key)
    if kept is not None:
        if kept.gave_up:
            # Its answer is "a secret" for every hard link: stale, it can only
            # refuse more than needed, never less. Made again after a while.
            if time.monotonic() - kept.made < RETRY_SECONDS:
                return kept
        elif _unchanged(root, kept):
            return kept
        _SCANS.drop(key)
    for _ in range(_ATTEMPTS):
        scan = _scan(root, dev)
        if scan.gave_up:
            _SCANS.put(key, scan)
            return scan
        if _unchanged(root, scan):  # nothing moved behind the scan's back
            if scan.settled:
                _SCANS.put(key, scan)
            return scan
    return None


def secret_link(root: str, st: os.stat_result) -> str:
    """Why the regular file ``st``, inside the alloc dir ``root`` (its real
    path), must be treated as a secret: it is also a file in a task's
    ``secrets/`` or ``private/`` ("" when it is not), or that could not be
    ruled out (fail closed: the reason says why)."""
    scan = _current_scan(root, st.st_dev)
    if scan is None:
        return "hard-linked, and the task dirs kept changing while checked"
    if scan.holds(st.st_ino):
        return "hard-linked to a file in a secrets dir"
    if scan.gave_up:
        return f"hard-linked, and could not be checked: {scan.gave_up}"
    return ""
