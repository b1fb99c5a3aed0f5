"""Copying byte ranges from a task's file into a kept file: in the kernel
where it can (``copy_file_range``), holes kept as holes (a task's 1 TiB
sparse log costs its data, not a terabyte), every write complete or undone.
"""

from __future__ import annotations

import errno
import os

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
CHUNK = 1 << 20
"""Bytes per system call."""
SMALL = 1 << 16
"""Ranges up to this size are copied without looking for holes."""

_kernel_copy = hasattr(os, "copy_file_range")
_no_kernel_copy: set[int] = set()  # source devices copy_file_range refused (EXDEV)


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` says the file system (or the quota) is full."""
    return isinstance(error, OSError) and error.errno in DISK_FULL


def copy_range(src: int, dst: int, src_offset: int, dst_offset: int, length: int,
               src_dev: int = -1) -> int:
    """Copy ``length`` bytes of ``src`` at ``src_offset`` to ``dst`` at
    ``dst_offset``; return how many were copied (fewer when the source
    ended first). A hole of the source stays a hole (``dst`` is extended
    over it). On an error ``dst`` is cut back to the end of the last whole
    chunk written (nothing half-written stays) and the error is raised,
    with that count of bytes as its ``copied`` attribute. ``src_dev``, the source's
    device, remembers where the kernel copy is refused."""
    done = 0
    try:
        while done < length:
            at = src_offset + done
            data_at = _next_data(src, at, length - done)
            if data_at is None:  # a hole up to the end of the range (or of the file)
                end = min(src_offset + length, os.fstat(src).st_size)
                if end > at:
                    _extend(dst, dst_offset + (end - src_offset))
                    done = end - src_offset
                break
            if data_at > at:
                hole = min(data_at, src_offset + length) - at
                _extend(dst, dst_offset + done + hole)
                done += hole
                continue
            want = min(CHUNK, length - done, _data_end(src, at, length - done) - at)
            copied = _copy(src, dst, at, dst_offset + done, want, src_dev)
            if not copied:
                break
            done += copied
    except OSError as e:
        try:
            os.ftruncate(dst, dst_offset + done)
        except OSError:
            pass
        e.copied = done  # what did get written, whole chunks
        raise
    return done


def _next_data(src: int, at: int, length: int) -> int | None:
    """Where the next data at or after ``at`` is (``at`` itself for a small
    range), or None if there is none."""
    if length <= SMALL:
        return at
    try:
        return os.lseek(src, at, os.SEEK_DATA)
    except OSError as e:
        if e.errno == errno.ENXIO:
            return None
        return at  # no SEEK_DATA on this file system: all data


def _data_end(src: int, at: int, length: int) -> int:
    if length <= SMALL:
        return at + length
    try:
        return os.lseek(src, at, os.SEEK_HOLE)
    except OSError:
        return at + length


def _extend(dst: int, size: int) -> None:
    if os.fstat(dst).st_size < size:
        os.ftruncate(dst, size)


def _copy(src: int, dst: int, src_at: int, dst_at: int, length: int, src_dev: int) -> int:
    global _kernel_copy
    if _kernel_copy and src_dev not in _no_kernel_copy:
        try:
            return os.copy_file_range(src, dst, length, src_at, dst_at)
        except OSError as e:
            if e.errno not in (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP,
                               errno.EPERM):
                raise
            if e.errno in (errno.ENOSYS, errno.EOPNOTSUPP):
                _kernel_copy = False
            elif e.errno == errno.EXDEV and src_dev != -1:
                _no_kernel_copy.add(src_dev)
    data = os.pread(src, length, src_at)
    view = memoryview(data)
    written = 0
    while written < len(data):
        written += os.pwrite(dst, view[written:], dst_at + written)
    return len(data)
