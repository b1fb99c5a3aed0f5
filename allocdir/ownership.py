"""Handing directories to the unprivileged user tasks run as."""

from __future__ import annotations

import os
import pwd
from functools import lru_cache

#: The user that owns shared and task dirs when the client runs as root.
UNPRIVILEGED_USER = "nobody"


@lru_cache(maxsize=1)
def unprivileged_ids() -> tuple[int, int]:
    """The uid and gid of ``nobody``."""
    entry = pwd.getpwnam(UNPRIVILEGED_USER)
    return entry.pw_uid, entry.pw_gid


def drop_dir_permissions(path: str, mode: int) -> None:
    """Make ``path`` world-writable with ``mode`` and, as root, owned by nobody
    (Nomad's ``dropDirPermissions``)."""
    os.chmod(path, mode | 0o777)
    if os.geteuid() != 0:
        return
    uid, gid = unprivileged_ids()
    os.chown(path, uid, gid)
