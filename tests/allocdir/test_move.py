"""``AllocDir.move``: Nomad's TestAllocDir_Move, NotBuiltError, rename on one
file system, verified copy across file systems (a tmpfs), and failures that
lose nothing."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from allocdir import AllocDir, AllocDirError, NotBuiltError

from tests.hostile import holey_file


def _tree_digest(root: str) -> dict[str, tuple]:
    """Relative path -> (kind, mode, content hash or link target, mtime)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("l", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("d", stat.S_IMODE(st.st_mode))
            else:
                with open(p, "rb") as f:
                    h = hashlib.sha256(f.read()).hexdigest()
                out[rel] = ("f", stat.S_IMODE(st.st_mode), h, int(st.st_mtime))
    return out


def _fill(alloc: AllocDir, task: str = "web", big: int = 0):
    td = alloc.task_dirs.get(task) or alloc.new_task_dir(task)
    td.build(False, None)
    data = os.path.join(alloc.shared_dir, "data")
    with open(os.path.join(data, "bar"), "wb") as f:
        f.write(b"foo")
    os.makedirs(os.path.join(data, "nested", "deeper"))
    with open(os.path.join(data, "nested", "deeper", "n"), "wb") as f:
        f.write(b"nested" * 100)
    os.chmod(os.path.join(data, "nested", "deeper", "n"), 0o600)
    os.utime(os.path.join(data, "nested", "deeper", "n"), (1_400_000_000, 1_400_000_000))
    os.symlink("bar", os.path.join(data, "link"))
    if big:
        with open(os.path.join(data, "big"), "wb") as f:
            f.write(os.urandom(big))
    with open(os.path.join(td.local_dir, "lol"), "wb") as f:
        f.write(b"bar")
    os.makedirs(os.path.join(td.local_dir, "sub"))
    with open(os.path.join(td.local_dir, "sub", "s"), "wb") as f:
        f.write(b"s")
    return td


def test_move_nomad(client_root):
    """Nomad TestAllocDir_Move."""
    d1 = AllocDir(client_root / "prev")
    d1.build()
    d2 = AllocDir(client_root / "next")
    d2.build()
    try:
        td1 = d1.new_task_dir("web")
        td1.build(False, None)
        # second task dir created but not built, as the alloc runner does
        d2.new_task_dir("web")
        with open(os.path.join(d1.shared_dir, "data", "bar"), "wb") as f:
            f.write(b"foo")
        with open(os.path.join(td1.local_dir, "lol"), "wb") as f:
            f.write(b"bar")
        d2.move(d1, ["web"])
        assert open(os.path.join(d2.shared_dir, "data", "bar"), "rb").read() == b"foo"
        assert open(os.path.join(d2.task_dirs["web"].local_dir, "lol"), "rb").read() == b"bar"
    finally:
        d1.destroy()
        d2.destroy()


def test_move_same_fs_is_a_rename(client_root):
    src = AllocDir(client_root / "src")
    src.build()
    _fill(src)
    before_data = _tree_digest(os.path.join(src.shared_dir, "data"))
    before_local = _tree_digest(src.task_dirs["web"].local_dir)
    ino = os.stat(os.path.join(src.shared_dir, "data", "bar")).st_ino
    dst = AllocDir(client_root / "dst")
    dst.build()
    dst.move(src, ["web"])
    moved = os.path.join(dst.shared_dir, "data", "bar")
    assert os.stat(moved).st_ino == ino
    assert _tree_digest(os.path.join(dst.shared_dir, "data")) == before_data
    assert _tree_digest(os.path.join(dst.alloc_dir, "web", "local")) == before_local
    assert not os.path.exists(os.path.join(src.shared_dir, "data", "bar"))
    assert not os.path.exists(os.path.join(src.task_dirs["web"].local_dir, "lol"))


def test_move_into_built_task_replaces_empty_local(client_root):
    src = AllocDir(client_root / "src")
    src.build()
    _fill(src)
    dst = AllocDir(client_root / "dst")
    dst.build()
    dst.new_task_dir("web").build(False, None)  # empty local/ to be replaced
    dst.move(src, ["web"])
    assert open(os.path.join(dst.task_dirs["web"].local_dir, "lol"), "rb").read() == b"bar"


def test_move_requires_built_target(client_root):
    src = AllocDir(client_root / "src")
    src.build()
    _fill(src)
    before = _tree_digest(src.alloc_dir)
    dst = AllocDir(client_root / "dst")
    with pytest.raises(NotBuiltError):
        dst.move(src, ["web"])
    assert _tree_digest(src.alloc_dir) == before


def test_move_skips_missing_sources(client_root):
    src = AllocDir(client_root / "src")
    src.build()
    dst = AllocDir(client_root / "dst")
    dst.build()
    dst.move(src, ["never-ran"])  # no local/ in src: nothing to do
    assert not os.path.exists(os.path.join(dst.alloc_dir, "never-ran", "local", "x"))


def test_move_onto_non_empty_target_loses_nothing(client_root):
    src = AllocDir(client_root / "src")
    src.build()
    _fill(src)
    src_before = _tree_digest(src.alloc_dir)
    dst = AllocDir(client_root / "dst")
    dst.build()
    td = dst.new_task_dir("web")
    td.build(False, None)
    with open(os.path.join(td.local_dir, "existing"), "wb") as f:
        f.write(b"dst's own")
    with pytest.raises((AllocDirError, OSError)) as info:
        dst.move(src, ["web"])
    assert str(info.value)
    # dst's own file is intact; every source file is in src or in dst.
    assert open(os.path.join(td.local_dir, "existing"), "rb").read() == b"dst's own"
    _assert_nothing_lost(src_before, src, dst)


def _assert_nothing_lost(src_before: dict, src: AllocDir, dst: AllocDir) -> None:
    now_src = _tree_digest(src.alloc_dir)
    now_dst = _tree_digest(dst.alloc_dir)
    for rel, entry in src_before.items():
        if entry[0] == "d":
            continue
        if now_src.get(rel) == entry or now_dst.get(rel) == entry:
            continue
        # local/ moves from <task>/local in src to <task>/local in dst: same rel path.
        pytest.fail(f"{rel} lost: src has {now_src.get(rel)}, dst has {now_dst.get(rel)}")


# ---------------------------------------------------------------- across file systems


@pytest.fixture
def other_fs(tmp_path, mounts):
    """A tmpfs: another file system, where rename() fails with EXDEV."""
    target = tmp_path / "otherfs"
    mounts.tmpfs(target, size="64m")
    yield target
    mounts.cleanup_under(target)


@pytest.mark.root
@pytest.mark.parametrize("direction", ["disk_to_tmpfs", "tmpfs_to_disk"])
def test_move_across_file_systems(client_root, other_fs, direction):
    disk, tmpfs = client_root, other_fs
    src_root, dst_root = (disk, tmpfs) if direction == "disk_to_tmpfs" else (tmpfs, disk)
    src = AllocDir(src_root / "src")
    src.build()
    _fill(src, big=2 << 20)
    before_data = _tree_digest(os.path.join(src.shared_dir, "data"))
    before_local = _tree_digest(src.task_dirs["web"].local_dir)
    dst = AllocDir(dst_root / "dst")
    dst.build()
    assert os.stat(src.alloc_dir).st_dev != os.stat(dst.alloc_dir).st_dev
    dst.move(src, ["web"])
    assert _tree_digest(os.path.join(dst.shared_dir, "data")) == before_data
    assert _tree_digest(os.path.join(dst.alloc_dir, "web", "local")) == before_local
    # verified, then the source is gone
    assert not os.path.exists(os.path.join(src.shared_dir, "data", "bar"))
    assert not os.path.exists(os.path.join(src.alloc_dir, "web", "local", "lol"))


@pytest.mark.root
def test_move_across_file_systems_out_of_space_loses_nothing(client_root, tmp_path, mounts):
    small = tmp_path / "smallfs"
    mounts.tmpfs(small, size="1m")
    src = AllocDir(client_root / "src")
    src.build()
    _fill(src, big=3 << 20)  # does not fit in 1 MiB
    src_before = _tree_digest(src.alloc_dir)
    dst = AllocDir(small / "dst")
    dst.build()
    with pytest.raises((AllocDirError, OSError)) as info:
        dst.move(src, ["web"])
    msg = str(info.value)
    assert msg
    assert _tree_digest(src.alloc_dir) == src_before or _nothing_lost(src_before, src, dst)


def _nothing_lost(before, src, dst) -> bool:
    _assert_nothing_lost(before, src, dst)
    return True


@pytest.mark.root
def test_move_across_file_systems_second_step_fails_loses_nothing(client_root, other_fs):
    """Data moves fine, then the task's local/ cannot be placed: data stays
    moved, local/ stays in the source, nothing is lost or half-copied."""
    src = AllocDir(other_fs / "src")
    src.build()
    _fill(src)
    src_before = _tree_digest(src.alloc_dir)
    dst = AllocDir(client_root / "dst")
    dst.build()
    td = dst.new_task_dir("web")
    td.build(False, None)
    with open(os.path.join(td.local_dir, "existing"), "wb") as f:
        f.write(b"keep")
    with pytest.raises((AllocDirError, OSError)):
        dst.move(src, ["web"])
    _assert_nothing_lost(src_before, src, dst)
    assert open(os.path.join(td.local_dir, "existing"), "rb").read() == b"keep"


# ---------------------------------------------------------------- room and holes (issue 16 item 10)


@pytest.mark.root
def test_move_across_file_systems_keeps_holes(client_root, tmp_path, mounts):
    """A 256 MiB file with two small data regions takes a few blocks, and
    so does its copy on a 16 MiB file system (written in full it would not
    fit); its content is the same, holes read as zeros."""
    small = tmp_path / "smallfs"
    mounts.tmpfs(small, size="16m")
    src = AllocDir(client_root / "src")
    src.build()
    td = _fill(src)
    pieces = {4096: b"start", (200 << 20) + 7: b"late"}
    holey_file(os.path.join(td.local_dir, "sparse.db"), 256 << 20, pieces)
    holey_file(os.path.join(td.local_dir, "all-hole"), 64 << 20, {})
    before = _tree_digest(td.local_dir)
    dst = AllocDir(small / "dst")
    dst.build()
    dst.move(src, ["web"])
    local = os.path.join(dst.alloc_dir, "web", "local")
    assert _tree_digest(local) == before
    for name, size in (("sparse.db", 256 << 20), ("all-hole", 64 << 20)):
        st = os.stat(os.path.join(local, name))
        assert st.st_size == size and st.st_blocks * 512 <= 64 << 10, name
    assert not os.path.exists(td.local_dir)


@pytest.mark.root
def test_move_across_file_systems_without_room_is_refused_before_anything_moves(
        client_root, tmp_path, mounts):
    """The allocated blocks of everything to copy against the destination's
    free space, its reserve left: refused, named, before alloc/data moves."""
    small = tmp_path / "smallfs"
    mounts.tmpfs(small, size="4m")
    src = AllocDir(client_root / "src")
    src.build()
    td = _fill(src)
    with open(os.path.join(td.local_dir, "big"), "wb") as f:
        f.write(os.urandom(6 << 20))
    before = _tree_digest(src.alloc_dir)
    dst = AllocDir(small / "dst")
    dst.build()
    used = os.statvfs(small)
    with pytest.raises(AllocDirError) as info:
        dst.move(src, ["web"])
    message = str(info.value)
    assert message.startswith(f"the copy of {src.alloc_dir}/alloc/data, {src.alloc_dir}/web/local "
                              "across file systems needs 6.")
    assert message.endswith("of it kept free; nothing was moved")
    assert f"free on {dst.alloc_dir}" in message
    assert _tree_digest(src.alloc_dir) == before
    assert os.listdir(os.path.join(dst.shared_dir, "data")) == []
    assert os.statvfs(small).f_bavail == used.f_bavail  # not a byte written


@pytest.mark.root
def test_move_across_file_systems_stops_before_a_file_that_grew(client_root, tmp_path, mounts,
                                                                monkeypatch):
    """The check before the move is an estimate: a file that grows after it
    is refused before its copy starts (the destination keeps its reserve,
    never ENOSPC), and the source is untouched."""
    from allocdir import move as move_module
    from allocdir.room import NoRoomError

    small = tmp_path / "smallfs"
    mounts.tmpfs(small, size="4m")
    src = AllocDir(client_root / "src")
    src.build()
    td = _fill(src)
    grown = os.path.join(td.local_dir, "grown")
    real = move_module.check_sources

    def then_grow(*args):
        real(*args)
        with open(grown, "wb") as f:  # the task writes right after the check
            f.write(os.urandom(6 << 20))

    monkeypatch.setattr(move_module, "check_sources", then_grow)
    monkeypatch.setattr("allocdir.alloc_dir.check_sources", then_grow)
    dst = AllocDir(small / "dst")
    dst.build()
    with pytest.raises(AllocDirError) as info:
        dst.move(src, ["web"])
    assert isinstance(info.value.__cause__, NoRoomError)
    assert f"{src.alloc_dir}/web/local/grown needs 6.0 MiB, more than there is room" in str(
        info.value)
    assert "the source" in str(info.value) and "is untouched" in str(info.value)
    assert os.path.getsize(grown) == 6 << 20
    assert not os.path.exists(os.path.join(dst.alloc_dir, "web", "local"))
    assert not [n for n in os.listdir(dst.alloc_dir) if n.startswith(".allocdir-")]
