"""Telling Nomad's directories apart by their layout, so that nothing else is
taken for one of them and acted on.

- An **alloc dir** is a directory whose ``alloc/`` holds Nomad's shared dirs
  (``data``, ``logs``, ``tmp``; two of them are enough, as a move to a
  newer allocation takes ``data`` away), and whose own name is not ``alloc``.
  A chroot task dir, whose ``alloc/`` is the shared dir bind-mounted, is not
  one.
- A **client alloc root** (``<data_dir>/alloc``) is a directory whose
  entries include alloc dirs, or directories named by an alloc id (a UUID)
  holding an ``alloc/``: a task owns ``alloc/`` and can rename ``data`` and
  ``tmp`` away, but neither the alloc dir's name nor its ``alloc/`` (root
  owns the client root and the alloc dir), so a client root whose only
  allocation was tampered with is still one (its allocation is then shown
  as "not an allocation" with :func:`why_not_alloc_dir`'s reason).
- A **Nomad data_dir** has an ``alloc/`` that is a client alloc root, or an
  empty ``alloc/`` beside ``client/``, ``server/`` or ``plugins/``.

Only names and types are looked at (``lstat``): nothing is opened but
directories, and no symlink is followed below the path given.
"""

from __future__ import annotations

import enum
import errno
import os
import re
import stat
from dataclasses import dataclass

from .dirfd import is_mount_root
from .layout import SHARED_ALLOC_DIRS, SHARED_ALLOC_NAME

# How many of alloc/'s data, logs, tmp an alloc dir must hold: a move to a
# newer allocation takes data away; an alloc id is never one of these names.
_SHARED_DIRS_NEEDED = 2

#: What Nomad names an allocation's directory: its id, a UUID.
ALLOC_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")

#: Entries beside ``alloc/`` that only a Nomad data_dir has.
DATA_DIR_MARKERS = ("client", "server", "plugins")


class PathKind(enum.Enum):
    """What a directory is, in Nomad's layout."""

    ALLOC_DIR = "an alloc dir"
    CLIENT_ROOT = "a client alloc root"
    DATA_DIR = "a Nomad data_dir"
    EMPTY = "an empty directory"
    OTHER = "not an alloc dir, a client alloc root nor a Nomad data_dir"


@dataclass(frozen=True)
class Recognized:
    """The answer of :func:`recognize`: ``path`` (absolute) is a ``kind``.

    ``alloc_root`` is the client alloc root to browse for it: the path
    itself for a root or an empty directory, its ``alloc/`` for a data_dir,
    None for an alloc dir or anything else.
    """

    kind: PathKind
    path: str

    @property
    def alloc_root(self) -> str | None:
        """The client alloc root this path stands for, if any."""
        if self.kind in (PathKind.CLIENT_ROOT, PathKind.EMPTY):
            return self.path
        if self.kind is PathKind.DATA_DIR:
            return os.path.join(self.path, SHARED_ALLOC_NAME)
        return None


