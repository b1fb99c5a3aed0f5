"""``AllocDir.destroy`` and ``unmount_all``: unmounts what allocdir mounted,
never deletes through a mount point that is still mounted (a bind mount of a
same-fs directory included), reports failures in one ``AllocDirError``."""

from __future__ import annotations

import os

import pytest

from allocdir import AllocDir, AllocDirError


def _precious(tmp_path, name="precious"):
    d = tmp_path / name
    (d / "sub").mkdir(parents=True)
    (d / "keep.txt").write_text("do not delete")
    (d / "sub" / "deep.txt").write_text("me neither")
    return d


def _intact(d) -> bool:
    return ((d / "keep.txt").read_text() == "do not delete"
            and (d / "sub" / "deep.txt").read_text() == "me neither")


def test_destroy_removes_everything(alloc_with_task):
    a = alloc_with_task
    with open(os.path.join(a.task_dirs["web"].local_dir, "f"), "w") as f:
        f.write("x")
    a.destroy()
    assert not os.path.exists(a.alloc_dir)
    assert not a.is_built
    a.destroy()  # already gone: not an error


def test_destroy_does_not_follow_symlinks(alloc_with_task, tmp_path):
    precious = _precious(tmp_path)
    local = alloc_with_task.task_dirs["web"].local_dir
    os.symlink(precious, os.path.join(local, "link-to-dir"))
    os.symlink(precious / "keep.txt", os.path.join(local, "link-to-file"))
    alloc_with_task.destroy()
    assert not os.path.exists(alloc_with_task.alloc_dir)
    assert _intact(precious)


@pytest.mark.root
def test_destroy_unmounts_what_build_mounted(alloc, mounts):
    for name in ("web", "web2"):
        alloc.new_task_dir(name).build(True, None)
    assert len(mounts.under(alloc.alloc_dir)) == 4  # 2 x (alloc bind + secrets tmpfs)
    shared_file = os.path.join(alloc.shared_dir, "data", "f")
    with open(shared_file, "w") as f:
        f.write("x")
    alloc.destroy()
    assert mounts.under(alloc.alloc_dir) == []
    assert not os.path.exists(alloc.alloc_dir)


@pytest.mark.root
def test_unmount_all_unmounts_and_removes_shared_task_dir(alloc, mounts):
    td = alloc.new_task_dir("web")
    td.build(True, None)
    with open(os.path.join(alloc.shared_dir, "data", "keep"), "w") as f:
        f.write("shared data survives")
    alloc.unmount_all()
    assert mounts.under(alloc.alloc_dir) == []
    assert not os.path.lexists(td.shared_task_dir)
    assert not os.path.exists(td.secrets_dir)
    # unmounting did not delete through the bind mount
    assert open(os.path.join(alloc.shared_dir, "data", "keep")).read() == "shared data survives"
    alloc.unmount_all()


@pytest.mark.root
@pytest.mark.parametrize("where", ["web/local/mnt", "alloc/data/a/b/c/mnt", "web/local/my mnt"])
def test_destroy_never_deletes_through_same_fs_bind_mount(alloc, tmp_path, mounts, where):
    alloc.new_task_dir("web").build(False, None)
    precious = _precious(tmp_path)
    target = os.path.join(alloc.alloc_dir, where)
    mounts.bind(precious, target)
    assert os.stat(target).st_dev == os.stat(alloc.alloc_dir).st_dev  # same fs
    with pytest.raises(AllocDirError) as info:
        alloc.destroy()
    assert _intact(precious)
    assert mounts.is_mount(target)
    text = str(info.value) + " ".join(str(e) for e in info.value.errors)
    assert target in text or where in text, text


@pytest.mark.root
def test_destroy_never_deletes_through_other_fs_mount(alloc, mounts):
    alloc.new_task_dir("web").build(False, None)
    target = os.path.join(alloc.alloc_dir, "web", "local", "cache")
    mounts.tmpfs(target, size="1m")
    with open(os.path.join(target, "k"), "w") as f:
        f.write("tmpfs content")
    with pytest.raises(AllocDirError):
        alloc.destroy()
    assert open(os.path.join(target, "k")).read() == "tmpfs content"


