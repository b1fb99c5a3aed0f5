"""Reading a tar's headers: one member at a time, from a stream of blocks.

Understands what GNU tar, Python's ``tarfile`` and our own snapshots
write: ustar and old GNU headers, GNU long names and long link names
(``L``/``K``), PAX extended headers (``x``; global ``g`` ones are read and
ignored), and the three ways GNU tar stores a file with holes: old GNU
sparse headers (``S``), PAX sparse 0.0/0.1 (the map in the extended
header) and PAX sparse 1.0 (the map at the start of the data, what
``allocdir.snapshot`` writes).

Nothing here trusts the archive: numbers are parsed within bounds, a bad
checksum or a header cut short ends the scan with a reason, extended
headers and sparse maps are capped, and a member's data is never read
except a sparse 1.0 map (capped too).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import NamedTuple
from zlib import adler32

BLOCK = 512
MAX_EXTENDED = 1 << 20
"""Bytes of a long name, long link or PAX header read, at most."""
MAX_SPARSE_REGIONS = 1 << 16
"""Regions of a sparse map kept, at most (the rest of the member reads as zeros)."""

REGULAR, HARDLINK, SYMLINK, CHARDEV, BLOCKDEV, DIRECTORY, FIFO = b"0", b"1", b"2", b"3", b"4", \
    b"5", b"6"
CONTIGUOUS, LONGNAME, LONGLINK, PAX, PAX_GLOBAL, GNU_SPARSE = b"7", b"L", b"K", b"x", b"g", b"S"
DUMPDIR = b"D"
OLD_REGULAR = b"\0"
"""The kind of every file in a pre-POSIX (V7) tar: a regular file, or a
directory when its name ends with a slash."""
SOLARIS_PAX = b"X"

READ_AHEAD = 1 << 20
"""Bytes read at once while members are small (their headers served from that buffer)."""
SMALL_STRIDE = 4096
"""A member taking at most this much (header and data) makes the next read a read-ahead;
after a bigger one only the next header block is read (its data is jumped over)."""

Sparse = tuple[tuple[int, int], ...]
"""``(offset, length)`` of each data region of a member with holes, in order."""


Entry = tuple[bytes, int, int, int, float, bytes, int, int, "Sparse | None"]
"""A member as :class:`Header` has it, its name and link name as bytes and its kind as
an int (what the index stores), for :meth:`HeaderReader.next_entry`."""


class ArchiveDamaged(Exception):
    """The archive cannot be read past here; the message says why, in words."""


class Header(NamedTuple):
    """One member as its headers describe it."""

    name: str
    kind: bytes
    mode: int
    size: int
    """The member's size as extracted (a sparse member: with its holes)."""
    mtime: float
    linkname: str
    data_offset: int
    """Where the member's stored bytes start in the archive."""
    stored: int
    """How many bytes the member takes in the archive (holes excluded)."""
    sparse: Sparse | None
    """The data regions of a sparse member (offsets in the extracted file), else None."""


def _number(field: bytes) -> int:
    """An octal (or GNU base-256) number field."""
    if field[:1] and field[0] & 0x80:  # base-256, big-endian, sign in the top bit
        value = int.from_bytes(field[1:], "big")
        return -(256 ** (len(field) - 1) - value) if field[0] & 0x40 else value
    text = field.split(b"\0", 1)[0].strip()
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise ArchiveDamaged(f"a header number is not octal: {text[:20]!r}") from None


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _padded(size: int) -> int:
    return (size + BLOCK - 1) // BLOCK * BLOCK


def _byte_sum(view: memoryview, at: int) -> int:
    """The exact sum of the 512 bytes at ``at``: adler-32's first half is
    1 + the sum modulo 65521, exact for 256 bytes (at most 65,280)."""
    return (adler32(view[at:at + 256]) & 0xFFFF) + (adler32(view[at + 256:at + BLOCK]) & 0xFFFF) - 2


_LOW_BYTES = bytes(range(128))


def _checksums(block: bytes) -> tuple[int, int]:
    """The unsigned and signed sums of a header block, its checksum field read as spaces."""
    field = block[148:156]
    unsigned = _byte_sum(memoryview(block), 0) - sum(field) + 8 * 32
    high = len(block.translate(None, _LOW_BYTES)) - len(field.translate(None, _LOW_BYTES))
    return unsigned, unsigned - 256 * high


def checksum_ok(block: bytes) -> bool:
    """Whether a header block's checksum matches (signed or unsigned sums, as tar accepts)."""
    try:
        wanted = _number(block[148:156])
    except ArchiveDamaged:
        return False
    return wanted in _checksums(block)


