"""Path safety: turning a path given relative to an alloc dir into something
safe to open.

Every read-side call (``list``, ``stat``, ``read_at``, ``change_events``,
``block_until_exists``) goes through :func:`resolve` before touching the file
system and, when it opens something, through :func:`open_regular` or
:func:`open_directory`, which check what was *actually* opened (through
``/proc/self/fd``) so that a symlink swapped in after the check cannot
redirect the read.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from typing import Union

from .errors import AllocDirError, PathEscapesError, SecretReadError
from .layout import SHARED_ALLOC_NAME, TASK_PRIVATE, TASK_SECRETS

PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

# Directories, directly inside a task dir, whose contents are never read.
_PROTECTED_TASK_DIRS = frozenset({TASK_SECRETS.casefold(), TASK_PRIVATE.casefold()})

_O_PATH = getattr(os, "O_PATH", 0)
# Without O_PATH (not Linux), open non-blocking so a FIFO cannot hang us.
_PATH_FLAGS = _O_PATH or (os.O_RDONLY | os.O_NONBLOCK)
_SWAP_RETRIES = 3


@dataclass(frozen=True)
class ResolvedPath:
    """A path inside an alloc dir, checked for escapes.

    ``given`` is what the caller passed, ``rel`` the lexically cleaned path
    relative to the alloc dir (``""`` for its root), ``host`` the absolute
    lexical path and ``real`` the path with every symlink resolved.
    """

    given: str
    rel: str
    host: str
    real: str
    root: str

    @property
    def is_secret(self) -> bool:
        """True when either the lexical or the resolved path is in a protected dir."""
        return is_protected(self.rel) or is_protected(os.path.relpath(self.real, self.root))


def clean_relative(path: PathArg) -> str:
    """Return ``path`` cleaned lexically and relative to the alloc dir root.

    ``""``, ``"."`` and ``"/"`` all name the root; a leading ``/`` is ignored;
    a ``..`` that climbs above the root raises :class:`PathEscapesError`.
    Names merely starting with ``..`` (``..data``) are ordinary names.
    """
    text = os.fsdecode(path)
    if "\x00" in text:
        raise AllocDirError(f"Path {text!r} contains a NUL byte")
    parts: list[str] = []
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise PathEscapesError(text)
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def is_protected(rel: str) -> bool:
    """True when ``rel`` (relative to the alloc dir) is inside a task's
    ``secrets/`` or ``private/`` dir, compared case-insensitively."""
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if len(parts) < 2 or parts[0] == SHARED_ALLOC_NAME:
        return False
    return parts[1].casefold() in _PROTECTED_TASK_DIRS


def is_within(root: str, path: str) -> bool:
    """True when the absolute ``path`` is ``root`` or below it."""
    return path == root or path.startswith(root.rstrip("/") + "/")


def resolve(alloc_dir: str, path: PathArg) -> ResolvedPath:
    """Check ``path`` against the alloc dir and return where it leads.

    Raises :class:`PathEscapesError` when the path leaves ``alloc_dir``
    lexically or through a symlink. Nothing is opened.
    """
    given = os.fsdecode(path)
    rel = clean_relative(given)
    root = os.path.realpath(alloc_dir)
    host = os.path.join(root, rel) if rel else root
    real = _realpath(host, given)
    if not is_within(root, real):
        raise PathEscapesError(given, "through a symlink")
    return ResolvedPath(given=given, rel=rel, host=host, real=real, root=root)


def _realpath(host: str, given: str) -> str:
    # realpath checks islink() and then readlink()s: a link replaced by a
    # file in between makes readlink fail with EINVAL. Look again.
    for _ in range(_SWAP_RETRIES):
        try:
            return os.path.realpath(host)
        except OSError as e:
            if e.errno != errno.EINVAL:
                raise
    raise AllocDirError(f"{given}: kept changing while being resolved")


def resolve_readable(alloc_dir: str, path: PathArg) -> ResolvedPath:
    """Like :func:`resolve`, and also refuse secrets with :class:`SecretReadError`."""
    resolved = resolve(alloc_dir, path)
    if resolved.is_secret:
        raise SecretReadError(resolved.given)
    return resolved


def opened_path(fd: int, fallback: str) -> str:
    """The path the kernel reports for ``fd`` (``fallback`` without ``/proc``)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return fallback


def check_opened(resolved: ResolvedPath, fd: int, *, allow_secret: bool = False) -> None:
    """Refuse an fd that, after all, points outside the alloc dir or at a secret."""
    actual = opened_path(fd, resolved.real)
    if not is_within(resolved.root, actual):
        raise PathEscapesError(resolved.given, "it changed while being opened")
    if not allow_secret and is_protected(os.path.relpath(actual, resolved.root)):
        raise SecretReadError(resolved.given)


def describe_mode(mode: int) -> str:
    """A word for the kind of a non-regular file, for error messages."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def open_regular(alloc_dir: str, path: PathArg, *, allow_secret: bool = False) -> int:
    """Open a regular file inside the alloc dir for reading; return the fd.

    The file is first opened with ``O_PATH`` (which never blocks and never
    triggers a device's open), checked to be a regular file inside the alloc
    dir and outside any secrets dir, and only then reopened for reading
    through ``/proc/self/fd``, so a FIFO, socket or device is never opened and
    a symlink swapped in after the check cannot redirect the read.
    """
    for _ in range(_SWAP_RETRIES):
        resolved = resolve(alloc_dir, path)
        if resolved.is_secret and not allow_secret:
            raise SecretReadError(resolved.given)
        path_fd = os.open(resolved.real, _PATH_FLAGS | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            st = os.fstat(path_fd)
            if stat.S_ISLNK(st.st_mode):
                continue  # became a symlink after resolution: resolve again
            check_opened(resolved, path_fd, allow_secret=allow_secret)
            if not stat.S_ISREG(st.st_mode):
                raise AllocDirError(
                    f"{resolved.given}: {describe_mode(st.st_mode)}, not a regular file")
            return _reopen_for_reading(path_fd, st, resolved)
        finally:
            os.close(path_fd)
    raise AllocDirError(f"{os.fsdecode(path)}: kept changing while being opened")


def _reopen_for_reading(path_fd: int, st: os.stat_result, resolved: ResolvedPath) -> int:
    if not _O_PATH:
        return os.dup(path_fd)  # already opened O_RDONLY | O_NONBLOCK
    fd = os.open(f"/proc/self/fd/{path_fd}", os.O_RDONLY | os.O_CLOEXEC)
    reopened = os.fstat(fd)
    if (reopened.st_dev, reopened.st_ino) != (st.st_dev, st.st_ino):
        os.close(fd)
        raise PathEscapesError(resolved.given, "it changed while being opened")
    return fd


def open_directory(alloc_dir: str, path: PathArg) -> tuple[int, ResolvedPath]:
    """Open a directory inside the alloc dir for listing; return fd and its path."""
    resolved = resolve(alloc_dir, path)
    fd = os.open(resolved.real, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        check_opened(resolved, fd, allow_secret=True)
    except BaseException:
        os.close(fd)
        raise
    return fd, resolved
