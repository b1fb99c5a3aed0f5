"""``AllocDir``: build, discover, copy, new_task_dir, list and stat."""

from __future__ import annotations

import os
import stat
import time
from datetime import datetime, timezone

import pytest

from allocdir import (
    SHARED_ALLOC_DIRS,
    AllocDir,
    AllocFileInfo,
    TaskDir,
)

NOBODY_UID = NOBODY_GID = 65534


# ---------------------------------------------------------------- Nomad: BuildAlloc


def test_build_alloc_builds_only_the_alloc_dir(client_root):
    """Nomad TestAllocDir_BuildAlloc: Build creates no task dirs."""
    d = AllocDir(client_root / "test")
    d.new_task_dir("web")
    d.new_task_dir("web2")
    d.build()
    try:
        assert os.path.isdir(d.alloc_dir)
        for name in ("web", "web2"):
            td = d.task_dirs[name]
            assert not os.path.exists(td.dir), f"build() created task dir {td.dir}"
            assert not os.path.exists(td.secrets_dir), f"build() created {td.secrets_dir}"
    finally:
        d.destroy()


def test_build_creates_layout_with_modes(alloc, file_mode):
    assert file_mode(alloc.alloc_dir) == 0o755
    assert alloc.shared_dir == os.path.join(alloc.alloc_dir, "alloc")
    assert file_mode(alloc.shared_dir) == 0o777
    for sub in SHARED_ALLOC_DIRS:
        assert os.path.isdir(os.path.join(alloc.shared_dir, sub))
    assert alloc.is_built


@pytest.mark.root
def test_build_as_root_chowns_shared_dirs_to_nobody(alloc):
    for path in [alloc.shared_dir] + [os.path.join(alloc.shared_dir, s) for s in SHARED_ALLOC_DIRS]:
        st = os.stat(path)
        assert (st.st_uid, st.st_gid) == (NOBODY_UID, NOBODY_GID), path


def test_build_is_idempotent_and_keeps_content(alloc):
    f = os.path.join(alloc.shared_dir, "data", "keep")
    with open(f, "w") as fh:
        fh.write("x")
    alloc.build()
    assert open(f).read() == "x"


def test_is_built_lifecycle(client_root):
    d = AllocDir(client_root / "a1")
    assert not d.is_built
    d.build()
    assert d.is_built
    d.destroy()
    assert not d.is_built
    assert not os.path.exists(d.alloc_dir)


# ---------------------------------------------------------------- attributes


def test_attributes_and_alloc_id(client_root):
    d = AllocDir(client_root / "c0ffee")
    assert d.alloc_dir == str(client_root / "c0ffee")
    assert d.alloc_id == "c0ffee"
    assert d.shared_dir == os.path.join(d.alloc_dir, "alloc")
    assert d.task_dirs == {}


def test_relative_path_becomes_absolute(client_root, monkeypatch):
    monkeypatch.chdir(client_root)
    d = AllocDir("rel-alloc")
    assert os.path.isabs(d.alloc_dir)
    assert d.alloc_dir == os.path.join(str(client_root), "rel-alloc")
    assert d.alloc_id == "rel-alloc"


def test_new_task_dir_records_paths_without_touching_disk(alloc):
    td = alloc.new_task_dir("web")
    assert isinstance(td, TaskDir)
    assert alloc.task_dirs["web"] is td
    a = alloc.alloc_dir
    assert td.alloc_dir == a
    assert td.dir == os.path.join(a, "web")
    assert td.shared_alloc_dir == os.path.join(a, "alloc")
    assert td.shared_task_dir == os.path.join(a, "web", "alloc")
    assert td.local_dir == os.path.join(a, "web", "local")
    assert td.log_dir == os.path.join(a, "alloc", "logs")
    assert td.secrets_dir == os.path.join(a, "web", "secrets")
    assert not os.path.exists(td.dir)


def test_copy_is_deep_for_task_dirs(alloc):
    alloc.new_task_dir("web")
    c = alloc.copy()
    assert c is not alloc
    assert isinstance(c, AllocDir)
    assert c.alloc_dir == alloc.alloc_dir and c.shared_dir == alloc.shared_dir
    assert c.alloc_id == alloc.alloc_id
    assert set(c.task_dirs) == {"web"}
    assert c.task_dirs is not alloc.task_dirs
    assert c.task_dirs["web"] is not alloc.task_dirs["web"]
    assert c.task_dirs["web"].local_dir == alloc.task_dirs["web"].local_dir
    c.new_task_dir("other")
    assert "other" not in alloc.task_dirs
    assert c.is_built == alloc.is_built


def test_task_dir_copy(alloc):
    td = alloc.new_task_dir("web")
    c = td.copy()
    assert c is not td and isinstance(c, TaskDir)
    for attr in ("alloc_dir", "dir", "shared_alloc_dir", "shared_task_dir", "local_dir",
                 "log_dir", "secrets_dir"):
        assert getattr(c, attr) == getattr(td, attr)


# ---------------------------------------------------------------- discover


def test_discover_finds_every_task_dir(alloc):
    for name in ("web", "sidecar", "db"):
        alloc.new_task_dir(name).build(False, None)
    found = AllocDir.discover(alloc.alloc_dir)
    assert found.alloc_dir == alloc.alloc_dir
    assert found.alloc_id == alloc.alloc_id
    assert found.is_built
    assert set(found.task_dirs) == {"web", "sidecar", "db"}
    for name, td in found.task_dirs.items():
        assert td.local_dir == alloc.task_dirs[name].local_dir
        assert td.secrets_dir == alloc.task_dirs[name].secrets_dir


