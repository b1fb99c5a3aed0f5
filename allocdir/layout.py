"""The on-disk layout of a Nomad allocation directory: names, modes and paths.

These mirror the package-level variables of Nomad's ``client/allocdir``.
"""

from __future__ import annotations

import os
import stat
from datetime import datetime, timezone

#: Name of the directory shared by every task of an allocation.
SHARED_ALLOC_NAME = "alloc"

#: Name of the directory, inside the shared dir, where task logs are written.
LOG_DIR_NAME = "logs"

#: Name of the data directory inside the shared dir; it is included in snapshots.
SHARED_DATA_DIR = "data"

#: Name of the temporary directory in each alloc and task dir.
TMP_DIR_NAME = "tmp"

#: The directories created inside the shared alloc dir.
SHARED_ALLOC_DIRS = (LOG_DIR_NAME, TMP_DIR_NAME, SHARED_DATA_DIR)

#: Name of the task-private directory that survives in snapshots and moves.
TASK_LOCAL = "local"

#: Name of the task's secrets directory (a tmpfs when running as root).
TASK_SECRETS = "secrets"

#: Name of the private directory newer Nomad layouts add beside ``secrets``.
TASK_PRIVATE = "private"

#: The directories created in each task dir, name -> mode bits (sticky ``tmp``).
TASK_DIRS = {TMP_DIR_NAME: stat.S_ISVTX | 0o777}

#: Path, relative to a task dir, of the Unix socket to Consul's gRPC endpoint.
ALLOC_GRPC_SOCKET = os.path.join(SHARED_ALLOC_NAME, TMP_DIR_NAME, "consul_grpc.sock")

#: Path, relative to a task dir, of the Unix socket to Consul's HTTP endpoint.
ALLOC_HTTP_SOCKET = os.path.join(SHARED_ALLOC_NAME, TMP_DIR_NAME, "consul_http.sock")

#: Where the shared alloc dir appears inside a task's container.
SHARED_ALLOC_CONTAINER_PATH = os.path.join("/", SHARED_ALLOC_NAME)

#: Where the task's local dir appears inside its container.
TASK_LOCAL_CONTAINER_PATH = os.path.join("/", TASK_LOCAL)

#: Where the task's secrets dir appears inside its container.
TASK_SECRETS_CONTAINER_PATH = os.path.join("/", TASK_SECRETS)

#: The modification time of the error file a failed snapshot appends. Go's
#: ``time.Date(2000, 0, 0, ...)`` normalises month 0 and day 0 to this date.
SNAPSHOT_ERROR_TIME = datetime(1999, 11, 30, tzinfo=timezone.utc)

#: Marker file placed in a mounted secrets dir so a rebuild does not mount twice.
SECRETS_MOUNT_MARKER = ".nomad-mount"

#: Size of the secrets tmpfs, as Nomad mounts it.
SECRETS_TMPFS_SIZE = 1 << 20

#: Mode of the alloc dir itself.
ALLOC_DIR_MODE = 0o755

#: Mode of the shared dir, its subdirectories, task dirs and their local dirs.
SHARED_DIR_MODE = 0o777


def snapshot_error_filename(alloc_id: str) -> str:
    """Return the name of the file a snapshot appends when it fails part way."""
    return f"NOMAD-{alloc_id}-ERROR.log"
