"""The open files of a rotation set's members: opened on demand, a few at a
time, each checked to be the file first seen under its name.

A task decides how many files its log directory holds: 1,100 empty
``web.stdout.N`` files are enough to use up the usual 1024 descriptors if a
reader opens every member. :class:`MemberFiles` keeps at most
``MAX_OPEN_MEMBERS`` members open (least recently read closed first) plus
one pinned member, the last of the set, which stays open so that it can
still be read once rotated away or deleted. A member opened again later must
be the same file as before (device and inode): one whose name now leads to
another file, or to nothing, is not read, and the problem is kept for the
set to tell the user.
"""

from __future__ import annotations

import os
import posixpath
import threading
from collections import OrderedDict
from typing import BinaryIO, NamedTuple

from .text import printable

MAX_OPEN_MEMBERS = 8
"""Members kept open besides the pinned last one."""


class Member(NamedTuple):
    """One member of a set: its path (relative to the alloc dir), its N and
    its size as last seen (None until known, for a member listed as a symlink)."""

    path: str
    index: int
    size: int | None

    @property
    def name(self) -> str:
        """The file name of the member."""
        return posixpath.basename(self.path)


class OpenFile:
    """One open member file, shared by the threads reading it.

    Reads are ``pread`` calls; the descriptor is closed only once no read
    uses it, so a file closed by one thread (evicted, or the set closed) is
    never read through a descriptor number reused by another open.
    """

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        try:
            self.fd: int | None = fh.fileno()
        except (AttributeError, OSError, ValueError):
            self.fd = None  # a backend's file object without a descriptor
        self._lock = threading.Lock()
        self._users = 0
        self._closing = False

    def stat(self) -> os.stat_result | None:
        """``fstat`` of the file, or None (no descriptor, or closed)."""
        if self.fd is None or self._closing:
            return None
        try:
            return os.fstat(self.fd)
        except OSError:
            return None

    def size(self) -> int | None:
        """The file's current size, or None when it cannot be told."""
        st = self.stat()
        if st is not None:
            return st.st_size
        if self.fd is not None:
            return None
        with self._lock:
            if self._closing:
                return None
            pos = self.fh.tell()
            end = self.fh.seek(0, os.SEEK_END)
            self.fh.seek(pos)
            return end

    def pread(self, offset: int, length: int) -> bytes | None:
        """Up to ``length`` bytes at ``offset``; None once closed."""
        with self._lock:
            if self._closing:
                return None
            if self.fd is None:
                return _read_from(self.fh, offset, length)
            self._users += 1
        try:
            chunks = []
            while length > 0:
                chunk = os.pread(self.fd, length, offset)
                if not chunk:
                    break
                chunks.append(chunk)
                offset += len(chunk)
                length -= len(chunk)
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        finally:
            self._release()

    def dup(self) -> OpenFile | None:
        """An independent open file on the same file (a duplicated
        descriptor), or None when there is no descriptor to duplicate."""
        if self.fd is None or self._closing:
            return None
        try:
            return OpenFile(os.fdopen(os.dup(self.fd), "rb", buffering=0))
        except OSError:
            return None

    def close(self) -> None:
        """Close now, or as soon as the reads under way are done."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            close = self._users == 0
        if close:
            self._close_file()

    def _release(self) -> None:
        with self._lock:
            self._users -= 1
            close = self._closing and self._users == 0
        if close:
            self._close_file()

    def _close_file(self) -> None:
        try:
            self.fh.close()
        except OSError:
            pass


def _read_from(fh: BinaryIO, offset: int, length: int) -> bytes:
    fh.seek(offset)
    chunks = []
    while length > 0:
        chunk = fh.read(length)
        if not chunk:
            break
        chunks.append(chunk)
        length -= len(chunk)
    return b"".join(chunks)


def identity(st: os.stat_result | None) -> tuple[int, int] | None:
    """(device, inode) of a file, or None when not known."""
    return None if st is None else (st.st_dev, st.st_ino)


class MemberFiles:
    """The open files of one set's members, keyed by path, bounded (see the
    module docstring). Safe to use from several threads.

    ``problems`` collects, by member path, why a member could not be read
    (gone, replaced by another file, refused); the set reports and clears
    them (:meth:`take_problems`).
    """

    def __init__(self, fs, capacity: int = MAX_OPEN_MEMBERS) -> None:
        self.fs = fs
        self.capacity = max(1, capacity)
        self._lock = threading.Lock()
        self._open: OrderedDict[str, OpenFile] = OrderedDict()
        self._pinned: tuple[str, OpenFile] | None = None
        self._identities: dict[str, tuple[int, int]] = {}
        self._problems: dict[str, str] = {}
        self._closed = False

    # -- opening ------------------------------------------------------------

    def open(self, path: str) -> OpenFile:
        """The open file of ``path``, opened (and checked) if it is not open.

        Raises what ``read_at`` raises (FileNotFoundError, a refusal…), and
        :class:`MemberReplaced` when ``path`` now leads to another file than
        the one first read under that name.
        """
        with self._lock:
            if self._closed:
                raise ValueError("the set is closed")
            held = self._held(path)
            if held is not None:
                return held
        opened = OpenFile(self.fs.read_at(path, 0))
        ident = identity(opened.stat())
        with self._lock:
            known = self._identities.get(path)
            if known is not None and ident is not None and known != ident:
                opened.close()
                raise MemberReplaced(path)
            if self._closed:
                opened.close()
                raise ValueError("the set is closed")
            held = self._held(path)
            if held is not None:  # another thread opened it meanwhile
                opened.close()
                return held
            if ident is not None:
                self._identities[path] = ident
            self._open[path] = opened
            evicted = self._evict()
        for old in evicted:
            old.close()
        return opened

    def still_named(self, path: str) -> bool:
        """Whether ``path`` still leads to the file first read under that
        name (True when that cannot be told: gone meanwhile, or refused)."""
        with self._lock:
            known = self._identities.get(path)
        if known is None:
            return True
        try:
            fh = self.fs.read_at(path, 0)
        except Exception:  # gone or refused: the listing that follows says so
            return True
        try:
            return identity(OpenFile(fh).stat()) in (None, known)
        finally:
            fh.close()

    def _held(self, path: str) -> OpenFile | None:
        """The open file of ``path`` if held (caller holds the lock)."""
        if self._pinned is not None and self._pinned[0] == path:
            return self._pinned[1]
        held = self._open.get(path)
        if held is not None:
            self._open.move_to_end(path)
        return held

    def _evict(self) -> list[OpenFile]:
        evicted = []
        while len(self._open) > self.capacity:
            _, old = self._open.popitem(last=False)
            evicted.append(old)
        return evicted

    def pin(self, path: str) -> OpenFile:
        """Open ``path`` (as :meth:`open`) and keep it open whatever else is
        read: the last member of the set. The member pinned before goes back
        among the others."""
        opened = self.open(path)
        with self._lock:
            if self._pinned is not None and self._pinned[0] == path:
                return opened
            self._open.pop(path, None)
            previous, self._pinned = self._pinned, (path, opened)
            if previous is not None:
                self._open[previous[0]] = previous[1]
                self._open.move_to_end(previous[0], last=False)  # read least recently
            evicted = self._evict()
        for old in evicted:
            old.close()
        return opened

    def pinned(self) -> OpenFile | None:
        """The pinned member's open file."""
        with self._lock:
            return None if self._pinned is None else self._pinned[1]

    # -- reading ------------------------------------------------------------

    def pread(self, path: str, offset: int, length: int) -> bytes | None:
        """Bytes of member ``path``; None when it cannot be read (the reason
        is kept in the problems)."""
        for _ in range(3):  # closed under us (evicted by another reader): open again
            try:
                data = self.open(path).pread(offset, length)
            except MemberReplaced:
                self._problem(path, "was replaced by another file: not read under its old place")
                return None
            except FileNotFoundError:
                self._problem(path, "is gone: it can no longer be read")
                return None
            except ValueError:
                return None  # the set was closed
            except Exception as exc:  # a refusal (a FIFO swapped in, EMFILE…): said, not raised
                self._problem(path, f"cannot be read: {printable(getattr(exc, 'strerror', None) or exc)}")
                return None
            if data is not None:
                return data
        return None

    def _problem(self, path: str, what: str) -> None:
        with self._lock:
            self._problems[path] = what

    def take_problems(self) -> dict[str, str]:
        """Why members could not be read since the last call, by path."""
        with self._lock:
            problems, self._problems = self._problems, {}
        return problems

    # -- what is open -------------------------------------------------------

    def held(self) -> list[tuple[str, OpenFile]]:
        """The open files, pinned one last."""
        with self._lock:
            held = list(self._open.items())
            if self._pinned is not None:
                held.append(self._pinned)
        return held

    def forget(self, path: str) -> None:
        """Close ``path`` and forget its identity (it left the set, or its
        name now leads to another file that the set takes as it is)."""
        with self._lock:
            old = self._open.pop(path, None)
            if self._pinned is not None and self._pinned[0] == path:
                old, self._pinned = self._pinned[1], None
            self._identities.pop(path, None)
            self._problems.pop(path, None)
        if old is not None:
            old.close()

    def duplicate(self) -> MemberFiles:
        """Another pool over the same files: the open ones duplicated (at
        most ``capacity + 1`` descriptors), the identities copied."""
        copy = MemberFiles(self.fs, self.capacity)
        with self._lock:
            copy._identities = dict(self._identities)
            held = list(self._open.items())
            pinned = self._pinned
        for path, opened in held:
            dup = opened.dup()
            if dup is not None:
                copy._open[path] = dup
        if pinned is not None:
            dup = pinned[1].dup()
            if dup is not None:
                copy._pinned = (pinned[0], dup)
        return copy

    def close(self) -> None:
        """Close every file; nothing is opened afterwards."""
        with self._lock:
            self._closed = True
            files = list(self._open.values())
            if self._pinned is not None:
                files.append(self._pinned[1])
            self._open.clear()
            self._pinned = None
        for opened in files:
            opened.close()


class MemberReplaced(Exception):
    """A member's name now leads to another file than the one first read there."""