def test_discover_of_alloc_without_tasks(alloc):
    found = AllocDir.discover(alloc.alloc_dir)
    assert found.task_dirs == {}
    assert found.is_built


def test_discover_missing_dir_raises_file_not_found(client_root):
    with pytest.raises(FileNotFoundError):
        AllocDir.discover(client_root / "does-not-exist")


# ---------------------------------------------------------------- list


def _populate(alloc):
    data = os.path.join(alloc.shared_dir, "data")
    with open(os.path.join(data, "b.txt"), "w") as f:
        f.write("hello\n")
    with open(os.path.join(data, "a.bin"), "wb") as f:
        f.write(b"\x00\x01\x02" * 100)
    os.mkdir(os.path.join(data, "c-dir"))
    os.symlink("b.txt", os.path.join(data, "d-link"))
    os.mkfifo(os.path.join(data, "e.fifo"))
    return data


@pytest.mark.parametrize("root", ["", ".", "/"])
def test_list_root_aliases(alloc_with_task, root):
    names = [i.name for i in alloc_with_task.list(root)]
    assert names == sorted(["alloc", "web"])


def test_list_is_sorted_lstat_view(alloc, blocking, unix_socket):
    data = _populate(alloc)
    blocking.watch_fifo(os.path.join(data, "e.fifo"))
    unix_socket(os.path.join(data, "f.sock"))
    infos = blocking.run(alloc.list, "alloc/data")
    assert [i.name for i in infos] == ["a.bin", "b.txt", "c-dir", "d-link", "e.fifo", "f.sock"]
    by = {i.name: i for i in infos}
    assert all(isinstance(i, AllocFileInfo) for i in infos)
    assert by["a.bin"].size == 300 and not by["a.bin"].is_dir
    assert by["a.bin"].file_mode == stat.filemode(os.lstat(os.path.join(data, "a.bin")).st_mode)
    assert by["c-dir"].is_dir and by["c-dir"].file_mode.startswith("d")
    assert by["d-link"].file_mode.startswith("l") and not by["d-link"].is_dir
    assert by["d-link"].size == len("b.txt")
    assert by["e.fifo"].file_mode.startswith("p")
    assert by["f.sock"].file_mode.startswith("s")


def test_list_mod_time_is_aware_and_right(alloc):
    p = os.path.join(alloc.shared_dir, "data", "f")
    with open(p, "w") as f:
        f.write("x")
    os.utime(p, (1_600_000_000, 1_600_000_000))
    (info,) = alloc.list("alloc/data")
    assert info.mod_time.tzinfo is not None
    assert info.mod_time == datetime.fromtimestamp(1_600_000_000, timezone.utc)


def test_list_leading_slash_and_trailing_slash(alloc):
    _populate(alloc)
    plain = alloc.list("alloc/data")
    assert alloc.list("/alloc/data") == plain
    assert alloc.list("alloc/data/") == plain
    assert alloc.list("alloc/./data") == plain


def test_list_missing_raises_file_not_found(alloc):
    with pytest.raises(FileNotFoundError):
        alloc.list("alloc/nope")


def test_list_of_built_task_dir(alloc_with_task):
    names = [i.name for i in alloc_with_task.list("web")]
    assert "local" in names and "secrets" in names and "tmp" in names
    assert "alloc" not in names  # no chroot: no shared alloc in the task dir
    tmp = {i.name: i for i in alloc_with_task.list("web")}["tmp"]
    assert tmp.file_mode == "drwxrwxrwt"


# ---------------------------------------------------------------- stat


def test_stat_file(alloc):
    p = os.path.join(alloc.shared_dir, "data", "notes.txt")
    with open(p, "w") as f:
        f.write("some plain text\n")
    os.chmod(p, 0o640)
    info = alloc.stat("alloc/data/notes.txt")
    assert info.name == "notes.txt"
    assert info.size == 16
    assert not info.is_dir
    assert info.file_mode == "-rw-r-----"
    assert info.content_type == "text/plain; charset=utf-8"
    assert abs(info.mod_time.timestamp() - os.stat(p).st_mtime) < 1e-3
    assert info.mod_time.tzinfo is not None
    assert alloc.stat("/alloc/data/notes.txt") == info


def test_stat_dir_is_octet_stream(alloc):
    info = alloc.stat("alloc/data")
    assert info.is_dir and info.name == "data"
    assert info.content_type == "application/octet-stream"
    assert info.file_mode.startswith("d")


def test_stat_root(alloc):
    for root in ("", ".", "/"):
        info = alloc.stat(root)
        assert info.is_dir


def test_stat_missing(alloc):
    with pytest.raises(FileNotFoundError):
        alloc.stat("alloc/data/missing")


def test_stat_fifo_does_not_block(alloc, blocking):
    fifo = os.path.join(alloc.shared_dir, "logs", ".web.stdout.fifo")
    os.mkfifo(fifo)
    blocking.watch_fifo(fifo)
    info = blocking.run(alloc.stat, "alloc/logs/.web.stdout.fifo", timeout=5)
    assert info.file_mode.startswith("p")


def test_stat_reflects_changes(alloc):
    p = os.path.join(alloc.shared_dir, "data", "grow")
    with open(p, "w") as f:
        f.write("a")
    assert alloc.stat("alloc/data/grow").size == 1
    time.sleep(0.01)
    with open(p, "a") as f:
        f.write("bcd")
    assert alloc.stat("alloc/data/grow").size == 4
