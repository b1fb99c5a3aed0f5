"""When each allocation's logs were last written, at a bounded cost whatever
a task puts in its ``alloc/logs``.

A tree labels each allocation with the age of its newest log write ("logs
3 seconds ago"). Listing every ``alloc/logs`` on a timer to find the newest
mtime costs a million ``lstat`` calls, and as many objects, for a task that
leaves a million files there. Here the answer comes from inotify instead:
each allocation's ``alloc/logs`` has a watch on the tree's
:class:`~inspector.core.dirwatch.DirWatcher`, and a write seen there means
"written now". One look at the directory gives the starting point; it is
bounded (at most :data:`LOOK_CAP` entries, ``os.scandir`` and ``lstat``
only, no object per entry; when capped, the directory's own mtime, the last
time a log was created or rotated, stands in for the rest) and skipped when
the directory's identity, mtime and ctime are those of the last look. A
directory looks again only when events were lost, it was replaced, or it is
polled (no inotify left): then the newest file of the last look is
``lstat``-ed, one call per allocation.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from allocdir import LOG_DIR_NAME, SHARED_ALLOC_NAME
from allocdir.paths import open_directory

from .dirwatch import GONE, LOOK_AGAIN, WRITTEN, DirWatcher
from .failure import failure_text

LOOK_CAP = 4096
"""Entries of one ``alloc/logs`` looked at, at most, in one look."""
TRACKED = 500
"""Allocations whose logs are tracked (the first, by id)."""
LOGS = f"{SHARED_ALLOC_NAME}/{LOG_DIR_NAME}"


@dataclass(frozen=True)
class LogsOf:
    """The watch key of an allocation's ``alloc/logs``."""

    alloc_dir: str


@dataclass
class _State:
    """What is known of one allocation's logs."""

    time: float | None = None
    error: str | None = None
    signature: tuple | None = None  # of the directory at the last look
    newest: str | None = None  # name of the newest file the last look found
    watched: bool = False
    stale: bool = True  # to be looked at again


