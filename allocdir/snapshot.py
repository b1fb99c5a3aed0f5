"""Streaming tar of an allocation's data (``alloc/data`` and each task's
``local/``), written block by block so memory stays flat whatever the size.

The tar stays valid when files change under it: a file that shrinks while
being read is padded, one that grows is cut at the size in its header, one
that vanishes is skipped; FIFOs and devices are archived as headers and never
opened, sockets are skipped.

A file with holes is archived as GNU tar's PAX sparse entries (format 1.0):
its data regions only, so a file a task truncated to 1 TiB takes a few
blocks, not a terabyte of zeros. Before an entry's bytes go out, the room
hook (if any) is asked whether the destination can take them.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import stat
import struct
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import BinaryIO

from . import dirfd
from .errors import AllocDirError
from .layout import SNAPSHOT_ERROR_TIME
from .room import Allowance, RoomHook
from .sparse import Extents, data_extents, data_length

BLOCK = tarfile.BLOCKSIZE
RECORD = tarfile.RECORDSIZE
CHUNK = 1 << 20
# Files up to this size are read whole and written with their header at once.
SMALL_FILE = 64 << 10
# Files at least this large go through sendfile(2) when the output is a real file.
SENDFILE_MIN = 256 << 10
SENDFILE_CHUNK = 8 << 20
# Headers and small files are gathered into writes of about this size.
WRITE_BATCH = 1 << 20

Progress = Callable[[int], None]

_TYPES = {
    stat.S_IFREG: tarfile.REGTYPE, stat.S_IFDIR: tarfile.DIRTYPE,
    stat.S_IFLNK: tarfile.SYMTYPE, stat.S_IFIFO: tarfile.FIFOTYPE,
    stat.S_IFCHR: tarfile.CHRTYPE, stat.S_IFBLK: tarfile.BLKTYPE,
}
_USTAR = struct.Struct("100s8s8s8s12s12s8sc100s6s2s32s32s8s8s155s12x")
_CHECKSUM_AT = 148


@lru_cache(maxsize=256)
def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return ""


@lru_cache(maxsize=256)
def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return ""


def header_for(name: str, st: os.stat_result, linkname: str = "") -> tarfile.TarInfo | None:
    """The tar header of an entry from its ``lstat``; ``None`` for sockets."""
    kind = _TYPES.get(stat.S_IFMT(st.st_mode))
    if kind is None:
        return None
    info = tarfile.TarInfo(name.rstrip("/") + "/" if kind == tarfile.DIRTYPE else name)
    info.type = kind
    info.size = st.st_size if kind == tarfile.REGTYPE else 0
    info.linkname = linkname
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    info.mode = stat.S_IMODE(st.st_mode)
    info.mtime = int(st.st_mtime)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.uname, info.gname = _user_name(st.st_uid), _group_name(st.st_gid)
    return info


def _octal(value: int, width: int) -> bytes | None:
    text = b"%0*o" % (width - 1, value)
    return text + b"\0" if len(text) == width - 1 else None


@lru_cache(maxsize=1024)
def _ustar_template(kind: bytes, mode: int, uid: int, gid: int, uname: str, gname: str,
                    major: int, minor: int) -> tuple[bytes, int] | None:
    """The header with the per-entry fields (name, size, mtime, link) empty,
    and the checksum of the rest, or None when these cannot be plain ustar.
    Most entries of a tree share one."""
    try:
        unames = uname.encode("ascii"), gname.encode("ascii")
    except UnicodeEncodeError:
        return None
    numbers = (_octal(mode & 0o7777, 8), _octal(uid, 8), _octal(gid, 8),
               _octal(major, 8), _octal(minor, 8))
    if None in numbers or max(map(len, unames)) > 32:
        return None
    mode_f, uid_f, gid_f, major_f, minor_f = numbers
    if kind not in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        major_f = minor_f = b""  # as tarfile writes them
    header = _USTAR.pack(b"", mode_f, uid_f, gid_f, b"", b"", b" " * 8, kind, b"",
                         tarfile.POSIX_MAGIC[:6], tarfile.POSIX_MAGIC[6:], *unames,
                         major_f, minor_f, b"")
    return header, sum(header)


def ustar_header(info: tarfile.TarInfo) -> bytes | None:
    """The 512-byte header ``tarfile`` writes for ``info`` in PAX format when
    no PAX record is needed, built directly (the common case, and the
    per-file cost of a snapshot of many small files); ``None`` otherwise."""
    template = _ustar_template(info.type, info.mode, info.uid, info.gid, info.uname,
                               info.gname, info.devmajor, info.devminor)
    name_text = info.name
    if info.type == tarfile.DIRTYPE and not name_text.endswith("/"):
        name_text += "/"  # as tarfile does
    try:
        name = name_text.encode("ascii")
        linkname = info.linkname.encode("ascii")
    except UnicodeEncodeError:
        return None
    mtime = int(info.mtime)
    size, mtime_f = _octal(info.size, 12), _octal(mtime, 12) if mtime >= 0 else None
    if template is None or size is None or mtime_f is None or len(name) > 100 \
            or len(linkname) > 100:
        return None
    base, checksum = template
    checksum += sum(name) + sum(size) + sum(mtime_f) + sum(linkname)
    return b"".join((name.ljust(100, b"\0"), base[100:124], size, mtime_f,
                     b"%06o\0" % checksum, base[155:157], linkname.ljust(100, b"\0"),
                     base[257:]))


def encode_header(info: tarfile.TarInfo) -> bytes:
    """The header block(s) of ``info``: plain ustar, or with PAX records for
    long or non-ASCII names and huge numbers."""
    return ustar_header(info) or info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


_OCTAL_11 = 8 ** 11  # what fits the 12-byte size and mtime fields


@lru_cache(maxsize=1024)
def _stat_template(kind: bytes, mode: int, uid: int,
                   gid: int) -> tuple[bytes, bytes, bytes, int] | None:
    """The fixed parts of a ustar header around its name, numbers and link
    (mode..gid; the checksum's last byte, type and empty link; magic
    onwards), and their checksum."""
    found = _ustar_template(kind, mode, uid, gid, _user_name(uid), _group_name(gid), 0, 0)
    if found is None:
        return None
    base, checksum = found
    return base[100:124], base[155:257], base[257:], checksum


def entry_header(name: str, st: os.stat_result, linkname: str = "") -> bytes | None:
    """The header block(s) of an entry from its ``stat``, as
    ``encode_header(header_for(...))`` makes them; ``None`` for a socket.

    The common case (an ASCII name of at most 100 bytes, ordinary numbers)
    is packed straight from the stat fields, without a ``TarInfo``: it is the
    per-file cost of a snapshot of many small files.
    """
    mode = st.st_mode
    kind = _TYPES.get(stat.S_IFMT(mode))
    if kind is None:
        return None
    if kind == tarfile.DIRTYPE and not name.endswith("/"):
        name += "/"
    template = None
    if kind not in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        template = _stat_template(kind, mode & 0o7777, st.st_uid, st.st_gid)
    size = st.st_size if kind == tarfile.REGTYPE else 0
    mtime = int(st.st_mtime)
    if (template is not None and len(name) <= 100 and len(linkname) <= 100
            and name.isascii() and linkname.isascii()
            and 0 <= size < _OCTAL_11 and 0 <= mtime < _OCTAL_11):
        numbers = b"%011o\0%011o\0" % (size, mtime)
        raw = name.encode()
        head, middle, tail, checksum = template
        checksum += sum(raw) + sum(numbers)
        if linkname:
            link = linkname.encode()
            checksum += sum(link)
            middle = middle[:2] + link + middle[2 + len(link):]
        return b"".join((raw, bytes(100 - len(raw)), head, numbers,
                         b"%06o\0" % checksum, middle, tail))
    return encode_header(header_for(name, st, linkname))


def _padding(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)


SPARSE_DIR = "GNUSparseFile.0"
"""Where a reader that does not know sparse entries puts one (as GNU tar
names it, without a process id)."""


def sparse_header(name: str, st: os.stat_result, extents: Extents) -> tuple[bytes, bytes]:
    """The header blocks and the map of a file with holes, as GNU tar's
    PAX sparse format 1.0 makes them (``tar -x``, ``tar -t`` and Python's
    ``tarfile`` restore the holes): the map, padded to a block, comes first
    in the entry's content, then the data regions one after another."""
    numbers = [len(extents) + 1]
    for offset, length in extents:
        numbers += (offset, length)
    numbers += (st.st_size, 0)  # the end: the file's size, even after a hole
    sparse_map = "".join(f"{n}\n" for n in numbers).encode()
    sparse_map += _padding(len(sparse_map))
    stored = len(sparse_map) + data_length(extents)
    directory, _, base = name.rpartition("/")
    placeholder = f"{directory}/{SPARSE_DIR}/{base}".lstrip("/")
    if not placeholder.isascii() or len(placeholder) > 100:
        placeholder = f"{SPARSE_DIR}/file"
    info = header_for(placeholder, st)
    info.size = stored
    # Records are read in order: "size" (the stored bytes, when the header
    # cannot hold them) must come before realsize, which then wins.
    pax = {"size": str(stored)} if stored >= _OCTAL_11 else {}
    pax.update({"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": name,
                "GNU.sparse.realsize": str(st.st_size)})
    info.pax_headers = pax
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"), sparse_map


