"""The unprivileged path, for real: a forked child drops to ``nobody`` and
builds, uses and destroys alloc dirs (Nomad's TestTaskDir_NonRoot and
TestLinuxUnprivilegedSecretDir)."""

from __future__ import annotations

import io
import os
import stat
import tarfile

import pytest

NOBODY = 65534


def _is_mount(path: str) -> bool:
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        return any(line.split(" ")[4] == path for line in f)


def _nonroot_lifecycle(workdir: str) -> dict:
    from allocdir import AllocDir, SecretReadError

    r: dict = {"euid": os.geteuid()}
    root = os.path.join(workdir, "client", "alloc")
    os.makedirs(root)
    d = AllocDir(os.path.join(root, "nralloc"))
    td = d.new_task_dir("web")
    d.build()
    r["built"] = d.is_built
    r["alloc_mode"] = stat.S_IMODE(os.stat(d.alloc_dir).st_mode)
    r["shared_mode"] = stat.S_IMODE(os.stat(d.shared_dir).st_mode)
    r["shared_owner"] = os.stat(d.shared_dir).st_uid
    r["shared_subdirs"] = sorted(os.listdir(d.shared_dir))

    # Nomad TestTaskDir_NonRoot: no isolation, no ${TASK_DIR}/alloc.
    td.build(False, None)
    r["task_dirs_exist"] = all(os.path.isdir(p) for p in (td.dir, td.local_dir, td.secrets_dir))
    r["tmp_mode"] = stat.S_IMODE(os.stat(os.path.join(td.dir, "tmp")).st_mode)
    r["shared_task_dir_exists"] = os.path.lexists(td.shared_task_dir)

    # TestLinuxUnprivilegedSecretDir: a plain dir, idempotent, removable.
    r["secrets_is_mount"] = _is_mount(td.secrets_dir)
    with open(os.path.join(td.secrets_dir, "tok"), "w") as f:
        f.write("s")
    td.build(False, None)
    r["secret_survives_rebuild"] = open(os.path.join(td.secrets_dir, "tok")).read() == "s"
    try:
        d.read_at("web/secrets/tok", 0)
        r["secret_refused"] = False
    except SecretReadError:
        r["secret_refused"] = True

    # Chroot build as nobody: no bind mount, embedding still works.
    host = os.path.join(workdir, "host")
    os.makedirs(os.path.join(host, "sub"))
    with open(os.path.join(host, "sub", "f"), "w") as f:
        f.write("embedded")
    td2 = d.new_task_dir("chrooted")
    td2.build(True, {host: "opt"})
    r["chroot_embedded"] = open(os.path.join(td2.dir, "opt", "sub", "f")).read()
    r["chroot_alloc_is_mount"] = _is_mount(td2.shared_task_dir)

    # Reads and snapshot work unprivileged.
    with open(os.path.join(td.local_dir, "out.txt"), "w") as f:
        f.write("hello from nobody\n")
    r["stat_type"] = d.stat("web/local/out.txt").content_type
    with d.read_at("web/local/out.txt", 6) as f:
        r["read_at"] = f.read().decode()
    buf = io.BytesIO()
    d.snapshot(buf)
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tf:
        r["snapshot_names"] = sorted(tf.getnames())

    # unmount_all removes secrets (idempotently), destroy removes everything.
    d.unmount_all()
    r["secrets_after_unmount_all"] = os.path.exists(td.secrets_dir)
    d.unmount_all()
    d.destroy()
    r["exists_after_destroy"] = os.path.exists(d.alloc_dir)
    r["built_after_destroy"] = d.is_built
    return r


@pytest.mark.root
def test_nonroot_lifecycle(nobody):
    r = nobody.run(_nonroot_lifecycle, nobody.workdir)
    assert r["euid"] == NOBODY
    assert r["built"] is True
    assert r["alloc_mode"] == 0o755
    assert r["shared_mode"] == 0o777
    assert r["shared_owner"] == NOBODY
    assert r["shared_subdirs"] == ["data", "logs", "tmp"]
    assert r["task_dirs_exist"] is True
    assert r["tmp_mode"] == 0o1777
    assert r["shared_task_dir_exists"] is False
    assert r["secrets_is_mount"] is False
    assert r["secret_survives_rebuild"] is True
    assert r["secret_refused"] is True
    assert r["chroot_embedded"] == "embedded"
    assert r["chroot_alloc_is_mount"] is False
    assert r["stat_type"] == "text/plain; charset=utf-8"
    assert r["read_at"] == "from nobody\n"
    assert "web/local/out.txt" in r["snapshot_names"]
    assert r["secrets_after_unmount_all"] is False
    assert r["exists_after_destroy"] is False
    assert r["built_after_destroy"] is False


def _unprivileged_temp_alloc_dir(_workdir: str) -> dict:
    from allocdir.testing import temp_alloc_dir

    with temp_alloc_dir(alloc_id="nobody-alloc") as d:
        td = d.new_task_dir("web")
        td.build(False, None)
        path = d.alloc_dir
        ok = os.path.isdir(td.secrets_dir)
    return {"ok": ok, "gone": not os.path.exists(path)}


@pytest.mark.root
def test_nonroot_temp_alloc_dir(nobody):
    r = nobody.run(_unprivileged_temp_alloc_dir, nobody.workdir)
    assert r == {"ok": True, "gone": True}
