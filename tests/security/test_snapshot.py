"""Snapshotting while the task races: a subdirectory of local/ swapped for a
link to the host or into secrets/ mid-walk (case 10 of the hostile-task
issue), and trees deeper than Python's recursion limit (case 12)."""

from __future__ import annotations

import io
import os
import tarfile

from allocdir import AllocDirError

from tests.hostile import Canary, Racer, exchange, make_deep

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
