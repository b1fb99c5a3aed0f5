"""The Linux part: mounting the secrets tmpfs and the shared-dir bind mount,
unmounting, and knowing what is mounted where (``/proc/self/mountinfo``).

Bind mounts of a directory on the same file system keep the same ``st_dev``,
so ``st_dev`` alone cannot tell a mount point; mountinfo can.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os

from .layout import SECRETS_TMPFS_SIZE

MS_NOEXEC = 8
MS_BIND = 4096
MNT_DETACH = 2

_MOUNTINFO = "/proc/self/mountinfo"
_libc = None


def _syscalls():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        _libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
        _libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return _libc


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


def is_mount_point(path: str) -> bool:
    """True when something is mounted on ``path`` (compared as a real path)."""
    return os.path.realpath(path) in set(mount_points())


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    """Call mount(2); raise ``OSError`` on failure."""
    libc = _syscalls()

    def enc(text: str | None) -> bytes | None:
        return None if text is None else os.fsencode(text)

    if libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source}: {os.strerror(err)}", target)


def unmount(target: str, *, lazy: bool = False) -> None:
    """Call umount2(2); raise ``OSError`` on failure."""
    libc = _syscalls()
    if libc.umount2(os.fsencode(target), MNT_DETACH if lazy else 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), target)


def unmount_if_mounted(target: str) -> None:
    """Unmount every mount stacked on ``target``; not mounted is not an error."""
    real = os.path.realpath(target)
    for _ in range(64):  # a bound on stacked mounts, not expected to be reached
        if real not in set(mount_points()):
            return
        try:
            unmount(real)
        except OSError as e:
            if e.errno in (errno.EINVAL, errno.ENOENT):
                return
            raise
    raise OSError(errno.EBUSY, "too many stacked mounts", target)


def mount_secrets_tmpfs(target: str) -> None:
    """Mount the 1 MiB, noexec tmpfs Nomad puts on a task's secrets dir."""
    mount("tmpfs", target, "tmpfs", MS_NOEXEC, f"size={SECRETS_TMPFS_SIZE // (1 << 20)}m")


def bind_mount(source: str, target: str) -> None:
    """Bind-mount ``source`` on ``target`` (Linux cannot hard-link directories)."""
    mount(source, target, None, MS_BIND, None)
