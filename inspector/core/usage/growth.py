"""How fast each allocation, and its logs, grow while a view is open.

Not by walking everything again: at each sample only the *hot* directories
of each allocation are listed and ``lstat``'ed (:func:`allocdir.files_in`):
its ``alloc/logs``, and the directories whose own files were written within
:data:`HOT_WINDOW` of the measurement (at most :data:`MAX_HOT` per
allocation, newest first). The rate is the change of their allocated bytes
over the last :data:`WINDOW` seconds. A task that starts writing in a
directory that was cold is seen at the next full measurement.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass

from allocdir import LOG_DIR_NAME, SHARED_ALLOC_NAME, AllocDirError, DirUsage, Usage, files_in

HOT_WINDOW = 900.0
"""A directory with a write this recent (seconds) at measurement is watched."""
MAX_HOT = 16
"""Hot directories per allocation, at most."""
WINDOW = 60.0
"""Seconds of samples a rate is computed over."""
ENTRY_BUDGET = 50_000
"""Entries looked at per sample, across all allocations: a task with a
million files in a hot directory cannot make sampling heavy."""

LOGS = f"{SHARED_ALLOC_NAME}/{LOG_DIR_NAME}"


@dataclass(frozen=True)
class Growth:
    """Bytes per minute (allocated) of an allocation's hot directories and
    of its logs; None until two samples are apart."""

    bytes_per_minute: float | None
    logs_per_minute: float | None


class GrowthTracker:
    """Samples the hot directories of each allocation of a measurement.

    ``usage`` measured ``base`` below the directory ``path`` (the
    operator's: everything below is walked down without following a link);
    ``allocs`` maps a key (an allocation's name below a measured client
    root, or "") to its record. Call :meth:`sample` from a worker on a timer.
    """

    def __init__(self, path: str, usage: Usage, allocs: dict[str, DirUsage],
                 base: str = "") -> None:
        self.path = path
        self.base = base
        self.hot: dict[str, list[str]] = {key: _hot_dirs(node.rel, node, usage)
                                          for key, node in allocs.items()}
        self.samples: dict[str, deque] = {rel: deque() for rel in allocs}

    def sample(self, now: float | None = None) -> dict[str, Growth]:
        """List the hot directories once; the growth of each allocation."""
        now = time.monotonic() if now is None else now
        budget = ENTRY_BUDGET
        out = {}
        for rel, dirs in self.hot.items():
            total = logs = 0
            for d in dirs:
                if budget <= 0:
                    break
                try:
                    where = f"{self.base}/{d}" if self.base else d
                    listed = files_in(self.path, where, top=0, allocated=True, limit=budget)
                except (OSError, AllocDirError):
                    continue  # gone, or replaced by a link: nothing to count there
                budget -= listed.count + len(listed.subdirs)
                total += listed.allocated
                if d.endswith(LOGS):
                    logs += listed.allocated
            samples = self.samples[rel]
            samples.append((now, total, logs))
            while len(samples) > 2 and now - samples[1][0] >= WINDOW:
                samples.popleft()
            out[rel] = _rate(samples)
        return out


def _rate(samples: deque) -> Growth:
    if len(samples) < 2 or samples[-1][0] <= samples[0][0]:
        return Growth(None, None)
    (t0, total0, logs0), (t1, total1, logs1) = samples[0], samples[-1]
    minutes = (t1 - t0) / 60.0
    return Growth((total1 - total0) / minutes, (logs1 - logs0) / minutes)


def _hot_dirs(rel: str, node: DirUsage, usage: Usage) -> list[str]:
    """``alloc/logs`` and the directories with recent writes of their own."""
    logs = os.path.join(rel, LOGS) if rel else LOGS
    since = time.time() - HOT_WINDOW
    found: list[tuple[float, str]] = []
    pending = [node]
    while pending:
        d = pending.pop()
        pending.extend(d.children)
        if d.own_inodes and d.newest >= since:
            found.append((d.newest, d.rel))
    found.sort(reverse=True)
    hot = [logs] + [r for _, r in found if r != logs]
    return hot[:MAX_HOT]
