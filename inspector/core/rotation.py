"""Rotation sets: Nomad's ``<task>.<stdout|stderr>.<N>`` files read as one log.

Nomad's logmon writes ``web.stdout.0`` until it is full, then ``web.stdout.1``
and so on, and deletes the oldest files beyond ``max_files``. An operator
wants one log, not seven files: :class:`LogSource` is a byte source over
every file of a set, in the order of N, as one run of bytes (a line split
across a rotation stays one line). It reads only by offsets, through member
files opened on demand (``read_at``), a few at a time whatever the size of
the set (:mod:`inspector.core.members`): a task's 20,000 files cost a
directory listing, not 20,000 descriptors. The last member stays open, so
it is still read once rotated away or deleted.

:meth:`LogSource.refresh` looks at the directory again (at most every
``REFRESH_INTERVAL`` seconds unless forced, and only when the directory
changed): a new member is added at the end, a member rotated away (deleted)
is dropped from the head, and the offsets of everything after it move down
by its size (``Change.dropped``), so a pager keeps showing the same bytes.
Whatever cannot be read (a member gone, replaced by another file, or not a
regular file) is said in ``Change.notices``, never skipped silently.

A file that is not part of a set is a source of one member, so one class
serves every text file.
"""

from __future__ import annotations

import bisect
import os
import posixpath
import threading
import time
from typing import NamedTuple

from .lognames import ROTATED_LOG_RE, group_rotations, members_of, parse_rotated, set_name
from .members import Member, MemberFiles, MemberReplaced
from .text import printable

__all__ = [
    "ROTATED_LOG_RE", "REFRESH_INTERVAL", "Change", "LogSource", "Segment", "group_rotations",
    "parse_rotated", "set_name",
]

REFRESH_INTERVAL = 0.5
"""Seconds between two looks at the directory of a set (unless forced)."""
SETTLE_NS = 100_000_000
"""A directory changed this little (ns) before it was listed may have changed
again within the same timestamp tick (a jiffy, at most 10 ms): it is listed
again until it settles."""
LIST_BACKOFF = 4.0
"""After a listing that took T seconds (more than ``SLOW_LISTING``), the next
waits at least this times T: a task that keeps changing a huge directory
gets a bounded share of a core (a fifth) however often it is looked at."""
SLOW_LISTING = 0.02
"""Listings faster than this (a set of the usual size) are never held back."""
NAMED_IN_NOTICE = 3
"""Names spelled out in a notice about members; the rest are counted."""


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


def _some(names: list[str]) -> str:
    """``a, b, c and 17 more``: names for a notice, bounded whatever their number."""
    shown = ", ".join(printable(name) for name in names[:NAMED_IN_NOTICE])
    rest = len(names) - NAMED_IN_NOTICE
    return f"{shown} and {rest:,} more" if rest > 0 else shown


GENERATION_SHIFT = 32
"""A kept log's place in its set is ``N << GENERATION_SHIFT | G``."""


def _set_of(order, name: str) -> tuple[str | None, int]:
    """The set ``name`` belongs to and its place in it (``N``, or for a
    kept copy's ``order`` N and generation G as one number)."""
    if order is None:
        parsed = parse_rotated(name)
        return (f"{parsed[0]}.{parsed[1]}", parsed[2]) if parsed else (None, 0)
    kept = order(name)
    if kept is None:
        return None, 0
    return kept[0], kept[1] << GENERATION_SHIFT | min(kept[2], (1 << GENERATION_SHIFT) - 1)


def _members(order, set_name: str, names) -> list[tuple[int, str]]:
    """The members of ``set_name`` among ``names`` in reading order."""
    if order is None:
        return members_of(set_name, names)
    found = []
    for name in names:
        if name.startswith(set_name + "."):
            owner, place = _set_of(order, name)
            if owner == set_name:
                found.append((place, name))
    found.sort()
    return found