def _pax_records(data: bytes) -> dict[str, str]:
    """The ``key=value`` records of a PAX header (later keys win; sparse
    0.0's repeated offset/numbytes keys are gathered in order)."""
    records: dict[str, str] = {}
    pos, end = 0, len(data)
    while pos < end and data[pos:pos + 1] not in (b"\0", b""):
        space = data.find(b" ", pos, pos + 24)
        if space < 0:
            raise ArchiveDamaged("a PAX record has no length")
        try:
            length = int(data[pos:space])
        except ValueError:
            raise ArchiveDamaged("a PAX record length is not a number") from None
        if length <= space - pos or pos + length > end:
            raise ArchiveDamaged("a PAX record is longer than its header")
        record = data[space + 1:pos + length - 1]
        key, eq, value = record.partition(b"=")
        if not eq:
            raise ArchiveDamaged("a PAX record has no '='")
        name = key.decode("utf-8", "surrogateescape")
        text = value.decode("utf-8", "surrogateescape")
        if name in ("GNU.sparse.offset", "GNU.sparse.numbytes"):
            records[name + ".list"] = records.get(name + ".list", "") + text + ","
        else:
            records[name] = text
        pos += length
    return records


class HeaderReader:
    """Reads headers one after another from ``read(offset, length)`` (bytes
    at an offset of the archive, shorter at its end), or ``fd`` with ``pread``
    when it is given (a plain tar: the same bytes, one call less per member)."""

    def __init__(self, read, fd: int | None = None) -> None:
        self._read = read
        self._fd = fd
        self.offset = 0
        """Where the next header starts."""
        self._buffer = b""
        self._view = memoryview(b"")
        self._buffer_at = 0
        self._ahead = READ_AHEAD

    def _window(self, offset: int) -> int:
        """Where the block at ``offset`` starts in the read-ahead buffer, read
        anew when it is not all there; -1 when the archive has no whole block there."""
        at = offset - self._buffer_at
        if 0 <= at <= len(self._buffer) - BLOCK:
            return at
        self._buffer = self._read(offset, self._ahead)
        self._view = memoryview(self._buffer)
        self._buffer_at = offset
        return 0 if len(self._buffer) >= BLOCK else -1

    def entries(self) -> Iterator[Entry]:
        """Every member from :attr:`offset` on, as an :data:`Entry`, to the archive's
        end (:attr:`offset` is past each one when it is given).

        A plain member (one ustar or GNU header, no extended header) is read
        here, from a read-ahead buffer while members are small, in one
        ``unpack_from``; anything else, or anything odd (a signed checksum, a
        base-256 number, damage), is read again from its first block by
        :meth:`next`, which says what is wrong. One loop, no call per member:
        this is the whole cost of opening a big archive.
        Raises :class:`ArchiveDamaged` as :meth:`next` does."""
        unpack, plain_kinds, data_kinds = _PLAIN_FIELDS.unpack_from, _PLAIN_KINDS, _DATA_KINDS
        read, pread, fd = self._read, os.pread, self._fd
        buffer, view, start, ahead = b"", memoryview(b""), 0, READ_AHEAD
        at = self.offset
        while True:
            pos = at - start
            if pos < 0 or pos > len(buffer) - BLOCK:
                buffer = read(at, ahead) if fd is None else pread(fd, ahead, at)
                view, start, pos = memoryview(buffer), at, 0
            odd = len(buffer) < BLOCK  # the end, or a header cut short
            if not odd:
                (name, mode, end_mode, size, end_size, mtime, end_mtime, check, end_check,
                 check_last, kind, link, magic, prefix) = unpack(buffer, pos)
                # Numbers as tar writes them: digits, then a NUL (else next() reads them).
                odd = kind not in plain_kinds or end_mode | end_size | end_mtime | end_check
            if not odd:
                try:
                    wanted = int(check, 8)
                    size = int(size, 8)
                    mode = int(mode, 8) & 0o7777
                    mtime = float(int(mtime, 8))
                except ValueError:  # a NUL or a stray byte among the digits
                    odd = True
                else:  # adler-32's low half is 1 + the sum of 256 bytes, exactly
                    odd = size < 0 or wanted != (adler32(view[pos:pos + 256]) & 0xFFFF) + (
                        adler32(view[pos + 256:pos + BLOCK]) & 0xFFFF) + 254 - sum(check) - \
                        check_last
            if odd:
                self.offset = at
                entry = self._slow_entry()
                if entry is None:
                    return
                at = self.offset
                yield entry
                continue
            name = name.partition(b"\0")[0]  # up to the first NUL, as tar reads it
            if magic == b"ustar\0" and prefix[0]:
                name = prefix.partition(b"\0")[0] + b"/" + name
            data_at = at + BLOCK
            if kind in data_kinds:
                stored = size
                next_at = data_at + (size + BLOCK - 1) // BLOCK * BLOCK
                ahead = READ_AHEAD if next_at - at <= SMALL_STRIDE else BLOCK
                if kind != REGULAR:  # contiguous, or an old tar's NUL (a dir when named so)
                    kind = DIRECTORY if kind == b"\0" and name.endswith(b"/") else REGULAR
            else:  # links, directories and devices carry no data, whatever their size says
                next_at, stored = data_at, 0
            self.offset = at = next_at
            yield (name, kind[0], mode, size, mtime, link.partition(b"\0")[0] if link[0] else b"",
                   data_at, stored, None)

    def _slow_entry(self) -> Entry | None:
        header = self.next()
        if header is None:
            return None
        return (_bytes(header.name), header.kind[0], header.mode, header.size, header.mtime,
                _bytes(header.linkname), header.data_offset, header.stored, header.sparse)

    def _block(self, offset: int) -> bytes:
        pos = self._window(offset)
        if pos >= 0:
            return self._buffer[pos:pos + BLOCK]
        block = self._read(offset, BLOCK)
        if len(block) < BLOCK:
            if not block:
                raise EOFError
            raise ArchiveDamaged(f"the archive ends inside a header at byte {offset:,}")
        return block

    def _data(self, offset: int, size: int, what: str) -> bytes:
        if size > MAX_EXTENDED:
            raise ArchiveDamaged(f"a {what} of {size:,} bytes (more than a name or map holds)")
        data = self._read(offset, size)
        if len(data) < size:
            raise ArchiveDamaged(f"the archive ends inside a {what} at byte {offset:,}")
        return data

    def next(self) -> Header | None:
        """The next member, or None at the archive's end (zero block or end of file).

        Raises :class:`ArchiveDamaged` when the headers cannot be read on."""
        pax: dict[str, str] = {}
        longname = longlink = None
        while True:
            at = self.offset
            try:
                block = self._block(at)
            except EOFError:
                if at == 0:
                    return None
                raise ArchiveDamaged(f"the archive is cut short at byte {at:,} "
                                     "(no end-of-archive blocks)") from None
            if block.count(0) == BLOCK:
                return None
            if not checksum_ok(block):
                raise ArchiveDamaged(f"a damaged header at byte {at:,} (checksum)")
            kind = block[156:157] or REGULAR
            size = _number(block[124:136])
            if size < 0:
                raise ArchiveDamaged(f"a negative size at byte {at:,}")
            data_at = at + BLOCK
            if kind in (LONGNAME, LONGLINK, PAX, PAX_GLOBAL, SOLARIS_PAX):
                data = self._data(data_at, size, "long name" if kind != PAX else "PAX header")
                self.offset = data_at + _padded(size)
                if kind == LONGNAME:
                    longname = _text(data)
                elif kind == LONGLINK:
                    longlink = _text(data)
                elif kind in (PAX, SOLARIS_PAX):
                    pax.update(_pax_records(data))
                continue
            return self._member(block, kind, size, data_at, pax, longname, longlink)

    def _member(self, block: bytes, kind: bytes, size: int, data_at: int, pax: dict,
                longname: str | None, longlink: str | None) -> Header:
        name = _text(block[0:100])
        magic = block[257:263]
        sparse: Sparse | None = None
        real_size = size
        if magic == b"ustar\0" and block[345:346] != b"\0":
            name = _text(block[345:500]) + "/" + name
        if longname is not None:
            name = longname
        linkname = longlink if longlink is not None else _text(block[157:257])
        name = pax.get("path", name)
        linkname = pax.get("linkpath", linkname)
        if "size" in pax:
            real_size = size = _pax_int(pax, "size")
        try:
            mtime = float(pax["mtime"]) if "mtime" in pax else float(_number(block[136:148]))
        except ValueError:
            mtime = 0.0
        stored = size
        if kind == GNU_SPARSE:
            sparse, real_size, data_at = self._old_gnu_sparse(block, data_at)
            kind = REGULAR
        elif "GNU.sparse.major" in pax or "GNU.sparse.map" in pax or \
                "GNU.sparse.offset.list" in pax:
            name = pax.get("GNU.sparse.name", name)
            real_size = _pax_int(pax, "GNU.sparse.realsize", "GNU.sparse.size")
            if pax.get("GNU.sparse.major") == "1":
                sparse, map_bytes = self._sparse_1_0(data_at, size)
                data_at += map_bytes
                stored = size - map_bytes
            else:
                sparse = _sparse_0(pax)
        if kind == OLD_REGULAR:  # pre-POSIX tars: a name ending in / is a directory
            kind = DIRECTORY if name.endswith("/") else REGULAR
        if kind == CONTIGUOUS:
            kind = REGULAR
        if kind == REGULAR or kind not in _KNOWN:  # data follows (skipped as tar does)
            self.offset = data_at + _padded(stored)
        else:  # links, directories and devices carry no data, whatever their size says
            self.offset, stored = data_at, 0
        if kind == DUMPDIR:
            kind = DIRECTORY
        return Header(name, kind, _number(block[100:108]) & 0o7777, max(real_size, 0), mtime,
                      linkname, data_at, stored, sparse)

    def _old_gnu_sparse(self, block: bytes, data_at: int) -> tuple[Sparse, int, int]:
        """The map of an old GNU sparse header (and its extension blocks)."""
        regions = _regions(block[386:386 + 4 * 24], 4)
        real_size = _number(block[483:495])
        extended = block[482]
        while extended:
            ext = self._block(data_at)
            data_at += BLOCK
            if len(regions) < MAX_SPARSE_REGIONS:
                regions.extend(_regions(ext[:21 * 24], 21))
            extended = ext[504]
        return tuple(regions), real_size, data_at

    def _sparse_1_0(self, data_at: int, stored: int) -> tuple[Sparse, int]:
        """The map at the start of a PAX sparse 1.0 member's data, and its length."""
        numbers: list[int] = []
        taken, wanted, tail = 0, None, b""
        while wanted is None or len(numbers) < 1 + 2 * wanted:
            if taken >= min(stored, MAX_EXTENDED):
                raise ArchiveDamaged("a sparse map longer than its member")
            chunk = self._data(data_at + taken, BLOCK, "sparse map")
            taken += BLOCK
            lines = (tail + chunk).split(b"\n")
            tail = lines.pop()
            for line in lines:
                try:
                    numbers.append(int(line))
                except ValueError:
                    raise ArchiveDamaged("a sparse map number is not a number") from None
                if wanted is None:
                    wanted = min(numbers[0], MAX_SPARSE_REGIONS)
        pairs = numbers[1:1 + 2 * (wanted or 0)]
        return tuple(zip(pairs[0::2], pairs[1::2], strict=True)), taken


