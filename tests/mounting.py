"""Mounting by path, for tests only: fixtures mount on paths no task can
change (the library itself mounts through pinned fds, see allocdir.dirfd)."""

from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
MS_BIND = 4096
MNT_DETACH = 2


def mount(source: str, target, fstype: str | None, flags: int, data: str | None) -> None:
    """mount(2) by path; raises OSError."""
    def enc(text):
        return None if text is None else os.fsencode(str(text))

    if _libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def bind(source, target) -> None:
    """Bind-mount ``source`` on the existing directory ``target``."""
    mount(str(source), target, None, MS_BIND, None)


def tmpfs(target, size: str = "64m") -> None:
    """Mount a tmpfs of ``size`` on the existing directory ``target``."""
    mount("tmpfs", target, "tmpfs", 0, f"size={size}")


def umount(target, *, lazy: bool = True) -> None:
    """umount2(2) by path (lazily by default); raises OSError."""
    if _libc.umount2(os.fsencode(str(target)), MNT_DETACH if lazy else 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"umount {target}: {os.strerror(err)}")


def is_mount(path) -> bool:
    """True when ``path`` (resolved) is a mount point in /proc/self/mountinfo."""
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        return any(line.split(" ")[4] == real for line in f)
