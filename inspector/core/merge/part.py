"""One source of a merged stream, opened: its log read as one document, and
what the merge asks of it (the key of a line, where a time starts).

A part reads its log as a :class:`~inspector.core.session.logdoc.LogDocument`
(the rotation set as one log, paged by byte offset, with its filter, line
index and counts), with a small cache and few descriptors, since many are
open at once. A set with no file yet (a stream not written to so far) is a
part too: empty until its first file appears.

Offsets a part hands out are *absolute*: they count every byte the log ever
had, so a position taken before members rotated away (or before the file
was truncated) still names the same bytes, or the start of what is left.

The keys and times of a source's lines (:class:`Reading`) are read through
the part's pager while the view moves (the session's lock held), and
through the log's own thread-safe reads by a scan (:meth:`Part.scan`)
running beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from allocdir import AllocDirError
from allocdir.kinds import DIR, file_kind

from ..pager import Line, Pager, Row
from ..records import Records
from ..rotation import LogSource
from ..search import Reader
from ..session.document import Facts, Outcome
from ..session.logdoc import LogDocument
from ..stamps import LOWEST, line_stamp
from ..text import printable
from ..timestamps import find_time
from ..viewing import is_text, set_member
from .sources import SourceSpec

MEMBERS_OPEN = 2
"""Members of a part's rotation set kept open besides the last one."""
CACHE_BLOCKS = 8
"""A part's block cache (64 KiB blocks): 512 KiB."""
DISPLAY_CACHE = 256
"""Lines whose text a part keeps made."""
RETRY = 1.0
"""Seconds between two looks for the first file of a part that has none."""
LAST_REACH = 1 << 20
"""How far from a log's start (end) its first (last) time is looked for."""
_HEAD = 160


class Reading:
    """The keys and times of one source's lines through one reader: ``read``
    and ``size`` of the log, ``base`` its absolute offset."""

    def __init__(self, index: int, read: Reader, size: Callable[[], int], base: int,
                 records: Records | None) -> None:
        self.index = index
        self.read = read
        self.size = size
        self.base = base
        self.records = records

    def local(self, absolute: int) -> int:
        """The offset in the log now of an absolute offset."""
        return min(max(0, absolute - self.base), self.size())

    def absolute(self, local: int) -> int:
        """The absolute offset of an offset in the log now."""
        return local + self.base

    def own_key(self, line: Line) -> bytes | None:
        """The key of the time ``line`` starts with, if it starts a line."""
        if line.start and self.read(line.start - 1, 1) != b"\n":
            return None  # a piece of a long line
        return line_stamp(line.data)

    def seed(self, local: int) -> bytes:
        """The latest time before ``local`` (within a record's reach): the key
        the lines from there take until one has a time of its own."""
        if local <= 0 or self.records is None:
            return LOWEST
        head = self.records.head_of(local - 1)
        if head is None:
            return LOWEST
        return line_stamp(_first_line(self.read(head, _HEAD))) or LOWEST

    def key_at(self, local: int) -> bytes:
        """The merge key of the line starting at ``local``."""
        seed = self.seed(local)
        if local and self.read(local - 1, 1) != b"\n":
            return seed
        own = line_stamp(_first_line(self.read(local, _HEAD)))
        return max(seed, own) if own is not None else seed

    def line_start(self, local: int) -> int:
        """Where the line holding byte ``local`` starts (looked for within
        a record's reach; further back, ``local``)."""
        low = max(0, local - 64 * 1024)
        newline = self.read(low, local - low).rfind(b"\n")
        return low + newline + 1 if newline >= 0 or low == 0 else local

    def find(self, key: bytes, low: int = 0, cancel=None) -> int:
        """The local offset of the first line at or after ``low`` whose time
        is ``key`` or later (the end when there is none)."""
        size = self.size()
        found = find_time(self.read, size, key, low=low, cancel=cancel) if size else None
        return size if found is None else found

    def first_key(self) -> bytes | None:
        """The time of the log's first timestamped line (within its head)."""
        offset = find_time(self.read, min(self.size(), LAST_REACH), b"\x00")
        return None if offset is None else line_stamp(_first_line(self.read(offset, _HEAD)))

    def last_key(self) -> bytes | None:
        """The time of the log's last timestamped line (within its last MiB):
        the end read first, further back only when it has no time."""
        size = self.size()
        reach = 4096
        while True:
            low = max(0, size - reach)
            data = self.read(low, size - low)
            end = len(data)
            while end > 0:
                start = data.rfind(b"\n", 0, end - 1) + 1
                if start == 0 and low > 0:
                    break
                key = line_stamp(data[start:min(end, start + _HEAD)])
                if key is not None:
                    return key
                end = start
            if low == 0 or reach >= LAST_REACH:
                return None
            reach = min(LAST_REACH, reach * 16)


