"""Streaming tar of an allocation's data (``alloc/data`` and each task's
``local/``), written block by block so memory stays flat whatever the size.

The tar stays valid when files change under it: a file that shrinks while
being read is padded, one that grows is cut at the size in its header, one
that vanishes is skipped; FIFOs and devices are archived as headers and never
opened, sockets are skipped.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import stat
import tarfile
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import BinaryIO

from .layout import SNAPSHOT_ERROR_TIME

BLOCK = tarfile.BLOCKSIZE
RECORD = tarfile.RECORDSIZE
CHUNK = 1 << 20
# Files this large go through sendfile(2) when the output is a real file.
SENDFILE_MIN = 256 << 10
SENDFILE_CHUNK = 8 << 20

Progress = Callable[[int], None]


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


class TarStream:
    """A minimal streaming tar writer: headers from ``tarfile``, bodies copied
    straight from file descriptors in large chunks."""

    def __init__(self, out: BinaryIO, progress: Progress | None = None) -> None:
        self._out = out
        self._out_fd = _fileno(out)
        self._progress = progress
        self.written = 0  # bytes written to ``out``
        self.content_bytes = 0  # file content archived so far

    def _write(self, data) -> None:
        self._out.write(data)
        self.written += len(data)

    def add_header(self, info: tarfile.TarInfo) -> None:
        """Write the header block(s) of ``info``."""
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def add_file(self, info: tarfile.TarInfo, fd: int) -> None:
        """Write ``info`` and exactly ``info.size`` bytes read from ``fd``."""
        self.add_header(info)
        remaining = info.size
        if self._out_fd is not None and remaining >= SENDFILE_MIN:
            remaining = self._send(fd, remaining)
        while remaining:
            chunk = os.read(fd, min(CHUNK, remaining))
            if not chunk:
                break  # the file shrank: pad below
            self._write(chunk)
            remaining -= len(chunk)
            self._advance(len(chunk))
        if remaining:
            self._write_zeros(remaining)
            self._advance(remaining)
        self._pad(info.size)

    def _send(self, fd: int, remaining: int) -> int:
        """Copy in the kernel (sendfile) while it works; return what is left."""
        self._out.flush()
        try:
            while remaining:
                sent = os.sendfile(self._out_fd, fd, None, min(SENDFILE_CHUNK, remaining))
                if not sent:
                    break
                self.written += sent
                remaining -= sent
                self._advance(sent)
        except OSError as e:
            if e.errno not in (errno.EINVAL, errno.ENOSYS) or self._out_fd is None:
                raise
            self._out_fd = None  # this output cannot take sendfile: copy in user space
        return remaining

    def add_bytes(self, info: tarfile.TarInfo, data: bytes) -> None:
        """Write ``info`` with ``data`` as its content."""
        info.size = len(data)
        self.add_header(info)
        self._write(data)
        self._pad(len(data))

    def close(self) -> None:
        """Write the end-of-archive blocks and pad to a whole record, as tar does."""
        self._write(b"\0" * (2 * BLOCK))
        self._pad_to(RECORD)
        self._out.flush()

    def _advance(self, n: int) -> None:
        self.content_bytes += n
        if self._progress is not None:
            self._progress(self.content_bytes)

    def _write_zeros(self, n: int) -> None:
        while n:
            step = min(n, CHUNK)
            self._write(bytes(step))
            n -= step

    def _pad(self, size: int) -> None:
        if size % BLOCK:
            self._write(b"\0" * (BLOCK - size % BLOCK))

    def _pad_to(self, unit: int) -> None:
        if self.written % unit:
            self._write(b"\0" * (unit - self.written % unit))


def _fileno(out: BinaryIO) -> int | None:
    try:
        return out.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def header_for(name: str, st: os.stat_result) -> tarfile.TarInfo | None:
    """The tar header of an entry from its ``lstat``; ``None`` for sockets."""
    info = tarfile.TarInfo(name)
    mode = st.st_mode
    if stat.S_ISREG(mode):
        info.type, info.size = tarfile.REGTYPE, st.st_size
    elif stat.S_ISDIR(mode):
        info.type = tarfile.DIRTYPE
        info.name = name.rstrip("/") + "/"
    elif stat.S_ISFIFO(mode):
        info.type = tarfile.FIFOTYPE
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        info.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
        info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    elif stat.S_ISLNK(mode):
        info.type = tarfile.SYMTYPE
    else:
        return None
    info.mode = stat.S_IMODE(mode)
    info.mtime = int(st.st_mtime)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.uname, info.gname = _user_name(st.st_uid), _group_name(st.st_gid)
    return info


def archive_tree(tar: TarStream, root: str, top: str) -> None:
    """Archive ``top`` (inside ``root``) and everything below it, names
    relative to ``root``. Entries that vanish while being walked are skipped."""
    pending = [top]
    while pending:
        path = pending.pop()
        name = os.path.relpath(path, root)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(st.st_mode):
            _archive_dir(tar, name, st)
            pending.extend(reversed(_sorted_children(path)))
        elif stat.S_ISREG(st.st_mode):
            _archive_regular(tar, path, name)
        elif stat.S_ISLNK(st.st_mode):
            _archive_symlink(tar, path, name, st)
        elif (info := header_for(name, st)) is not None:
            tar.add_header(info)  # FIFO or device: header only, never opened


def _sorted_children(path: str) -> list[str]:
    try:
        with os.scandir(path) as entries:
            return sorted(e.path for e in entries)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _archive_dir(tar: TarStream, name: str, st: os.stat_result) -> None:
    info = header_for(name, st)
    assert info is not None
    tar.add_header(info)


def _archive_symlink(tar: TarStream, path: str, name: str, st: os.stat_result) -> None:
    try:
        target = os.readlink(path)
    except FileNotFoundError:
        return
    info = header_for(name, st)
    assert info is not None
    info.linkname = target
    tar.add_header(info)


def _archive_regular(tar: TarStream, path: str, name: str) -> None:
    # O_NOFOLLOW|O_NONBLOCK: if a FIFO or symlink was swapped in since the
    # lstat, the open neither follows nor blocks, and fstat tells the truth.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    except OSError as e:
        if e.errno != errno.ELOOP:
            raise
        # It became a symlink since the lstat: archive it as one.
        try:
            _archive_symlink(tar, path, name, os.lstat(path))
        except FileNotFoundError:
            pass
        return
    try:
        st = os.fstat(fd)
        info = header_for(name, st)
        if info is None:
            return
        if info.type == tarfile.REGTYPE:
            tar.add_file(info, fd)
        else:
            tar.add_header(info)
    finally:
        os.close(fd)


def error_entry(alloc_id: str, name: str, error: BaseException) -> tuple[tarfile.TarInfo, bytes]:
    """The header and content of the marker a failed snapshot appends."""
    info = tarfile.TarInfo(name)
    info.mode = 0o666
    info.mtime = int(SNAPSHOT_ERROR_TIME.timestamp())
    return info, f"Error snapshotting: {error}".encode()


def regular_bytes(tops: Iterable[str]) -> int:
    """Sum of the sizes of the regular files below ``tops``, what a snapshot
    of them will archive as content (used for progress bars)."""
    total = 0
    for top in tops:
        for dirpath, _, filenames in os.walk(top):
            for name in filenames:
                try:
                    st = os.lstat(os.path.join(dirpath, name))
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    total += st.st_size
    return total

