"""A snapshot tar (and a .tar.gz) opened as a read-only allocation, in core."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import shutil
import subprocess

import pytest

from allocdir import AllocDir, AllocDirError, AllocFileInfo
from allocdir.testing import temp_alloc_dir
from inspector.core.archive import ArchiveFS, ArchiveStatic
from inspector.core.roots import ARCHIVE, Root, RootError, check_openable
from inspector.core.session.jobs import InlineExecutor
from inspector.core.tree import Redraw, TreeModel
from inspector.core.viewing import read_first_screen

LOG = b"".join(b"2024-05-01T10:%02d:00Z line %d\n" % (i % 60, i) for i in range(5000))


def _snapshot(tmp_path) -> str:
    """A snapshot of an allocation with a text log in local/, data and a sparse file."""
    with temp_alloc_dir(alloc_id="5fc98185-17ff-26bc-a802-0c74fa471c99") as alloc:
        task = alloc.new_task_dir("web")
        task.build()
        with open(os.path.join(task.local_dir, "app.log"), "wb") as f:
            f.write(LOG)
        with open(os.path.join(alloc.shared_dir, "data", "state.json"), "w") as f:
            f.write('{"ok": true}\n')
        with open(os.path.join(task.local_dir, "holes"), "wb") as f:
            f.truncate(1 << 32)
            f.seek(3 << 30)
            f.write(b"MIDDLE")
        out = tmp_path / f"{alloc.alloc_id}.tar"
        with open(out, "wb") as w:
            alloc.snapshot(w)
    return str(out)


def test_a_snapshot_opens_as_one_allocation(tmp_path):
    path = _snapshot(tmp_path)
    root = Root.open(path)
    assert root.source == ARCHIVE and root.single and root.read_only
    assert "snapshot tar" in root.description
    found = root.discover()
    (fs,) = found.allocs
    assert fs.alloc_id == "5fc98185-17ff-26bc-a802-0c74fa471c99"
    assert sorted(fs.task_dirs) == ["web"]
    assert [i.name for i in fs.list("")] == ["alloc", "web"]
    assert [i.name for i in fs.list("web/local")] == ["app.log", "holes"]
    info = fs.stat("web/local/app.log")
    assert isinstance(info, AllocFileInfo) and info.size == len(LOG)
    assert info.content_type.startswith("text/plain")
    assert fs.stat("alloc/data/state.json").content_type == "application/json"


def test_the_pager_reads_members_by_offset(tmp_path):
    fs = Root.open(_snapshot(tmp_path)).discover().allocs[0]
    first = read_first_screen(fs, "web/local/app.log", 80, 10)
    assert first.pager is not None, first.message
    assert first.rows[0].text.plain.startswith("2024-05-01T10:00:00Z line 0")
    tail = read_first_screen(fs, "web/local/app.log", 80, 10, follow=True)
    assert "line 4999" in tail.rows[-1].text.plain
    with fs.read_at("web/local/app.log", len(LOG) - 10) as f:
        assert f.read() == LOG[-10:]


def test_holes_of_a_sparse_member_read_as_zeros(tmp_path):
    fs = Root.open(_snapshot(tmp_path)).discover().allocs[0]
    assert fs.stat("web/local/holes").size == 1 << 32
    with fs.read_at("web/local/holes", (3 << 30) - 4) as f:
        assert f.read(14) == b"\0\0\0\0MIDDLE\0\0\0\0"
    with fs.read_at("web/local/holes", 12345) as f:
        assert f.read(100) == bytes(100)


def test_a_tar_gz_reads_at_random_after_its_index(tmp_path):
    plain = _snapshot(tmp_path)
    packed = plain + ".gz"
    with open(plain, "rb") as src, gzip.open(packed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    seen = []
    fs = ArchiveFS.open(packed, progress=lambda done, total: seen.append((done, total)))
    assert "tar.gz" in fs.description
    with fs.read_at("web/local/app.log", len(LOG) // 2) as f:
        assert f.read(50) == LOG[len(LOG) // 2:len(LOG) // 2 + 50]
    with fs.read_at("web/local/holes", 3 << 30) as f:
        assert f.read(6) == b"MIDDLE"


@pytest.mark.parametrize("compress, name", [
    (lzma.compress, "xz"), (bz2.compress, "bzip2"),
    (lambda data: b"\x28\xb5\x2f\xfd" + data, "zstd")])
def test_other_compressions_are_refused_by_name(tmp_path, compress, name):
    raw = open(_snapshot(tmp_path), "rb").read()
    path = tmp_path / "snap.tar.other"
    path.write_bytes(compress(raw[:1 << 16]))
    with pytest.raises(RootError, match=f"compressed with {name}"):
        Root.open(path)


def test_a_file_that_is_not_a_tar_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n" * 200)
    with pytest.raises(RootError, match="not a directory nor a snapshot tar"):
        Root.open(path)


def test_an_archive_does_not_change_and_refuses_actions(tmp_path):
    fs = Root.open(_snapshot(tmp_path)).discover().allocs[0]
    with pytest.raises(ArchiveStatic, match="does not change"):
        fs.change_events("web/local/app.log", 0)
    assert fs.block_until_exists("web/local/app.log").result(1) is None
    with pytest.raises(ArchiveStatic, match="does not change"):
        fs.block_until_exists("web/local/later.log").result(1)
    for verb in ("snapshot", "move", "destroy"):
        with pytest.raises(AllocDirError, match="read-only"):
            getattr(fs, verb)(None)


def test_open_locates_a_member_and_checks_it(tmp_path):
    root = Root.open(_snapshot(tmp_path))
    fs, rel = root.locate("web/local/app.log")
    check_openable(fs, rel)
    with pytest.raises(RootError, match="directory"):
        check_openable(fs, "web/local")
    assert root.discover().allocs[0] is fs  # indexed once


def test_gnu_tar_archives_read_the_same(tmp_path):
    src = tmp_path / "src"
    (src / "alloc" / "data").mkdir(parents=True)
    (src / "alloc" / "data" / "a.txt").write_bytes(b"alpha\n")
    with open(src / "alloc" / "data" / "sparse", "wb") as f:
        f.truncate(1 << 24)
        f.seek(1 << 20)
        f.write(b"DATA")
    for fmt, extra in (("gnu", []), ("oldgnu", []), ("posix", ["--sparse-version=0.1"]),
                       ("posix", ["--sparse-version=1.0"])):
        out = tmp_path / f"{fmt}{''.join(extra)}.tar"
        subprocess.run(["tar", f"--format={fmt}", "-S", *extra, "-cf", str(out), "-C", str(src),
                        "."], check=True)
        fs = ArchiveFS.open(str(out))
        with fs.read_at("alloc/data/sparse", (1 << 20) - 1) as f:
            assert f.read(6) == b"\0DATA\0", fmt
        with fs.read_at("alloc/data/a.txt", 0) as f:
            assert f.read() == b"alpha\n"


def test_a_real_alloc_dir_is_still_an_alloc_dir(tmp_path):
    alloc = AllocDir(tmp_path / "5fc98185-17ff-26bc-a802-0c74fa471c99")
    alloc.build()
    assert Root.open(alloc.alloc_dir).source == ""



def test_the_tree_says_how_far_a_tar_gz_index_is_read_before_its_rows(tmp_path):
    plain = _snapshot(tmp_path)
    packed = plain + ".gz"
    with open(plain, "rb") as src, gzip.open(packed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    said = []

    def listener(event):
        if isinstance(event, Redraw) and not model.discovered:
            said.append(model.note_of(model.root))

    model = TreeModel(Root.open(packed), InlineExecutor(), listener=listener, watch=False)
    assert model.note_of(model.root) == ("loading…", "note")
    model.start()
    try:
        assert said and said[-1][0].startswith("reading the archive's index… 100% (")
        assert all(text.startswith("reading the archive's index… ") for text, _ in said)
        assert model.discovered and [a.alloc_id for a in model.allocs] == [
            "5fc98185-17ff-26bc-a802-0c74fa471c99"]
    finally:
        model.close()