def _fileno(out: BinaryIO) -> int | None:
    try:
        return out.fileno()
    except (AttributeError, OSError, ValueError):
        return None


class TarStream:
    """A minimal streaming tar writer: headers as ``tarfile`` makes them,
    bodies copied from file descriptors (in the kernel for large files).

    ``room``, when given, is asked before an entry's bytes are written
    whenever what it granted last is used up (see :mod:`allocdir.room`):
    an entry it refuses is never started."""

    def __init__(self, out: BinaryIO, progress: Progress | None = None,
                 room: RoomHook | None = None) -> None:
        self._out = out
        self._out_fd = _fileno(out)
        self._progress = progress
        self._allowance = Allowance(room)
        self._checked = room is not None  # tested inline: the per-file cost of small files
        self._pending = bytearray()  # small entries gathered into large writes
        self._remaining = 0  # content bytes still owed to the range being written
        self.written = 0  # bytes written to ``out``
        self.content_bytes = 0  # file content archived so far (holes included)

    def _write(self, data) -> None:
        self._pending += data
        self.written += len(data)
        if len(self._pending) >= WRITE_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            # Handed over before writing: a failed write must not leave the
            # buffer for the next one (its bytes would be written twice), nor
            # tied to a view the writer's traceback still holds.
            pending, self._pending = self._pending, bytearray()
            self._out.write(pending)

    def _flush_out(self) -> None:
        self._flush()
        self._out.flush()

    def _allow(self, name: str, size: int) -> None:
        self._allowance.take(name, size, self._flush_out)

    def unlimited(self) -> None:
        """Stop asking for room: what follows is bounded (the error marker)."""
        self._allowance.hook = None
        self._checked = False

    def _advance(self, n: int) -> None:
        self.content_bytes += n
        if self._progress is not None:
            self._progress(self.content_bytes)

    def add_header(self, name: str, header: bytes) -> None:
        """Write the header block(s) of the entry ``name``, without content."""
        if self._checked:
            self._allow(name, len(header))
        self._write(header)

    def add_bytes(self, info: tarfile.TarInfo, data: bytes) -> None:
        """Write ``info`` with ``data`` as its content (not counted against
        the room: for the small error marker)."""
        info.size = len(data)
        self._write(encode_header(info) + data + _padding(len(data)))

    def add_file(self, name: str, header: bytes, size: int, fd: int) -> None:
        """Write ``header`` and exactly ``size`` bytes read from ``fd``:
        padded with zeros if the file shrank (or a read failed: the entry
        stays whole so the error marker can follow), cut if it grew."""
        if self._checked:
            self._allow(name, len(header) + size + (-size % BLOCK))
        if size <= SMALL_FILE:
            data = os.read(fd, size) if size else b""
            if len(data) < size:
                data += bytes(size - len(data))
            self._write(header + data + _padding(size) if size % BLOCK else header + data)
            self._advance(size)
            return
        self._write(header)
        self._copy(fd, 0, size)
        self._write(_padding(size))

    def add_sparse(self, name: str, header: bytes, sparse_map: bytes, extents: Extents,
                   size: int, fd: int) -> None:
        """Write a file with holes: ``header`` and ``sparse_map`` from
        :func:`sparse_header`, then the data regions ``extents`` of ``fd``
        (each padded or cut as :meth:`add_file` does)."""
        stored = len(sparse_map) + data_length(extents)
        self._allow(name, len(header) + stored + (-stored % BLOCK))
        self._write(header + sparse_map)
        done = 0
        for offset, length in extents:
            self._advance(offset - done)  # the hole before it
            self._copy(fd, offset, length)
            done = offset + length
        self._advance(size - done)
        self._write(_padding(stored))

    def _copy(self, fd: int, offset: int, length: int) -> None:
        """Write ``length`` bytes of ``fd`` from ``offset``; zeros for what
        could not be read."""
        self._remaining = length
        try:
            if self._out_fd is not None and length >= SENDFILE_MIN:
                offset = self._send(fd, offset)
            while self._remaining:
                chunk = os.pread(fd, min(CHUNK, self._remaining), offset)
                if not chunk:
                    break
                self._write(chunk)
                offset += len(chunk)
                self._remaining -= len(chunk)
                self._advance(len(chunk))
        finally:
            while self._remaining:  # the file shrank, or reading it failed
                step = min(self._remaining, CHUNK)
                self._write(bytes(step))
                self._remaining -= step
                self._advance(step)

    def _send(self, fd: int, offset: int) -> int:
        """Copy in the kernel (sendfile) while it works; the offset reached."""
        self._flush_out()
        try:
            while self._remaining:
                sent = os.sendfile(self._out_fd, fd, offset,
                                   min(SENDFILE_CHUNK, self._remaining))
                if not sent:
                    break
                offset += sent
                self.written += sent
                self._remaining -= sent
                self._advance(sent)
        except OSError as e:
            if e.errno not in (errno.EINVAL, errno.ENOSYS):
                raise
            self._out_fd = None  # this output cannot take sendfile: copy in user space
        return offset

    def close(self) -> None:
        """Write the end-of-archive blocks and pad to a whole record, as tar does."""
        end = 2 * BLOCK
        end += -(self.written + end) % RECORD
        self._allow("the end of the archive", end)
        self._write(bytes(end))
        self._flush_out()


