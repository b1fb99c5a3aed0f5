"""inspector.core.actions: what destroy, move and snapshot refuse, and how a
snapshot that cannot be written is cleaned up (no Textual here)."""

from __future__ import annotations

import os
import stat
import tarfile
import threading
from pathlib import Path

import pytest

from allocdir import AllocDir, AllocDirError, PathKind
from allocdir.plaintext import size_words
from inspector.core import actions
from inspector.core.actions import (
    BusyRegistry, MoveTarget, Refused, SnapshotOutcome, SnapshotTarget, destroy_refusal,
    move_target, run_destroy, run_move, run_snapshot, snapshot_target, tar_size_estimate,
)
from inspector.core.roots import Root

from ..conftest import ALLOC_A, ALLOC_B, destroy_fixture, disk_state

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounts need root")


@pytest.fixture
def root(alloc_root) -> Root:
    return Root.open(alloc_root)


@pytest.fixture
def alloc(alloc_root) -> AllocDir:
    return AllocDir.discover(alloc_root / ALLOC_A)


@pytest.fixture
def elsewhere(shared_tmp) -> Path:
    """A directory outside the fixture (tmp_path holds the root as alloc/:
    it is a data_dir by its layout)."""
    return shared_tmp


@pytest.fixture
def mounted(tmp_path):
    """Mount tmpfs file systems on new directories; unmounted afterwards."""
    from tests.mounting import mount, tmpfs, umount

    points = []

    def make(name: str, size: str = "1m", *, read_only: bool = False) -> Path:
        point = tmp_path / name
        point.mkdir()
        if read_only:
            mount("tmpfs", point, "tmpfs", 1, f"size={size}")  # MS_RDONLY
        else:
            tmpfs(point, size)
        points.append(point)
        return point

    yield make
    for point in reversed(points):
        umount(point)


# ------------------------------------------------------------------ busy


def test_busy_registry_claims_all_or_nothing():
    busy = BusyRegistry()
    assert busy.claim("a snapshot", "/r/a") is None
    refusal = busy.claim("a move", "/r/b", "/r/a")
    assert refusal == "a snapshot of a is running: wait for it to finish"
    assert busy.running("/r/b") is None  # nothing claimed by the refused move
    busy.release("/r/a")
    assert busy.claim("a move", "/r/b", "/r/a") is None
    assert busy.running("/r/a") == "a move"


# ------------------------------------------------------------------ destroy


def test_destroy_accepts_an_allocation(alloc, root):
    assert destroy_refusal(alloc, root) is None


def test_destroy_refuses_the_root_the_data_dir_and_their_ancestors(data_dir):
    root = Root.open(data_dir)
    assert root.kind is PathKind.DATA_DIR and root.path == str(data_dir / "alloc")
    cases = {
        data_dir / "alloc": "is the client alloc root, not an allocation",
        data_dir: "is the Nomad data_dir, not an allocation",
        data_dir.parent: "holds the client alloc root",
    }
    for path, reason in cases.items():
        assert reason in destroy_refusal(AllocDir(path), root), path


def test_destroy_refuses_what_is_not_an_alloc_dir(root, elsewhere):
    other = build_data_dir_copy(elsewhere / "nomad")  # a data_dir the app did not open
    try:
        assert destroy_refusal(AllocDir(other), root).endswith(
            "is a Nomad data_dir, not an alloc dir")
        assert destroy_refusal(AllocDir(other / "alloc"), root).endswith(
            "is a client alloc root, not an alloc dir")
    finally:
        destroy_fixture(other / "alloc")
    (elsewhere / "other").mkdir()
    (elsewhere / "other" / "x").write_text("x")
    assert destroy_refusal(AllocDir(elsewhere / "other"), root).endswith("is not an alloc dir")
    assert destroy_refusal(AllocDir(elsewhere / "gone"), root).endswith("no longer exists")


def test_destroy_refuses_while_another_action_runs(alloc, root):
    busy = BusyRegistry()
    busy.claim("a snapshot", alloc.alloc_dir)
    assert destroy_refusal(alloc, root, busy) == (
        f"a snapshot of {ALLOC_A} is running: wait for it to finish")
    assert run_destroy(alloc, root, busy).startswith("a snapshot of")
    assert os.path.isdir(alloc.alloc_dir)


@needs_root
def test_destroy_refuses_a_mount_point(alloc_root, root, mounted):
    point = mounted(f"alloc/{ALLOC_B}-mounted", "4m")
    AllocDir(point).build()
    before = disk_state(point)
    refusal = run_destroy(AllocDir.discover(point), root, BusyRegistry())
    assert refusal == f"{os.path.abspath(point)} is a mount point: unmount it first"
    assert disk_state(point) == before


