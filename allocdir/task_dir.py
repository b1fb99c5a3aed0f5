"""``TaskDir``: the directory of one task inside an alloc dir."""

from __future__ import annotations

import copy as copy_module
import logging
import os
from collections.abc import Mapping

from . import mounts
from .chroot import embed_dirs
from .errors import AllocDirError
from .fsops import remove_tree
from .layout import (
    LOG_DIR_NAME, SECRETS_MOUNT_MARKER, SHARED_ALLOC_NAME, SHARED_DIR_MODE, TASK_DIRS,
    TASK_LOCAL, TASK_PRIVATE, TASK_SECRETS,
)
from .ownership import drop_dir_permissions

_log = logging.getLogger("allocdir")


class TaskDir:
    """The paths of a task's directory and how to build and tear them down.

    ``dir`` is ``<alloc dir>/<task>``; ``shared_task_dir`` is where the
    shared alloc dir is bind-mounted for chroot builds.
    """

    def __init__(self, alloc_dir: str, task_name: str, *,
                 logger: logging.Logger | None = None) -> None:
        alloc_dir = os.path.abspath(alloc_dir)
        self.name = task_name
        self.alloc_dir = alloc_dir
        self.dir = os.path.join(alloc_dir, task_name)
        self.shared_alloc_dir = os.path.join(alloc_dir, SHARED_ALLOC_NAME)
        self.shared_task_dir = os.path.join(self.dir, SHARED_ALLOC_NAME)
        self.local_dir = os.path.join(self.dir, TASK_LOCAL)
        self.log_dir = os.path.join(self.shared_alloc_dir, LOG_DIR_NAME)
        self.secrets_dir = os.path.join(self.dir, TASK_SECRETS)
        self.private_dir = os.path.join(self.dir, TASK_PRIVATE)
        self.logger = logger or _log
        # The client alloc root is never embedded: it holds this very task dir.
        self._skip = frozenset({os.path.dirname(alloc_dir)})

    def __repr__(self) -> str:
        return f"TaskDir({self.dir!r})"

    def copy(self) -> "TaskDir":
        """An independent copy of this TaskDir."""
        return copy_module.copy(self)

    def build(self, create_chroot: bool = False,
              chroot: Mapping[str, str] | None = None) -> None:
        """Create the task's directories (§1 of the layout).

        With ``create_chroot`` the shared alloc dir is bind-mounted on
        ``<task>/alloc`` (a plain directory when not root) and ``chroot``
        (host path -> path in the task dir) is embedded.
        """
        for path, mode in ((self.dir, SHARED_DIR_MODE), (self.local_dir, SHARED_DIR_MODE)):
            os.makedirs(path, mode=0o777, exist_ok=True)
            drop_dir_permissions(path, mode)
        for name, mode in TASK_DIRS.items():
            path = os.path.join(self.dir, name)
            os.makedirs(path, mode=0o777, exist_ok=True)
            drop_dir_permissions(path, mode)
        if create_chroot:
            self._link_shared_dir()
        self._create_secrets_dir()
        drop_dir_permissions(self.secrets_dir, SHARED_DIR_MODE)
        if create_chroot and chroot:
            embed_dirs(self.dir, chroot, self._skip)

    def _link_shared_dir(self) -> None:
        target = self.shared_task_dir
        if os.path.isdir(target) and (mounts.is_mount_point(target) or os.listdir(target)):
            return  # already linked, or holds something we must not hide
        os.makedirs(target, mode=0o777, exist_ok=True)
        if not mounts.is_root():
            return
        try:
            mounts.bind_mount(self.shared_alloc_dir, target)
        except OSError as e:
            raise AllocDirError(f"Failed to mount shared directory for task: {e}") from e

    def _create_secrets_dir(self) -> None:
        os.makedirs(self.secrets_dir, mode=0o777, exist_ok=True)
        if not mounts.is_root():
            return
        if os.path.exists(os.path.join(self.secrets_dir, SECRETS_MOUNT_MARKER)):
            return  # mounted by an earlier build
        try:
            mounts.mount_secrets_tmpfs(self.secrets_dir)
        except OSError as e:
            raise AllocDirError(f"Failed to mount secrets dir {self.secrets_dir}: {e}") from e
        marker = os.path.join(self.secrets_dir, SECRETS_MOUNT_MARKER)
        os.close(os.open(marker, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666))

    def unmount(self) -> list[BaseException]:
        """Unmount and remove ``alloc/`` and ``secrets/``, unmount ``dev/`` and
        ``proc/``; return the errors (not mounted is not an error)."""
        errors: list[BaseException] = []
        for path, remove in ((self.shared_task_dir, True), (self.secrets_dir, True),
                             (os.path.join(self.dir, "dev"), False),
                             (os.path.join(self.dir, "proc"), False)):
            if not os.path.lexists(path):
                continue
            try:
                if mounts.is_root():
                    mounts.unmount_if_mounted(path)
                if remove:
                    self._remove_unmounted(path)
            except OSError as e:
                errors.append(AllocDirError(f"failed to unmount {path}: {e.strerror or e}"))
        return errors

    def _remove_unmounted(self, path: str) -> None:
        real = os.path.realpath(path)
        # remove_tree refuses a path that is itself still mounted, too.
        problems = remove_tree(real, frozenset(mounts.mounts_under(real)))
        if problems:
            raise problems[0]
