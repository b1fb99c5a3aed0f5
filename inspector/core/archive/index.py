"""The index of a tar: every member's name, kind, size, time and place in
the archive, read from its headers once, front to back, in compact arrays.

A snapshot may hold a hundred thousand members: the index keeps them in
a few ``array`` columns and one blob of names (about 60 bytes a member),
not an object each. Directories are the only objects (a dict from path
to member, and each directory's children as an ``array``), and a
directory's children are sorted by name the first time it is listed.

Names are the archive's, cleaned the way ``tar -x`` would place them:
a leading ``/`` and ``..`` steps that climb above the archive's top are
dropped (``/etc/passwd`` and ``../../etc/passwd`` both show as
``etc/passwd`` inside the archive, and :attr:`TarIndex.notes` says how
many were cleaned). Nothing is ever extracted, so a name can lead nowhere
outside the archive: it is only a place in the tree. A directory named
only by its members' paths is made up (``implied``). When a name appears
twice the later member wins, as on extraction.
"""

from __future__ import annotations

import bisect
import threading
from array import array
from collections.abc import Callable

from .headers import DIRECTORY, HARDLINK, REGULAR, SYMLINK, ArchiveDamaged, Header, HeaderReader, \
    Sparse

ROOT = -1
"""The index of the archive's top directory (it has no member)."""
IMPLIED = b"I"
"""The kind of a directory no member names (only its contents do)."""
MAX_NOTES = 20
"""Names cited in notes, at most (the rest are counted)."""
PROGRESS_EVERY = 2048
"""Members between two progress reports and cancel checks."""
PROGRESS_BYTES = 32 << 20
"""Archive bytes between two progress reports (a few big members)."""


_DIRECTORY = DIRECTORY[0]
_REGULAR = REGULAR[0]
_LINKS = (HARDLINK[0], SYMLINK[0])
_ODD_START = b"/."
"""First bytes of a name that may need cleaning (absolute, ``./``, ``../``)."""


class ScanCancelled(Exception):
    """The scan was cancelled."""


def clean_name(name: str) -> tuple[str, bool]:
    """``name`` as a path inside the archive (no leading ``/``, no ``.``,
    ``..`` resolved without climbing above the top), and whether it changed
    more than cosmetically (an absolute name, or one that climbed)."""
    parts: list[str] = []
    climbed = name.startswith("/")
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            else:
                climbed = True
            continue
        parts.append(part)
    return "/".join(parts), climbed


