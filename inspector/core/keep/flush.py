"""Making what was kept durable before recording it.

A record never claims bytes that are not on disk: every kept file written
since its last record is synced first, then the journal is written (and
synced). With a few open files, each is synced on its own; with many (the
first look at 20,000 rotated files), or files already closed, the whole
file system is synced at once: one journal commit, not one per file.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable

from allocdir.dirfd import libc

SYNC_EACH = 16
"""Kept files synced one by one at a flush, at most."""


def sync_file_system(fd: int) -> None:
    """``syncfs(2)`` of the file system ``fd`` is on."""
    if libc().syncfs(fd) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def flush(allocs: list, store_fd: int, guard: Callable, *, final: bool) -> OSError | None:
    """Sync what ``allocs`` wrote, then record it. ``guard(alloc, call,
    *args)`` runs each step for its allocation (reporting what fails).
    Returns the error of a whole-file-system sync (then nothing new is
    recorded, and what it covered is cut back to its records)."""
    unsynced = [(alloc, gen) for alloc in allocs for gen in alloc.unsynced()]
    whole = len(unsynced) > SYNC_EACH or any(not a.is_open(g) for a, g in unsynced)
    if whole and unsynced:
        try:
            sync_file_system(store_fd)
        except OSError as e:
            for alloc, gen in unsynced:
                guard(alloc, alloc.cut_back, gen)
            return e
    else:
        for alloc, gen in unsynced:
            guard(alloc, alloc.sync, gen)
    for alloc in allocs:
        guard(alloc, _record, alloc, final, whole)
    return None


def flush_one(alloc) -> None:
    """Sync and record one allocation (it is going)."""
    for gen in alloc.unsynced():
        alloc.sync(gen)
    alloc.record(final=True)


def _record(alloc, final: bool, synced: bool) -> None:
    alloc.record(final=final, synced=synced)
