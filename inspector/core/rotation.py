"""Rotation sets: Nomad's ``<task>.<stdout|stderr>.<N>`` files read as one log.

Nomad's logmon writes ``web.stdout.0`` until it is full, then ``web.stdout.1``
and so on, and deletes the oldest files beyond ``max_files``. An operator
wants one log, not seven files: :class:`LogSource` is a byte source over
every file of a set, in the order of N, as one run of bytes (a line split
across a rotation stays one line). It reads only by offsets, through the
open file of each member (``read_at``), so a set of any size opens at once
and a member deleted meanwhile stays readable until it is dropped.

:meth:`LogSource.refresh` looks at the directory again (at most every
``REFRESH_INTERVAL`` seconds unless forced): a new member is added at the
end, a member rotated away (deleted) is dropped from the head, and the
offsets of everything after it move down by its size (``Change.dropped``),
so a pager keeps showing the same bytes.

A file that is not part of a set is a source of one member, so one class
serves every text file.
"""

from __future__ import annotations

import bisect
import os
import posixpath
import threading
import time
from typing import BinaryIO, NamedTuple

from .lognames import ROTATED_LOG_RE, group_rotations, parse_rotated, set_name

__all__ = [
    "ROTATED_LOG_RE", "REFRESH_INTERVAL", "Change", "LogSource", "Segment", "group_rotations",
    "parse_rotated", "set_name",
]

REFRESH_INTERVAL = 0.5
"""Seconds between two looks at the directory of a set (unless forced)."""


class Segment(NamedTuple):
    """One member of a source: its path, its N, where it starts and its size."""

    path: str
    index: int
    start: int
    size: int

    @property
    def end(self) -> int:
        """The offset just after the member's last byte."""
        return self.start + self.size

    @property
    def name(self) -> str:
        """The file name of the member."""
        return posixpath.basename(self.path)


class Change:
    """What :meth:`LogSource.refresh` found."""

    def __init__(self) -> None:
        self.dropped = 0
        """Bytes removed from the head (members rotated away): offsets moved down by this."""
        self.reshaped = False
        """A member other than the last changed size: cached bytes are stale."""
        self.added: list[str] = []
        self.removed: list[str] = []
        self.notices: list[str] = []

    def __bool__(self) -> bool:
        return bool(self.dropped or self.reshaped or self.added or self.removed or self.notices)

    def __repr__(self) -> str:
        return (f"Change(dropped={self.dropped}, reshaped={self.reshaped}, added={self.added}, "
                f"removed={self.removed}, notices={self.notices})")


class _Member:
    """An open member file."""

    def __init__(self, path: str, index: int, fh: BinaryIO, size: int = 0) -> None:
        self.path = path
        self.index = index
        self.fh = fh
        self.size = size
        try:
            self.fd: int | None = fh.fileno()
        except (AttributeError, OSError, ValueError):
            self.fd = None
        self.lock = threading.Lock()
        self.deleted = False
        self._users = 0
        self._closing = False

    def stat_size(self) -> int:
        if self.fd is not None:
            try:
                st = os.fstat(self.fd)
            except OSError:
                return self.size
            self.deleted = st.st_nlink == 0
            return st.st_size
        with self.lock:
            pos = self.fh.tell()
            end = self.fh.seek(0, os.SEEK_END)
            self.fh.seek(pos)
            return end

    def pread(self, offset: int, length: int) -> bytes:
        if self.fd is None:
            with self.lock:
                if self._closing:
                    return b""
                self.fh.seek(offset)
                chunks = []
                while length > 0:
                    chunk = self.fh.read(length)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    length -= len(chunk)
                return b"".join(chunks)
        # The descriptor is closed only once no reader uses it: a member
        # retired by one thread is never read through a reused fd by another.
        with self.lock:
            if self._closing:
                return b""
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
            with self.lock:
                self._users -= 1
                close = self._closing and self._users == 0
            if close:
                self._really_close()

    def dup(self) -> _Member:
        if self.fd is None:
            raise OSError("cannot share this file handle")
        fh = os.fdopen(os.dup(self.fd), "rb", buffering=0)
        member = _Member(self.path, self.index, fh, self.size)
        member.deleted = self.deleted
        return member

    def close(self) -> None:
        with self.lock:
            if self._closing:
                return
            self._closing = True
            close = self._users == 0
        if close:
            self._really_close()

    def _really_close(self) -> None:
        try:
            self.fh.close()
        except OSError:
            pass