def test_run_destroy_destroys(alloc, root):
    assert run_destroy(alloc, root, BusyRegistry()) is None
    assert not os.path.exists(alloc.alloc_dir)


# ------------------------------------------------------------------ move


def refused(result) -> str:
    assert isinstance(result, Refused), result
    return result.reason


def test_move_refusals(alloc, alloc_root, root, elsewhere):
    full = elsewhere / "full"
    full.mkdir()
    (full / "keep.txt").write_text("keep")
    cwd = str(elsewhere)
    cases = {
        "": "Name a destination",
        "  ": "Name a destination",
        str(alloc_root / ALLOC_A): "is the allocation being moved",
        str(alloc_root / ALLOC_A / "web"): "is inside the allocation being moved",
        str(alloc_root / ALLOC_A / "web/local/new"): "is inside the allocation being moved",
        str(alloc_root): "is the client alloc root",
        str(alloc_root.parent): "holds the client alloc root",
        str(alloc_root / ALLOC_A / ".."): "is the client alloc root",
        str(alloc_root / ALLOC_B / "api/local/new"): f"is inside the alloc dir {alloc_root / ALLOC_B}",
        str(full): "is a non-empty directory that is not an alloc dir",
        "full": "is a non-empty directory that is not an alloc dir",  # relative to cwd
        str(full / "keep.txt"): f"{full / 'keep.txt'} is not a directory",
        str(full / "keep.txt" / "sub"): f"{full / 'keep.txt'} is not a directory",
    }
    for typed, reason in cases.items():
        assert reason in refused(move_target(alloc, typed, root, cwd)), typed


def test_move_refuses_a_data_dir_and_what_holds_the_root(data_dir, elsewhere):
    root = Root.open(data_dir)
    alloc = AllocDir.discover(data_dir / "alloc" / ALLOC_A)
    cwd = str(elsewhere)
    assert "is the Nomad data_dir" in refused(move_target(alloc, str(data_dir), root, cwd))
    assert "is inside the Nomad data_dir" in refused(
        move_target(alloc, str(data_dir / "backup" / "x"), root, cwd))
    assert "is the client alloc root" in refused(
        move_target(alloc, str(data_dir / "alloc"), root, cwd))
    # another data_dir, not the one opened
    other = build_data_dir_copy(elsewhere / "other")
    try:
        assert "is a Nomad data_dir" in refused(move_target(alloc, str(other), root, cwd))
        assert "is a client alloc root" in refused(
            move_target(alloc, str(other / "alloc"), root, cwd))
    finally:
        destroy_fixture(other / "alloc")


def build_data_dir_copy(path: Path) -> Path:
    from ..conftest import build_data_dir

    return build_data_dir(path)


def test_move_accepts_an_alloc_dir_a_new_path_and_an_empty_dir(alloc, root, elsewhere):
    cwd = str(elsewhere)
    dest = AllocDir(elsewhere / "replacement")
    dest.build()
    assert move_target(alloc, dest.alloc_dir, root, cwd) == MoveTarget(dest.alloc_dir, False)
    assert move_target(alloc, "a/b/new", root, cwd) == MoveTarget(
        str(elsewhere / "a/b/new"), True, (str(elsewhere / "a"), str(elsewhere / "a/b")))
    (elsewhere / "empty").mkdir()
    assert move_target(alloc, str(elsewhere / "empty"), root, cwd) == MoveTarget(
        str(elsewhere / "empty"), True)


def test_move_follows_a_symlink_to_where_it_leads(alloc, alloc_root, root, elsewhere):
    (elsewhere / "link").symlink_to(alloc_root / ALLOC_A / "web")
    assert "is inside the allocation being moved" in refused(
        move_target(alloc, str(elsewhere / "link"), root, str(elsewhere)))


@needs_root
def test_move_refuses_a_read_only_file_system(alloc, root, mounted):
    point = mounted("ro", read_only=True)
    assert f"is on a read-only file system ({point})" in refused(
        move_target(alloc, str(point / "new"), root, "/"))


