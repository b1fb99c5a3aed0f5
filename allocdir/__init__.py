"""A Python port of HashiCorp Nomad's ``client/allocdir``: the layout of an
allocation directory, building and destroying it, snapshots and moves, and
safe, watchable access to the files inside it."""

from .alloc_dir import AllocDir
from .dirfd import UnsafePathError
from .errors import (
    AllocDirError, NotAnAllocDirError, NotBuiltError, PathEscapesError, SecretReadError,
)
from .fileinfo import AllocFileInfo, FileList
from .fs import AllocDirFS
from .layout import (
    ALLOC_GRPC_SOCKET, ALLOC_HTTP_SOCKET, LOG_DIR_NAME, SHARED_ALLOC_CONTAINER_PATH,
    SHARED_ALLOC_DIRS, SHARED_ALLOC_NAME, SHARED_DATA_DIR, SNAPSHOT_ERROR_TIME,
    TASK_DIRS, TASK_LOCAL, TASK_LOCAL_CONTAINER_PATH, TASK_PRIVATE, TASK_SECRETS,
    TASK_SECRETS_CONTAINER_PATH, TMP_DIR_NAME, snapshot_error_filename,
)
from .recognize import PathKind, Recognized, is_alloc_dir, recognize
from .sniff import detect_content_type
from .task_dir import TaskDir
from .usage import DirUsage, FileUsage, Usage, files_in
from .usage import measure as measure_usage
from .watch import ChangeEvent, FileChanges

__all__ = [
    "ALLOC_GRPC_SOCKET", "ALLOC_HTTP_SOCKET", "LOG_DIR_NAME", "SHARED_ALLOC_CONTAINER_PATH",
    "SHARED_ALLOC_DIRS", "SHARED_ALLOC_NAME", "SHARED_DATA_DIR", "SNAPSHOT_ERROR_TIME",
    "TASK_DIRS", "TASK_LOCAL", "TASK_LOCAL_CONTAINER_PATH", "TASK_PRIVATE", "TASK_SECRETS",
    "TASK_SECRETS_CONTAINER_PATH", "TMP_DIR_NAME", "AllocDir", "AllocDirError", "AllocDirFS",
    "AllocFileInfo", "ChangeEvent", "DirUsage", "FileUsage", "Usage", "files_in",
    "measure_usage", "FileChanges", "FileList", "NotAnAllocDirError", "NotBuiltError",
    "PathEscapesError", "PathKind", "Recognized", "SecretReadError", "SnapshotResult", "TaskDir",
    "UnsafePathError", "detect_content_type", "is_alloc_dir", "recognize",
    "snapshot_error_filename",
]


def __getattr__(name: str) -> object:
    # SnapshotResult is imported on first use: its module pulls in tarfile,
    # which nothing needs before a snapshot runs.
    if name == "SnapshotResult":
        from .snapshot import SnapshotResult

        return SnapshotResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