class LogSource:
    """A byte source over one file or a whole rotation set.

    ``LogSource(fs, path)`` opens ``path`` (relative to the alloc dir of the
    ``AllocDirFS`` ``fs``) and, when it is a rotated log and ``as_set``, every
    other member of its set in the same directory. Reads are ``pread`` calls
    on the open files, so one source can be read from several threads; only
    :meth:`refresh` changes the layout, from one thread at a time.
    """

    def __init__(self, fs, path: str, *, as_set: bool = True, _members=None) -> None:
        self.fs = fs
        self.opened = path
        self.dir = posixpath.dirname(path)
        parsed = parse_rotated(posixpath.basename(path)) if as_set else None
        self.set_name = f"{parsed[0]}.{parsed[1]}" if parsed else None
        self._lock = threading.Lock()
        self._last_refresh = 0.0
        self._static = _members is not None
        self._deleted_noticed = False
        self.dropped = 0
        """Bytes dropped from the head so far (offsets taken earlier are this much too high)."""
        if _members is not None:
            self._members = _members
        elif self.set_name is None:
            self._members = [_Member(path, 0, fs.read_at(path, 0))]
        else:
            self._members = self._open_set(path)
            self._last_refresh = time.monotonic()
        self._starts: list[int] = []
        self._layout()

    # -- opening ----------------------------------------------------------

    def _list_set(self) -> list[tuple[int, str]]:
        names = [info.name for info in self.fs.list(self.dir) if not info.is_dir]
        return group_rotations(names).get(self.set_name or "", [])

    def _join(self, name: str) -> str:
        return posixpath.join(self.dir, name) if self.dir else name

    def _open_set(self, path: str) -> list[_Member]:
        """Open every member of the set; the file asked for must open."""
        wanted = parse_rotated(posixpath.basename(path))[2]
        first = _Member(path, wanted, self.fs.read_at(path, 0))
        members = [first]
        try:
            listed = self._list_set()
        except Exception:  # listing refused: read the one file
            listed = []
        for index, name in listed:
            if index == wanted:
                continue
            try:
                fh = self.fs.read_at(self._join(name), 0)
            except Exception:  # gone meanwhile, or refused: not part of the view
                continue
            members.append(_Member(self._join(name), index, fh))
        members.sort(key=lambda m: m.index)
        return members

    # -- layout -----------------------------------------------------------

    def _layout(self) -> bool:
        """Record each member's size and start; True if a member other than
        the last changed size."""
        reshaped = False
        starts, pos = [], 0
        last = len(self._members) - 1
        for i, member in enumerate(self._members):
            size = member.stat_size()
            if i < last and size != member.size and self._starts:
                reshaped = True
            member.size = size
            starts.append(pos)
            pos += size
        self._starts = starts
        self._total = pos
        return reshaped

    @property
    def path(self) -> str:
        """The path of the last member (the one being written)."""
        return self._members[-1].path

    @property
    def is_set(self) -> bool:
        """Whether this is a rotation set (even of one file)."""
        return self.set_name is not None

    @property
    def name(self) -> str:
        """``web.stdout`` for a set, else the file name."""
        return self.set_name or posixpath.basename(self.opened)

    @property
    def deleted(self) -> bool:
        """Whether the last member was deleted (it is still read through its open file)."""
        return self._members[-1].deleted

    def segments(self) -> list[Segment]:
        """The members with their offsets, first to last."""
        with self._lock:
            return [
                Segment(m.path, m.index, start, m.size)
                for m, start in zip(self._members, self._starts, strict=True)
            ]

    def locate(self, offset: int) -> tuple[Segment, int]:
        """The member holding the byte at ``offset``, and the offset inside it.

        An offset at (or past) the end is placed at the end of the last member.
        """
        segments = self.segments()
        starts = [s.start for s in segments]
        i = max(0, bisect.bisect_right(starts, offset) - 1)
        # An empty member shares its start with the next one: skip to the
        # member that really holds the byte.
        while i + 1 < len(segments) and offset >= segments[i].end:
            i += 1
        seg = segments[i]
        return seg, min(max(0, offset - seg.start), seg.size)

    def start_of(self, path: str) -> int | None:
        """Where the member ``path`` starts, or None if it is not a member."""
        for seg in self.segments():
            if seg.path == path:
                return seg.start
        return None

    # -- ByteSource -------------------------------------------------------

    def size(self) -> int:
        """The total size of the members."""
        with self._lock:
            last = self._members[-1]
            size = last.stat_size()
            if size != last.size:
                last.size = size
                self._total = self._starts[-1] + size
            return self._total

    def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``, across members."""
        with self._lock:
            members = list(self._members)
            starts = list(self._starts)
        i = max(0, bisect.bisect_right(starts, offset) - 1)
        out = []
        last = len(members) - 1
        while length > 0 and i <= last:
            member = members[i]
            local = offset - starts[i]
            # The last member may have grown since the layout was taken.
            want = length if i == last else min(length, member.size - local)
            if want > 0:
                data = member.pread(local, want)
                out.append(data)
                offset += len(data)
                length -= len(data)
                if len(data) < want:
                    break  # shorter than recorded: the next refresh sorts it out
            i += 1
        return out[0] if len(out) == 1 else b"".join(out)

    # -- changes ----------------------------------------------------------

    def refresh(self, force: bool = False) -> Change:
        """Pick up new members, drop members rotated away from the head,
        notice size changes. Lists the directory at most every
        ``REFRESH_INTERVAL`` seconds unless ``force``. Blocking."""
        change = Change()
        if self._static:
            return change
        now = time.monotonic()
        listed: list[tuple[int, str]] | None = None
        if self.set_name is not None and (force or now - self._last_refresh >= REFRESH_INTERVAL):
            self._last_refresh = now
            try:
                listed = self._list_set()
            except Exception:
                listed = None
        with self._lock:
            members = list(self._members)
        if listed is not None:
            present = {name for _, name in listed}
            last_index = members[-1].index
            for index, name in listed:
                if index <= last_index:
                    continue
                try:
                    fh = self.fs.read_at(self._join(name), 0)
                except Exception:
                    continue
                members.append(_Member(self._join(name), index, fh))
                change.added.append(name)
                last_index = index
            for member in members:
                member.stat_size()
            # Members rotated away (deleted, or no longer listed) leave the
            # head; the last member always stays, deleted or not.
            while len(members) > 1 and (
                members[0].deleted or posixpath.basename(members[0].path) not in present
            ):
                gone = members.pop(0)
                change.dropped += gone.size
                change.removed.append(posixpath.basename(gone.path))
                gone.close()
        with self._lock:
            self._members = members
            change.reshaped = self._layout() and not change.dropped
            self.dropped += change.dropped
        if change.removed:
            names = ", ".join(change.removed)
            change.notices.append(f"{names} rotated away")
        deleted = self._members[-1].deleted
        if deleted and not self._deleted_noticed:
            change.notices.append("deleted: still reading the open file")
        self._deleted_noticed = deleted
        return change

    def snapshot(self) -> LogSource:
        """An independent source over the same open files (duplicated
        descriptors) with today's members, for another thread (a search, the
        line index) to read while this one moves on. Close it after use."""
        with self._lock:
            members = [m.dup() for m in self._members]
        return LogSource(self.fs, self.opened, _members=members)

    def close(self) -> None:
        """Close every member."""
        with self._lock:
            members, self._members = self._members, self._members[-1:]
        for member in members:
            member.close()
