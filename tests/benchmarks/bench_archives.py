"""Snapshot tars read in place: opening a big archive to its first screen
beside ``tar -tf`` of it, and the tail of a big member of a ``.tar.gz``
(its index built) beside ``zcat | tail``."""

from __future__ import annotations

import os
import subprocess
import tarfile
import time

from .harness import Row

LINE = b"2024-05-01T10:15:00.123Z INFO request served path=/api/v1/items status=200 ms=12\n"


def _write_tar(path: str, members: int, member_size: int, big: int = 0) -> None:
    """A tar of ``members`` files of ``member_size`` bytes in 100 directories
    (and one member of ``big`` bytes at the end)."""
    body = (LINE * (member_size // len(LINE) + 1))[:member_size]
    pad = bytes(-member_size % 512)
    with open(path, "wb") as out:
        for i in range(members):
            info = tarfile.TarInfo(f"web/local/d{i % 100}/f{i}.log")
            info.size = member_size
            out.write(info.tobuf(tarfile.GNU_FORMAT) + body + pad)
        if big:
            info = tarfile.TarInfo("alloc/logs/web.stdout.0")
            info.size = big
            out.write(info.tobuf(tarfile.GNU_FORMAT))
            chunk = LINE * ((8 << 20) // len(LINE))
            left = big
            while left:
                piece = chunk[:left]
                out.write(piece)
                left -= len(piece)
            out.write(bytes(-big % 512))
        out.write(bytes(1024))


def open_to_first_screen(work: str, members: int, total: int) -> Row:
    """Open a snapshot tar (index and root listing, as the tree's first
    screen needs) beside ``tar -tf`` of it."""
    from inspector.core.roots import Root

    path = os.path.join(work, "snap.tar")
    _write_tar(path, members, max(512, total // members))
    started = time.perf_counter()
    fs = Root.open(path).discover().allocs[0]
    fs.list("")
    fs.list("web/local")
    ours = time.perf_counter() - started
    fs.close()
    started = time.perf_counter()
    subprocess.run(["tar", "-tf", path], stdout=subprocess.DEVNULL, check=True)
    theirs = time.perf_counter() - started
    os.unlink(path)
    return Row(f"open a {total >> 20} MiB snapshot tar, {members:,} members, first screen",
               ours, theirs, "tar -tf", goal="<= 1.0", limit=1.0)


def tar_gz_tail(work: str, big: int, total: int) -> Row:
    """The tail of a ``big`` member of a ``total`` .tar.gz, after its index
    was built, beside ``zcat | tail``."""
    from inspector.core.archive import ArchiveFS
    from inspector.core.viewing import read_first_screen

    plain = os.path.join(work, "big.tar")
    _write_tar(plain, 64, max(512, (total - big) // 64), big=big)
    subprocess.run(["gzip", "-1", "-f", plain], check=True)
    packed = plain + ".gz"
    fs = ArchiveFS.open(packed)  # builds the index
    started = time.perf_counter()
    first = read_first_screen(fs, "alloc/logs/web.stdout.0", 120, 40, follow=True)
    ours = time.perf_counter() - started
    assert first.pager is not None, first.message
    fs.close()
    started = time.perf_counter()
    subprocess.run(f"zcat {packed} | tail -c 8192 > /dev/null", shell=True, check=True)
    theirs = time.perf_counter() - started
    os.unlink(packed)
    return Row(f"tail of a {big >> 20} MiB member in a {total >> 20} MiB .tar.gz (indexed)",
               ours, theirs, "zcat | tail", goal="<= 0.05", limit=0.05)


def archive_rows(work: str, quick: bool) -> list[Row]:
    """Both rows, small with ``quick``."""
    if quick:
        return [open_to_first_screen(work, 10_000, 64 << 20),
                tar_gz_tail(work, 64 << 20, 256 << 20)]
    return [open_to_first_screen(work, 100_000, 2 << 30),
            tar_gz_tail(work, 1 << 30, 4 << 30)]
