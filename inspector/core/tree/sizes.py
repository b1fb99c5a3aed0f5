"""Sizes of directories for the tree's size order (issue 19): when the
tree is ordered by size, the subdirectories of each expanded directory are
measured with :func:`allocdir.usage.measure` (never following a link, never
leaving the device, hard links counted once) and the rows are ordered and
labelled as the sizes come in. Bounded: :data:`DIR_SECONDS` per directory,
:data:`LISTING_SECONDS` and :data:`MAX_DIRS` per listing; what a limit cut
short is said to be a lower bound. A task's secrets dir is never walked.
Blocking: the model runs :func:`measure_dirs` in a job.
"""

from __future__ import annotations

import posixpath
import time
from typing import NamedTuple

from allocdir.errors import AllocDirError
from allocdir.paths import is_protected
from allocdir.usage import measure

from .listing import K_DIR, Listing

DIR_SECONDS = 0.5
"""Time one directory's walk may take."""
LISTING_SECONDS = 3.0
"""Time the subdirectories of one listing may take, in all."""
MAX_DIRS = 200
"""Subdirectories of one listing measured, at most."""


class DirSize(NamedTuple):
    """A directory's apparent bytes; ``complete`` False when a limit cut
    the walk short (the bytes are then a lower bound)."""

    bytes: int
    complete: bool


def subdirectories(listing: Listing, rel: str) -> list[str]:
    """The names of the real subdirectories of ``listing`` (not links, not
    locked ones) to measure, in name order, at most :data:`MAX_DIRS`."""
    names = []
    for i, name in enumerate(listing.names):
        if listing.kinds[i] == K_DIR and i not in listing.targets \
                and not is_protected(posixpath.join(rel, name)):
            names.append(name)
            if len(names) == MAX_DIRS:
                break
    return names


def measure_dirs(alloc_dir: str, rel: str, names: list[str]) -> dict[str, DirSize]:
    """The size of each of ``names`` below ``rel`` of the alloc dir (bounded,
    see the module docstring); a directory that cannot be walked is left out."""
    deadline = time.monotonic() + LISTING_SECONDS
    sizes: dict[str, DirSize] = {}
    for name in names:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            usage = measure(alloc_dir, posixpath.join(rel, name),
                            time_limit=min(DIR_SECONDS, left), workers=0)
        except (OSError, AllocDirError):
            continue
        sizes[name] = DirSize(usage.apparent_bytes, usage.complete)
    return sizes


__all__ = ["DIR_SECONDS", "LISTING_SECONDS", "MAX_DIRS", "DirSize", "measure_dirs",
           "subdirectories"]
