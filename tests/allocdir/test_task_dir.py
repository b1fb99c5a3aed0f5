"""``TaskDir.build``: layout, secrets tmpfs, shared alloc bind mount and the
chroot embedding (Nomad's EmbedNonexistent, EmbedDirs, CreateDir/SplitPath,
SkipAllocDir, MountSharedAlloc, the secret dir cases)."""

from __future__ import annotations

import os
import stat

import pytest

from allocdir import AllocDir

NOBODY = 65534
MARKER = ".nomad-mount"


def test_build_creates_task_layout(alloc, file_mode):
    td = alloc.new_task_dir("web")
    td.build(False, None)
    assert os.path.isdir(td.dir)
    assert os.path.isdir(td.local_dir)
    assert os.path.isdir(td.secrets_dir)
    tmp = os.path.join(td.dir, "tmp")
    assert file_mode(tmp) == 0o1777
    assert stat.filemode(os.lstat(tmp).st_mode) == "drwxrwxrwt"
    assert file_mode(td.dir) == 0o777
    # Nomad TestTaskDir_NonRoot: without a chroot ${TASK_DIR}/alloc does not exist.
    assert not os.path.lexists(td.shared_task_dir)


def test_build_defaults_and_is_idempotent(alloc):
    td = alloc.new_task_dir("web")
    td.build()
    with open(os.path.join(td.local_dir, "keep"), "w") as f:
        f.write("k")
    td.build()
    assert open(os.path.join(td.local_dir, "keep")).read() == "k"


@pytest.mark.root
def test_build_as_root_chowns_task_dirs_to_nobody(alloc):
    td = alloc.new_task_dir("web")
    td.build(False, None)
    for path in (td.dir, td.local_dir, os.path.join(td.dir, "tmp")):
        st = os.stat(path)
        assert (st.st_uid, st.st_gid) == (NOBODY, NOBODY), path


# ---------------------------------------------------------------- secrets (root)


@pytest.mark.root
def test_root_secret_dir_is_small_noexec_tmpfs_with_marker(alloc, mounts):
    """Nomad TestLinuxRootSecretDir, through the public API."""
    td = alloc.new_task_dir("web")
    td.build(False, None)
    entries = mounts.at(td.secrets_dir)
    assert len(entries) == 1, entries
    assert entries[0]["fstype"] == "tmpfs"
    assert "noexec" in entries[0]["options"]
    vfs = os.statvfs(td.secrets_dir)
    assert vfs.f_blocks * vfs.f_frsize == 1 << 20
    assert os.path.exists(os.path.join(td.secrets_dir, MARKER))
    assert os.path.isdir(td.secrets_dir) and not os.path.islink(td.secrets_dir)


@pytest.mark.root
def test_root_secret_dir_build_is_idempotent(alloc, mounts):
    td = alloc.new_task_dir("web")
    td.build(False, None)
    secret = os.path.join(td.secrets_dir, "token")
    with open(secret, "w") as f:
        f.write("testdata")
    td.build(False, None)  # second build: no second mount, data kept
    assert len(mounts.at(td.secrets_dir)) == 1
    assert open(secret).read() == "testdata"


@pytest.mark.root
def test_root_secret_dir_remounted_after_lost_mount(alloc, mounts):
    """Nomad TestMountSecretsDirs_RemountsAfterUnmount: the tmpfs went away
    (host reboot) but the directory is still there; a rebuild mounts again."""
    td = alloc.new_task_dir("web")
    td.build(False, None)
    mounts.umount(td.secrets_dir, detach=False)
    assert not mounts.is_mount(td.secrets_dir)
    td.build(False, None)
    assert len(mounts.at(td.secrets_dir)) == 1
    assert os.path.exists(os.path.join(td.secrets_dir, MARKER))


@pytest.mark.root
def test_root_unmount_all_removes_secret_dir_and_is_idempotent(alloc, mounts):
    td = alloc.new_task_dir("web")
    alloc.unmount_all()  # nothing built yet: not an error
    td.build(False, None)
    alloc.unmount_all()
    assert not mounts.is_mount(td.secrets_dir)
    assert not os.path.exists(td.secrets_dir)
    alloc.unmount_all()  # again: a noop
    assert mounts.under(alloc.alloc_dir) == []


@pytest.mark.root
def test_root_unmount_all_unmounts_dev_and_proc(alloc, mounts):
    td = alloc.new_task_dir("web")
    td.build(False, None)
    mounts.tmpfs(os.path.join(td.dir, "dev"), size="1m")
    mounts.proc(os.path.join(td.dir, "proc"))
    alloc.unmount_all()
    assert not mounts.is_mount(os.path.join(td.dir, "dev"))
    assert not mounts.is_mount(os.path.join(td.dir, "proc"))
    assert mounts.under(alloc.alloc_dir) == []


# ---------------------------------------------------------------- shared alloc (root)


