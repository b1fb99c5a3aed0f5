"""Tearing down over what a task left: links in place of mount points
(cases 1 and 2 of the hostile-task issue), a racing task, trees deeper than
the fd limit (case 12), and what Nomad removes after unmounting."""

from __future__ import annotations

import os
import resource

import pytest

from allocdir import AllocDir, AllocDirError, dirfd
from tests import mounting

from tests.hostile import Racer, TaskInItsOwnMounts, depth_of, exchange, make_deep


@pytest.mark.parametrize("teardown", ["destroy", "unmount_all"])
def test_alloc_link_to_the_host_is_removed_not_followed(alloc, canary, teardown):
    """Case 1: web/alloc replaced by a link to a host dir."""
    before = canary.state()
    web = alloc.task_dirs["web"]
    os.rmdir(web.shared_task_dir) if os.path.isdir(web.shared_task_dir) else None
    os.symlink(canary.root, web.shared_task_dir)
    try:
        getattr(alloc, teardown)()
    except AllocDirError:
        pass
    assert canary.state() == before
    assert not os.path.lexists(web.shared_task_dir)


@pytest.mark.parametrize("name", ["dev", "proc", "alloc", "secrets"])
def test_links_to_a_host_mount_are_never_unmounted(alloc, canary, name):
    """Case 2: web/dev, web/proc or web/alloc a link to a host mount point."""
    before = canary.state()
    web = alloc.task_dirs["web"]
    path = os.path.join(web.dir, name)
    if name == "secrets":
        mounting.umount(path)
    if os.path.isdir(path):
        os.rmdir(path)
    os.symlink(canary.mount, path)
    alloc.unmount_all()
    assert mounting.is_mount(canary.mount)
    assert canary.state() == before


def test_destroy_racing_a_task_that_swaps_alloc_for_a_link(client_root, canary):
    """Case 1, raced: while the client tears down, the task keeps swapping its
    alloc/ (a real directory with a file) and a link to the host."""
    before = canary.state()
    rounds = swaps = 0
    for i in range(40):
        a = AllocDir(client_root / f"alloc-{i}")
        a.build()
        web = a.new_task_dir("web")
        web.build()
        os.makedirs(web.shared_task_dir, exist_ok=True)
        os.chown(web.shared_task_dir, 65534, 65534)
        link = os.path.join(web.dir, "evil")
        os.symlink(canary.root, link)
        os.lchown(link, 65534, 65534)

        def swap(real=web.shared_task_dir, link=link):
            exchange(real, link)

        with Racer(swap) as racer:
            try:
                a.destroy()
            except AllocDirError:
                pass
        rounds += 1
        swaps += racer.done
        if os.path.lexists(a.alloc_dir):
            a.destroy()
    assert rounds == 40 and swaps > 40, "the task never got to race"
    assert canary.state() == before


def test_unmount_all_removes_dev_and_proc_once_unmounted(alloc):
    """As Nomad does: dev/ and proc/ go after they are unmounted, and a
    plain directory of that name (never mounted) goes too."""
    web = alloc.task_dirs["web"]
    dev, proc = os.path.join(web.dir, "dev"), os.path.join(web.dir, "proc")
    os.makedirs(dev)
    os.makedirs(proc)
    mounting.tmpfs(dev, "1m")
    mounting.mount("proc", proc, "proc", 0, None)
    alloc.unmount_all()
    assert not os.path.lexists(dev) and not os.path.lexists(proc)
    os.makedirs(dev)
    with open(os.path.join(dev, "mine"), "w") as f:
        f.write("a task's own file")
    alloc.unmount_all()
    assert not os.path.lexists(dev)


def _destroy_with_fd_limit(alloc_dir: str, limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    AllocDir.discover(alloc_dir).destroy()


def test_destroy_reclaims_a_tree_deeper_than_the_fd_limit(alloc):
    """Case 12: 1,100 levels under ``ulimit -n 1024``."""
    make_deep(alloc.task_dirs["web"].local_dir, 1100)
    assert depth_of(alloc.task_dirs["web"].local_dir) == 1100
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            _destroy_with_fd_limit(alloc.alloc_dir, 1024)
        except BaseException as e:  # reported through the exit status
            os.write(2, f"{e!r}\n".encode())
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert not os.path.lexists(alloc.alloc_dir)


@pytest.mark.parametrize("teardown", ["unmount_all", "destroy"])
@pytest.mark.parametrize("name", ["secrets", "dev", "proc", "alloc"])
def test_a_mount_point_swapped_for_a_link_to_a_host_mount_after_the_check(
        alloc, canary, monkeypatch, name, teardown):
    """The task moves web/<name> (a mount point) away and puts a link to a
    host mount in its place right after the library checked that web/<name>
    is a mount point, before it unmounts it: the unmount must not follow the
    link (UMOUNT_NOFOLLOW) and the host mount stays."""
    before = canary.state()
    web = alloc.task_dirs["web"]
    target, link = os.path.join(web.dir, name), os.path.join(web.dir, "evil")
    if name == "alloc":
        web.build(True, None)  # alloc/ bind-mounted into the task dir
    elif name in ("dev", "proc"):
        os.mkdir(target)
        mounting.tmpfs(target, "1m")
    assert mounting.is_mount(target)
    os.symlink(canary.mount, link)
    checked = dirfd.is_mount_root

    with TaskInItsOwnMounts([target], target, link) as task:
        def then_swapped(dir_fd: int, entry: str = "") -> bool:
            answer = checked(dir_fd, entry)
            if answer and entry == name and not task.swaps:
                task.swap()  # the task wins the race, every time
            return answer

        monkeypatch.setattr(dirfd, "is_mount_root", then_swapped)
        try:
            getattr(alloc, teardown)()
        except AllocDirError:
            pass  # the moved mount point is reported: it is still mounted
        monkeypatch.undo()
    assert task.swaps == 1
    assert canary.state() == before