def test_move_refuses_while_busy_and_rechecks(alloc, root, elsewhere):
    busy = BusyRegistry()
    target = move_target(alloc, str(elsewhere / "new"), root, "/")
    busy.claim("a destroy", alloc.alloc_dir)
    assert refused(move_target(alloc, str(elsewhere / "new"), root, "/", busy)).startswith(
        "a destroy of")
    assert run_move(alloc, target, root, "/", busy).startswith("a destroy of")
    busy.release(alloc.alloc_dir)
    (elsewhere / "new").mkdir()
    (elsewhere / "new" / "x").write_text("appeared")
    assert "not an alloc dir" in run_move(alloc, target, root, "/", busy)
    assert os.path.exists(os.path.join(alloc.alloc_dir, "web/local/notes.txt"))


def test_move_parts_measure_data_and_each_local(alloc):
    parts = {part.label: part for part in actions.move_parts(alloc)}
    assert list(parts) == ["alloc/data", "web/local"]
    assert parts["alloc/data"].size.content_bytes == 18
    assert parts["web/local"].size.content_bytes == 24 + 17 + 2048
    assert parts["web/local"].describe() == "web/local  5 entries, 2.0 KiB"


# ------------------------------------------------------------------ snapshot


def test_snapshot_target_resolves_against_the_cwd(alloc, root, elsewhere):
    target = snapshot_target(alloc, "out.tar", root, str(elsewhere))
    assert isinstance(target, SnapshotTarget)
    assert target.path == str(elsewhere / "out.tar") and not target.exists
    assert target.needs == tar_size_estimate(target.estimate) and target.free > target.needs


def test_snapshot_target_refusals(alloc, root, alloc_root, elsewhere):
    (elsewhere / "dir").mkdir()
    (elsewhere / "link").symlink_to(elsewhere / "dir")
    os.mkfifo(elsewhere / "fifo")
    cwd = str(elsewhere)
    cases = {
        "": "Name the file to write",
        "dir": "is a directory: name a file",
        "dir/": "names a directory",
        "link": "is a symbolic link",
        "fifo": "exists and is not a regular file",
        "missing/out.tar": f"the directory {elsewhere / 'missing'} does not exist",
        str(alloc_root / ALLOC_A / "alloc/data/out.tar"): "is inside the alloc dir",
        str(alloc_root / ALLOC_B / "x.tar"): f"is inside the alloc dir {alloc_root / ALLOC_B}",
    }
    for typed, reason in cases.items():
        assert reason in refused(snapshot_target(alloc, typed, root, cwd)), typed
    assert "type an absolute path" in refused(snapshot_target(alloc, "out.tar", root, ""))


def test_tar_size_estimate_is_an_upper_bound(alloc, tmp_path):
    out = tmp_path / "real.tar"
    with open(out, "wb") as f:
        alloc.snapshot(f)
    estimate = alloc.snapshot_estimate()
    assert out.stat().st_size <= tar_size_estimate(estimate) <= out.stat().st_size + 32 * 1024


@needs_root
def test_snapshot_that_cannot_fit_is_refused_with_numbers(alloc, root, alloc_root, mounted):
    small = mounted("small", "1m")
    (alloc_root / ALLOC_A / "web/local/big.bin").write_bytes(os.urandom(3 << 20))
    reason = refused(snapshot_target(alloc, "out.tar", root, str(small)))
    assert reason == (f"Not enough space: the snapshot needs ~3.0 MiB, 1.0 MiB free on {small}, "
                      "10.2 KiB of it kept free")
    assert os.listdir(small) == []


@needs_root
def test_snapshot_stops_before_a_file_that_grew_and_removes_the_partial_file(
        alloc, root, alloc_root, mounted):
    """Issue 16 item 9: a file that grows after the check no longer fills
    the destination until ENOSPC: the snapshot stops before writing it,
    names it, and removes what it wrote."""
    small = mounted("small", "1m")
    target = snapshot_target(alloc, "out.tar", root, str(small))
    assert isinstance(target, SnapshotTarget)
    # the task writes more after the check: the tar no longer fits
    (alloc_root / ALLOC_A / "web/local/big.bin").write_bytes(os.urandom(2 << 20))
    outcome = run_snapshot(alloc, target, root, BusyRegistry())
    assert isinstance(outcome, SnapshotOutcome) and not outcome.ok and outcome.removed
    assert outcome.error.startswith(
        "web/local/big.bin needs 2.0 MiB, more than there is room for: ")
    assert outcome.error.endswith(
        f"free on {small}, 10.2 KiB of it kept free; stopped before writing it (the allocation "
        f"grew after the snapshot was estimated at ~{size_words(target.needs)})")
    assert outcome.message() == (
        f"Snapshot failed: {outcome.error}; the partial file {outcome.partial} was removed")
    assert outcome.partial.startswith(f"{small}/.out.tar.")
    assert os.listdir(small) == []


