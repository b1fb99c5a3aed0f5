"""Embedding host files into a task dir for chroot isolation (Nomad's
``embedDirs``, ``createDir``, ``splitPath`` and ``linkOrCopy``).

The host side (the ``chroot`` map's sources) is the operator's and is read by
path. The task side is the task's: every directory there is reached from the
task dir's fd without following a symlink, and every entry is created with
``*at()`` calls, so a link the task planted (``web/etc -> /etc``) makes the
build fail instead of writing into the host.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass

from . import dirfd
from .errors import AllocDirError
from .fsops import copy_content


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


def _components(rel: str) -> list[str]:
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise AllocDirError(f"chroot destination {rel!r} climbs out of the task dir")
    return parts


def create_dir(task_fd: int, task_dir: str, rel: str,
               last: os.stat_result | None = None) -> int:
    """Create ``rel`` inside the task dir, each new level with the mode (and,
    when it is not root's, the owner) of the host directory of the same name,
    and return the deepest one opened. ``last``, if given, is the host
    directory being embedded there: a new deepest level takes its mode and
    owner instead. Existing directories are kept as they are."""
    parts = _components(rel)
    fd = os.dup(task_fd)
    try:
        for depth, part in enumerate(parts, 1):
            prefix = "/".join(parts[:depth])
            where = f"{task_dir}/{prefix}"
            created = _mkdir(fd, part)
            child = dirfd.open_dir_at(fd, part, where)
            os.close(fd)
            fd = child
            perms = _perms_of("/" + prefix)
            if created and last is not None and depth == len(parts):
                # Beyond Nomad, which takes these from a host path named like
                # the destination: the embedded directory looks like its source.
                perms = PathPerms(prefix, stat.S_IMODE(last.st_mode), last.st_uid, last.st_gid)
            if created:
                os.fchmod(fd, perms.mode)
            if perms.uid > 0 and perms.gid > 0 and os.geteuid() == 0:
                os.fchown(fd, perms.uid, perms.gid)
        return fd
    except BaseException:
        os.close(fd)
        raise


def _mkdir(dir_fd: int, name: str) -> bool:
    try:
        os.mkdir(name, 0o700, dir_fd=dir_fd)
        return True
    except FileExistsError:
        return False


def link_or_copy(src: str, dir_fd: int, name: str, uid: int, gid: int, mode: int) -> None:
    """Hard-link the host file ``src`` as ``name`` in ``dir_fd``, or copy it
    keeping ``mode`` and owner; an existing entry is left as it is (a
    restarted task rebuilds)."""
    try:
        dirfd.lstat_at(dir_fd, name)
        return
    except FileNotFoundError:
        pass
    try:
        os.link(src, name, dst_dir_fd=dir_fd, follow_symlinks=False)
        return
    except OSError:
        pass
    source = os.open(src, dirfd.READ_FLAGS)
    try:
        out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                      | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
        try:
            copy_content(source, out)
            if os.geteuid() == 0:
                os.fchown(out, uid, gid)
            os.fchmod(out, mode)
        finally:
            os.close(out)
    finally:
        os.close(source)


def embed_dirs(task_fd: int, task_dir: str, entries: Mapping[str, str],
               skip: frozenset[str]) -> None:
    """Embed host paths into the task dir open as ``task_fd``: ``entries``
    maps a host path to its path inside the task dir.

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
                _embed_file(task_fd, task_dir, source, dest, st)
                continue
            subdirs.update(_embed_directory(task_fd, task_dir, source, dest, st))
        pending = subdirs


def _embed_file(task_fd: int, task_dir: str, source: str, dest: str,
                st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        return  # a FIFO or device would hang or misbehave when copied
    parts = _components(dest)
    if not parts:
        raise AllocDirError(f"chroot destination {dest!r} names no file")
    try:
        fd = create_dir(task_fd, task_dir, "/".join(parts[:-1]))
    except dirfd.UnsafePathError:
        raise
    except (OSError, AllocDirError) as e:
        raise AllocDirError(f"Couldn't create destination directory for {dest}: {e}") from e
    try:
        link_or_copy(source, fd, parts[-1], st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))
    finally:
        os.close(fd)


def _embed_directory(task_fd: int, task_dir: str, source: str, dest: str,
                     st: os.stat_result) -> dict[str, str]:
    dest_dir = os.path.join(task_dir, dest.lstrip("/"))
    try:
        fd = create_dir(task_fd, task_dir, dest, last=st)
    except dirfd.UnsafePathError:
        raise
    except (OSError, AllocDirError) as e:
        raise AllocDirError(f"Couldn't create destination directory {dest_dir}: {e}") from e
    try:
        try:
            with os.scandir(source) as it:
                children = sorted(it, key=lambda e: e.name)
        except OSError as e:
            raise AllocDirError(f"Couldn't read directory {source}: {e}") from e
        subdirs = {}
        for entry in children:
            host_entry = os.path.join(source, entry.name)
            if entry.is_dir(follow_symlinks=False):
                subdirs[host_entry] = os.path.join(dest, entry.name)
                continue
            try:
                dirfd.lstat_at(fd, entry.name)
                continue  # kept: a restarted task rebuilds
            except FileNotFoundError:
                pass
            _embed_entry(entry, host_entry, fd, f"{dest_dir}/{entry.name}")
        return subdirs
    finally:
        os.close(fd)


def _embed_entry(entry: os.DirEntry, host_entry: str, dir_fd: int, where: str) -> None:
    st = entry.stat(follow_symlinks=False)
    if stat.S_ISLNK(st.st_mode):
        try:
            os.symlink(os.readlink(host_entry), entry.name, dir_fd=dir_fd)
        except FileExistsError:
            pass
        except OSError as e:
            raise AllocDirError(f"Couldn't create symlink {where}: {e}") from e
    elif stat.S_ISREG(st.st_mode):
        link_or_copy(host_entry, dir_fd, entry.name, st.st_uid, st.st_gid,
                     stat.S_IMODE(st.st_mode))
