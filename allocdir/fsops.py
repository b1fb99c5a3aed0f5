"""Tree operations that must lose nothing: removal that stops at mount points,
and the copy-then-verify used to move across file systems."""

from __future__ import annotations

import errno
import os
import shutil
import stat
from dataclasses import dataclass

from .errors import AllocDirError
from .mounts import is_root

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _listing(dir_fd: int) -> list[tuple[str, bool]]:
    with os.scandir(dir_fd) as entries:
        return [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]


@dataclass
class _Frame:
    fd: int
    path: str
    entries: list[tuple[str, bool]]
    complete: bool = True


def remove_tree(path: str, mount_points: frozenset[str] | set[str]) -> list[OSError]:
    """Remove ``path`` and everything below it that is on its own mount.

    Works through directory fds with ``O_NOFOLLOW`` (a symlink swapped in
    cannot send it elsewhere) and never descends into a directory that is a
    mount point (another ``st_dev``, or listed in ``mount_points`` as a bind
    mount of the same file system). Returns the errors; what could be removed
    is removed.
    """
    errors: list[OSError] = []
    try:
        top = os.lstat(path)
    except FileNotFoundError:
        return errors
    if not stat.S_ISDIR(top.st_mode):
        _try(errors, os.unlink, path)
        return errors
    if path in mount_points:
        return [_still_mounted(path)]
    fd = os.open(path, _DIR_FLAGS)
    frames = [_Frame(fd, path, _listing(fd))]
    while frames:
        frame = frames[-1]
        if frame.entries:
            child = _descend(frame, top.st_dev, mount_points, errors)
            if child is not None:
                frames.append(child)
            continue
        frames.pop()
        os.close(frame.fd)
        if not frames:
            if frame.complete:
                _try(errors, os.rmdir, path)
        elif frame.complete:
            name = os.path.basename(frame.path)
            frames[-1].complete &= _try(errors, os.rmdir, name, dir_fd=frames[-1].fd)
        else:
            frames[-1].complete = False
    return errors


def _descend(frame: _Frame, dev: int, mount_points, errors: list[OSError]) -> "_Frame | None":
    name, is_dir = frame.entries.pop()
    child = f"{frame.path}/{name}"
    if not is_dir:
        frame.complete &= _try(errors, os.unlink, name, dir_fd=frame.fd)
        return None
    try:
        st = os.stat(name, dir_fd=frame.fd, follow_symlinks=False)
        if st.st_dev != dev or child in mount_points:
            raise _still_mounted(child)
        fd = os.open(name, _DIR_FLAGS, dir_fd=frame.fd)
    except FileNotFoundError:
        return None
    except OSError as e:
        errors.append(e)
        frame.complete = False
        return None
    try:
        return _Frame(fd, child, _listing(fd))
    except OSError as e:
        os.close(fd)
        errors.append(e)
        frame.complete = False
        return None


def _still_mounted(path: str) -> OSError:
    return OSError(errno.EBUSY, "still mounted, not removed", path)


def _try(errors: list[OSError], func, *args, **kwargs) -> bool:
    try:
        func(*args, **kwargs)
    except FileNotFoundError:
        return True
    except OSError as e:
        errors.append(e)
        return False
    return True


@dataclass(frozen=True)
class Entry:
    """What a copy must reproduce of one entry: its kind, size and link target."""

    kind: str
    size: int = 0
    link: str = ""


def manifest(top: str) -> dict[str, Entry]:
    """Every entry below ``top`` by relative path (sockets are not copied)."""
    result: dict[str, Entry] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            rel = os.path.relpath(full, top)
            if stat.S_ISSOCK(st.st_mode):
                continue
            if stat.S_ISLNK(st.st_mode):
                result[rel] = Entry("link", link=os.readlink(full))
            elif stat.S_ISREG(st.st_mode):
                result[rel] = Entry("file", size=st.st_size)
            else:
                result[rel] = Entry(stat.filemode(st.st_mode)[0])
        # os.walk lists a symlink to a directory among dirnames without
        # descending; that is what we want.
    return result


def copy_tree(src: str, dst: str) -> None:
    """Copy ``src`` to the new directory ``dst`` as ``cp -a`` would.

    Regular files, directories, symlinks, FIFOs and (as root) devices are
    reproduced with their mode, times and (as root) owner; sockets, which
    cannot be copied, are skipped. FIFOs and devices are never opened.
    """
    _copy_dir_node(src, dst)
    for dirpath, dirnames, filenames in os.walk(src):
        target_dir = os.path.join(dst, os.path.relpath(dirpath, src))
        for name in dirnames + filenames:
            source, target = os.path.join(dirpath, name), os.path.join(target_dir, name)
            st = os.lstat(source)
            if stat.S_ISDIR(st.st_mode):
                _copy_dir_node(source, target)
            else:
                _copy_leaf(source, target, st)
    # Directory times last: writing into a directory changes its mtime.
    for dirpath, _, _ in os.walk(src, topdown=False):
        target_dir = os.path.join(dst, os.path.relpath(dirpath, src))
        shutil.copystat(dirpath, target_dir, follow_symlinks=False)


def _copy_dir_node(source: str, target: str) -> None:
    os.mkdir(target, 0o700)
    _copy_owner(source, target)


def _copy_leaf(source: str, target: str, st: os.stat_result) -> None:
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        os.symlink(os.readlink(source), target)
    elif stat.S_ISREG(mode):
        shutil.copyfile(source, target, follow_symlinks=False)
    elif stat.S_ISFIFO(mode):
        os.mkfifo(target, stat.S_IMODE(mode))
    elif (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) and is_root():
        os.mknod(target, mode, st.st_rdev)
    else:
        return  # sockets, and devices when not root
    _copy_owner(source, target)
    shutil.copystat(source, target, follow_symlinks=False)


def _copy_owner(source: str, target: str) -> None:
    if is_root():
        st = os.lstat(source)
        os.lchown(target, st.st_uid, st.st_gid)


def verify_copy(src: str, dst: str) -> None:
    """Raise ``AllocDirError`` unless ``dst`` holds every entry of ``src``."""
    want, have = manifest(src), manifest(dst)
    missing = sorted(rel for rel, entry in want.items()
                     if have.get(rel) != entry and not (entry.kind in "bc" and not is_root()))
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise AllocDirError(f"copy of {src} to {dst} differs at {len(missing)} entries: {shown}")
