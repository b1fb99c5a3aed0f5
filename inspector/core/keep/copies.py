"""The files waiting to be copied whole (from the trees of every
allocation kept), copied one at a time, in slices: logs keep flowing while
a large file is copied, and at most one source and one staging file are
open for it."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from .trees import FileCopy

MAX_QUEUED = 100_000
"""Files waiting to be copied, at most (more wait for the next scan)."""

Guard = Callable[..., object]
"""Runs a call for an allocation, reporting what it raises (the keeper's)."""


class CopyQueue:
    """Files to copy, as (alloc id, tree, path), and the copy under way."""

    def __init__(self, allocs: dict, guard: Guard) -> None:
        self._allocs = allocs
        self._guard = guard
        self._queue: deque[tuple[str, str, str]] = deque()
        self._queued: set[tuple[str, str]] = set()
        self._job: tuple[object, FileCopy] | None = None

    def __bool__(self) -> bool:
        return bool(self._job or self._queue)

    def add(self, alloc_id: str, tree: str, paths: list[str]) -> bool:
        """Queue ``paths`` of ``tree``; False if the queue is full (the rest
        waits for the tree's next scan)."""
        for path in paths:
            if len(self._queue) >= MAX_QUEUED:
                return False
            if (alloc_id, path) not in self._queued:
                self._queued.add((alloc_id, path))
                self._queue.append((alloc_id, tree, path))
        return True

    def work(self, deadline: float, slice_bytes: int) -> None:
        """Copy until ``deadline`` (monotonic), or until there is no room."""
        while time.monotonic() < deadline:
            if self._job is None and not self._next():
                return
            alloc, job = self._job
            if alloc.room(1) <= 0:
                return  # no room: tried again at the next look
            done = self._guard(alloc, job.step, slice_bytes)
            if done is None or done:  # finished, or failed (noted)
                if done is None:
                    job.abort()
                self._job = None

    def _next(self) -> bool:
        while self._queue:
            alloc_id, tree, path = self._queue.popleft()
            self._queued.discard((alloc_id, path))
            alloc = self._allocs.get(alloc_id)
            if alloc is None or alloc.source is None or tree not in alloc.trees:
                continue
            job = self._guard(alloc, alloc.trees[tree].start_copy, path)
            if job is not None:
                self._job = (alloc, job)
                return True
        return False

    def drop(self, alloc, *, finish: bool, slice_bytes: int = 1 << 30) -> None:
        """Forget what is queued for ``alloc``. With ``finish``, a copy under
        way is completed first (from its open file, while it makes
        progress: the allocation is going); else it is abandoned."""
        if self._job is not None and self._job[0] is alloc:
            job = self._job[1]
            before = -1
            while finish and job.offset > before:
                before = job.offset
                if self._guard(alloc, job.step, slice_bytes) is not False:
                    break
            job.abort()
            self._job = None
        self._queue = deque(c for c in self._queue if c[0] != alloc.alloc_id)
        self._queued = {q for q in self._queued if q[0] != alloc.alloc_id}

    def abort(self) -> None:
        """Abandon the copy under way (its staging file goes)."""
        if self._job is not None:
            self._job[1].abort()
            self._job = None