def test_snapshot_says_when_the_partial_file_cannot_be_removed(alloc, root, elsewhere, monkeypatch):
    target = snapshot_target(alloc, "out.tar", root, str(elsewhere))

    def broken(self, w, *, progress=None, room=None, include_logs=False):
        w.write(b"x" * 1000)
        raise OSError(28, "No space left on device")

    def unlink(path, *args, **kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(AllocDir, "snapshot", broken)
    monkeypatch.setattr(actions.os, "unlink", unlink)
    outcome = run_snapshot(alloc, target, root, BusyRegistry())
    monkeypatch.undo()
    assert outcome.message() == (
        f"Snapshot failed: No space left on device; the partial file {outcome.partial} could "
        "not be removed: Operation not permitted")
    os.unlink(outcome.partial)


def test_snapshot_replaces_an_existing_file_only_when_complete(alloc, root, elsewhere, monkeypatch):
    out = elsewhere / "out.tar"
    out.write_bytes(b"old snapshot")
    target = snapshot_target(alloc, str(out), root, "/")
    assert target.exists

    def broken(self, w, *, progress=None, room=None, include_logs=False):
        w.write(b"garbage")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(AllocDir, "snapshot", broken)
    outcome = run_snapshot(alloc, target, root, BusyRegistry())
    assert outcome.message().endswith(f"was removed; {out} was not changed")
    assert out.read_bytes() == b"old snapshot"
    monkeypatch.undo()
    outcome = run_snapshot(alloc, target, root, BusyRegistry())
    assert outcome.ok and outcome.written
    with tarfile.open(out) as tar:
        assert "web/local/notes.txt" in tar.getnames()
    assert sorted(os.listdir(elsewhere)) == ["out.tar"]
    assert (out.stat().st_mode & 0o777) == 0o600


def test_snapshot_cancel_removes_the_partial_file(alloc, root, elsewhere):
    target = snapshot_target(alloc, "out.tar", root, str(elsewhere))
    cancel = threading.Event()
    cancel.set()
    outcome = run_snapshot(alloc, target, root, BusyRegistry(), cancel=cancel)
    assert outcome.cancelled and outcome.removed and not outcome.marker
    assert outcome.message().startswith("Snapshot cancelled; the partial file")
    assert os.listdir(elsewhere) == []


def test_snapshot_refuses_while_busy(alloc, root, elsewhere):
    busy = BusyRegistry()
    target = snapshot_target(alloc, "out.tar", root, str(elsewhere))
    busy.claim("a move", alloc.alloc_dir)
    assert refused(run_snapshot(alloc, target, root, busy)).startswith("a move of")
    assert refused(snapshot_target(alloc, "out.tar", root, str(elsewhere), busy)).startswith(
        "a move of")
    assert os.listdir(elsewhere) == []


@needs_root
def test_snapshot_names_what_it_left_out(alloc, root, alloc_root, elsewhere, mounted):
    point = mounted(f"alloc/{ALLOC_A}/web/local/mnt", "1m")
    (point / "inside.txt").write_text("not archived")
    target = snapshot_target(alloc, "out.tar", root, str(elsewhere))
    outcome = run_snapshot(alloc, target, root, BusyRegistry())
    assert outcome.ok
    assert outcome.message().endswith(
        "\n1 entry was left out: web/local/mnt (a mount point: its content is not archived)")


def test_outcome_names_at_most_three_skipped():
    outcome = SnapshotOutcome("/x.tar", "id", written=True, size=10240,
                              skipped=[(f"f{i}", "leased") for i in range(5)])
    assert outcome.message() == (
        "Snapshot of id written to /x.tar (10.0 KiB)\n5 entries were left out: "
        "f0 (leased), f1 (leased), f2 (leased) and 2 more")


def test_tmp_like_directory_is_not_a_root(tmp_path):
    """A directory one of whose subdirs has an empty alloc/ is nothing Nomad made."""
    from inspector.core.roots import RootError

    (tmp_path / "systemd-private" / "alloc").mkdir(parents=True)
    (tmp_path / "x.log").write_text("x")
    with pytest.raises(RootError, match="not an alloc dir"):
        Root.open(tmp_path)


# ------------------------------------------------------------------ where root may write


def test_move_refuses_anything_deeper_in_the_client_root_than_its_alloc_dirs(alloc, root,
                                                                           alloc_root):
    """Item 11 of issue 16: below the client root only its own alloc dirs
    (new or existing) take a move, whatever the layout says."""
    reason = refused(move_target(alloc, str(alloc_root / "not-an-alloc" / "new"), root, "/"))
    assert reason == (f"{alloc_root / 'not-an-alloc' / 'new'} is inside the client alloc root "
                      f"{alloc_root}: its tasks can change what is there; only an alloc dir "
                      "directly in it can take a move")
    assert move_target(alloc, str(alloc_root / "c0c0c0c0-new"), root, "/") == MoveTarget(
        str(alloc_root / "c0c0c0c0-new"), True)
    assert move_target(alloc, str(alloc_root / ALLOC_B), root, "/") == MoveTarget(
        str(alloc_root / ALLOC_B), False)


def test_snapshot_refuses_the_client_root_even_when_one_alloc_dir_is_open(alloc, root,
                                                                         alloc_root):
    single = Root.open(alloc_root / ALLOC_A)
    assert single.single
    for opened in (root, single):
        reason = refused(snapshot_target(alloc, str(alloc_root / "x.tar"), opened, "/"))
        assert reason == (f"{alloc_root / 'x.tar'} is in the client alloc root {alloc_root}, "
                          "where tasks can change what is on the way; write the snapshot "
                          "elsewhere")
    assert f"is inside the client alloc root {alloc_root}:" in refused(
        move_target(alloc, str(alloc_root / "x" / "y"), single, "/"))


def test_what_looks_like_a_task_or_alloc_dir_is_no_destination(alloc, root, elsewhere):
    """Outside any client root, a directory with a task dir's signs (local/
    beside secrets/) or an alloc dir's (an alloc/ holding logs/) is still
    refused, recognised as an alloc dir or not."""
    job = elsewhere / "job"
    (job / "local").mkdir(parents=True)
    (job / "secrets").mkdir()
    old = elsewhere / "old"
    (old / "alloc" / "logs").mkdir(parents=True)
    (old / "web").mkdir()
    cases = {job / "local": f"is inside the task dir {job}",
             old / "web": f"is inside what looks like an alloc dir {old}"}
    for directory, reason in cases.items():
        assert reason in refused(snapshot_target(alloc, str(directory / "x.tar"), root, "/"))
        assert reason in refused(move_target(alloc, str(directory / "new"), root, "/"))


def test_move_refuses_a_path_through_a_directory_others_can_change(alloc, root, elsewhere):
    """A new alloc dir is built only where every directory on the way is the
    operator's: one anyone can write (not sticky) could be swapped."""
    shared = elsewhere / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    assert refused(move_target(alloc, str(shared / "new"), root, "/")) == (
        f"{shared} can be written by other users: someone else could redirect the write; "
        "choose a destination only you (or root) can change")
    os.chmod(shared, 0o1777)  # sticky, as /tmp: no one else can rename what is ours in it
    assert move_target(alloc, str(shared / "new"), root, "/") == MoveTarget(
        str(shared / "new"), True)
    (shared / "link").symlink_to(elsewhere)
    os.chmod(shared, 0o777)
    reason = "is a symbolic link in a directory other users can change"
    assert reason in refused(move_target(alloc, str(shared / "link" / "new"), root, "/"))
    assert reason in refused(snapshot_target(alloc, str(shared / "link" / "x.tar"), root, "/"))


def test_run_move_makes_the_parents_it_names(alloc, root, elsewhere):
    target = move_target(alloc, str(elsewhere / "a" / "b" / "new"), root, "/")
    assert target.creates == (str(elsewhere / "a"), str(elsewhere / "a" / "b"))
    assert run_move(alloc, target, root, "/", BusyRegistry()) is None
    assert (elsewhere / "a" / "b" / "new" / "web" / "local" / "notes.txt").read_text() == (
        "hello from the web task\n")
    for made in target.creates:
        st = os.stat(made)
        assert st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) == 0o755


def test_a_failed_write_is_reported_as_itself_not_as_a_buffer_error(alloc, caplog):
    """The writer a snapshot writes to releases its view of the buffer when
    a write fails: the error is the write's (a closed pipe here), and the
    marker that follows is tried on the same writer without a BufferError."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        with pytest.raises(AllocDirError, match="Broken pipe"):
            alloc.snapshot(actions._CheckedWriter(write_end))
    finally:
        os.close(write_end)
    assert "exports" not in caplog.text and "re-sized" not in caplog.text
    assert "Broken pipe" in caplog.text  # the marker could not be written either, and says why
