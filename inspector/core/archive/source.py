"""The archive file itself: a plain tar read with ``pread``, or a gzip'd
tar read at random through ``indexed_gzip`` (its seek index is built by
the first pass over the headers, kept in memory, never written anywhere).
Other compressions are refused with the reason, before anything is read.
"""

from __future__ import annotations

import os
import stat
import threading

GZIP_SPACING = 8 << 20
"""Uncompressed bytes between two seek points of a gzip index: a seek
inflates at most this much; the index holds a 32 KiB window per point
(16 MiB of memory for a 4 GiB archive)."""
GZIP_BUFFER = 1 << 20
GZIP_STEP = 64 << 20
"""A seek forward past the gzip index goes this far at a time, telling
:attr:`ArchiveFile.stepped` (the index is built as it goes: a 1 GiB member
skipped is not a minute without news)."""

REFUSED = (
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bzip2"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"\x1f\x9d", "compress (.Z)"),
)
GZIP_MAGIC = b"\x1f\x8b"


class ArchiveError(Exception):
    """The archive cannot be opened; the message is the one-line reason."""


def compression_of(head: bytes) -> str:
    """"gzip", "" for none, or the name of a compression that is refused."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    for magic, name in REFUSED:
        if head.startswith(magic):
            return name
    return ""


def looks_like_tar(head: bytes) -> bool:
    """Whether the first block is a tar header (ustar magic, or a good
    checksum for old v7 archives)."""
    from .headers import checksum_ok

    if len(head) < 512:
        return False
    return head[257:262] == b"ustar" or (head.count(0) < 512 and checksum_ok(head[:512]))


class ArchiveFile:
    """An open archive: :meth:`read` bytes of the (uncompressed) tar at any
    offset, from any thread."""

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        try:
            # O_NONBLOCK: a FIFO named like an archive must not hang the open.
            self._fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise ArchiveError(os.strerror(exc.errno).lower() if exc.errno else str(exc)) \
                from None
        try:
            st = os.fstat(self._fd)
            if not stat.S_ISREG(st.st_mode):
                raise ArchiveError("not a regular file")
            self.stat = st
            head = os.pread(self._fd, 512, 0)
            self.compression = compression_of(head)
            if self.compression not in ("", "gzip"):
                raise ArchiveError(
                    f"compressed with {self.compression}: only .tar and .tar.gz are read "
                    f"(decompress it first, e.g. to a .tar)")
            self._lock = threading.Lock()
            self.stepped = None
            """Called (no arguments) at each step of a long seek forward in a .tar.gz."""
            self._gz = None
            if self.compression == "gzip":
                self._gz = self._open_gzip()
                head = self.read(0, 512)
            if not looks_like_tar(head):
                raise ArchiveError("not a tar archive" if head else "an empty file")
        except BaseException:
            self.close()
            raise

    def _open_gzip(self):
        try:
            import indexed_gzip
        except ImportError:  # a dependency: said rather than raised
            raise ArchiveError("reading .tar.gz needs the indexed_gzip package") from None
        try:
            return indexed_gzip.IndexedGzipFile(
                filename=f"/proc/self/fd/{self._fd}", drop_handles=False, spacing=GZIP_SPACING,
                readbuf_size=GZIP_BUFFER, buffer_size=GZIP_BUFFER)
        except Exception as exc:  # a corrupt gzip header
            raise ArchiveError(f"cannot read the gzip stream ({exc})") from None

    @property
    def size(self) -> int:
        """The archive file's size on disk (compressed, for a .tar.gz)."""
        return self.stat.st_size

    @property
    def plain_fd(self) -> int | None:
        """The file's descriptor when :meth:`read` is a plain ``pread`` of it (not gzip'd)."""
        return self._fd if self._gz is None else None

    def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes of the tar at ``offset`` (fewer at its end)."""
        if self._gz is None:
            return os.pread(self._fd, length, offset)
        with self._lock:
            try:
                self._step_to(offset)
                self._gz.seek(offset)
                return self._gz.read(length)
            except Exception as exc:  # zlib errors, a cut stream: an I/O error to the reader
                raise OSError(f"gzip stream unreadable at byte {offset:,}: {exc}") from None

    def _step_to(self, offset: int) -> None:
        """Seek forward towards ``offset`` by :data:`GZIP_STEP`, telling
        ``stepped`` each time (only while reading the headers)."""
        stepped = self.stepped
        if stepped is None:
            return
        at = self._gz.tell()
        while offset - at > GZIP_STEP:
            at += GZIP_STEP
            self._gz.seek(at)
            stepped()

    def data_end(self, low: int, high: int) -> int:
        """Where the tar's bytes end, known to be in ``[low, high]``: the
        file's size for a plain tar, found by bisection for a gzip'd one
        (a cut archive only)."""
        if self._gz is None:
            return min(high, self.size)
        while low < high:
            mid = (low + high + 1) // 2
            if self.read(mid - 1, 1):
                low = mid
            else:
                high = mid - 1
        return low

    def progress(self) -> int:
        """Compressed bytes read so far by the index (the file's offset for a plain tar)."""
        if self._gz is None:
            return 0
        try:
            points = list(self._gz.seek_points())
        except Exception:  # not built yet
            return 0
        return points[-1][1] if points else 0

    def close(self) -> None:
        """Close the file (and the gzip index)."""
        gz, self._gz = getattr(self, "_gz", None), None
        if gz is not None:
            try:
                gz.close()
            except Exception:  # closing only
                pass
        if getattr(self, "_fd", -1) >= 0:
            os.close(self._fd)
            self._fd = -1
