"""Reading a tar's headers fast (plain members served from a read-ahead
buffer, parsed in one go) gives what tarfile reads, member for member, and
still stops a damaged or cut archive with its reason."""

from __future__ import annotations

import gzip
import io
import os
import tarfile

import pytest

from inspector.core.archive import ArchiveFile, TarIndex, headers
from inspector.core.archive.headers import HeaderReader


def _write(path, members, fmt=tarfile.GNU_FORMAT) -> str:
    """A tar of ``(name, size)`` regular files (``size`` None: a directory)."""
    with tarfile.open(path, "w", format=fmt) as tar:
        for name, size in members:
            info = tarfile.TarInfo(name)
            info.mtime, info.mode = 1_700_000_000 + len(name), 0o640
            if size is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = size
                tar.addfile(info, io.BytesIO(bytes([65 + size % 26]) * size))
    return str(path)


# Sizes that put headers on, across and just after the edges of small buffers.
MEMBERS = [("top", None)] + [(f"top/d{i % 3}/f{i}.log", size) for i, size in enumerate(
    (0, 1, 511, 512, 513, 1023, 1024, 1025, 300, 0, 0, 2048, 700, 5000, 512, 1, 4097))]


def _expected(path):
    with tarfile.open(path) as tar:
        return [(m.name.rstrip("/"), m.size if m.isfile() else 0, m.offset_data, m.mtime,
                 m.mode) for m in tar.getmembers()]


def _indexed(path):
    archive = ArchiveFile(path)
    try:
        index = TarIndex.scan(archive.read, fd=archive.plain_fd)
    finally:
        archive.close()
    named = [i for i in range(len(index)) if index.kinds[i] != ord("I")]
    return index, [(index.path_of(i), index.sizes[i], index.offsets[i], index.mtimes[i],
                    index.modes[i]) for i in named]


@pytest.mark.parametrize("ahead", [512, 1024, 1300, 4096, 1 << 20])
def test_headers_across_buffer_edges_read_as_tarfile_reads_them(tmp_path, monkeypatch, ahead):
    # 1300 is not a multiple of a block: buffers end inside headers;
    # 512 and 1024 end exactly where a member's data ends.
    monkeypatch.setattr(headers, "READ_AHEAD", ahead)
    monkeypatch.setattr(headers, "SMALL_STRIDE", 1 << 20)  # always read ahead
    path = _write(tmp_path / "edges.tar", MEMBERS)
    index, seen = _indexed(path)
    assert seen == _expected(path)
    assert index.complete and not index.damage


def test_a_tar_gz_reads_the_same_through_small_buffers(tmp_path, monkeypatch):
    monkeypatch.setattr(headers, "READ_AHEAD", 1300)
    monkeypatch.setattr(headers, "SMALL_STRIDE", 1 << 20)
    path = _write(tmp_path / "edges.tar", MEMBERS)
    with open(path, "rb") as src, gzip.open(path + ".gz", "wb") as dst:
        dst.write(src.read())
    assert _indexed(path + ".gz")[1] == _expected(path)


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_the_fast_path_and_the_full_reader_agree(tmp_path, fmt):
    long = "top/" + "x" * 120 + "/deep/name.log"  # a long name: GNU L, PAX path, or a prefix
    members = MEMBERS + [(long, 10), ("top/é-utf8.log", 3)]
    path = _write(tmp_path / "mixed.tar", members, fmt)
    with open(path, "rb") as f:
        data = f.read()

    def read(offset, length):
        return data[offset:offset + length]

    fast = list(HeaderReader(read).entries())
    slow_reader, slow = HeaderReader(read), []
    while (entry := slow_reader._slow_entry()) is not None:
        slow.append(entry)
    assert fast == slow
    assert [e[0].decode().rstrip("/") for e in fast] == [n for n, _ in members]


def _cut(path, at) -> str:
    with open(path, "r+b") as f:
        f.truncate(at)
    return path


@pytest.mark.parametrize("ahead", [1300, 1 << 20])
def test_an_archive_cut_inside_a_header_in_the_buffer_says_so(tmp_path, monkeypatch, ahead):
    monkeypatch.setattr(headers, "READ_AHEAD", ahead)
    monkeypatch.setattr(headers, "SMALL_STRIDE", 1 << 20)
    path = _write(tmp_path / "cut.tar", MEMBERS)
    expected = _expected(path)
    header_at = expected[6][2] - 512  # the 7th member's header
    index, seen = _indexed(_cut(path, header_at + 100))
    assert seen == expected[:6]
    assert f"ends inside a header at byte {header_at:,}" in index.damage
    assert not index.complete


