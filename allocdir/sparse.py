"""Where a file with holes keeps its data, so that a copy or an archive of
it holds the data and not the holes.

A task can ``truncate`` a file to 1 TiB in a moment: it takes no blocks, but
read front to back it is a terabyte of zeros. ``SEEK_DATA``/``SEEK_HOLE``
find the data regions; what they cost is bounded (:data:`MAX_EXTENTS`
regions at most, the rest of the file then counting as one region).
"""

from __future__ import annotations

import errno
import os
import stat

MAX_EXTENTS = 4096
"""Data regions looked for, at most, in one file: past them the rest of the
file is one region (its holes are then read as zeros, as any copy does)."""

Extents = list[tuple[int, int]]
"""``(offset, length)`` of each data region, in order."""


def may_have_holes(st: os.stat_result) -> bool:
    """True when the regular file ``st`` takes fewer blocks than its size:
    it may have holes (or be compressed, or be small and inline)."""
    return stat.S_ISREG(st.st_mode) and st.st_blocks * 512 < st.st_size


def data_extents(fd: int, size: int) -> Extents | None:
    """The data regions of the first ``size`` bytes of the open file ``fd``,
    or None when it has no hole there (or the file system cannot tell:
    then it is all data).

    The file may change meanwhile: the regions are what was seen, each cut
    at ``size``.
    """
    extents: Extents = []
    offset = 0
    while offset < size:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                break  # nothing but a hole up to the end
            if e.errno in (errno.EINVAL, errno.EOPNOTSUPP):
                return None  # no SEEK_DATA here: all data
            raise
        if start >= size:
            break
        if len(extents) == MAX_EXTENTS - 1:
            extents.append((start, size - start))
            break
        end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        extents.append((start, end - start))
        offset = end
    if extents == [(0, size)]:
        return None
    return extents


def data_length(extents: Extents) -> int:
    """The bytes of data the regions hold."""
    return sum(length for _, length in extents)
