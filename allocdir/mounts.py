"""The Linux part: the secrets tmpfs and the shared-dir bind mount, and what
is mounted where (``/proc/self/mountinfo``).

Mounting always targets a directory already opened and checked
(:func:`dirfd.mount_on`); see :mod:`allocdir.dirfd` for why.
"""

from __future__ import annotations

import ctypes
import os

from .dirfd import MS_BIND, MS_NOEXEC, libc, mount_on, proc_fd_path
from .layout import SECRETS_TMPFS_SIZE

MNT_DETACH = 2

_MOUNTINFO = "/proc/self/mountinfo"


def is_root() -> bool:
    """True when the process can mount and chown (effective uid 0)."""
    return os.geteuid() == 0


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo octal.
    if "\\" not in field:
        return field
    out = bytearray()
    raw = os.fsencode(field)
    i = 0
    while i < len(raw):
        if raw[i] == 0x5C and raw[i + 1:i + 4].isdigit() and len(raw[i + 1:i + 4]) == 3:
            out.append(int(raw[i + 1:i + 4], 8))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return os.fsdecode(bytes(out))


def mount_points() -> list[str]:
    """Every mount point of this process's mount namespace, in mount order."""
    try:
        with open(_MOUNTINFO, "rb") as f:
            lines = f.read().decode("utf-8", "surrogateescape").splitlines()
    except OSError:
        return []
    return [_unescape(line.split(" ")[4]) for line in lines if line.count(" ") >= 5]


def mounts_under(path: str) -> list[str]:
    """Mount points at or below ``path`` (a real path), deepest first."""
    prefix = path.rstrip("/") + "/"
    found = {m for m in mount_points() if m == path or m.startswith(prefix)}
    return sorted(found, key=lambda m: (m.count("/"), m), reverse=True)


def unmount(target: str, *, lazy: bool = False) -> None:
    """umount2(2) by path, for paths no task can change (test clean-up and
    the operator's own mounts); the library itself uses
    :func:`dirfd.unmount_at`."""
    lib = libc()
    lib.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    if lib.umount2(os.fsencode(target), MNT_DETACH if lazy else 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), target)


def mount_secrets_tmpfs(target_fd: int, where: str) -> None:
    """Mount the 1 MiB, noexec tmpfs Nomad puts on a task's secrets dir."""
    mount_on(target_fd, "tmpfs", "tmpfs", MS_NOEXEC,
             f"size={SECRETS_TMPFS_SIZE // (1 << 20)}m", where)


def bind_mount(source_fd: int, target_fd: int, where: str) -> None:
    """Bind-mount the directory ``source_fd`` on ``target_fd`` (Linux cannot
    hard-link directories); both are pinned fds, no name is resolved."""
    mount_on(target_fd, proc_fd_path(source_fd), None, MS_BIND, None, where)
