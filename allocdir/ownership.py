"""Handing directories to the unprivileged user tasks run as."""

from __future__ import annotations

import os
import pwd
from functools import lru_cache

from .dirfd import set_perms

#: The user that owns shared and task dirs when the client runs as root.
UNPRIVILEGED_USER = "nobody"


@lru_cache(maxsize=1)
def unprivileged_ids() -> tuple[int, int]:
    """The uid and gid of ``nobody``."""
    entry = pwd.getpwnam(UNPRIVILEGED_USER)
    return entry.pw_uid, entry.pw_gid


def task_owner() -> tuple[int, int] | None:
    """Who gets the directories tasks write in: nobody as root, else no change."""
    return unprivileged_ids() if os.geteuid() == 0 else None


def drop_dir_permissions(fd: int, mode: int) -> None:
    """Make the open directory ``fd`` world-writable with ``mode`` and, as
    root, owned by nobody (Nomad's ``dropDirPermissions``, on an fd)."""
    set_perms(fd, mode | 0o777, task_owner())
