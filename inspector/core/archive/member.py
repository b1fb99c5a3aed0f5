"""One member of an archive as an open binary file, read by offset from the
archive (never extracted, never copied to a temporary file).

A member with holes (GNU sparse) reads its holes as zeros, computed, not
stored: a 1 TiB sparse member costs what its data costs. A member cut
short by the archive's end reads up to where its bytes stop.
"""

from __future__ import annotations

import bisect
import io
import os
from itertools import accumulate

from .headers import Sparse


class MemberLayout:
    """Where a member's bytes are: ``data_offset`` in the archive, ``stored``
    bytes there of which ``available`` are really in the file, and for a
    sparse member its regions and full size."""

    def __init__(self, data_offset: int, stored: int, available: int, size: int,
                 sparse: Sparse | None) -> None:
        self.data_offset = data_offset
        self.available = max(0, min(stored, available))
        self.sparse = sparse
        self.size = size
        if sparse is None:
            self.readable = min(size, self.available)
            return
        self._starts = [offset for offset, _ in sparse]
        self._stored_at = [0, *accumulate(length for _, length in sparse)]
        self.readable = size
        for k, (offset, length) in enumerate(sparse):  # where the stored bytes stop
            if self._stored_at[k] + length > self.available:
                self.readable = min(size, offset + max(0, self.available - self._stored_at[k]))
                break

    @property
    def truncated(self) -> bool:
        """Whether the archive ends before the member's bytes do."""
        return self.readable < self.size

    def pieces(self, offset: int, length: int):
        """``(archive offset or None for zeros, length)`` covering ``length``
        bytes of the member from ``offset`` (cut at :attr:`readable`)."""
        end = min(offset + length, self.readable)
        if self.sparse is None:
            if offset < end:
                yield self.data_offset + offset, end - offset
            return
        k = max(0, bisect.bisect_right(self._starts, offset) - 1)
        pos = offset
        while pos < end:
            if k >= len(self.sparse):
                yield None, end - pos
                return
            start, size = self.sparse[k]
            if pos < start:
                yield None, min(start, end) - pos
                pos = min(start, end)
                continue
            if pos < start + size:
                take = min(start + size, end) - pos
                yield self.data_offset + self._stored_at[k] + pos - start, take
                pos += take
            k += 1


class MemberFile(io.RawIOBase):
    """A read-only, seekable file over one member (``read_at``'s answer)."""

    def __init__(self, read, layout: MemberLayout, name: str) -> None:
        super().__init__()
        self._read = read
        self._layout = layout
        self._pos = 0
        self.name = name

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._layout.readable}
        pos = base[whence] + offset
        if pos < 0:
            raise ValueError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def readinto(self, buffer) -> int:
        data = self.pread(self._pos, len(buffer))
        buffer[:len(data)] = data
        self._pos += len(data)
        return len(data)

    def pread(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset`` (zeros in holes)."""
        out = []
        for at, size in self._layout.pieces(offset, length):
            if at is None:
                out.append(bytes(size))
                continue
            data = self._read(at, size)
            out.append(data)
            if len(data) < size:
                break
        return b"".join(out)
