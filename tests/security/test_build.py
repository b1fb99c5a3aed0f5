"""Building over what a task left: symlinks where the layout wants
directories (cases 3, 4, 5 of the hostile-task issue) and task names that
are paths (case 6)."""

from __future__ import annotations

import os

import pytest

from allocdir import AllocDir, AllocDirError, UnsafePathError
from tests import mounting

from tests.hostile import Racer, exchange


@pytest.mark.parametrize("where", ["web/local", "web/tmp", "web/secrets", "alloc/data",
                                   "alloc/logs", "alloc/tmp"])
def test_rebuild_replaces_a_planted_link_and_never_chmods_the_host(alloc, canary, where):
    before = canary.state()
    path = os.path.join(alloc.alloc_dir, where)
    if where == "web/secrets":
        mounting.umount(path)  # a task cannot unmount, but a crash between builds can
    os.rename(path, path + ".old")
    os.symlink(canary.root, path)
    alloc.build()
    alloc.task_dirs["web"].build()
    assert os.path.isdir(path) and not os.path.islink(path)
    assert canary.state() == before


def test_rebuild_never_chmods_etc(alloc):
    before = os.stat("/etc")
    local = alloc.task_dirs["web"].local_dir
    os.rmdir(local)
    os.symlink("/etc", local)
    try:
        alloc.task_dirs["web"].build()
        after = os.stat("/etc")
    finally:  # a regression must not leave the machine's /etc world-writable
        os.chown("/etc", before.st_uid, before.st_gid)
        os.chmod("/etc", before.st_mode & 0o7777)
    assert (after.st_mode, after.st_uid, after.st_gid) == (before.st_mode, before.st_uid,
                                                           before.st_gid)


def test_build_racing_a_task_swapping_its_dirs_for_links(alloc, canary):
    """Case 3, raced: the task flips local/ and alloc/data with symlinks to the
    host as fast as it can while the client rebuilds."""
    before = canary.state()
    web = alloc.task_dirs["web"]
    pairs = [(web.local_dir, os.path.join(web.dir, "evil")),
             (os.path.join(alloc.shared_dir, "data"), os.path.join(alloc.shared_dir, "evil"))]
    for _, link in pairs:
        os.symlink(canary.root, link)
        os.lchown(link, 65534, 65534)

    def swap():
        for real, link in pairs:
            try:
                exchange(real, link)
            except FileNotFoundError:
                if not os.path.lexists(link):
                    os.symlink(canary.root, link)

    builds = errors = 0
    with Racer(swap) as racer:
        for _ in range(300):
            try:
                alloc.build()
                web.build()
                builds += 1
            except (AllocDirError, OSError):
                errors += 1
    assert racer.done > 100, "the task never got to race"
    assert builds > 0
    assert canary.state() == before


def test_chroot_rebuild_refuses_a_planted_link(alloc, canary, base):
    """Case 4: web/etc swapped for a link to the host, then a chroot rebuild."""
    host = base / "hostroot"
    (host / "etc" / "ssl").mkdir(parents=True)
    (host / "etc" / "hosts").write_text("127.0.0.1 localhost\n")
    (host / "etc" / "ssl" / "cert.pem").write_text("cert\n")
    web = alloc.task_dirs["web"]
    web.build(create_chroot=True, chroot={str(host / "etc"): "etc"})
    assert (os.path.join(web.dir, "etc", "hosts"))
    before = canary.state()
    etc = os.path.join(web.dir, "etc")
    os.rename(etc, etc + ".old")
    os.symlink(canary.root, etc)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        web.build(create_chroot=True, chroot={str(host / "etc"): "etc"})
    # Deeper: a subdirectory of the embedded tree.
    os.unlink(etc)
    os.rename(etc + ".old", etc)
    ssl = os.path.join(etc, "ssl")
    os.rename(ssl, ssl + ".old")
    os.symlink(canary.root, ssl)
    with pytest.raises(AllocDirError):
        web.build(create_chroot=True, chroot={str(host / "etc"): "etc"})
    assert canary.state() == before


def test_chroot_build_never_mounts_alloc_over_the_host(alloc, canary):
    """Case 5: web/alloc a link to the host before a chroot build."""
    before = canary.state()
    web = alloc.new_task_dir("api")
    os.makedirs(web.dir)
    os.symlink(canary.root, web.shared_task_dir)
    web.build(create_chroot=True)
    assert not mounting.is_mount(canary.root)
    assert canary.state() == before
    assert not os.path.islink(web.shared_task_dir)
    assert mounting.is_mount(web.shared_task_dir)


@pytest.mark.parametrize("name", ["..", ".", "", "../x", "x/..", "a/b", "/abs", "x\x00",
                                  "alloc"])
def test_task_names_that_are_paths_are_refused(alloc, name, base):
    before = sorted(os.listdir(base)), sorted(os.listdir(alloc.alloc_dir))
    with pytest.raises(ValueError, match="task name"):
        alloc.new_task_dir(name)
    assert (sorted(os.listdir(base)), sorted(os.listdir(alloc.alloc_dir))) == before


def test_discover_skips_what_cannot_be_a_task(alloc):
    os.symlink("/etc", os.path.join(alloc.alloc_dir, "linked"))
    found = AllocDir.discover(alloc.alloc_dir)
    assert sorted(found.task_dirs) == ["web"]


def test_a_chroot_task_dir_is_not_taken_for_an_alloc_dir(alloc):
    """Its alloc/ is the shared dir bind-mounted: data, logs, tmp and all."""
    from allocdir import PathKind, is_alloc_dir, recognize

    web = alloc.new_task_dir("api")
    web.build(create_chroot=True)
    assert mounting.is_mount(web.shared_task_dir)
    assert not is_alloc_dir(web.dir)
    assert recognize(alloc.alloc_dir).kind is PathKind.ALLOC_DIR
    assert recognize(web.dir).kind is not PathKind.ALLOC_DIR