@pytest.mark.root
def test_mount_shared_alloc(alloc, mounts):
    """Nomad TestAllocDir_MountSharedAlloc."""
    td1 = alloc.new_task_dir("web")
    td1.build(True, None)
    td2 = alloc.new_task_dir("web2")
    td2.build(True, None)
    with open(os.path.join(alloc.shared_dir, "bar"), "wb") as f:
        f.write(b"foo")
    for td in (td1, td2):
        assert mounts.is_mount(td.shared_task_dir)
        with open(os.path.join(td.shared_task_dir, "bar"), "rb") as f:
            assert f.read() == b"foo"
    # and the other way round: a task writes, the shared dir sees it
    with open(os.path.join(td1.shared_task_dir, "data", "from-task"), "w") as f:
        f.write("t")
    assert os.path.exists(os.path.join(alloc.shared_dir, "data", "from-task"))


@pytest.mark.root
def test_chroot_rebuild_does_not_stack_bind_mounts(alloc, mounts):
    td = alloc.new_task_dir("web")
    td.build(True, None)
    td.build(True, None)
    assert len(mounts.at(td.shared_task_dir)) == 1
    assert len(mounts.at(td.secrets_dir)) == 1


@pytest.mark.root
def test_chroot_mounts_over_existing_empty_shared_task_dir(alloc, mounts):
    """Nomad TestPathFuncs (pathExists/pathEmpty): an empty ``<task>/alloc``
    is mounted over."""
    td = alloc.new_task_dir("web")
    os.makedirs(td.shared_task_dir)
    td.build(True, None)
    assert len(mounts.at(td.shared_task_dir)) == 1
    assert set(os.listdir(td.shared_task_dir)) >= {"data", "logs", "tmp"}


@pytest.mark.root
def test_chroot_never_mounts_over_non_empty_shared_task_dir(alloc, mounts):
    """... and a non-empty one is left alone, its content visible (pathEmpty false)."""
    td = alloc.new_task_dir("web")
    os.makedirs(td.shared_task_dir)
    with open(os.path.join(td.shared_task_dir, "mine"), "w") as f:
        f.write("task content")
    td.build(True, None)
    assert not mounts.is_mount(td.shared_task_dir)
    assert open(os.path.join(td.shared_task_dir, "mine")).read() == "task content"


# ---------------------------------------------------------------- chroot embedding


def test_embed_nonexistent_is_skipped(alloc):
    """Nomad TestTaskDir_EmbedNonexistent."""
    td = alloc.new_task_dir("web")
    fake = "/foobarbaz-allocdir-test-does-not-exist"
    td.build(True, {fake: fake})
    assert not os.path.lexists(os.path.join(td.dir, fake.lstrip("/")))


def _host_tree(tmp_path):
    host = tmp_path / "host"
    (host / "subdir").mkdir(parents=True)
    (host / "foo").write_bytes(b"a")
    (host / "subdir" / "bar").write_bytes(b"b" * 10)
    return host


def test_embed_dirs(alloc, tmp_path):
    """Nomad TestTaskDir_EmbedDirs: files and a subdirectory's files are embedded."""
    host = _host_tree(tmp_path)
    os.chmod(host / "foo", 0o751)
    os.chmod(host / "subdir" / "bar", 0o604)
    td = alloc.new_task_dir("web")
    td.build(True, {str(host): "bin/test/"})
    foo = os.path.join(td.dir, "bin", "test", "foo")
    bar = os.path.join(td.dir, "bin", "test", "subdir", "bar")
    assert open(foo, "rb").read() == b"a"
    assert open(bar, "rb").read() == b"b" * 10
    assert stat.S_IMODE(os.stat(foo).st_mode) == 0o751
    assert stat.S_IMODE(os.stat(bar).st_mode) == 0o604


def test_embed_absolute_destination_lands_inside_task_dir(alloc, tmp_path):
    host = _host_tree(tmp_path)
    td = alloc.new_task_dir("web")
    td.build(True, {str(host): "/opt/app"})
    assert os.path.isfile(os.path.join(td.dir, "opt", "app", "foo"))
    assert os.path.isfile(os.path.join(td.dir, "opt", "app", "subdir", "bar"))


def test_embed_single_file(alloc, tmp_path):
    src = tmp_path / "resolv.conf"
    src.write_text("nameserver 10.0.0.1\n")
    os.chmod(src, 0o644)
    td = alloc.new_task_dir("web")
    td.build(True, {str(src): "/etc/resolv.conf"})
    dst = os.path.join(td.dir, "etc", "resolv.conf")
    assert open(dst).read() == "nameserver 10.0.0.1\n"
    assert stat.S_IMODE(os.stat(dst).st_mode) == 0o644


