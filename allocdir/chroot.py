"""Embedding host files into a task dir for chroot isolation (Nomad's
``embedDirs``, ``createDir``, ``splitPath`` and ``linkOrCopy``)."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import AllocDirError


@dataclass(frozen=True)
class PathPerms:
    """A directory of a path with the mode and owner it has on the host
    (``uid``/``gid`` -1 when the host has no such directory)."""

    name: str
    mode: int
    uid: int = -1
    gid: int = -1


def split_path(path: str) -> list[PathPerms]:
    """``path`` and each of its parents, deepest first, with their host modes.

    A directory missing on the host gets the most permissive mode, 0o777.
    """
    result = []
    current = path
    while True:
        result.append(_perms_of(current))
        parent = os.path.dirname(os.path.normpath(current))
        if parent == current:
            return result
        current = parent


def _perms_of(path: str) -> PathPerms:
    try:
        st = os.stat(path)
    except OSError:
        return PathPerms(path, 0o777)
    return PathPerms(path, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)


def create_dir(base: str, rel: str) -> None:
    """Create ``rel`` inside ``base``, each level with the mode (and, when it
    is not root's, the owner) of the host directory of the same name."""
    for perms in reversed(split_path(rel)):
        target = os.path.join(base, perms.name.lstrip("/"))
        os.makedirs(target, mode=perms.mode, exist_ok=True)
        if perms.uid > 0 and perms.gid > 0:
            os.chown(target, perms.uid, perms.gid)


def link_or_copy(src: str, dst: str, uid: int, gid: int, mode: int) -> None:
    """Hard-link ``src`` to ``dst``, or copy it keeping ``mode`` and owner;
    an existing ``dst`` is left as it is (a restarted task rebuilds)."""
    if os.path.lexists(dst):
        return
    try:
        os.link(src, dst)
        return
    except OSError:
        pass
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    with os.fdopen(fd, "wb") as out, open(src, "rb") as source:
        shutil.copyfileobj(source, out, 1 << 20)
    os.chmod(dst, mode)
    if os.geteuid() == 0:
        os.chown(dst, uid, gid)


def embed_dirs(task_dir: str, entries: Mapping[str, str], skip: frozenset[str]) -> None:
    """Embed host paths into ``task_dir``: ``entries`` maps a host path to
    its path inside the task dir.

    Files are hard-linked or copied, directories recreated and walked
    breadth-first, symlinks recreated; other special files and missing
    sources are skipped, existing entries kept, and paths in ``skip`` (the
    client alloc root) never embedded.
    """
    pending = dict(entries)
    while pending:
        subdirs: dict[str, str] = {}
        for source, dest in pending.items():
            if os.path.normpath(source) in skip:
                continue
            try:
                st = os.stat(source)
            except FileNotFoundError:
                continue
            if not stat.S_ISDIR(st.st_mode):
                _embed_file(task_dir, source, dest, st)
                continue
            subdirs.update(_embed_directory(task_dir, source, dest, st))
        pending = subdirs


def _embed_file(task_dir: str, source: str, dest: str, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        return  # a FIFO or device would hang or misbehave when copied
    try:
        create_dir(task_dir, os.path.dirname(dest))
    except OSError as e:
        raise AllocDirError(f"Couldn't create destination directory for {dest}: {e}") from e
    link_or_copy(source, os.path.join(task_dir, dest.lstrip("/")), st.st_uid, st.st_gid,
                 stat.S_IMODE(st.st_mode))


def _embed_directory(task_dir: str, source: str, dest: str,
                     st: os.stat_result) -> dict[str, str]:
    dest_dir = os.path.join(task_dir, dest.lstrip("/"))
    existed = os.path.isdir(dest_dir)
    try:
        create_dir(task_dir, dest)
        if not existed:
            # Beyond Nomad, which takes these from a host path named like the
            # destination: the embedded directory looks like its source.
            os.chmod(dest_dir, stat.S_IMODE(st.st_mode))
            if os.geteuid() == 0:
                os.chown(dest_dir, st.st_uid, st.st_gid)
    except OSError as e:
        raise AllocDirError(f"Couldn't create destination directory {dest_dir}: {e}") from e
    try:
        with os.scandir(source) as it:
            children = sorted(it, key=lambda e: e.name)
    except OSError as e:
        raise AllocDirError(f"Couldn't read directory {source}: {e}") from e
    subdirs = {}
    for entry in children:
        host_entry = os.path.join(source, entry.name)
        task_entry = os.path.join(dest_dir, entry.name)
        if entry.is_dir(follow_symlinks=False):
            subdirs[host_entry] = os.path.join(dest, entry.name)
            continue
        if os.path.lexists(task_entry):
            continue
        _embed_entry(entry, host_entry, task_entry)
    return subdirs


def _embed_entry(entry: os.DirEntry, host_entry: str, task_entry: str) -> None:
    st = entry.stat(follow_symlinks=False)
    if stat.S_ISLNK(st.st_mode):
        try:
            os.symlink(os.readlink(host_entry), task_entry)
        except FileExistsError:
            pass
        except OSError as e:
            raise AllocDirError(f"Couldn't create symlink {task_entry}: {e}") from e
    elif stat.S_ISREG(st.st_mode):
        link_or_copy(host_entry, task_entry, st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))