def _is_dir_at(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _open(path: str | os.PathLike, dir_fd: int | None = None) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
    if dir_fd is not None:
        flags |= os.O_NOFOLLOW
    return os.open(path, flags, dir_fd=dir_fd)


def _alloc_dir_at(dir_fd: int, name: str | None) -> bool:
    """Whether ``name`` in ``dir_fd`` (or ``dir_fd`` itself) is an alloc dir."""
    return _problem_at(dir_fd, name) is None


def _problem_at(dir_fd: int, name: str | None) -> str | None:
    """Why ``name`` in ``dir_fd`` (or ``dir_fd`` itself) is not an alloc dir,
    in words; None when it is one."""
    try:
        fd = _open(name, dir_fd) if name is not None else os.dup(dir_fd)
    except OSError as exc:
        return f"cannot be opened ({_strerror(exc)})"
    try:
        shared = _open(SHARED_ALLOC_NAME, fd)
    except FileNotFoundError:
        return f"no {SHARED_ALLOC_NAME}/ in it"
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            return f"{SHARED_ALLOC_NAME} is not a directory"
        return f"{SHARED_ALLOC_NAME}/ cannot be opened ({_strerror(exc)})"
    finally:
        os.close(fd)
    try:
        if is_mount_root(shared):
            # a chroot task dir: its alloc/ is the shared dir bind-mounted
            return f"{SHARED_ALLOC_NAME}/ is a mount point (a task dir's)"
        missing = [sub for sub in SHARED_ALLOC_DIRS if not _exists_at(shared, sub)]
        if len(SHARED_ALLOC_DIRS) - len(missing) >= _SHARED_DIRS_NEEDED:
            return None
        return f"{SHARED_ALLOC_NAME}/ lacks {', '.join(sorted(missing))}"
    finally:
        os.close(shared)


def _strerror(exc: OSError) -> str:
    return os.strerror(exc.errno).lower() if exc.errno else str(exc)


def _exists_at(dir_fd: int, name: str) -> bool:
    try:
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except OSError:
        return False
    # A task owns alloc/ and may have swapped one of them for a link.
    return stat.S_ISDIR(mode) or stat.S_ISLNK(mode)


def is_alloc_dir(path: str | os.PathLike) -> bool:
    """True when ``path`` is an alloc dir: its ``alloc/`` holds (two of)
    ``data``, ``logs`` and ``tmp``, and it is not itself named ``alloc``."""
    return why_not_alloc_dir(path) is None


def why_not_alloc_dir(path: str | os.PathLike) -> str | None:
    """Why ``path`` is not an alloc dir, in words an operator reads after
    "not an allocation: " (e.g. "alloc/ lacks data, tmp"); None when it is
    one. Only names and types are looked at, as :func:`is_alloc_dir` does."""
    path = os.path.abspath(os.fspath(path))
    if os.path.basename(path) == SHARED_ALLOC_NAME:
        return f"named {SHARED_ALLOC_NAME}"
    try:
        fd = _open(path)
    except OSError as exc:
        return f"cannot be opened ({_strerror(exc)})"
    try:
        return _problem_at(fd, None)
    finally:
        os.close(fd)


def _holds_alloc_dir(dir_fd: int) -> bool:
    with os.scandir(dir_fd) as entries:
        names = [e.name for e in entries
                 if e.name != SHARED_ALLOC_NAME and e.is_dir(follow_symlinks=False)]
    return any(_alloc_dir_at(dir_fd, name) for name in names) or \
        any(_tampered_alloc_dir_at(dir_fd, name) for name in names if ALLOC_ID.match(name))


def _tampered_alloc_dir_at(dir_fd: int, name: str) -> bool:
    """Whether ``name`` (an alloc id) holds an ``alloc/`` directory that is
    not a mount (a chroot task dir's): what a task cannot take away from its
    allocation."""
    try:
        fd = _open(name, dir_fd)
    except OSError:
        return False
    try:
        shared = _open(SHARED_ALLOC_NAME, fd)
    except OSError:
        return False
    finally:
        os.close(fd)
    try:
        return not is_mount_root(shared)
    finally:
        os.close(shared)


def recognize(path: str | os.PathLike) -> Recognized:
    """Say what the directory ``path`` is in Nomad's layout.

    Raises ``FileNotFoundError``, ``NotADirectoryError`` or
    ``PermissionError`` when it cannot be looked at.
    """
    path = os.path.abspath(os.fspath(path))
    fd = _open(path)
    try:
        return Recognized(_kind(fd, os.path.basename(path)), path)
    finally:
        os.close(fd)


def _kind(fd: int, basename: str) -> PathKind:
    if basename != SHARED_ALLOC_NAME and _alloc_dir_at(fd, None):
        return PathKind.ALLOC_DIR
    if _is_dir_at(fd, SHARED_ALLOC_NAME):
        shared = _open(SHARED_ALLOC_NAME, fd)
        try:
            inner = _root_kind(shared)
        finally:
            os.close(shared)
        if inner is PathKind.CLIENT_ROOT or (
                inner is PathKind.EMPTY
                and any(_is_dir_at(fd, marker) for marker in DATA_DIR_MARKERS)):
            return PathKind.DATA_DIR
    return _root_kind(fd)


def _root_kind(fd: int) -> PathKind:
    if _holds_alloc_dir(fd):
        return PathKind.CLIENT_ROOT
    with os.scandir(fd) as entries:
        if next(entries, None) is None:
            return PathKind.EMPTY
    return PathKind.OTHER