class Part(Reading):
    """Source ``index`` of a merged stream (see the module docstring)."""

    def __init__(self, index: int, spec: SourceSpec) -> None:
        super().__init__(index, lambda offset, length: b"", lambda: 0, 0, None)
        self.spec = spec
        self.tag = spec.tag
        self.doc: LogDocument | None = None
        self.problem = ""
        """Why the log cannot be read (yet): shown when asked."""
        self.backwards = False
        """Its timestamps were seen going backwards."""
        self._looked = 0.0
        self._filter = None

    # -- opening ------------------------------------------------------------

    def open(self) -> str:
        """Open the log if it is not open; "" or what stands in the way."""
        if self.doc is not None:
            return ""
        self._looked = time.monotonic()
        fs, path = self.spec.fs, self.spec.path
        try:
            member = set_member(fs, path) if self.spec.is_set else path
            info = fs.stat(member)
            kind = file_kind(info.file_mode)
            if info.is_dir or kind is DIR:
                raise _Refused("a directory")
            if kind.special:
                raise _Refused(f"{kind.phrase}: not opened")
            if not is_text(member, info.content_type):
                raise _Refused("not text")
            source = LogSource(fs, member, capacity=MEMBERS_OPEN)
        except FileNotFoundError:
            self.problem = "no file yet"
            return self.problem
        except _Refused as refused:
            self.problem = str(refused)
            return self.problem
        except (AllocDirError, OSError, ValueError) as exc:
            self.problem = printable(getattr(exc, "strerror", None) or exc)
            return self.problem
        pager = Pager(source, width=80, height=24, wrap=True, levels=True,
                      cache_blocks=CACHE_BLOCKS, display_cache=DISPLAY_CACHE)
        self.doc = LogDocument(fs, member, pager, Facts(pager.size, info.mod_time,
                                                         info.content_type))
        self._read_through(pager)
        if self._filter is not None:
            pager.set_filter(self._filter)
        self.problem = ""
        return ""

    def reset_records(self) -> None:
        """The log was rewritten: what was found of its records does not hold."""
        if self.doc is not None:
            self._read_through(self.doc.pager)

    def _read_through(self, pager: Pager) -> None:
        """Read keys and times through ``pager`` (its cache; the lock held)."""
        self.read = pager.read
        self.size = lambda: pager.size
        self.records = Records(pager.read, lambda: pager.size)

    @property
    def pager(self) -> Pager | None:
        """The part's pager (None while it has no file)."""
        return self.doc.pager if self.doc is not None else None

    def scan(self) -> Reading:
        """A reading of the log for a scan in another thread (its own reads,
        the offsets of now; an empty one while it has no file)."""
        if self.doc is None:
            return Reading(self.index, lambda offset, length: b"", lambda: 0, self.base, None)
        source = self.doc.source
        return Reading(self.index, source.read, source.size, self.base,
                       Records(source.read, source.size))

    def close(self) -> None:
        """Close the log's files."""
        if self.doc is not None:
            self.doc.close()

    # -- what changed ---------------------------------------------------------

    def sync(self, outcome: Outcome, force: bool = False) -> bool:
        """Pick up what changed in the log (its notices go to ``outcome``,
        with the tag in front); a part without a file looks for one now and
        then. True when something changed."""
        if self.doc is None:
            if not force and time.monotonic() - self._looked < RETRY:
                return False
            if self.open():
                return False
            outcome.notices.append((f"{self.tag}: {printable(self.doc.path.rsplit('/', 1)[-1])}"
                                    " appeared", None))
            outcome.recount = outcome.changed = True
            return True
        doc = self.doc
        before, dropped = doc.size, doc.source.dropped
        inner = Outcome()
        doc.sync(inner, force=force)
        moved = doc.source.dropped - dropped
        if moved:
            self.base += moved
        elif doc.size < before:  # rewritten: what was read is behind, the new bytes after
            self.base += before
        if doc.size < before or moved:
            self._read_through(doc.pager)
        for notice, _owner in inner.notices:
            outcome.notices.append((f"{self.tag}: {notice}", None))
        outcome.recount = outcome.recount or inner.recount
        outcome.changed = outcome.changed or inner.changed
        return inner.changed

    def reopened(self, path: str, old_size: int) -> bool:
        """The file followed was created again: read it from now on, after
        what was read of the old one."""
        if self.doc is None or not self.doc.reopen(path):
            return False
        self.base += old_size
        self._read_through(self.doc.pager)
        return True

    def set_filter(self, pattern) -> None:
        """Show only the records holding a match of ``pattern`` (None: all)."""
        self._filter = pattern
        if self.doc is not None:
            self.doc.pager.set_filter(pattern)

    @property
    def end(self) -> int:
        """The absolute offset of the log's end."""
        return self.absolute(self.size())

    @property
    def timed(self) -> bool:
        """Whether the log's first lines have timestamps."""
        return self.records is not None and self.records.timed

    # -- lines ----------------------------------------------------------------

    def line_at(self, local: int) -> Line | None:
        """The next line shown at or after ``local`` (the filter applies)."""
        return self.doc.pager.line_at(local) if self.doc is not None else None

    def line_before(self, local: int) -> Line | None:
        """The line shown last before ``local``."""
        return self.doc.pager.line_before(local) if self.doc is not None else None

    def rows(self, line: Line) -> list[Row]:
        """The screen rows of ``line``."""
        return self.doc.pager.rows(line)


class _Refused(Exception):
    """The part's file is not a log that can be read."""


def _first_line(data: bytes) -> bytes:
    end = data.find(b"\n")
    return data if end < 0 else data[:end]
