"""Writing where the operator asked, outside every alloc dir, without a
name on the way being able to lead the write elsewhere.

A snapshot's file and a move's new alloc dir are given as absolute paths
(symlinks resolved when they were checked, but only those no one else
could have made: :func:`trusted_realpath`). Between that check and the
write, any directory on the way that someone else can change could be
swapped for a symlink to a host directory. So the directory written into
is reached from ``/`` one component at a time, each opened ``O_NOFOLLOW``
(a symlink met is refused), and files are created and renamed with
``*at()`` calls on the opened directory. Where a whole alloc dir is to be
built (whose later steps go by name), every directory on the way must
also be one only the operator can change.
"""

from __future__ import annotations

import errno
import os
import stat

from . import dirfd
from .errors import AllocDirError

PARTIAL_SUFFIX = ".partial"

_TEMP_TRIES = 64
_LINK_HOPS = 40  # as the kernel allows


class UnsafeDestinationError(AllocDirError):
    """A directory on the way to a destination is one someone other than
    the operator can change; ``path`` names it."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"{path} {why}: someone else could redirect the write; "
                         "choose a destination only you (or root) can change")
        self.path = path


def _components(path: str) -> list[str]:
    if not os.path.isabs(path):
        raise ValueError(f"{path!r} is not an absolute path")
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise ValueError(f"{path!r} must not contain . or ..")
    return parts


def open_dir_nofollow(path: str) -> int:
    """Open the absolute directory ``path`` from ``/`` without following a
    symlink at any level (:class:`allocdir.UnsafePathError` names the one
    met); mounts are crossed."""
    parts = _components(path)
    root = os.open("/", dirfd.DIR_FLAGS)
    try:
        return dirfd.open_beneath(root, "/".join(parts), path)
    finally:
        os.close(root)


def trusted_realpath(path: str) -> str:
    """``os.path.realpath`` of the absolute ``path``, following a symbolic
    link only where no one but the operator could have made or changed it:
    the link owned by root or this user, in a directory only they can
    change. A link anyone else controls (in a task's directory, say) could
    point anywhere at the moment it is looked at: it raises
    :class:`UnsafeDestinationError`. What does not exist yet is kept as
    given."""
    todo = [p for p in os.path.normpath(path).split("/") if p]
    resolved, hops = "/", 0
    while todo:
        part = todo.pop(0)
        if part == "..":
            resolved = os.path.dirname(resolved)
            continue
        candidate = os.path.join(resolved, part)
        try:
            st = os.lstat(candidate)
        except (FileNotFoundError, NotADirectoryError):  # the rest is not there
            return os.path.normpath(os.path.join(candidate, *todo))
        if not stat.S_ISLNK(st.st_mode):
            resolved = candidate
            continue
        hops += 1
        if hops > _LINK_HOPS:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
        if st.st_uid not in (0, os.geteuid()):
            raise UnsafeDestinationError(candidate, f"is a symbolic link of uid {st.st_uid}")
        if not _owned(os.stat(resolved)):
            raise UnsafeDestinationError(candidate, "is a symbolic link in a directory other "
                                         "users can change")
        target = os.readlink(candidate)
        if target.startswith("/"):
            resolved = "/"
        todo = [p for p in target.split("/") if p not in ("", ".")] + todo
    return resolved


def open_owned_dir(path: str, *, create: bool = False, mode: int = 0o755) -> int:
    """Open the absolute directory ``path`` from ``/``, one component at a
    time without following a symlink, each one owned by root or this user
    and writable by no one else (a sticky directory, like ``/tmp``, is
    fine: no one else may rename what is in it). With ``create``, missing
    components are made (``mode``); one that someone else made meanwhile
    is refused like any other. Raises :class:`UnsafeDestinationError` or
    :class:`allocdir.UnsafePathError`."""
    parts = _components(path)
    fd = os.open("/", dirfd.DIR_FLAGS)
    try:
        _check_owned(fd, "/")
        where = ""
        for part in parts:
            where += "/" + part
            if create:
                try:
                    os.mkdir(part, mode, dir_fd=fd)
                except FileExistsError:
                    pass
            child = dirfd.open_dir_at(fd, part, where)
            os.close(fd)
            fd = child
            _check_owned(fd, where)
        return fd
    except BaseException:
        os.close(fd)
        raise


def _owned(st: os.stat_result) -> bool:
    """True for a directory only root or this user can change the entries of."""
    return st.st_uid in (0, os.geteuid()) and not (st.st_mode & 0o022
                                                   and not st.st_mode & stat.S_ISVTX)


def _check_owned(fd: int, where: str) -> None:
    st = os.fstat(fd)
    if st.st_uid not in (0, os.geteuid()):
        raise UnsafeDestinationError(where, f"belongs to uid {st.st_uid}")
    if not _owned(st):
        raise UnsafeDestinationError(where, "can be written by other users")


def create_partial_at(dir_fd: int, name: str) -> tuple[int, str]:
    """Create a new, empty, mode 0600 file beside ``name`` in the open
    directory ``dir_fd`` (``.<name>.<random>.partial``, never following or
    reusing an existing entry); its fd (for writing) and name."""
    for _ in range(_TEMP_TRIES):
        partial = f".{name}.{os.urandom(4).hex()}{PARTIAL_SUFFIX}"
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
        except FileExistsError:
            continue
        return fd, partial
    raise FileExistsError(f"no free temporary name beside {name}")
