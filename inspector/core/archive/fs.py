"""A snapshot tar read as an allocation: :class:`ArchiveFS` serves the
read side of ``AllocDirFS`` (``list``, ``stat``, ``read_at``) from the
archive's index, so the tree, the pager, search and filters work on it
as on an alloc dir, and nothing is ever written or extracted.

The library's read rules hold: a path that climbs out is refused
(``PathEscapesError``), a task's ``secrets/`` (or ``private/``) is never
read, even from an archive (``SecretReadError``); links, devices and
FIFOs are shown, never followed or opened. An archive does not change:
``change_events`` and ``block_until_exists`` say so, and every action
that would change an allocation is refused.
"""

from __future__ import annotations

import stat as stat_module
import threading
from concurrent.futures import Future

from allocdir import AllocDirError, AllocFileInfo, FileList, SecretReadError
from allocdir.times import utc_from_timestamp
from allocdir.layout import SHARED_ALLOC_NAME
from allocdir.paths import clean_relative, is_protected
from allocdir.sniff import detect_content_type

from ..text import printable
from .headers import BLOCKDEV, CHARDEV, DIRECTORY, FIFO, HARDLINK, REGULAR, SYMLINK
from .index import IMPLIED, ROOT, TarIndex
from .member import MemberFile, MemberLayout
from .source import ArchiveFile

SNIFF_LEN = 512
STATIC = "an archive does not change: nothing to follow"
_TYPE_BITS = {
    REGULAR[0]: stat_module.S_IFREG, DIRECTORY[0]: stat_module.S_IFDIR,
    IMPLIED[0]: stat_module.S_IFDIR, SYMLINK[0]: stat_module.S_IFLNK,
    HARDLINK[0]: stat_module.S_IFLNK, CHARDEV[0]: stat_module.S_IFCHR,
    BLOCKDEV[0]: stat_module.S_IFBLK, FIFO[0]: stat_module.S_IFIFO,
}
_NAMED_KINDS = {SYMLINK[0]: "a symbolic link", HARDLINK[0]: "a hard link",
                CHARDEV[0]: "a character device", BLOCKDEV[0]: "a block device",
                FIFO[0]: "a FIFO"}


class ArchiveStatic(AllocDirError):
    """Something that needs a live allocation was asked of an archive."""