def test_an_archive_cut_at_a_member_end_says_it_has_no_end_blocks(tmp_path):
    path = _write(tmp_path / "cut.tar", MEMBERS)
    expected = _expected(path)
    header_at = expected[6][2] - 512
    index, seen = _indexed(_cut(path, header_at))
    assert seen == expected[:6]
    assert f"cut short at byte {header_at:,}" in index.damage


def test_a_bad_checksum_in_the_buffer_ends_the_scan_with_its_reason(tmp_path):
    path = _write(tmp_path / "bad.tar", MEMBERS)
    expected = _expected(path)
    header_at = expected[4][2] - 512
    with open(path, "r+b") as f:
        f.seek(header_at + 10)
        f.write(b"Z")  # a byte of the name changed, the checksum not
    index, seen = _indexed(path)
    assert seen == expected[:4]
    assert f"damaged header at byte {header_at:,} (checksum)" in index.damage


def test_a_signed_checksum_and_a_base_256_size_are_still_read(tmp_path):
    info = tarfile.TarInfo("top/\xff\xfe-name")
    info.size = 3
    block = bytearray(info.tobuf(tarfile.GNU_FORMAT, "latin-1"))
    block[124:136] = b"\x80" + (3).to_bytes(11, "big")  # GNU base-256 size
    block[148:156] = b" " * 8
    signed = sum(b - 256 if b > 127 else b for b in block)
    block[148:156] = b"%06o\0 " % signed
    path = tmp_path / "signed.tar"
    path.write_bytes(bytes(block) + b"abc".ljust(512, b"\0") + bytes(1024))
    index, seen = _indexed(str(path))
    assert index.complete, index.damage
    assert [(p.encode("utf-8", "surrogateescape"), s) for p, s, *_ in seen] == [
        (b"top/\xff\xfe-name", 3)]


@pytest.mark.parametrize("field, size", [
    (b"5\0" + b"7" * 10, 5),  # the number ends at its NUL, whatever follows
    (b"000000000010", 8),  # twelve digits, no NUL: all twelve count
])
def test_numbers_not_written_as_usual_read_as_tar_reads_them(tmp_path, field, size):
    path = _write(tmp_path / "odd.tar", [("a.log", size)])
    with open(path, "r+b") as f:
        block = bytearray(f.read(512))
        block[124:136] = field
        block[148:156] = b" " * 8
        block[148:156] = b"%06o\0 " % sum(block)
        f.seek(0)
        f.write(block)
    index, seen = _indexed(path)
    assert index.complete and [s for _, s, *_ in seen] == [size]


def test_the_index_stays_compact_without_a_header_object_per_member(tmp_path):
    path = tmp_path / "many.tar"
    with open(path, "wb") as out:
        for i in range(3000):
            info = tarfile.TarInfo(f"web/local/d{i % 10}/f{i}.log")
            out.write(info.tobuf(tarfile.GNU_FORMAT))
        out.write(bytes(1024))
    index, seen = _indexed(str(path))
    assert len(seen) == 3000 and index.complete
    assert index.nbytes() < 100 * len(index)
    assert os.path.getsize(path) > index.nbytes()


def _as_old_tar(path) -> None:
    """Rewrite every header of ``path`` as a pre-POSIX tar does: kind NUL for
    files and directories alike (a directory's name ends with a slash)."""
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        for member in tarfile.open(path).getmembers():
            at = member.offset
            block = data[at:at + 512]
            block[156:157] = b"\0"
            block[257:265] = bytes(8)  # no ustar magic
            block[148:156] = b" " * 8
            block[148:156] = b"%06o\0 " % sum(block)
            data[at:at + 512] = block
        f.seek(0)
        f.write(data)


@pytest.mark.parametrize("ahead", [512, 1 << 20])
def test_an_old_tar_reads_its_files_as_files_and_its_dirs_as_dirs(tmp_path, monkeypatch, ahead):
    monkeypatch.setattr(headers, "READ_AHEAD", ahead)
    path = _write(tmp_path / "v7.tar", [("top/", None), ("top/app.log", 5)],
                  tarfile.USTAR_FORMAT)
    _as_old_tar(path)
    index, seen = _indexed(path)
    assert index.complete, index.damage
    kinds = {index.path_of(i): bytes([index.kinds[i]]) for i in range(len(index))}
    assert kinds["top/app.log"] == headers.REGULAR
    assert kinds["top"] == headers.DIRECTORY
    assert ("top/app.log", 5) in [(p, s) for p, s, *_ in seen]
