"""Path safety: turning a path given relative to an alloc dir into something
safe to open.

Every read-side call (``list``, ``stat``, ``read_at``, ``change_events``,
``block_until_exists``) goes through :func:`resolve` before touching the file
system or, when it opens something, through :func:`open_path` (``stat``),
:func:`open_regular` or :func:`open_directory`, which check what was
*actually* opened (through ``/proc/self/fd``) so that a symlink swapped in
after the check cannot redirect the read.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from functools import lru_cache
from typing import Union

from .dirfd import named, proc_fd_path
from .errors import AllocDirError, PathEscapesError, SecretReadError
from .hardlinks import PROTECTED_NAMES, secret_link
from .layout import SHARED_ALLOC_NAME

PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

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
    return parts[1].casefold() in PROTECTED_NAMES


def is_within(root: str, path: str) -> bool:
    """True when the absolute ``path`` is ``root`` or below it."""
    return path == root or path.startswith(root.rstrip("/") + "/")


@lru_cache(maxsize=4096)
def real_root(alloc_dir: str) -> str:
    """The alloc dir with its symlinks resolved (an alloc dir does not move)."""
    return os.path.realpath(alloc_dir)


def resolve(alloc_dir: str, path: PathArg) -> ResolvedPath:
    """Check ``path`` against the alloc dir and return where it leads.

    Raises :class:`PathEscapesError` when the path leaves ``alloc_dir``
    lexically or through a symlink. Nothing is opened.
    """
    given = os.fsdecode(path)
    rel = clean_relative(given)
    root = real_root(alloc_dir)
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


def fd_path(fd: int) -> str:
    """The path the kernel reports for what ``fd`` refers to."""
    return os.readlink(f"/proc/self/fd/{fd}")


def check_opened(root: str, given: str, fd: int, *, allow_secret: bool = False,
                 detail: str = "through a symlink") -> str:
    """Refuse an fd that points outside the alloc dir ``root`` or, unless
    ``allow_secret``, into a secrets dir; return where it points, relative
    to ``root``."""
    actual = fd_path(fd)
    if not is_within(root, actual):
        raise PathEscapesError(given, detail)
    rel = os.path.relpath(actual, root)
    if not allow_secret and is_protected(rel):
        raise SecretReadError(given)
    return rel


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


@dataclass(frozen=True)
class OpenedPath:
    """An ``O_PATH`` fd on what a path inside the alloc dir led to, checked
    (see :func:`open_path`); the caller closes ``fd``."""

    fd: int
    given: str
    rel: str
    """The path as given, cleaned (relative to the alloc dir)."""
    reached: str
    """Where the kernel actually got to, relative to the alloc dir."""
    root: str
    """The alloc dir, its symlinks resolved."""

    @property
    def is_secret(self) -> bool:
        """True when either the path given or what it reached is in a
        task's ``secrets/`` or ``private/``."""
        return is_protected(self.rel) or is_protected(self.reached)


def open_path(alloc_dir: str, path: PathArg, *, allow_secret: bool = False) -> OpenedPath:
    """Open ``path`` inside the alloc dir with ``O_PATH``, following its
    links in one step, and check what the kernel reached: inside the alloc
    dir and, unless ``allow_secret``, not in a secrets dir.

    ``O_PATH`` opens nothing for I/O: a FIFO's writer is not woken, a
    device's open routine not run, a lease not broken. Whatever is then done
    through the fd (``fstat``, a reopen for reading) concerns what was
    checked, so a symlink swapped in afterwards cannot redirect it. A
    lexical escape or a lexical secret is refused before any system call.
    """
    given = os.fsdecode(path)
    rel = clean_relative(given)
    if not allow_secret and is_protected(rel):
        resolve(alloc_dir, given)  # an escape is reported as one, even here
        raise SecretReadError(given)
    root = real_root(alloc_dir)
    try:
        fd = os.open(f"{root}/{rel}" if rel else root, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        resolve(alloc_dir, given)  # an escape through a dangling link: say so
        raise
    try:
        reached = check_opened(root, given, fd, allow_secret=allow_secret)
    except BaseException:
        os.close(fd)
        raise
    return OpenedPath(fd, given, rel, reached, root)


def reopen_for_reading(opened: OpenedPath) -> int:
    """Open for reading the very file ``opened`` holds (through its
    ``/proc/self/fd`` magic link, never by name again); return the fd.

    ``O_NONBLOCK`` for the open, so that a task's lease on its own file
    answers at once (``BlockingIOError``); the fd returned blocks as usual.
    """
    try:
        fd = os.open(proc_fd_path(opened.fd), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise named(e, opened.given) from None
    os.set_blocking(fd, True)
    return fd


def open_regular(alloc_dir: str, path: PathArg, *, allow_secret: bool = False) -> int:
    """Open a regular file inside the alloc dir for reading; return the fd.

    The path is opened and checked by :func:`open_path` (inside the alloc
    dir, not in a secrets dir), must be a regular file and, unless
    ``allow_secret``, not a hard link to a file in a secrets dir; only then
    is it reopened for reading, through that same fd.
    """
    opened = open_path(alloc_dir, path, allow_secret=allow_secret)
    try:
        st = os.fstat(opened.fd)
        if not stat.S_ISREG(st.st_mode):
            raise AllocDirError(f"{opened.given}: {describe_mode(st.st_mode)}, "
                                "not a regular file")
        if not allow_secret and st.st_nlink > 1:
            reason = secret_link(opened.root, st)
            if reason:
                raise SecretReadError(opened.given, reason)
        return reopen_for_reading(opened)
    finally:
        os.close(opened.fd)


def linked_into_secrets(root: str, st: os.stat_result) -> bool:
    """True when the file ``st`` is also a file in a task's ``secrets/`` or
    ``private/`` dir (a hard link made to carry a secret out), or that
    cannot be ruled out at a bounded cost (see :mod:`allocdir.hardlinks`)."""
    return bool(secret_link(root, st))


def open_directory(alloc_dir: str, path: PathArg) -> tuple[int, ResolvedPath]:
    """Open a directory inside the alloc dir for listing; return fd and its path."""
    resolved = resolve(alloc_dir, path)
    fd = os.open(resolved.real, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        check_opened(resolved.root, resolved.given, fd, allow_secret=True,
                     detail="it changed while being opened")
    except BaseException:
        os.close(fd)
        raise
    return fd, resolved