def alloc_id_of(path: str) -> str:
    """The allocation an archive is named for: ``5fc9….tar.gz`` → ``5fc9…``."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    for suffix in (".tar.gz", ".tgz", ".tar"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[:-len(suffix)]
    return name


class ArchiveFS:
    """One snapshot tar as a read-only allocation (see the module docstring)."""

    read_only = True
    allowed_actions = frozenset()
    """No action changes an archive."""
    static = True
    """Nothing in it changes: no watching, no following."""

    def __init__(self, archive: ArchiveFile, index: TarIndex) -> None:
        self.archive = archive
        self.index = index
        self.alloc_dir = archive.path
        self.task_dirs = {self.index.name(i): None for i in index.listing(ROOT)
                          if index.is_dir(i) and self.index.name(i) != SHARED_ALLOC_NAME}
        self._end = index.end
        if not index.complete and len(index):
            last = max(range(len(index)), key=index.offsets.__getitem__)
            self._end = archive.data_end(index.offsets[last],
                                         index.offsets[last] + index.stored[last])

    @classmethod
    def open(cls, path: str, *, progress=None, cancel: threading.Event | None = None) -> ArchiveFS:
        """Open the archive at ``path`` and read its headers (blocking: a
        worker's job; ``progress(done, total)`` in bytes of the file)."""
        archive = ArchiveFile(path)
        try:
            tell = None
            if progress is not None:
                total = archive.size

                def tell(offset: int) -> None:
                    progress(archive.progress() if archive.compression else offset, total)

                if archive.compression:
                    archive.stepped = lambda: tell(0)
            try:
                index = TarIndex.scan(archive.read, fd=archive.plain_fd, progress=tell,
                                     cancel=cancel)
            finally:
                archive.stepped = None
            if progress is not None:
                progress(total, total)  # read to its end (a gzip's seek points lag behind)
        except BaseException:
            archive.close()
            raise
        return cls(archive, index)

    # -- what it is ---------------------------------------------------------------

    @property
    def alloc_id(self) -> str:
        """The name of the archive without its suffix (a snapshot's alloc id)."""
        return alloc_id_of(self.alloc_dir)

    @property
    def description(self) -> str:
        """"snapshot tar: 1,234 members", with what went wrong reading it."""
        kind = "snapshot tar.gz" if self.archive.compression else "snapshot tar"
        words = [f"{kind}: {len(self.index):,} entries, read-only"]
        if self.index.damage:
            words.append(f"read up to the damage: {self.index.damage}")
        if self.index.cleaned:
            words.append(f"{self.index.cleaned:,} names were absolute or climbed with '..' "
                         "(shown inside the archive)")
        return "; ".join(printable(w) for w in words)

    def refusal(self, verb: str) -> str:
        """Why ``verb`` is refused: an archive is read-only."""
        return f"Cannot {verb} {printable(self.alloc_id)}: a snapshot tar is read-only"

    # -- AllocDirFS -----------------------------------------------------------------

    def _member(self, path) -> tuple[str, int]:
        rel = clean_relative(path)
        found = self.index.find(rel)
        if found is None:
            raise FileNotFoundError(f"{printable(rel)}: not in the archive")
        return rel, found

    def _info(self, i: int, content_type: str = "") -> AllocFileInfo:
        index = self.index
        if i == ROOT:
            return AllocFileInfo(self.alloc_id, True, 0, "drwxr-xr-x",
                                 utc_from_timestamp(self.archive.stat.st_mtime),
                                 "application/octet-stream")
        kind = index.kinds[i]
        bits = _TYPE_BITS.get(kind, stat_module.S_IFREG)
        is_dir = bits == stat_module.S_IFDIR
        size = self.layout(i).readable if kind == REGULAR[0] else 0
        return AllocFileInfo(index.name(i), is_dir, size,
                             stat_module.filemode(bits | index.modes[i] & 0o7777),
                             utc_from_timestamp(index.mtimes[i]), content_type)

    def list(self, path) -> FileList:
        """The entries of the directory ``path`` in the archive, by name."""
        rel, i = self._member(path)
        if is_protected(rel + "/") or is_protected(rel):
            raise SecretReadError(str(path))
        if not self.index.is_dir(i):
            raise NotADirectoryError(f"{printable(rel)}: not a directory")
        return FileList([self._info(k) for k in self.index.listing(i)], path=rel)

    def stat(self, path) -> AllocFileInfo:
        """One entry, with its content type sniffed from its first bytes
        (never for a secret, a link or a device)."""
        rel, i = self._member(path)
        if i == ROOT or self.index.is_dir(i):
            return self._info(i, "application/octet-stream")
        if rel.endswith(".json"):
            return self._info(i, "application/json")
        if self.index.kinds[i] != REGULAR[0] or is_protected(rel):
            return self._info(i, "application/octet-stream")
        head = self._file(rel, i).pread(0, SNIFF_LEN)
        return self._info(i, detect_content_type(head))

    def read_at(self, path, offset: int) -> MemberFile:
        """The member at ``path``, open and positioned at ``offset``.
        Refuses secrets, links, devices, FIFOs and directories."""
        if offset < 0:
            raise ValueError(f"negative offset {offset}")
        rel, i = self._member(path)
        if is_protected(rel):
            raise SecretReadError(str(path))
        if self.index.is_dir(i):
            raise IsADirectoryError(f"{printable(rel)}: a directory")
        kind = self.index.kinds[i]
        if kind != REGULAR[0]:
            what = _NAMED_KINDS.get(kind, f"an entry of type {chr(kind)!r}")
            target = self.index.links.get(i)
            to = f" to {printable(target)}" if target is not None else ""
            raise AllocDirError(f"{printable(rel)} is {what}{to} in the archive: not followed")
        member = self._file(rel, i)
        member.seek(offset)
        return member

    def _file(self, rel: str, i: int) -> MemberFile:
        return MemberFile(self.archive.read, self.layout(i), rel)

    def layout(self, i: int) -> MemberLayout:
        """Where member ``i``'s bytes are in the archive."""
        index = self.index
        offset, stored = index.offsets[i], index.stored[i]
        available = stored if index.complete else max(0, self._end - offset)
        return MemberLayout(offset, stored, available, index.sizes[i], index.sparse.get(i))

    def summarize(self, *, now=None, budget=None):
        """The row of a root's table (``allocdir.summary.AllocSummary``),
        from the index: no member is read."""
        from .summary import summarize_archive

        return summarize_archive(self, now=now, budget=budget)

    def notes_of(self, path) -> list[str]:
        """What the reader should know about ``path``: a member cut short."""
        try:
            rel, i = self._member(path)
        except (FileNotFoundError, AllocDirError):
            return []
        if i == ROOT or self.index.kinds[i] != REGULAR[0]:
            return []
        layout = self.layout(i)
        if not layout.truncated:
            return []
        return [f"{printable(rel)} is cut short in the archive: {layout.readable:,} of "
                f"{layout.size:,} bytes are there"]

    def change_events(self, path, cur_offset: int, **_options):
        """Refused: an archive does not change."""
        raise ArchiveStatic(STATIC)

    def block_until_exists(self, path, **_options) -> Future:
        """Resolved at once when ``path`` is in the archive; else failed:
        it will never appear."""
        future: Future = Future()
        try:
            self._member(path)
        except Exception as exc:  # handed to whoever waits, as the future's outcome
            future.set_exception(ArchiveStatic(f"{exc} ({STATIC})"))
        else:
            future.set_result(None)
        return future

    def snapshot(self, *_args, **_kwargs):
        """Refused: it is a snapshot already."""
        raise ArchiveStatic(self.refusal("snapshot"))

    snapshot_estimate = snapshot

    def move(self, *_args, **_kwargs):
        """Refused: read-only."""
        raise ArchiveStatic(self.refusal("move"))

    def destroy(self, *_args, **_kwargs):
        """Refused: read-only."""
        raise ArchiveStatic(self.refusal("destroy"))

    def close(self) -> None:
        """Close the archive file."""
        self.archive.close()

    def __repr__(self) -> str:
        return f"ArchiveFS({self.alloc_dir!r}, {len(self.index)} entries)"
