"""What a tree of allocations gets from watching: which of its listed
directories to list again, and when each allocation's logs were last
written, on one :class:`~inspector.core.dirwatch.DirWatcher`.

A directory that changed is listed again at most :data:`REFRESH_PER_SECOND`
times a second, and less often when a listing takes long (a listing that
took ``t`` seconds waits ``4 t`` before the next), so that a task changing a
big directory all the time cannot keep a core listing it. Nothing here
knows about a toolkit: the tree model asks :meth:`TreeWatch.poll` when its
front-end's timer says, and lists what it is told.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Hashable

from ..dirwatch import DirWatcher
from ..logtimes import LogsOf, LogTimes

REFRESH_PER_SECOND = 4
"""At most this many listings again per second of a changed directory."""


class TreeWatch:
    """Directory watches by key (the tree's keys), their listings throttled,
    and the allocations' :class:`~inspector.core.logtimes.LogTimes`."""

    def __init__(self, watcher: DirWatcher | None = None) -> None:
        self.watcher = watcher or DirWatcher()
        self.log_times = LogTimes(self.watcher)
        self._dirty: set[Hashable] = set()
        self._not_before: dict[Hashable, float] = {}

    def watch(self, key: Hashable, alloc_dir: str, rel: str) -> bool:
        """Watch the directory ``rel`` of ``alloc_dir`` under ``key``."""
        return self.watcher.watch_dir(key, alloc_dir, rel)

    def unwatch(self, key: Hashable) -> None:
        """Stop watching ``key``."""
        self.watcher.unwatch(key)
        self._dirty.discard(key)
        self._not_before.pop(key, None)

    def watched(self) -> set:
        """The tree's keys being watched (the logs dirs' are not among them)."""
        return {key for key in self.watcher.watched() if not isinstance(key, LogsOf)}

    def listed(self, key: Hashable, took: float) -> None:
        """``key``'s listing is done, after ``took`` seconds: the next one
        waits a while (longer after a long one)."""
        self._not_before[key] = time.monotonic() + max(1 / REFRESH_PER_SECOND, 4 * took)

    def poll(self, listing: Collection[Hashable] = ()) -> tuple[list[Hashable], bool, str | None]:
        """Take what changed: (the keys to list again now, whether a log time
        moved, a notice to show once). A changed key whose listing is running
        (in ``listing``) or was too recent stays for a later poll."""
        changes = self.watcher.take()
        moved = bool(changes) and self.log_times.note(changes)
        self._dirty.update(key for key in changes if not isinstance(key, LogsOf))
        now = time.monotonic()
        due = [key for key in self._dirty
               if key not in listing and self._not_before.get(key, 0) <= now]
        self._dirty.difference_update(due)
        return due, moved, self.watcher.notice

    def close(self) -> None:
        """Remove every watch and stop the watcher's thread."""
        self.watcher.close()