LinkedSecret = Callable[[os.stat_result], str]
"""Why a file with more than one link must be treated as a secret (it is
also in a secrets dir, or that could not be ruled out), or ""."""


@dataclass
class SnapshotResult:
    """What a snapshot archived, and what it left out on purpose.

    ``skipped`` lists ``(name in the tar, reason)`` for files that could not
    be read without waiting (a lease held by another process), were not
    followed into (mount points) or are hard links to a secret; the
    snapshot is still valid without them.
    """

    entries: int = 0
    content_bytes: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Archive:
    """What the walk of one snapshot writes to and reports in."""

    tar: TarStream
    result: SnapshotResult
    linked_secret: LinkedSecret | None


def archive_tree(tar: TarStream, dir_fd: int, name: str, prefix: str,
                 result: SnapshotResult, *, linked_secret: LinkedSecret | None = None) -> None:
    """Archive ``name`` in ``dir_fd`` and everything below it as ``prefix``
    and ``prefix/...``, depth first in name order, through directory fds
    (:func:`dirfd.walk`): a directory swapped for a symlink mid-walk is
    archived as the link, never read through. Entries that vanish while
    being walked are skipped; so is a file with several links for which
    ``linked_secret`` gives a reason to treat it as a secret."""
    archive = _Archive(tar, result, linked_secret)
    for step in dirfd.walk(dir_fd, name, sort=True, where=prefix, runs=True):
        tar_name = f"{prefix}/{step.rel}" if step.rel else prefix
        if step.kind == dirfd.RUN:
            for leaf, regular in step.leaves:
                leaf_name = f"{tar_name}/{leaf}"
                if not (regular and _archive_file(archive, step.dir_fd, leaf, leaf_name)):
                    _archive_leaf(archive, step.dir_fd, leaf, leaf_name)
        elif step.kind == dirfd.LEAF:
            if not (step.regular and _archive_file(archive, step.dir_fd, step.name, tar_name)):
                _archive_leaf(archive, step.dir_fd, step.name, tar_name)
        elif step.kind == dirfd.ENTER:
            tar.add_header(tar_name, entry_header(tar_name, step.st))
            result.entries += 1
        elif step.kind == dirfd.MOUNT:
            tar.add_header(tar_name, entry_header(tar_name, step.st))
            result.entries += 1
            result.skipped.append((tar_name, "a mount point: its content is not archived"))
        elif step.kind == dirfd.ERROR:
            raise step.error


