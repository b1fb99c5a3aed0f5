"""Hostile snapshot tars: read safely, nothing written, nothing followed,
names escaped, secrets still refused, a cut archive says so."""

from __future__ import annotations

import io
import os
import tarfile
import tracemalloc

import pytest

from allocdir import AllocDirError, SecretReadError
from inspector.core.archive import ArchiveFS
from inspector.core.roots import Root
from inspector.core.text import printable
from inspector.core.viewing import read_first_screen


def _tar(path, entries):
    """Write ``entries`` (TarInfo, data or None) to a tar at ``path``."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return str(path)


def _info(name, kind=tarfile.REGTYPE, **fields):
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in fields.items():
        setattr(info, key, value)
    return info


def _listing(directory):
    return sorted(os.listdir(directory))


def test_names_that_climb_or_are_absolute_stay_inside(tmp_path):
    path = _tar(tmp_path / "evil.tar", [
        (_info("/etc/passwd"), b"root:x:0:0\n"),
        (_info("../../outside.txt"), b"out\n"),
        (_info("alloc/data/../../../../tmp/x"), b"x\n"),
    ])
    before = _listing(tmp_path)
    fs = Root.open(path).discover().allocs[0]
    assert [i.name for i in fs.list("")] == ["etc", "outside.txt", "tmp"]
    with fs.read_at("etc/passwd", 0) as f:
        assert f.read() == b"root:x:0:0\n"
    assert "3 names were absolute or climbed" in fs.description
    with pytest.raises(AllocDirError, match="escapes"):
        fs.read_at("../evil.tar", 0)
    assert _listing(tmp_path) == before  # nothing extracted or written
    assert not os.path.exists("/tmp/x") or open("/tmp/x", "rb").read() != b"x\n"


def test_links_and_devices_are_shown_not_followed(tmp_path):
    path = _tar(tmp_path / "links.tar", [
        (_info("web/local/passwd", tarfile.SYMTYPE, linkname="/etc/passwd"), None),
        (_info("web/local/hard", tarfile.LNKTYPE, linkname="etc/shadow"), None),
        (_info("web/local/sda", tarfile.BLKTYPE, devmajor=8, devminor=0), None),
        (_info("web/local/fifo", tarfile.FIFOTYPE), None),
    ])
    fs = ArchiveFS.open(path)
    modes = {i.name: i.file_mode[0] for i in fs.list("web/local")}
    assert modes == {"passwd": "l", "hard": "l", "sda": "b", "fifo": "p"}
    for name, what in (("passwd", "symbolic link to /etc/passwd"), ("hard", "hard link"),
                       ("sda", "block device"), ("fifo", "FIFO")):
        with pytest.raises(AllocDirError, match=what):
            fs.read_at(f"web/local/{name}", 0)
    shown = read_first_screen(fs, "web/local/fifo", 80, 10)
    assert shown.pager is None and "FIFO" in shown.message


def test_secrets_in_an_archive_are_still_refused(tmp_path):
    path = _tar(tmp_path / "secrets.tar", [
        (_info("web/secrets/token"), b"hunter2\n"),
        (_info("web/SECRETS/other"), b"hunter3\n"),
        (_info("web/private/key"), b"hunter4\n"),
    ])
    fs = ArchiveFS.open(path)
    for rel in ("web/secrets/token", "web/SECRETS/other", "web/private/key"):
        with pytest.raises(SecretReadError):
            fs.read_at(rel, 0)
        assert fs.stat(rel).content_type == "application/octet-stream"  # never sniffed
    with pytest.raises(SecretReadError):
        fs.list("web/secrets")


def test_names_with_escapes_are_kept_raw_and_shown_escaped(tmp_path):
    evil = "web/local/\x1b]0;pwned\x07\x1b[2Jname"
    path = _tar(tmp_path / "esc.tar", [(_info(evil), b"hi\n"), (_info("/\x1b[31mabs"), b"x")])
    fs = ArchiveFS.open(path)
    (info,) = fs.list("web/local")
    assert info.name == evil.rsplit("/", 1)[1]
    assert "\x1b" not in printable(info.name)
    assert "\x1b" not in fs.description
    with fs.read_at(evil, 0) as f:
        assert f.read() == b"hi\n"


def test_a_member_larger_than_the_file_says_it_is_cut(tmp_path):
    whole = _tar(tmp_path / "whole.tar", [(_info("alloc/data/big.log"), b"x" * 100_000)])
    cut = tmp_path / "cut.tar"
    cut.write_bytes(open(whole, "rb").read()[:40_000])
    fs = Root.open(cut).discover().allocs[0]
    assert "cut short" in fs.description
    info = fs.stat("alloc/data/big.log")
    assert 0 < info.size < 40_000
    with fs.read_at("alloc/data/big.log", 0) as f:
        assert f.read() == b"x" * info.size
    notes = fs.notes_of("alloc/data/big.log")
    assert notes and "of 100,000 bytes" in notes[0]
    first = read_first_screen(fs, "alloc/data/big.log", 80, 5)
    assert first.pager is not None
    change = first.pager.source.refresh(force=True)
    assert any("cut short" in n for n in change.notices)


def test_a_damaged_header_keeps_what_came_before(tmp_path):
    whole = _tar(tmp_path / "two.tar", [(_info("a.txt"), b"a\n"), (_info("b.txt"), b"b\n")])
    raw = bytearray(open(whole, "rb").read())
    second = raw.index(b"b.txt", 1024) if b"b.txt" in raw[1024:] else raw.rindex(b"b.txt")
    raw[second + 148:second + 156] = b"0000000\0"  # a wrong checksum
    bad = tmp_path / "bad.tar"
    bad.write_bytes(bytes(raw))
    fs = ArchiveFS.open(str(bad))
    assert "a.txt" in [i.name for i in fs.list("")]
    assert "damage" in fs.description and "checksum" in fs.description


def test_a_member_size_beyond_any_file_is_bounded(tmp_path):
    header = _info("huge.log", size=1 << 40).tobuf(tarfile.PAX_FORMAT)
    path = tmp_path / "huge.tar"
    path.write_bytes(header + b"y" * 1000)
    fs = ArchiveFS.open(str(path))
    assert fs.stat("huge.log").size == 1000
    with fs.read_at("huge.log", 0) as f:
        assert f.read(1 << 20) == b"y" * 1000


def test_a_hundred_thousand_members_take_compact_memory(tmp_path):
    path = tmp_path / "many.tar"
    block = bytearray()
    with open(path, "wb") as out:
        for i in range(100_000):
            info = _info(f"alloc/data/d{i % 100}/f{i}.txt", size=0)
            block += info.tobuf(tarfile.GNU_FORMAT)
            if len(block) > 1 << 20:
                out.write(block)
                block.clear()
        out.write(block + bytes(1024))
    tracemalloc.start()
    fs = ArchiveFS.open(str(path))
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(fs.index) == 100_000 + 102  # the members and the made-up directories
    assert current < 200 * 100_000, current  # not an object per member
    assert len(fs.list("alloc/data/d7")) == 1000
    with fs.read_at("alloc/data/d7/f99907.txt", 0) as f:
        assert f.read() == b""