class LogTimes:
    """The last log write of each tracked allocation. Thread-safe: events
    are noted on the UI's thread, looks run in a worker."""

    def __init__(self, watcher: DirWatcher, *, cap: int = LOOK_CAP) -> None:
        self._watcher = watcher
        self._cap = cap
        self._lock = threading.Lock()
        self._states: dict[str, _State] = {}
        self.looks = 0
        """How many directory scans were made (a scan skipped is not counted)."""

    def time_of(self, alloc_dir: str) -> float | None:
        """When the logs were last written (seconds since the epoch), if known."""
        with self._lock:
            state = self._states.get(alloc_dir)
            return state.time if state is not None else None

    def error_of(self, alloc_dir: str) -> str | None:
        """Why the logs could not be looked at, if they could not."""
        with self._lock:
            state = self._states.get(alloc_dir)
            return state.error if state is not None else None

    def track(self, allocs: Iterable) -> None:
        """Follow the logs of ``allocs`` (``AllocDir`` objects; the first
        :data:`TRACKED`), forget the others, and look at those not known or
        changed. Blocking."""
        wanted = [alloc.alloc_dir for alloc in list(allocs)[:TRACKED]]
        with self._lock:
            keep = set(wanted)
            gone = [d for d in self._states if d not in keep]
            for alloc_dir in gone:
                del self._states[alloc_dir]
            for alloc_dir in wanted:
                state = self._states.setdefault(alloc_dir, _State())
                # Looked at again (skipped if unchanged); a logs dir that could
                # not be watched (none yet) is tried again.
                state.stale = True
                state.watched = state.watched and self._watcher.is_watching(LogsOf(alloc_dir))
        for alloc_dir in gone:
            self._watcher.unwatch(LogsOf(alloc_dir))
        self.look_again()

    def note(self, changes: dict[Hashable, int]) -> bool:
        """Take the watcher's news of the logs dirs (other keys are ignored):
        a write is "written now"; lost events or a replaced directory make it
        due for a look. True when a time changed."""
        now = time.time()
        moved = False
        with self._lock:
            for key, bits in changes.items():
                if not isinstance(key, LogsOf):
                    continue
                state = self._states.get(key.alloc_dir)
                if state is None:
                    continue
                if bits & WRITTEN:
                    state.time = max(state.time or now, now)
                    moved = True
                if bits & (LOOK_AGAIN | GONE):
                    state.stale = True
                if bits & GONE:
                    state.watched = False
        return moved

    def due(self) -> bool:
        """Whether :meth:`look_again` has anything to do."""
        with self._lock:
            return any(s.stale or self._watcher.is_polled(LogsOf(d))
                       for d, s in self._states.items())

    def look_again(self) -> None:
        """Look at the logs dirs that are due: watch them (again), scan those
        whose directory changed (bounded), ``lstat`` the newest file of those
        only polled. Blocking."""
        with self._lock:
            due = [(d, s.watched) for d, s in self._states.items()
                   if s.stale or self._watcher.is_polled(LogsOf(d))]
        for alloc_dir, watched in due:
            # Watched first, so that a write after the look is seen.
            if not watched:
                watched = self._watcher.watch_dir(LogsOf(alloc_dir), alloc_dir, LOGS)
            self._look(alloc_dir, watched)

    def _look(self, alloc_dir: str, watched: bool) -> None:
        with self._lock:
            state = self._states.get(alloc_dir)
            if state is None:
                return
            state.watched = watched
            state.stale = False
            signature, newest = state.signature, state.newest
        try:
            found = self._scan(alloc_dir, signature, newest)
        except FileNotFoundError:
            found = (None, None, None, None)
        except Exception as exc:  # whatever the task did, it is said on the node
            found = (None, None, None, failure_text(exc, f"looking at {alloc_dir}/{LOGS}"))
        with self._lock:
            state = self._states.get(alloc_dir)
            if state is None or found is None:
                return
            stamp, state.signature, state.newest, state.error = found
            if stamp is not None and (state.time is None or stamp > state.time):
                state.time = stamp
            elif state.signature is None:
                state.time = None  # no logs dir (any more)

    def _scan(self, alloc_dir: str, signature: tuple | None,
              newest: str | None) -> tuple | None:
        """(newest mtime, directory signature, newest name, None), or None
        when the directory is as it was at the last look."""
        fd, _ = open_directory(alloc_dir, LOGS)
        try:
            st = os.fstat(fd)
            now = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
            if now == signature:
                return self._recheck(fd, now, newest)
            self.looks += 1
            stamp, name, capped = _newest_entry(fd, self._cap)
            if capped:
                # Entries past the cap were not seen: the last time a file was
                # created or rotated in the directory is a lower bound for them.
                stamp = max(stamp or 0.0, st.st_mtime)
            return stamp, now, name, None
        finally:
            os.close(fd)

    @staticmethod
    def _recheck(fd: int, signature: tuple, newest: str | None) -> tuple | None:
        """For an unchanged directory: the newest file's mtime now (one
        ``lstat``), as polling sees no write to a file."""
        if newest is None:
            return None
        try:
            st = os.stat(newest, dir_fd=fd, follow_symlinks=False)
        except OSError:
            return None
        return st.st_mtime, signature, newest, None


def _newest_entry(fd: int, cap: int) -> tuple[float | None, str | None, bool]:
    """The newest regular file not starting with "." among the first ``cap``
    entries of the directory ``fd``: (its mtime, its name, whether there were
    more entries than ``cap``)."""
    stamp: float | None = None
    name: str | None = None
    seen = 0
    with os.scandir(fd) as entries:
        for entry in entries:
            seen += 1
            if seen > cap:
                return stamp, name, True
            if entry.name.startswith("."):
                continue  # logmon's FIFOs
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and (stamp is None or st.st_mtime > stamp):
                stamp, name = st.st_mtime, entry.name
    return stamp, name, False