@pytest.mark.root
def test_destroy_aggregates_errors(alloc, tmp_path, mounts):
    alloc.new_task_dir("web").build(True, None)
    alloc.new_task_dir("web2").build(False, None)
    p1, p2 = _precious(tmp_path, "p1"), _precious(tmp_path, "p2")
    t1 = os.path.join(alloc.alloc_dir, "web", "local", "m1")
    t2 = os.path.join(alloc.alloc_dir, "web2", "local", "m2")
    mounts.bind(p1, t1)
    mounts.bind(p2, t2)
    with pytest.raises(AllocDirError) as info:
        alloc.destroy()
    err = info.value
    assert isinstance(err.errors, list) and len(err.errors) >= 2
    text = " ".join(str(e) for e in err.errors)
    assert "m1" in text and "m2" in text
    assert _intact(p1) and _intact(p2)
    # allocdir's own mounts were still released
    for td in alloc.task_dirs.values():
        assert not mounts.is_mount(td.shared_task_dir)
        assert not mounts.is_mount(td.secrets_dir)


@pytest.mark.root
def test_destroy_after_foreign_mount_is_gone_succeeds(alloc, tmp_path, mounts):
    alloc.new_task_dir("web").build(False, None)
    precious = _precious(tmp_path)
    target = os.path.join(alloc.alloc_dir, "web", "local", "mnt")
    mounts.bind(precious, target)
    with pytest.raises(AllocDirError):
        alloc.destroy()
    mounts.umount(target, detach=False)
    alloc.destroy()
    assert not os.path.exists(alloc.alloc_dir)
    assert _intact(precious)


def test_destroy_of_never_built_dir(client_root):
    d = AllocDir(client_root / "never")
    d.new_task_dir("web")
    d.destroy()
    assert not os.path.exists(d.alloc_dir)


def test_unmount_all_removes_plain_dev_and_proc(alloc_with_task):
    """As Nomad's unmountSpecialDirs: not mounted (EINVAL) is no error, and
    dev/ and proc/ are then removed, whatever they hold."""
    web = alloc_with_task.task_dirs["web"]
    for name in ("dev", "proc"):
        os.makedirs(os.path.join(web.dir, name, "sub"))
        with open(os.path.join(web.dir, name, "sub", "f"), "w") as f:
            f.write("the task's")
    alloc_with_task.unmount_all()
    assert not os.path.lexists(os.path.join(web.dir, "dev"))
    assert not os.path.lexists(os.path.join(web.dir, "proc"))
    assert os.path.isdir(web.local_dir)
    alloc_with_task.unmount_all()  # nothing left to take down: not an error


def test_unmount_all_removes_dev_and_proc_links_without_following_them(alloc_with_task,
                                                                       tmp_path):
    precious = _precious(tmp_path)
    web = alloc_with_task.task_dirs["web"]
    os.symlink(precious, os.path.join(web.dir, "dev"))
    os.symlink(precious / "keep.txt", os.path.join(web.dir, "proc"))
    alloc_with_task.unmount_all()
    assert not os.path.lexists(os.path.join(web.dir, "dev"))
    assert not os.path.lexists(os.path.join(web.dir, "proc"))
    assert _intact(precious)


@pytest.mark.root
def test_a_mount_inside_a_plain_dev_is_never_deleted_through(alloc_with_task, tmp_path,
                                                             mounts):
    """dev/ is not mounted but holds a bind mount of a host dir: dev/ is
    removed around it, the mount is reported and its content kept."""
    precious = _precious(tmp_path)
    web = alloc_with_task.task_dirs["web"]
    inner = os.path.join(web.dir, "dev", "pts")
    mounts.bind(precious, inner)
    with pytest.raises(AllocDirError) as raised:
        alloc_with_task.unmount_all()
    assert "still mounted" in str(raised.value) and "dev/pts" in str(raised.value)
    assert mounts.is_mount(inner)
    assert _intact(precious)
