"""Snapshotting while the task races: a subdirectory of local/ swapped for a
link to the host or into secrets/ mid-walk (case 10 of the hostile-task
issue), trees deeper than Python's recursion limit (case 12), files the
task grows after the estimate and secrets it hard-links into local/
(items 9 and 14 of issue 16)."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from allocdir import AllocDirError

from tests.hostile import (
    Canary, Racer, alloc_with_a_secret, exchange, make_deep, nobody_dir, run_as_nobody,
)

SECRET = b"s.the-task-secret-token"


def test_snapshot_racing_a_task_that_swaps_a_subdir_for_links(alloc, canary):
    web = alloc.task_dirs["web"]
    with open(os.path.join(web.secrets_dir, "data.txt"), "wb") as f:
        f.write(SECRET)
    sub = os.path.join(web.local_dir, "sub")
    os.makedirs(sub)
    for name in ("data.txt", "token", "other.txt"):
        with open(os.path.join(sub, name), "wb") as f:
            f.write(b"inside " + name.encode())
    links = [os.path.join(web.local_dir, "to-host"), os.path.join(web.local_dir, "to-secrets")]
    os.symlink(canary.root, links[0])
    os.symlink("../secrets", links[1])
    for path in [sub, *links, *(os.path.join(sub, n) for n in os.listdir(sub))]:
        os.lchown(path, 65534, 65534)
    turn = [0]

    def swap():
        link = links[turn[0] % 2]
        exchange(sub, link)  # sub/ is now a link...
        exchange(sub, link)  # ...and a directory again
        turn[0] += 1

    leaked, snapshots = [], 0
    with Racer(swap) as racer:
        for _ in range(150):
            buf = io.BytesIO()
            try:
                alloc.snapshot(buf)
            except AllocDirError:
                pass
            snapshots += 1
            raw = buf.getvalue()
            if Canary.CONTENT in raw or SECRET in raw:
                leaked.append(raw)
            buf.seek(0)
            with tarfile.open(fileobj=buf) as tar:
                tar.getmembers()  # a valid tar every time
    assert racer.done > 100, "the task never got to race"
    assert snapshots == 150
    assert not leaked


def test_snapshot_size_and_snapshot_of_a_tree_deeper_than_the_recursion_limit(
        alloc, python_recursion_limit):
    make_deep(alloc.task_dirs["web"].local_dir, 1500)
    assert alloc.snapshot_size() == len(b"the bottom\n")
    buf = io.BytesIO()
    result = alloc.snapshot(buf)
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        bottom = [m for m in tar.getmembers() if m.name.endswith("/bottom.txt")]
        assert len(bottom) == 1 and bottom[0].name.count("/d") == 1500
        assert tar.extractfile(bottom[0]).read() == b"the bottom\n"
    assert result.content_bytes == len(b"the bottom\n")


def test_snapshot_of_a_local_or_data_that_is_a_link_archives_the_link(alloc, canary):
    web = alloc.task_dirs["web"]
    data = os.path.join(alloc.shared_dir, "data")
    for path in (web.local_dir, data):
        os.rmdir(path)
        os.symlink(canary.root, path)
    buf = io.BytesIO()
    alloc.snapshot(buf)
    assert Canary.CONTENT not in buf.getvalue()
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        links = {m.name: m.linkname for m in tar.getmembers() if m.issym()}
    assert links == {"web/local": str(canary.root), "alloc/data": str(canary.root)}


def test_a_file_the_task_grows_after_the_estimate_never_fills_the_destination(
        alloc, base, canary):
    """Item 9 of issue 16: the snapshot's estimate is taken, then the task
    (nobody) truncates a file of its local/ to 1 TiB and writes 6 MiB of
    data into another. The 1 TiB file is archived as its data (a few
    blocks); the 6 MiB one, more than the 4 MiB destination can take, stops
    the snapshot before it is started, named, and the destination keeps
    its reserve (no write ever meets a full file system)."""
    from allocdir.room import NoRoomError, RoomCheck, room_at
    from tests import mounting

    before = canary.state()
    local = alloc.task_dirs["web"].local_dir
    for name in ("huge.img", "grows.bin"):
        with open(os.path.join(local, name), "wb") as f:
            f.write(b"small at first\n")
        os.chown(os.path.join(local, name), 65534, 65534)
    estimate = alloc.snapshot_estimate()
    assert estimate.archived_bytes < 1 << 10

    def grow(name: str, size: int, data: bytes = b"") -> None:
        def task():
            with open(os.path.join(local, name), "r+b") as f:
                f.write(data)
                f.truncate(size)
            return os.path.getsize(os.path.join(local, name))
        assert run_as_nobody(task) == size

    dest = base / "dest"
    dest.mkdir()
    mounting.tmpfs(dest, "4m")
    try:
        grow("huge.img", 1 << 40)
        with open(dest / "one.tar", "wb") as out:
            result = alloc.snapshot(out, room=RoomCheck(out.fileno(), str(dest)))
        assert "web/local/huge.img" not in [name for name, _ in result.skipped]
        assert os.path.getsize(dest / "one.tar") < 64 << 10
        with tarfile.open(dest / "one.tar") as tar:
            assert tar.getmember("web/local/huge.img").size == 1 << 40
        os.unlink(dest / "one.tar")

        grow("grows.bin", 6 << 20, os.urandom(6 << 20))
        with open(dest / "two.tar", "wb") as out:
            with pytest.raises(AllocDirError) as raised:
                alloc.snapshot(out, room=RoomCheck(out.fileno(), str(dest)))
            room = room_at(out.fileno())
        assert isinstance(raised.value.__cause__, NoRoomError)
        assert str(raised.value.__cause__).startswith("web/local/grows.bin needs 6.0 MiB")
        assert room.free > room.reserve
        assert os.path.getsize(dest / "two.tar") < 1 << 20
    finally:
        mounting.umount(dest)
    assert canary.state() == before


def test_nonroot_snapshot_leaves_out_a_secret_hard_linked_into_local(base):
    """Item 14 of issue 16: without root, secrets/ is a plain directory and a
    task can hard-link a secret into local/. read_at of the link refuses it;
    the snapshot does the same, and says so in what it left out."""
    work = nobody_dir(base)

    def scenario():
        a, web = alloc_with_a_secret(work)
        os.link(os.path.join(web.secrets_dir, "token"), os.path.join(web.local_dir, "tok"))
        with open(os.path.join(web.local_dir, "plain"), "w") as f:
            f.write("plain\n")
        os.link(os.path.join(web.local_dir, "plain"), os.path.join(web.local_dir, "plain2"))
        buf = io.BytesIO()
        result = a.snapshot(buf)
        with tarfile.open(fileobj=io.BytesIO(buf.getvalue())) as tar:
            names = tar.getnames()
        return {"secret in tar": b"s.secret-token" in buf.getvalue(), "names": names,
                "skipped": result.skipped}

    found = run_as_nobody(scenario)
    assert found["secret in tar"] is False
    assert "web/local/tok" not in found["names"]
    assert {"web/local/plain", "web/local/plain2"} <= set(found["names"])
    assert found["skipped"] == [
        ("web/local/tok", "hard-linked to a file in a secrets dir: not archived")]