def _generation_notes(segments: list[Segment]) -> list[str]:
    """Where a kept set goes on in a new generation (after its source was
    truncated, rewritten or replaced): bytes written and truncated away
    between two passes of the keeper are not there."""
    starts = [seg for seg in segments if seg.index & ((1 << GENERATION_SHIFT) - 1)]
    if not starts:
        return []
    where = ", ".join(f"{printable(seg.name)} at byte {seg.start:,}"
                      for seg in starts[:NAMED_IN_NOTICE])
    more = len(starts) - NAMED_IN_NOTICE
    more_words = f" and {more:,} more" if more > 0 else ""
    return [f"kept across {len(starts):,} truncation{'s' if len(starts) > 1 else ''} of the "
            f"source (a new generation begins: {where}{more_words}); bytes truncated away "
            "between two passes of keep are not there"]


class LogSource:
    """A byte source over one file or a whole rotation set.

    ``LogSource(fs, path)`` opens ``path`` (relative to the alloc dir of the
    ``AllocDirFS`` ``fs``) and, when it is a rotated log and ``as_set``,
    lists the other members of its set in the same directory (opened when
    read). Reads are ``pread`` calls, so one source can be read from several
    threads; only :meth:`refresh` changes the layout, from one thread at a
    time. ``capacity``: members kept open besides the last (fewer when many
    sources are read at once, as a merged stream does).
    """

    def __init__(self, fs, path: str, *, as_set: bool = True, capacity: int | None = None,
                 _layout=None) -> None:
        self.fs = fs
        self.opened = path
        self.dir = posixpath.dirname(path)
        # A kept copy (inspector.core.kept) orders its logs by member and
        # generation: web.stdout.0, web.stdout.0.1 (after a truncation), web.stdout.1.
        self._order = getattr(fs, "log_order", None) if as_set else None
        self.set_name, wanted = _set_of(self._order, posixpath.basename(path)) if as_set \
            else (None, 0)
        self._wanted = wanted
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._last_refresh = time.monotonic()
        self._deleted_noticed = False
        self._notices: list[str] = []
        self._left_out: set[str] = set()
        self._token: tuple | None = None
        self._listed_at = 0
        self._list_pause = 0.0
        self._list_started = 0.0
        self._stale = False
        self._troubled: set[str] = set()  # members a read could not read, until listed again
        self._closed = False
        self.dropped = 0
        """Bytes dropped from the head so far (offsets taken earlier are this much too high)."""
        self._static = _layout is not None
        if _layout is not None:  # a snapshot: today's members, its own open files
            members, self._files, last_size = _layout
        else:
            self._files = MemberFiles(fs) if capacity is None else MemberFiles(fs, capacity)
            try:
                members = self._first_members(path)
            except BaseException:
                self._files.close()
                raise
            last_size = members[-1].size or 0
        self._set_layout(members, last_size)
        notes_of = getattr(fs, "notes_of", None)  # an archive's member cut short
        if notes_of is not None:
            self._notices.extend(notes_of(path))
        if self._order is not None:
            self._notices.extend(_generation_notes(self.segments()))

    # -- listing and opening -----------------------------------------------

    def _join(self, name: str) -> str:
        return f"{self.dir}/{name}" if self.dir else name

    def _first_members(self, path: str) -> list[Member]:
        """The members at opening; the file asked for must open."""
        if self.set_name is None:
            size = self._files.pin(path).size()
            return [Member(path, 0, size or 0)]
        wanted = self._wanted
        self._files.open(path)
        members = self._list_members() or []
        if path not in {m.path for m in members}:
            members = sorted([*members, Member(path, wanted, None)], key=lambda m: m.index)
        members = self._pin_last(self._sized(members))
        if not members:  # everything but the file asked for vanished meanwhile
            members = [Member(path, wanted, self._files.pin(path).size() or 0)]
        return members

    def _list_members(self) -> list[Member] | None:
        """The set's members as the directory lists them now (in order of
        N; a listed symlink with its size unknown), or None when the
        directory cannot be listed (said in a notice)."""
        token = self._dir_token()
        listed_at = time.time_ns()
        started = self._list_started = time.monotonic()
        try:
            infos = self.fs.list(self.dir)
        except Exception as exc:  # refused or gone: said, and the members known are kept
            reason = printable(getattr(exc, "strerror", None) or exc)
            self._notices.append(f"cannot list {printable(self.dir or '.')}: {reason}")
            return None
        self._token, self._listed_at = token, listed_at
        kinds = {info.name: info for info in infos if not info.is_dir}
        members, left_out = [], []
        for index, name in _members(self._order, self.set_name or "", kinds):
            info = kinds[name]
            kind = info.file_mode[:1]
            if kind in "-l":
                members.append(Member(self._join(name), index, info.size if kind == "-" else None))
            elif name not in self._left_out:
                left_out.append(name)
        if left_out:
            self._left_out.update(left_out)
            self._notices.append(f"{_some(left_out)}: not a regular file, left out of the set")
        took = time.monotonic() - started
        self._list_pause = LIST_BACKOFF * took if took > SLOW_LISTING else 0.0
        return members

    def _sized(self, members: list[Member]) -> list[Member]:
        """``members`` with every unknown size (a symlink) found by opening
        it; a member that cannot be opened is left out, with a notice."""
        if all(m.size is not None for m in members):
            return members
        sized = []
        for member in members:
            if member.size is None:
                size = self._open_size(member.path)
                if size is None:
                    continue
                member = member._replace(size=size)
            sized.append(member)
        return sized

    def _open_size(self, path: str) -> int | None:
        try:
            size = self._files.open(path).size()
        except Exception as exc:  # refused or gone: left out, and said
            self._leave_out(path, exc)
            return None
        return size if size is not None else 0

    def _leave_out(self, path: str, exc: BaseException) -> None:
        name = posixpath.basename(path)
        if isinstance(exc, MemberReplaced):
            reason = "replaced by another file"
        else:
            reason = printable(getattr(exc, "strerror", None) or exc)
        if name not in self._left_out:
            self._left_out.add(name)
            self._notices.append(f"{printable(name)} cannot be read ({reason}): left out of the set")

    def _pin_last(self, members: list[Member]) -> list[Member]:
        """Keep the last member open (it is the one written, and must stay
        readable once deleted); a last member that cannot be opened is left
        out, with a notice, and the one before it is tried."""
        while members:
            last = members[-1]
            try:
                size = self._files.pin(last.path).size()
            except MemberReplaced:
                # Its name leads to another file now: that file is the member.
                self._files.forget(last.path)
                self._notices.append(f"{printable(last.name)} was replaced by another file")
                continue
            except Exception as exc:  # refused or gone: left out, and said
                self._leave_out(last.path, exc)
                members.pop()
                continue
            if size is not None and size != last.size:
                members[-1] = last._replace(size=size)
            return members
        return members

    def _dir_token(self) -> tuple | None:
        """What changes whenever an entry of the set's directory is added,
        removed or renamed: its identity, mtime and ctime (a task can set a
        directory's mtime back, not its ctime). None when it cannot be told
        (another backend than a local alloc dir): the directory is listed
        every time. Read by name: the listing that follows a change goes
        through ``fs.list`` and its checks."""
        root = getattr(self.fs, "alloc_dir", None)
        if not isinstance(root, str):
            return None
        try:
            st = os.stat(os.path.join(root, self.dir))
        except OSError:
            return None
        return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns

    def _dir_changed(self) -> bool:
        token = self._dir_token()
        if token is None or token != self._token:
            return True
        return token[3] >= self._listed_at - SETTLE_NS  # changed in the tick it was listed

    # -- layout -------------------------------------------------------------

    def _set_layout(self, members: list[Member], last_size: int) -> None:
        """Take ``members`` (sizes known) as the layout; never changed in
        place afterwards, so readers use it without copying."""
        starts, pos = [], 0
        for member in members:
            starts.append(pos)
            pos += member.size or 0
        with self._lock:
            self._members = tuple(members)
            self._starts = starts
            self._last_size = last_size
            self._segments: list[Segment] | None = None
            self._positions: dict[str, int] | None = None

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
        pinned = self._files.pinned()
        st = pinned.stat() if pinned is not None else None
        return st is not None and st.st_nlink == 0

    def segments(self) -> list[Segment]:
        """The members with their offsets, first to last."""
        with self._lock:
            if self._segments is None:
                self._segments = [
                    Segment(m.path, m.index, start, m.size or 0)
                    for m, start in zip(self._members, self._starts, strict=True)
                ]
            last = self._segments[-1]
            if last.size != self._last_size:
                self._segments[-1] = last._replace(size=self._last_size)
            return list(self._segments)

    def locate(self, offset: int) -> tuple[Segment, int]:
        """The member holding the byte at ``offset``, and the offset inside it.

        An offset at (or past) the end is placed at the end of the last member.
        """
        with self._lock:
            members, starts, last_size = self._members, self._starts, self._last_size
        final = len(members) - 1

        def size_of(i: int) -> int:
            return last_size if i == final else members[i].size or 0

        i = max(0, bisect.bisect_right(starts, offset) - 1)
        # An empty member shares its start with the next one: skip to the
        # member that really holds the byte.
        while i < final and offset >= starts[i] + size_of(i):
            i += 1
        seg = Segment(members[i].path, members[i].index, starts[i], size_of(i))
        return seg, min(max(0, offset - seg.start), seg.size)

    def start_of(self, path: str) -> int | None:
        """Where the member ``path`` starts, or None if it is not a member."""
        with self._lock:
            if self._positions is None:
                self._positions = {m.path: i for i, m in enumerate(self._members)}
            i = self._positions.get(path)
            return None if i is None else self._starts[i]

    # -- ByteSource -------------------------------------------------------

    def size(self) -> int:
        """The total size of the members."""
        pinned = self._files.pinned()
        size = pinned.size() if pinned is not None else None
        with self._lock:
            if size is not None:
                self._last_size = size
            return self._starts[-1] + self._last_size

    def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``, across members."""
        with self._lock:
            members, starts = self._members, self._starts
        i = max(0, bisect.bisect_right(starts, offset) - 1)
        out = []
        final = len(members) - 1
        while length > 0 and i <= final:
            member = members[i]
            local = offset - starts[i]
            # The last member may have grown since the layout was taken.
            want = length if i == final else min(length, (member.size or 0) - local)
            if want > 0:
                data = self._files.pread(member.path, local, want)
                if data is None:  # gone, replaced or refused: the next refresh says so
                    self._stale = True
                    break
                out.append(data)
                offset += len(data)
                length -= len(data)
                if len(data) < want:
                    if i != final:  # shorter than listed: the next refresh lays it out again
                        self._stale = True
                    break
            i += 1
        return out[0] if len(out) == 1 else b"".join(out)

    # -- changes ----------------------------------------------------------

    def refresh(self, force: bool = False) -> Change:
        """Pick up new members, drop members rotated away from the head,
        notice size changes and members that could not be read. Lists the
        directory at most every ``REFRESH_INTERVAL`` seconds unless
        ``force``, and only when it changed since the last listing (or a
        read found a member gone). Blocking."""
        change = Change()
        if self._static or self._closed:
            return change
        with self._refreshing:
            problems = self._files.take_problems()
            if problems:
                self._stale = True
                self._troubled.update(problems)
                for path, what in problems.items():
                    self._notices.append(f"{printable(posixpath.basename(path))} {what}")
            now = time.monotonic()
            if self.set_name is not None and (
                    force or now - self._last_refresh >= REFRESH_INTERVAL):
                self._last_refresh = now
                if (self._stale or self._dir_changed()) and self._may_list(now):
                    self._stale = False
                    self._relist(change)
                else:
                    self._recheck(change)
            elif self.set_name is None:
                self.size()
            change.notices.extend(self._notices)
            self._notices.clear()
            deleted = self.deleted
            if deleted and not self._deleted_noticed:
                change.notices.append("deleted: still reading the open file")
            self._deleted_noticed = deleted
        return change

    def _may_list(self, now: float) -> bool:
        """Whether the pause after the last listing (:data:`LIST_BACKOFF`) is over."""
        if now < self._list_started + self._list_pause:
            self._stale = True  # listed as soon as it is
            return False
        return True

    def _recheck(self, change: Change) -> None:
        """Without listing: the open members (a few) may have changed size."""
        with self._lock:
            members, last_size = self._members, self._last_size
        resized = {}
        for path, opened in self._files.held():
            i = self._position(path)
            if i is None or i == len(members) - 1:
                continue
            size = opened.size()
            if size is not None and size != members[i].size:
                resized[i] = members[i]._replace(size=size)
        if resized:
            change.reshaped = True
            self._set_layout([resized.get(i, m) for i, m in enumerate(members)], last_size)
        self.size()

    def _position(self, path: str) -> int | None:
        """Which member ``path`` is (its position in the layout), or None."""
        with self._lock:
            if self._positions is None:
                self._positions = {m.path: i for i, m in enumerate(self._members)}
            return self._positions.get(path)

    def _relist(self, change: Change) -> None:
        """List the directory and lay the set out again (see :meth:`refresh`)."""
        listed = self._list_members()
        if listed is None:
            return
        with self._lock:
            old, last_size = self._members, self._last_size
        last = old[-1]
        paths = {m.path for m in listed}
        replaced = last.path in paths and not self._files.still_named(last.path)
        if replaced:  # its name now leads to another file: that file is the member
            self._files.forget(last.path)
            change.notices.append(f"{printable(last.name)} was replaced by another file")
        elif last.path not in paths and not any(m.index > last.index for m in listed):
            listed.append(last)  # deleted and nothing after it: still read through its file
        old = old[:-1] + (last._replace(size=last_size),)
        members = self._pin_last(self._sized(listed))
        if not members:
            members = [old[-1]]
        self._compare(old, members, change)
        change.reshaped = change.reshaped or replaced
        kept = {m.path for m in members}
        for member in old:
            if member.path not in kept:
                self._files.forget(member.path)
        new_last = members[-1]
        self._set_layout(members, new_last.size or 0)
        self.dropped += change.dropped
        # Laid out again from the listing: a member found replaced is now
        # whatever file its name leads to, opened afresh.
        for path in self._troubled:
            if path != new_last.path:
                self._files.forget(path)
        self._troubled.clear()

    def _compare(self, old: tuple[Member, ...], new: list[Member], change: Change) -> None:
        """Fill ``change`` with what differs from the old layout to the new.

        Members gone from the head are dropped (offsets move down by their
        size); a member gone from, or appearing inside, the set, or one that
        changed size other than by growing as the last, reshapes it.
        """
        kept = {m.path: m for m in new}
        was = {m.path: m for m in old}
        head = 0
        while head < len(old) - 1 and old[head].path not in kept:
            head += 1
        change.dropped = sum(m.size or 0 for m in old[:head])
        change.removed = [m.name for m in old if m.path not in kept]
        change.added = [m.name for m in new if m.path not in was]
        middle = change.removed[head:]
        inserted = [m.name for m in new if m.path not in was and m.index < old[-1].index]
        resized = any(m.path in kept and kept[m.path].size != m.size for m in old[:-1])
        last = kept.get(old[-1].path)
        shrunk = last is not None and (last.size or 0) < (old[-1].size or 0)
        change.reshaped = bool(middle or inserted or resized or shrunk)
        if head:
            change.notices.append(f"{_some(change.removed[:head])} rotated away")
        if middle:
            change.notices.append(f"{_some(middle)} removed from the set")
        if inserted:
            change.notices.append(f"{_some(inserted)} appeared inside the set")

    def snapshot(self) -> LogSource:
        """An independent source over the same files with today's members,
        for another thread (a search, the line index) to read while this
        one moves on. It holds a few descriptors (the open members,
        duplicated), never one per member. Close it after use."""
        with self._lock:
            layout = (list(self._members), self._files.duplicate(), self._last_size)
        copy = LogSource(self.fs, self.opened, as_set=self.set_name is not None, _layout=layout)
        copy.dropped = self.dropped
        return copy

    def close(self) -> None:
        """Close every member; reads return nothing afterwards."""
        self._closed = True
        self._files.close()