def test_embed_recreates_symlinks_and_skips_special_files(alloc, tmp_path, blocking):
    host = _host_tree(tmp_path)
    os.symlink("foo", host / "rel-link")
    os.symlink("/definitely/not/here", host / "dangling")
    os.mkfifo(host / "pipe")
    blocking.watch_fifo(host / "pipe")
    td = alloc.new_task_dir("web")
    blocking.run(td.build, True, {str(host): "srv"}, timeout=20)
    dest = os.path.join(td.dir, "srv")
    assert os.readlink(os.path.join(dest, "rel-link")) == "foo"
    assert os.readlink(os.path.join(dest, "dangling")) == "/definitely/not/here"
    assert not os.path.lexists(os.path.join(dest, "pipe"))


def test_embed_keeps_existing_entries(alloc, tmp_path):
    host = _host_tree(tmp_path)
    td = alloc.new_task_dir("web")
    td.build(False, None)
    dest = os.path.join(td.dir, "srv")
    os.makedirs(dest)
    with open(os.path.join(dest, "foo"), "wb") as f:
        f.write(b"task's own")
    td.build(True, {str(host): "srv"})
    assert open(os.path.join(dest, "foo"), "rb").read() == b"task's own"
    assert open(os.path.join(dest, "subdir", "bar"), "rb").read() == b"b" * 10
    # embedding again (a restarted task) is fine too
    td.build(True, {str(host): "srv"})


def test_embed_does_not_write_through_to_host(alloc, tmp_path):
    """Whether hard-linked or copied, the host file's content is unchanged."""
    host = _host_tree(tmp_path)
    td = alloc.new_task_dir("web")
    td.build(True, {str(host): "srv"})
    assert (host / "foo").read_bytes() == b"a"
    assert sorted(os.listdir(host)) == ["foo", "subdir"]


def test_embed_nested_dirs_keep_source_modes(alloc, tmp_path):
    """Nomad TestAllocDir_CreateDir/SplitPath: every directory on the way is
    created with the mode of the host directory it mirrors."""
    base = tmp_path / "hostroot"
    subdir = base / "lvl1" / "lvl2" / "subdir"
    subdir.mkdir(parents=True)
    (subdir / "f").write_text("x")
    modes = {base / "lvl1": 0o751, base / "lvl1" / "lvl2": 0o705, subdir: 0o750}
    for p, m in modes.items():
        os.chmod(p, m)
    td = alloc.new_task_dir("web")
    # As Nomad's default chroot_env does, the destination mirrors the host path.
    td.build(True, {str(base / "lvl1"): str(base / "lvl1")})
    for p, m in modes.items():
        embedded = os.path.join(td.dir, str(p).lstrip("/"))
        assert os.path.isdir(embedded), embedded
        assert stat.S_IMODE(os.stat(embedded).st_mode) == m, (embedded, oct(m))
    assert open(os.path.join(td.dir, str(subdir / "f").lstrip("/"))).read() == "x"


@pytest.mark.root
def test_embed_keeps_file_owner(alloc, tmp_path):
    host = _host_tree(tmp_path)
    os.chown(host / "foo", 1234, 5678)
    os.chown(host / "subdir" / "bar", 2345, 6789)
    td = alloc.new_task_dir("web")
    td.build(True, {str(host): "srv"})
    st = os.stat(os.path.join(td.dir, "srv", "foo"))
    assert (st.st_uid, st.st_gid) == (1234, 5678)
    st = os.stat(os.path.join(td.dir, "srv", "subdir", "bar"))
    assert (st.st_uid, st.st_gid) == (2345, 6789)


@pytest.mark.root
def test_embed_keeps_directory_owner(alloc, tmp_path):
    """Nomad's createDir chowns each directory it creates to the host one's owner."""
    host = _host_tree(tmp_path)
    os.chown(host / "subdir", 4321, 8765)
    td = alloc.new_task_dir("web")
    td.build(True, {str(host): "srv"})
    st = os.stat(os.path.join(td.dir, "srv", "subdir"))
    assert (st.st_uid, st.st_gid) == (4321, 8765)


@pytest.mark.root
def test_skip_alloc_dir(tmp_path, mounts):
    """Nomad TestAllocDir_SkipAllocDir: a chroot containing the client alloc
    root does not embed it (no infinite recursion)."""
    root_dir = tmp_path / "root"
    client_alloc_dir = root_dir / "nomad"
    client_alloc_dir.mkdir(parents=True, mode=0o777)
    (root_dir / "etc").mkdir(mode=0o777)
    (root_dir / "etc" / "hosts").write_text("127.0.0.1 localhost\n")

    d = AllocDir(client_alloc_dir / "test")
    td = d.new_task_dir("testtask")
    d.build()
    try:
        td.build(True, {str(root_dir): "/"})
        assert os.path.isdir(client_alloc_dir / "test" / "testtask" / "etc")
        assert (client_alloc_dir / "test" / "testtask" / "etc" / "hosts").exists()
        assert not os.path.lexists(client_alloc_dir / "test" / "testtask" / "nomad")
    finally:
        d.destroy()
    assert mounts.under(client_alloc_dir) == []
