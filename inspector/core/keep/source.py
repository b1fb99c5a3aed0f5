"""Opening a task's file for keeping, by the library's rule: reached through
directory fds, no symlink followed, nothing but a regular file opened for
reading (a FIFO is never opened, not even non-blocking), no lease waited
for, and no secret read (a hard link out of a task's ``secrets/`` is
refused as ``AllocDir.read_at`` refuses it)."""

from __future__ import annotations

import os
import stat

from allocdir import AllocDirError, SecretReadError
from allocdir.dirfd import identity, named, proc_fd_path
from allocdir.hardlinks import secret_link
from allocdir.paths import describe_mode

PATH_FLAGS = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class NotRegular(AllocDirError):
    """The entry is not a regular file (``kind`` says what it is)."""

    def __init__(self, where: str, kind: str) -> None:
        super().__init__(f"{where}: {kind}, not copied")
        self.kind = kind


def kind_word(mode: int) -> str:
    """One word for the kind of a file, as records say it: file, directory,
    symlink, fifo, socket, device."""
    if stat.S_ISREG(mode):
        return "file"
    word = describe_mode(mode).removeprefix("a ").lower()
    return {"symbolic link": "symlink"}.get(word, word)


def open_source(dir_fd: int, name: str, where: str, alloc_root: str) -> tuple[int, os.stat_result]:
    """Open the regular file ``name`` of ``dir_fd`` for reading; return the
    fd and its ``fstat``. ``alloc_root`` is the real path of the alloc dir
    (for the hard-link check). Raises ``FileNotFoundError``,
    :class:`NotRegular`, ``SecretReadError``, or ``BlockingIOError`` when a
    task holds a lease on it."""
    path_fd = os.open(name, PATH_FLAGS, dir_fd=dir_fd)
    try:
        st = os.fstat(path_fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegular(where, describe_mode(st.st_mode))
        reason = secret_link(alloc_root, st) if st.st_nlink > 1 else ""
        if reason:
            raise SecretReadError(where, reason)
        try:
            fd = os.open(proc_fd_path(path_fd), READ_FLAGS)
        except OSError as e:
            raise named(e, where) from None
    finally:
        os.close(path_fd)
    opened = os.fstat(fd)
    if identity(opened) != identity(st):  # cannot happen through the magic link
        os.close(fd)
        raise AllocDirError(f"{where}: changed while being opened")
    return fd, opened