_KNOWN = (REGULAR, HARDLINK, SYMLINK, CHARDEV, BLOCKDEV, DIRECTORY, FIFO)
_PLAIN_FIELDS = struct.Struct("100s7sB16x11sB11sB6sBBc100s6s2x32x32x8x8x155s")
"""The fields of a header block :meth:`HeaderReader.entries` reads: name; the
digits of mode, size and mtime, each with the byte after them; the checksum's
six digits and its last two bytes; kind, link name, magic, prefix."""
_DATA_KINDS = frozenset((REGULAR, CONTIGUOUS, b"\0"))
_PLAIN_KINDS = _DATA_KINDS | frozenset(_KNOWN)
"""Kinds :meth:`HeaderReader.next_entry` reads itself (data follows the first three)."""


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _pax_int(pax: dict, *keys: str) -> int:
    for key in keys:
        if key in pax:
            try:
                return int(pax[key])
            except ValueError:
                raise ArchiveDamaged(f"PAX {key} is not a number") from None
    return 0


def _regions(data: bytes, count: int) -> list[tuple[int, int]]:
    out = []
    for i in range(count):
        entry = data[i * 24:(i + 1) * 24]
        if not entry.strip(b"\0"):
            break
        out.append((_number(entry[:12]), _number(entry[12:24])))
    return out


def _sparse_0(pax: dict) -> Sparse:
    if "GNU.sparse.map" in pax:
        fields = [f for f in pax["GNU.sparse.map"].split(",") if f]
    else:
        offsets = [f for f in pax.get("GNU.sparse.offset.list", "").split(",") if f]
        sizes = [f for f in pax.get("GNU.sparse.numbytes.list", "").split(",") if f]
        fields = [x for pair in zip(offsets, sizes, strict=False) for x in pair]
    try:
        numbers = [int(f) for f in fields[:2 * MAX_SPARSE_REGIONS]]
    except ValueError:
        raise ArchiveDamaged("a sparse map number is not a number") from None
    return tuple(zip(numbers[0::2], numbers[1::2], strict=False))
