"""Room on the file system a snapshot or a copy writes to, and a reserve
that it never takes.

An estimate made before writing is a guess: a task can grow a file after it
was measured (a ``truncate`` to 1 TiB takes a moment). So a writer asks
again before each file's bytes go out, and stops, naming that file, before
the destination drops below its reserve, rather than filling it up until
``ENOSPC`` (and every other writer there with it).

The reserve is the blocks the file system keeps for root (never used, even
as root) and 1 % of its size on top, at most :data:`RESERVE_MAX`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from .errors import AllocDirError
from .plaintext import size_words

RESERVE_SHARE = 100
"""The reserve is 1/RESERVE_SHARE of the file system's size..."""
RESERVE_MAX = 256 << 20
"""...and at most this many bytes."""
RECHECK_EVERY = 64 << 20
"""Bytes written, at most, between two looks at the free space."""

RoomHook = Callable[[str, int], int]
"""Asked with a name and the bytes about to be written for it; returns how
many bytes may be written from now on (at least those) or raises
:class:`NoRoomError`."""


@dataclass(frozen=True)
class Room:
    """Free space on a file system: ``free`` bytes anyone may use (the
    blocks kept for root left out), of which ``reserve`` stay free;
    ``inodes`` free, or None where the file system does not count them."""

    free: int
    reserve: int
    inodes: int | None = None

    @property
    def usable(self) -> int:
        """The bytes that may be written."""
        return max(0, self.free - self.reserve)

    def describe(self, where: str) -> str:
        """E.g. "1.0 MiB free on /mnt, 10.2 KiB of it kept free"."""
        return (f"{size_words(self.free)} free on {where}, {size_words(self.reserve)} "
                "of it kept free")


def room_of(vfs: os.statvfs_result) -> Room:
    """The room a ``statvfs`` answer describes."""
    size = vfs.f_blocks * vfs.f_frsize
    return Room(vfs.f_bavail * vfs.f_frsize, min(RESERVE_MAX, size // RESERVE_SHARE),
                vfs.f_favail if vfs.f_files else None)


def room_at(fd: int) -> Room:
    """The room on the file system of the open ``fd``."""
    return room_of(os.fstatvfs(fd))


class NoRoomError(AllocDirError):
    """Writing ``needed`` more bytes for ``name`` would take the destination
    below its reserve: stopped before writing them."""

    def __init__(self, name: str, needed: int, room: Room, where: str = "the destination",
                 done: str = "stopped before writing it") -> None:
        super().__init__(f"{name} needs {size_words(needed)}, more than there is room for: "
                         f"{room.describe(where)}; {done}")
        self.name, self.needed, self.room, self.where = name, needed, room, where


class RoomCheck:
    """The :data:`RoomHook` of a destination open as ``fd``: grants what
    leaves the reserve free, at most :data:`RECHECK_EVERY` bytes at a time
    beyond what is asked (so a stream of small files looks at the file
    system once per that many bytes, not once per file)."""

    def __init__(self, fd: int, where: str = "the destination") -> None:
        self.fd = fd
        self.where = where

    def __call__(self, name: str, needed: int) -> int:
        room = room_at(self.fd)
        if needed > room.usable:
            raise NoRoomError(name, needed, room, self.where)
        return min(room.usable, max(needed, RECHECK_EVERY))


class Allowance:
    """Bytes a writer was granted and has not written yet; it asks ``hook``
    for more when an entry needs more than is left (no hook: no limit)."""

    def __init__(self, hook: RoomHook | None) -> None:
        self.hook = hook
        self.left = 0

    def take(self, name: str, needed: int, before_asking: Callable[[], None] | None = None
             ) -> None:
        """Account for ``needed`` bytes about to be written for ``name``;
        raises what the hook raises when there is no room for them.
        ``before_asking`` runs first when the hook is asked (to flush what
        is buffered, so the file system counts it)."""
        if self.hook is None:
            return
        if needed > self.left:
            if before_asking is not None:
                before_asking()
            self.left = self.hook(name, needed)
        self.left -= needed