def _archive_leaf(archive: _Archive, dir_fd: int, name: str, tar_name: str) -> None:
    """Archive one non-directory, as ``lstat`` sees it now. Only a regular
    file is opened, without following a link or blocking; its header comes
    from the opened file."""
    try:
        st = dirfd.lstat_at(dir_fd, name)
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode):
        _archive_file(archive, dir_fd, name, tar_name)
        return
    linkname = ""
    if stat.S_ISLNK(st.st_mode):
        try:
            linkname = os.readlink(name, dir_fd=dir_fd)
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno == errno.EINVAL:
                return  # no longer a link
            raise dirfd.named(e, tar_name) from None
    header = entry_header(tar_name, st, linkname)
    if header is None:
        return  # a socket
    archive.tar.add_header(tar_name, header)  # a link, a FIFO or a device: nothing read
    archive.result.entries += 1


def _archive_file(archive: _Archive, dir_fd: int, name: str, tar_name: str) -> bool:
    """Archive the regular file ``name``, opened without following a link or
    blocking; False when it is no longer a regular file (look again)."""
    result = archive.result
    try:
        fd, st = dirfd.open_file_at(dir_fd, name, tar_name)
    except FileNotFoundError:
        return True
    except BlockingIOError as e:
        result.skipped.append((tar_name, e.strerror))
        return True
    except AllocDirError:
        return False  # swapped for a special file since listed
    except OSError as e:
        if e.errno != errno.ELOOP:
            raise
        return False  # swapped for a symlink since listed
    try:
        secret = st.st_nlink > 1 and archive.linked_secret is not None \
            and archive.linked_secret(st)
        if secret:
            result.skipped.append((tar_name, f"{secret}: not archived"))
            return True
        # may_have_holes(st), inline: this runs for every file
        extents = data_extents(fd, st.st_size) if st.st_blocks * 512 < st.st_size else None
        if extents is None:
            archive.tar.add_file(tar_name, entry_header(tar_name, st), st.st_size, fd)
        else:
            header, sparse_map = sparse_header(tar_name, st, extents)
            archive.tar.add_sparse(tar_name, header, sparse_map, extents, st.st_size, fd)
        result.content_bytes += st.st_size
    finally:
        os.close(fd)
    result.entries += 1
    return True


def error_entry(name: str, error: BaseException) -> tuple[tarfile.TarInfo, bytes]:
    """The header and content of the marker a failed snapshot appends."""
    info = tarfile.TarInfo(name)
    info.mode = 0o666
    info.mtime = int(SNAPSHOT_ERROR_TIME.timestamp())
    return info, f"Error snapshotting: {error}".encode()
