"""Where root writes a snapshot or builds a move's destination (item 11 of
issue 16): a task that hides its allocation (renames ``alloc/data`` and
``alloc/tmp``, so it is no longer recognised) must not make it a
destination, and a task that swaps a directory on the way for a link to
the host, between the check and the write, must not lead the write there.
The canary is that host directory."""

from __future__ import annotations

import os

import pytest

from allocdir import AllocDir, is_alloc_dir
from inspector.core.actions import (
    BusyRegistry, MoveTarget, Refused, SnapshotTarget, move_target, run_move, run_snapshot,
    snapshot_target,
)
from inspector.core.roots import Root

from tests.hostile import NOBODY, Racer, exchange, run_as_nobody, tree_state


@pytest.fixture
def other(client_root):
    """Allocation B, whose data the operator snapshots or moves."""
    b = AllocDir(client_root / "b0b0b0b0-17ff-26bc-a802-0c74fa471c99")
    b.build()
    api = b.new_task_dir("api")
    api.build()
    with open(os.path.join(api.local_dir, "app.conf"), "w") as f:
        f.write("B's configuration\n")
    with open(os.path.join(b.shared_dir, "data", "state"), "w") as f:
        f.write("B's state\n")
    yield b
    try:
        b.destroy()
    except Exception:
        pass


def _hide(alloc: AllocDir, names: tuple[str, ...]) -> None:
    """As the task (nobody): rename the shared dirs ``names`` of ``alloc/``."""
    def rename():
        for name in names:
            path = os.path.join(alloc.shared_dir, name)
            os.rename(path, path + ".hidden")
        os.mkdir(os.path.join(alloc.shared_dir, "x"))
        return "hidden"

    assert run_as_nobody(rename) == "hidden"


@pytest.mark.parametrize("hidden", [("data", "tmp"), ("data", "logs", "tmp")],
                         ids=["two-of-three", "all-three"])
def test_a_hidden_allocation_is_no_destination(alloc, other, client_root, canary, hidden):
    """The task of A hides its allocation; B's snapshot and move must still
    not go anywhere in A (a task dir, a dir of its alloc/), nor anywhere
    else deeper in the client root than its own alloc dirs."""
    before = canary.state()
    _hide(alloc, hidden)
    assert not is_alloc_dir(alloc.alloc_dir)
    root = Root.open(client_root)
    a = alloc.alloc_dir
    for typed in (f"{a}/web/local/snap.tar", f"{a}/alloc/x/snap.tar", f"{client_root}/snap.tar"):
        refusal = snapshot_target(other, typed, root, "/")
        assert isinstance(refusal, Refused), typed
        assert "write the snapshot elsewhere" in refusal.reason, typed
    for typed in (f"{a}/web/local/sub/new", f"{a}/alloc/x/new", f"{a}/new",
                  f"{client_root}/not-yet/new"):
        refusal = move_target(other, typed, root, "/")
        assert isinstance(refusal, Refused), typed
        assert "can change what is there" in refusal.reason, typed
    # what the client root itself holds, directly, is still a place for a move
    new = move_target(other, f"{client_root}/c0c0c0c0-new", root, "/")
    assert new == MoveTarget(f"{client_root}/c0c0c0c0-new", build=True)
    assert canary.state() == before


def _drop(base) -> tuple[str, str]:
    """A directory the task owns outside the client root, holding ``sub``
    (a real directory) and ``link`` (to the host canary), both the task's."""
    drop = os.path.join(base, "drop")
    sub, link = os.path.join(drop, "sub"), os.path.join(drop, "link")
    os.mkdir(drop)
    os.mkdir(sub)
    for path in (drop, sub):
        os.chown(path, NOBODY, NOBODY)
    return sub, link


def test_a_snapshot_is_never_written_through_a_swapped_directory(other, client_root, base,
                                                                 canary):
    """The destination passed the checks (a task's directory outside every
    allocation); the task then keeps swapping it with a link to the host
    while root writes the tar: the tar lands in the real directory or the
    snapshot is refused, never on the host."""
    before = canary.state()
    sub, link = _drop(base)
    os.symlink(canary.root, link)
    os.lchown(link, NOBODY, NOBODY)
    root = Root.open(client_root)
    target = snapshot_target(other, os.path.join(sub, "snap.tar"), root, "/")
    assert isinstance(target, SnapshotTarget)
    written = refused = 0
    with Racer(lambda: exchange(sub, link)) as racer:
        for _ in range(60):
            outcome = run_snapshot(other, target, root, BusyRegistry())
            if outcome.ok:
                written += 1
            else:
                refused += 1
    assert racer.done > 100, "the task never got to race"
    assert written + refused == 60
    assert canary.state() == before


def test_a_move_is_never_built_below_a_directory_a_task_can_change(other, client_root, base,
                                                                   canary):
    """A new alloc dir would be built with its parents by name: below a
    directory the task owns, it could be swapped for a link to the host at
    any moment. Refused, checked and again right before building, while
    the task swaps it; nothing lands on the host and B keeps its data."""
    before = canary.state()
    b_before = tree_state(other.alloc_dir)
    sub, link = _drop(base)
    os.symlink(canary.root, link)
    os.lchown(link, NOBODY, NOBODY)
    root = Root.open(client_root)
    typed = os.path.join(sub, "new")
    with Racer(lambda: exchange(sub, link)) as racer:
        for _ in range(40):
            refusal = move_target(other, typed, root, "/")
            assert isinstance(refusal, Refused)
            assert "uid 65534" in refusal.reason or "someone else" in refusal.reason \
                or "a symbolic link" in refusal.reason, refusal.reason
            done = run_move(other, MoveTarget(typed, build=True), root, "/", BusyRegistry())
            assert isinstance(done, str), "the move ran"
    assert racer.done > 100, "the task never got to race"
    assert canary.state() == before
    assert tree_state(other.alloc_dir) == b_before
