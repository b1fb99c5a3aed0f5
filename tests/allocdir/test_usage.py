"""allocdir.usage against GNU du on the same trees: apparent and allocated
bytes, inodes, hard links counted once; and what it must never count or do."""

from __future__ import annotations

import fcntl
import os
import subprocess
import threading

import pytest

from allocdir import usage as usage_mod
from allocdir.dirfd import UnsafePathError
from allocdir.testing import temp_alloc_dir
from allocdir.usage import files_in, measure
from tests import mounting
from tests.hostile import make_deep, run_as_nobody, work_dir

F_SETLEASE, F_GETLEASE = 1024, 1025


def du(path, *flags: str) -> int:
    out = subprocess.run(["du", "-s", *flags, str(path)], check=True, capture_output=True,
                         text=True).stdout
    return int(out.split()[0])


def du_all(path) -> tuple[int, int, int]:
    """(apparent bytes, allocated bytes, inodes) as GNU du counts them."""
    return (du(path, "--apparent-size", "-B1"), du(path, "-B1"), du(path, "--inodes"))


def ours(path, rel="", **kw) -> tuple[int, int, int]:
    u = measure(path, rel, **kw)
    assert u.complete, u.partial
    return u.apparent_bytes, u.allocated_bytes, u.inodes


def _write(path, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


@pytest.fixture
def tree(tmp_path):
    """A task-like tree: nested dirs, files of many sizes, hard links within
    and across subtrees, a sparse 1 TiB file, symlinks (to a dir outside, to
    a file), a FIFO, empty dirs."""
    top = tmp_path / "alloc"
    outside = tmp_path / "outside"
    _write(outside / "big.bin", os.urandom(1 << 20))
    for t in ("web", "redis", "batch"):
        for d in range(6):
            for f in range(12):
                _write(top / t / "local" / f"d{d}" / f"f{f}.txt", b"x" * (f * 700 + d))
        (top / t / "empty").mkdir()
    _write(top / "web" / "local" / "shared.bin", os.urandom(300_000))
    os.link(top / "web" / "local" / "shared.bin", top / "redis" / "local" / "again.bin")
    os.link(top / "web" / "local" / "shared.bin", top / "web" / "local" / "d0" / "third.bin")
    with open(top / "batch" / "sparse.img", "wb") as f:
        f.write(b"head")
        f.truncate(1 << 40)
    os.symlink(outside, top / "web" / "to-outside")
    os.symlink("../local/d0/f1.txt", top / "web" / "rel-link")
    os.mkfifo(top / "redis" / "pipe")
    return top


@pytest.mark.parametrize("workers", [0, 2])
def test_the_totals_are_du_s(tree, workers, monkeypatch):
    monkeypatch.setattr(usage_mod, "PARALLEL_MIN_ENTRIES", 0)
    assert ours(tree, workers=workers) == du_all(tree)


@pytest.mark.parametrize("workers", [0, 2])
def test_every_directory_record_is_du_s_of_it(tree, workers, monkeypatch):
    monkeypatch.setattr(usage_mod, "PARALLEL_MIN_ENTRIES", 0)
    u = measure(tree, workers=workers)
    for rel in ("batch", "redis/local/d3", "web/local/d2"):  # no hard link in them
        node = u.tree.find(rel)
        assert node is not None, rel
        assert (node.apparent, node.allocated, node.inodes) == du_all(tree / rel), rel
    # the hard-linked file counts where it was met first, once: the parts add up
    tasks = [u.tree.find(t) for t in ("web", "redis", "batch")]
    top = os.lstat(tree)
    assert sum(t.apparent for t in tasks) + top.st_size == du(tree, "--apparent-size", "-B1")
    assert sum(t.inodes for t in tasks) + 1 == du(tree, "--inodes")
    assert all(t.parent is u.tree for t in tasks)


def test_a_hard_link_counts_once_even_across_walkers(tree, monkeypatch):
    monkeypatch.setattr(usage_mod, "PARALLEL_MIN_ENTRIES", 0)
    monkeypatch.setattr(usage_mod, "SPLIT_DEPTH", 1)  # each task dir its own unit
    u = measure(tree, workers=2)
    assert u.apparent_bytes == du(tree, "--apparent-size", "-B1")
    assert u.apparent_bytes < du(tree, "--apparent-size", "-B1", "--count-links")


def test_a_sparse_file_shows_both_sizes(tree):
    u = measure(tree, "batch")
    [big] = [f for f in u.largest_files() if f.rel == "sparse.img"]
    assert big.apparent == 1 << 40
    assert big.allocated < 1 << 20
    assert u.largest_files(allocated=True)[0].rel != "sparse.img"
    assert (u.apparent_bytes, u.allocated_bytes) == du_all(tree / "batch")[:2]


def test_files_and_newest_write(tree):
    os.utime(tree / "redis" / "local" / "d2" / "f3.txt", (2_000_000_000, 2_000_000_000))
    u = measure(tree)
    inodes = {os.lstat(os.path.join(d, f)).st_ino for d, _, files in os.walk(tree)
              for f in files if os.path.isfile(os.path.join(d, f))
              and not os.path.islink(os.path.join(d, f))}
    assert u.files == len(inodes)  # hard links once; links, FIFOs not files
    assert u.newest_write == 2_000_000_000
    assert u.largest_dirs()[0].rel == "batch"  # the 1 TiB sparse file
    assert u.largest_dirs(allocated=True)[0].rel in ("web/local", "redis/local")


def test_a_flat_directory_is_shared_out_in_slices(tmp_path, monkeypatch):
    monkeypatch.setattr(usage_mod, "FILE_SLICE", 100)
    flat = tmp_path / "flat"
    flat.mkdir()
    for i in range(1000):
        (flat / f"f{i}").write_bytes(b"y" * i)
    assert ours(flat, workers=2) == du_all(flat)


def test_a_deep_tree_is_walked_with_bounded_fds(tmp_path):
    make_deep(str(tmp_path), 1100)
    before = len(os.listdir("/proc/self/fd"))
    u = measure(tmp_path, workers=0)
    assert u.complete
    assert (u.apparent_bytes, u.allocated_bytes, u.inodes) == du_all(tmp_path)
    assert len(os.listdir("/proc/self/fd")) == before


def test_progress_streams_numbers_before_the_end(tree, monkeypatch):
    monkeypatch.setattr(usage_mod, "FLUSH_EVERY", 0.0)
    seen: list[tuple[bool, int]] = []
    u = measure(tree, workers=0, progress_every=0.0,
                on_progress=lambda live: seen.append((live.done, live.inodes)))
    partial = [inodes for done, inodes in seen if not done]
    assert partial and 0 < partial[0] < u.inodes
    assert partial == sorted(partial)
    assert seen[-1] == (True, u.inodes)


def test_a_time_limit_gives_a_partial_result_that_says_so(tree):
    u = measure(tree, time_limit=0.0, workers=0)
    assert u.done and not u.complete
    assert any("time limit" in reason for reason in u.partial)
    assert u.inodes < du(tree, "--inodes")


def test_cancel_stops_the_forked_walkers(tree, monkeypatch):
    monkeypatch.setattr(usage_mod, "PARALLEL_MIN_ENTRIES", 0)
    cancel = threading.Event()
    cancel.set()
    u = measure(tree, workers=2, cancel=cancel)
    assert not u.complete and "stopped: cancelled" in u.partial
    assert not _children_left()


def _children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return False
    return True


def test_a_symlink_on_the_way_to_rel_is_refused(tree):
    with pytest.raises(UnsafePathError):
        measure(tree, "web/to-outside")


def test_nothing_but_directories_is_opened(tree):
    """A write lease on a file is broken by any open of it, even for reading
    (the kernel then downgrades it): after the walk it must still be held."""
    target = tree / "web" / "local" / "d1" / "f5.txt"
    fd = os.open(target, os.O_RDONLY)
    try:
        fcntl.fcntl(fd, F_SETLEASE, fcntl.F_WRLCK)
        measure(tree, workers=0)
        measure(tree, workers=2)
        files_in(tree, "web/local/d1")
        assert fcntl.fcntl(fd, F_GETLEASE) == fcntl.F_WRLCK
    finally:
        fcntl.fcntl(fd, F_SETLEASE, fcntl.F_UNLCK)
        os.close(fd)


def test_files_in_lists_the_largest_and_the_totals(tree):
    listed = files_in(tree, "web/local", top=2)
    assert [f.rel for f in listed.largest] == ["web/local/shared.bin", "web/local/d5"][:1] + \
        [f.rel for f in listed.largest][1:]
    assert listed.count == 1 and sorted(listed.subdirs) == [f"d{d}" for d in range(6)]
    by_blocks = files_in(tree, "batch", top=5, allocated=True)
    assert by_blocks.largest[0].apparent == 1 << 40


@pytest.mark.root
def test_a_bind_mount_inside_a_task_dir_is_not_counted(tmp_path):
    host = tmp_path / "host"
    _write(host / "big.bin", os.urandom(4 << 20))
    with temp_alloc_dir() as alloc:
        task = alloc.new_task_dir("web")
        task.build()
        before = measure(alloc.alloc_dir)
        target = os.path.join(task.local_dir, "mnt")
        os.mkdir(target)
        mounting.bind(host, target)
        try:
            after = measure(alloc.alloc_dir)
            forked = measure(alloc.alloc_dir, workers=2)
        finally:
            mounting.umount(target)
        os.rmdir(target)
    assert after.allocated_bytes < before.allocated_bytes + (1 << 20)
    assert forked.allocated_bytes == after.allocated_bytes
    assert any(s.rel == "web/local/mnt" and "mount point" in s.reason for s in after.skipped)
    # the secrets tmpfs is another file system: not counted, and said so
    assert any(s.rel == "web/secrets" for s in after.skipped)


def test_an_unreadable_directory_is_a_partial_result():
    """As a user who cannot read one directory: the rest is counted, the
    result is partial and names it."""
    with work_dir() as base:
        top = base / "tree"
        (top / "locked").mkdir(parents=True)
        (top / "open").mkdir()
        (top / "locked" / "f").write_bytes(b"z" * 5000)
        (top / "open" / "g").write_bytes(b"z" * 7000)
        os.chmod(top / "locked", 0o700)  # root's: nobody cannot list it

        def as_user():
            u = measure(top, workers=0)
            return u.complete, u.partial, u.apparent_bytes, u.files

        complete, partial, apparent, files = run_as_nobody(as_user)
    assert not complete
    assert any(reason.startswith("locked") and "permission denied" in reason
               for reason in partial)
    assert files == 1 and apparent >= 7000


@pytest.mark.parametrize("workers", [0, 2])
def test_past_max_dirs_the_totals_stay_exact(tree, workers, monkeypatch):
    """A task making a million directories cannot make the records grow
    without bound: past MAX_DIRS they are folded into an ancestor, and
    every total stays du's."""
    monkeypatch.setattr(usage_mod, "PARALLEL_MIN_ENTRIES", 0)
    monkeypatch.setattr(usage_mod, "MAX_DIRS", 5)
    u = measure(tree, workers=workers)
    records, folded, pending = 0, 0, [u.tree]
    while pending:
        node = pending.pop()
        records += 1
        folded += node.folded
        pending += node.children
    assert records == 5
    assert folded > 20  # the tree has 3 tasks x 8 directories
    assert (u.apparent_bytes, u.allocated_bytes, u.inodes) == du_all(tree)