class TarIndex:
    """The members of one archive (see the module docstring)."""

    def __init__(self) -> None:
        self.names = bytearray()
        self.name_at = array("q")
        self.name_len = array("i")
        self.parents = array("i")
        self.kinds = bytearray()
        self.modes = array("i")
        self.sizes = array("q")
        self.mtimes = array("d")
        self.offsets = array("q")
        self.stored = array("q")
        self.links: dict[int, str] = {}
        self.sparse: dict[int, Sparse] = {}
        self.dirs: dict[bytes, int] = {b"": ROOT}
        self.children: dict[int, array] = {ROOT: array("i")}
        self._sorted: dict[int, array] = {}
        self._lock = threading.Lock()
        self.notes: list[str] = []
        self.cleaned = 0
        """How many member names were absolute or climbed with ``..``."""
        self.damage = ""
        """Why the headers could not be read to the archive's end ("" when they were)."""
        self.end = 0
        """Where the scan stopped (the end of the last member read)."""
        self.complete = False

    # -- building ----------------------------------------------------------------

    @classmethod
    def scan(cls, read: Callable[[int, int], bytes], *, fd: int | None = None,
             progress: Callable[[int], None] | None = None,
             cancel: threading.Event | None = None) -> TarIndex:
        """Read every header through ``read(offset, length)``. A damaged or
        cut archive keeps the members read before the damage, and says so in
        :attr:`damage`. ``progress`` is told the archive offset reached. ``fd``:
        the plain tar ``read`` reads, read with ``pread`` (one call less a member)."""
        index = cls()
        reader = HeaderReader(read, fd)

        def checkpoint() -> None:
            if cancel is not None and cancel.is_set():
                raise ScanCancelled
            if progress is not None:
                progress(reader.offset)

        try:
            index._add_all(reader, checkpoint)
        except ArchiveDamaged as exc:
            index.damage = str(exc)
        index.end = reader.offset
        if progress is not None:
            progress(reader.offset)
        index.complete = not index.damage
        return index

    def _add_all(self, reader: HeaderReader, checkpoint: Callable[[], None]) -> None:
        """:meth:`add_entry` every member ``reader`` reads, calling ``checkpoint``
        every few members or megabytes. A plain file with a clean name (nearly
        all of them) is appended here, inline, with the columns' ``append``
        bound once: this loop runs once a member of a big archive."""
        dirs, children, names, kinds = self.dirs, self.children, self.names, self.kinds
        columns = (self.name_at, self.name_len, self.parents, self.modes, self.sizes,
                   self.mtimes, self.offsets, self.stored)
        name_at, name_len, parents, modes, sizes, mtimes, offsets, stored_at = (
            column.append for column in columns)
        count = told = 0
        for name, kind, mode, size, mtime, link, offset, stored, sparse in reader.entries():
            head, _, base = name.rpartition(b"/")
            if kind != _REGULAR or sparse is not None or not base or name[0] in _ODD_START \
                    or b"//" in name or b"/." in name:  # not a plain file, or its name unclean
                self.add_entry(name, kind, mode, size, mtime, link, offset, stored, sparse)
            else:
                parent = dirs.get(head)
                if parent is None:
                    parent = self._dir(head, mtime)
                children[parent].append(len(kinds))
                name_at(len(names))
                name_len(len(base))
                names += base
                parents(parent)
                kinds.append(kind)
                modes(mode)
                sizes(size)
                mtimes(mtime)
                offsets(offset)
                stored_at(stored)
            count += 1
            if count % PROGRESS_EVERY == 0 or reader.offset - told >= PROGRESS_BYTES:
                checkpoint()
                told = reader.offset

    def __len__(self) -> int:
        return len(self.kinds)

    def add(self, header: Header) -> int:
        """Add one member; returns its index."""
        return self.add_entry(header.name.encode("utf-8", "surrogateescape"), header.kind[0],
                              header.mode, header.size, header.mtime,
                              header.linkname.encode("utf-8", "surrogateescape"),
                              header.data_offset, header.stored, header.sparse)

    def add_entry(self, name: bytes, kind: int, mode: int, size: int, mtime: float,
                  linkname: bytes, offset: int, stored: int, sparse: Sparse | None) -> int:
        """Add one member as :meth:`HeaderReader.next_entry` gives it; returns its index."""
        path = name[:-1] if name[-1:] == b"/" else name
        if not path or path[0] in _ODD_START or b"//" in path or b"/." in path or \
                path[-1:] == b"/":
            path = self._cleaned(name)
            if not path:
                return ROOT  # the top itself ("./"): nothing to show
        dirs = self.dirs
        is_dir = kind == _DIRECTORY
        if is_dir and path in dirs:
            i = dirs[path]  # made up earlier, or named twice: the member's facts win
            self.kinds[i], self.modes[i], self.mtimes[i] = kind, mode, mtime
            return i
        head, _, base = path.rpartition(b"/")
        parent = dirs.get(head)
        if parent is None:
            parent = self._dir(head, mtime)
        i = len(self.kinds)  # as _append does, inline: this runs once a member
        self.name_at.append(len(self.names))
        self.name_len.append(len(base))
        self.names += base
        self.parents.append(parent)
        self.kinds.append(kind)
        self.modes.append(mode)
        self.sizes.append(size)
        self.mtimes.append(mtime)
        self.offsets.append(offset)
        self.stored.append(stored)
        self.children[parent].append(i)
        if linkname and kind in _LINKS:
            self.links[i] = linkname.decode("utf-8", "surrogateescape")
        if sparse is not None:
            self.sparse[i] = sparse
        if is_dir:
            dirs[path] = i
            self.children[i] = array("i")
        return i

    def _cleaned(self, name: bytes) -> bytes:
        """``name`` cleaned by :func:`clean_name`, noted when it was absolute or climbed."""
        text = name.decode("utf-8", "surrogateescape")
        path, climbed = clean_name(text)
        if climbed:
            self.cleaned += 1
            if len(self.notes) < MAX_NOTES:
                self.notes.append(f"{text} is shown as {path or '/'}")
        return path.encode("utf-8", "surrogateescape")

    def _append(self, base: bytes, parent: int, kind: int, mode: int, size: int, mtime: float,
                offset: int, stored: int) -> int:
        i = len(self.kinds)
        self.name_at.append(len(self.names))
        self.name_len.append(len(base))
        self.names += base
        self.parents.append(parent)
        self.kinds.append(kind)
        self.modes.append(mode)
        self.sizes.append(size)
        self.mtimes.append(mtime)
        self.offsets.append(offset)
        self.stored.append(stored)
        self.children[parent].append(i)
        return i

    def _dir(self, path: bytes, mtime: float) -> int:
        """The directory ``path``, made up (with its parents) when no member named it."""
        found = self.dirs.get(path)
        if found is not None:
            return found
        head, _, base = path.rpartition(b"/")
        parent = self._dir(head, mtime)
        i = self._append(base, parent, IMPLIED[0], 0o755, 0, mtime, 0, 0)
        self.dirs[path] = i
        self.children[i] = array("i")
        return i

    # -- reading ---------------------------------------------------------------

    def name_bytes(self, i: int) -> bytes:
        """The base name of member ``i`` as stored."""
        at = self.name_at[i]
        return bytes(self.names[at:at + self.name_len[i]])

    def name(self, i: int) -> str:
        """The base name of member ``i``."""
        return self.name_bytes(i).decode("utf-8", "surrogateescape")

    def is_dir(self, i: int) -> bool:
        """Whether member ``i`` is a directory (named or made up)."""
        return i == ROOT or self.kinds[i] in (DIRECTORY[0], IMPLIED[0])

    def listing(self, directory: int) -> array:
        """The children of ``directory`` sorted by name, one per name (the last
        member of a name wins)."""
        with self._lock:
            done = self._sorted.get(directory)
        if done is not None:
            return done
        kids = self.children.get(directory, array("i"))
        # Sorted by name, then by position: the last of equal names is kept.
        ordered = sorted(kids, key=lambda i: (self.name_bytes(i), i))
        unique = array("i")
        for i in ordered:
            if unique and self.name_bytes(unique[-1]) == self.name_bytes(i):
                unique[-1] = i
            else:
                unique.append(i)
        with self._lock:
            self._sorted[directory] = unique
        return unique

    def find(self, path: str) -> int | None:
        """The member at the clean relative ``path`` ("" is the top), or None."""
        raw = path.encode("utf-8", "surrogateescape")
        found = self.dirs.get(raw)
        if found is not None:
            return found
        head, _, want = raw.rpartition(b"/")
        parent = self.dirs.get(head)
        if parent is None:
            return None
        kids = self.listing(parent)
        at = bisect.bisect_left(kids, want, key=self.name_bytes)
        if at < len(kids) and self.name_bytes(kids[at]) == want:
            return kids[at]
        return None

    def path_of(self, i: int) -> str:
        """The full path of member ``i`` inside the archive."""
        parts = []
        while i != ROOT:
            parts.append(self.name(i))
            i = self.parents[i]
        return "/".join(reversed(parts))

    def nbytes(self) -> int:
        """Memory the columns take (the names blob and the arrays)."""
        columns = (self.name_at, self.name_len, self.parents, self.modes, self.sizes,
                   self.mtimes, self.offsets, self.stored)
        return len(self.names) + len(self.kinds) + sum(
            c.itemsize * len(c) for c in columns) + sum(
            c.itemsize * len(c) for c in self.children.values())
