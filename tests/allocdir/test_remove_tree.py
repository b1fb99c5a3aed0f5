"""remove_tree_at hands subtrees to threads: the result must be what the
one-walk removal gives (everything gone, nothing followed, mounts kept and
reported once), whatever the shape of the tree."""

from __future__ import annotations

import os
import threading

import pytest

from allocdir import fsops
from allocdir.fsops import remove_tree_at

from ..mounting import bind, umount


def _tree(top, width: int, depth: int, files: int) -> int:
    """A tree ``width`` directories wide per level, ``depth`` deep, with
    ``files`` files in every directory; returns the number of entries."""
    os.makedirs(top)
    made = 0
    for i in range(files):
        with open(os.path.join(top, f"f{i}"), "w") as f:
            f.write("x")
        made += 1
    if depth:
        for d in range(width):
            made += 1 + _tree(os.path.join(top, f"d{d}"), width, depth - 1, files)
    return made


def _remove(parent, name: str) -> list[OSError]:
    fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return remove_tree_at(fd, name, os.path.join(parent, name))
    finally:
        os.close(fd)


@pytest.mark.parametrize("width, depth", [(1, 8), (3, 3), (12, 2), (40, 1)])
def test_every_shape_is_removed_whole(tmp_path, width, depth):
    _tree(tmp_path / "top", width, depth, files=5)
    assert _remove(str(tmp_path), "top") == []
    assert not (tmp_path / "top").exists()


def test_subtrees_run_in_more_than_one_thread(tmp_path, monkeypatch):
    _tree(tmp_path / "top", 8, 2, files=3)
    seen: set[int] = set()
    real = fsops._remove

    def counting(*args, **kwargs):
        seen.add(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(fsops, "_remove", counting)
    assert _remove(str(tmp_path), "top") == []
    assert len(seen) >= 2  # the workers, and the last walk on the caller's thread


def test_links_are_removed_never_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("precious")
    _tree(tmp_path / "top", 6, 2, files=2)
    for d in range(6):  # a link in every subtree, to a directory and to a file
        os.symlink(outside, tmp_path / "top" / f"d{d}" / "to-dir")
        os.symlink(outside / "keep", tmp_path / "top" / f"d{d}" / "d0" / "to-file")
    assert _remove(str(tmp_path), "top") == []
    assert (outside / "keep").read_text() == "precious"
    assert not (tmp_path / "top").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="bind mounts need root")
def test_a_mount_deep_in_a_subtree_stays_and_is_reported_once(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "data").write_text("mounted")
    _tree(tmp_path / "top", 5, 3, files=2)
    target = tmp_path / "top" / "d3" / "d1" / "d4"
    bind(source, target)
    try:
        errors = _remove(str(tmp_path), "top")
        assert [e.filename for e in errors] == [str(target)]
        assert "still mounted" in str(errors[0])
        assert (target / "data").read_text() == "mounted"
        # Everything else went; the mount's parents stay (they are not empty).
        left = sorted(str(p.relative_to(tmp_path / "top")) for p in (tmp_path / "top").rglob("*"))
        assert left == ["d3", "d3/d1", "d3/d1/d4", "d3/d1/d4/data"]
    finally:
        umount(target)
    assert (source / "data").read_text() == "mounted"


def test_a_subtree_on_another_device_is_not_entered(tmp_path, monkeypatch):
    """A subtree handed to a thread is walked only if it is on the tree's
    device (a btrfs subvolume a task made is not a mount root, but it is
    another device): each subtree walk is given the tree's device, and a
    walk whose top is on another device enters nothing."""
    from allocdir import dirfd

    _tree(tmp_path / "top", 3, 1, files=1)
    real_walk = dirfd.walk
    devices = []

    def walk(*args, **kwargs):
        devices.append(kwargs.get("device"))
        return real_walk(*args, **kwargs)

    monkeypatch.setattr(fsops.dirfd, "walk", walk)
    assert _remove(str(tmp_path), "top") == []
    tree_device = os.stat(tmp_path).st_dev
    assert sorted(devices, key=str) == [tree_device] * 3 + [None]  # 3 subtrees, the last walk

    _tree(tmp_path / "other", 1, 1, files=1)
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        steps = list(real_walk(fd, "other", device=tree_device + 1))
    finally:
        os.close(fd)
    assert [step.kind for step in steps] == [dirfd.MOUNT]


def test_removal_works_when_no_thread_can_start(tmp_path, monkeypatch):
    """At interpreter exit no new thread starts: the subtrees go one by one."""
    import concurrent.futures

    class NoThreads:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("can't register atexit after shutdown")

    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", NoThreads)
    _tree(tmp_path / "top", 6, 2, files=2)
    assert _remove(str(tmp_path), "top") == []
    assert not (tmp_path / "top").exists()
