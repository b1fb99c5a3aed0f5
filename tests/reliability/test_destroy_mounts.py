"""Destroy with mounts: nested bind mounts and tmpfs under task dirs, some
busy; destroy removes what it can, reports the rest, and never deletes a
byte of a mounted source."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from allocdir import AllocDir, AllocDirError, mounts
from tests import mounting

pytestmark = pytest.mark.skipif(not mounts.is_root(), reason="mounting needs root")


def _precious(root: str, name: str) -> str:
    path = os.path.join(root, name)
    os.makedirs(os.path.join(path, "nested"))
    for rel in ("keep.txt", "nested/keep.bin"):
        with open(os.path.join(path, rel), "wb") as f:
            f.write(b"do not delete " + rel.encode())
    return path


def _snapshot_tree(path: str) -> dict[str, bytes]:
    result = {}
    for dirpath, _, files in os.walk(path):
        for name in files:
            full = os.path.join(dirpath, name)
            with open(full, "rb") as f:
                result[os.path.relpath(full, path)] = f.read()
    return result


def test_destroy_never_deletes_through_mounts(tmp_path, soak, figures):
    rounds = 10 if soak else 3
    failures, reported = 0, 0
    for r in range(rounds):
        alloc = AllocDir(os.path.join(tmp_path, f"alloc-{r}"))
        alloc.build()
        task = alloc.new_task_dir("web")
        task.build(create_chroot=True)
        sources = [_precious(str(tmp_path), f"src-{r}-{i}") for i in range(3)]
        before = {s: _snapshot_tree(s) for s in sources}
        targets = [os.path.join(task.local_dir, "bind"),                 # bind, same fs
                   os.path.join(task.local_dir, "deep", "er", "bind"),   # nested deeper
                   os.path.join(alloc.shared_dir, "data", "busy")]      # bind, kept busy
        for source, target in zip(sources, targets, strict=True):
            os.makedirs(target)
            mounting.bind(source, target)
        tmpfs = os.path.join(task.local_dir, "scratch")
        os.makedirs(tmpfs)
        mounting.tmpfs(tmpfs, "1m")
        with open(os.path.join(tmpfs, "in-tmpfs"), "wb") as f:
            f.write(b"tmpfs data")
        busy = subprocess.Popen(["sleep", "30"], cwd=targets[2])
        time.sleep(0.05)
        try:
            with pytest.raises(AllocDirError) as info:
                alloc.destroy()
            reported += len(info.value.errors)
        finally:
            busy.kill()
            busy.wait()
        after = {s: _snapshot_tree(s) for s in sources}
        still_there = all(os.path.isdir(t) for t in targets) and os.path.exists(
            os.path.join(tmpfs, "in-tmpfs"))
        removed_rest = not os.path.exists(os.path.join(task.dir, "tmp")) and not os.path.exists(
            os.path.join(alloc.shared_dir, "logs"))
        if after != before or not still_there or not removed_rest:
            failures += 1
        for point in mounts.mounts_under(os.path.realpath(alloc.alloc_dir)):
            mounts.unmount(point, lazy=True)
        alloc.destroy()  # with the mounts gone, the rest goes
        if os.path.exists(alloc.alloc_dir) or {s: _snapshot_tree(s) for s in sources} != before:
            failures += 1
    figures.update(attempts=rounds, failures=failures, errors_reported=reported)
    assert failures == 0
