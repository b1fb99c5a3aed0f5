"""``TaskDir``: the directory of one task inside an alloc dir."""

from __future__ import annotations

import copy as copy_module
import logging
import os
from collections.abc import Mapping

from . import dirfd
from .cards import task_dir_html, task_dir_text
from .chroot import embed_dirs
from .errors import AllocDirError
from .fsops import remove_tree_at
from .layout import (
    LOG_DIR_NAME, SECRETS_MOUNT_MARKER, SHARED_ALLOC_NAME, SHARED_DIR_MODE, TASK_DIRS,
    TASK_LOCAL, TASK_PRIVATE, TASK_SECRETS,
)
from .mounts import bind_mount, is_root, mount_secrets_tmpfs
from .ownership import drop_dir_permissions, task_owner
from .summary import summarize_task

_log = logging.getLogger("allocdir")

# What unmount() takes down in a task dir, each unmounted if it is mounted and
# then removed, as Nomad does (its unmountSpecialDirs ignores EINVAL, "not
# mounted", and then removes dev/ and proc/ whatever they hold).
_TEARDOWN = (SHARED_ALLOC_NAME, TASK_SECRETS, "dev", "proc")


def check_task_name(name: str) -> str:
    """Return ``name`` if it can name a task dir: one path component, not
    ``.``/``..``, no ``/`` or NUL, and not the shared dir's name; else raise
    ``ValueError``."""
    dirfd.check_name(name, "task name")
    if name == SHARED_ALLOC_NAME:
        raise ValueError(f"invalid task name {name!r}: it is the shared alloc dir's name")
    return name


class TaskDir:
    """The paths of a task's directory and how to build and tear them down.

    ``dir`` is ``<alloc dir>/<task>``; ``shared_task_dir`` is where the
    shared alloc dir is bind-mounted for chroot builds. The task name must be
    a single path component (``ValueError`` otherwise).
    """

    def __init__(self, alloc_dir: str, task_name: str, *,
                 logger: logging.Logger | None = None) -> None:
        alloc_dir = os.path.abspath(alloc_dir)
        self.name = check_task_name(task_name)
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

    def _repr_html_(self) -> str:
        """An HTML summary for Jupyter: entries, ``local/`` size, mounts, logs.

        Gathered now, and bounded (``allocdir.summary.summarize_task``).
        """
        return task_dir_html(summarize_task(self), self.dir)

    def _repr_pretty_(self, p, cycle: bool) -> None:
        """The same summary as text, for a terminal IPython."""
        p.text(repr(self) if cycle else task_dir_text(summarize_task(self), self.dir))

    def copy(self) -> "TaskDir":
        """An independent copy of this TaskDir."""
        return copy_module.copy(self)

    def build(self, create_chroot: bool = False,
              chroot: Mapping[str, str] | None = None) -> None:
        """Create the task's directories (§1 of the layout).

        With ``create_chroot`` the shared alloc dir is bind-mounted on
        ``<task>/alloc`` (a plain directory when not root) and ``chroot``
        (host path -> path in the task dir) is embedded. A symlink the task
        left where the layout wants ``local/``, ``tmp/``, ``secrets/`` or
        ``alloc/`` is replaced, never followed.
        """
        alloc_fd = dirfd.open_dir(self.alloc_dir)
        try:
            task_fd = dirfd.ensure_dir_at(alloc_fd, self.name, SHARED_DIR_MODE, self.dir,
                                          owner=task_owner())
            try:
                self._build_in(alloc_fd, task_fd, create_chroot, chroot)
            finally:
                os.close(task_fd)
        finally:
            os.close(alloc_fd)

    def _build_in(self, alloc_fd: int, task_fd: int, create_chroot: bool,
                  chroot: Mapping[str, str] | None) -> None:
        for name, mode in ((TASK_LOCAL, SHARED_DIR_MODE), *TASK_DIRS.items()):
            os.close(dirfd.ensure_dir_at(task_fd, name, mode | 0o777, f"{self.dir}/{name}",
                                         owner=task_owner(), replace_link=True))
        if create_chroot:
            self._link_shared_dir(alloc_fd, task_fd)
        self._create_secrets_dir(task_fd)
        if create_chroot and chroot:
            embed_dirs(task_fd, self.dir, chroot, self._skip)

    def _link_shared_dir(self, alloc_fd: int, task_fd: int) -> None:
        where = self.shared_task_dir
        target = dirfd.ensure_dir_at(task_fd, SHARED_ALLOC_NAME, 0o777, where, replace_link=True)
        try:
            if dirfd.is_mount_root(target) or os.listdir(target):
                return  # already linked, or holds something we must not hide
            if not is_root():
                return
            source = dirfd.open_dir_at(alloc_fd, SHARED_ALLOC_NAME, self.shared_alloc_dir,
                                       dirfd.PATH_DIR_FLAGS)
            try:
                bind_mount(source, target, where)
            except OSError as e:
                raise AllocDirError(f"Failed to mount shared directory for task: {e}") from e
            finally:
                os.close(source)
        finally:
            os.close(target)

    def _create_secrets_dir(self, task_fd: int) -> None:
        where = self.secrets_dir
        fd = dirfd.ensure_dir_at(task_fd, TASK_SECRETS, 0o777, where, replace_link=True)
        try:
            if is_root() and not dirfd.is_mount_root(fd):
                try:
                    mount_secrets_tmpfs(fd, where)
                except OSError as e:
                    raise AllocDirError(f"Failed to mount secrets dir {where}: {e}") from e
                os.close(fd)
                fd = -1
                fd = dirfd.open_dir_at(task_fd, TASK_SECRETS, where)  # the tmpfs itself
                if not dirfd.is_mount_root(fd):
                    raise AllocDirError(f"{where}: changed while the tmpfs was mounted on it")
                os.close(os.open(SECRETS_MOUNT_MARKER, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW
                                 | os.O_CLOEXEC, 0o666, dir_fd=fd))
            drop_dir_permissions(fd, SHARED_DIR_MODE)
        finally:
            if fd >= 0:
                os.close(fd)

    def unmount(self) -> list[BaseException]:
        """Unmount (as root, where mounted) and remove ``alloc/``,
        ``secrets/``, ``dev/`` and ``proc/``, as Nomad does. Returns the
        errors (not mounted is not an error). Symlinks are removed, never
        followed; a removal never goes through a mount point, and one that
        failed to unmount is left in place and reported."""
        try:
            task_fd = dirfd.open_dir(self.dir)
        except FileNotFoundError:
            return []
        except (OSError, AllocDirError) as e:
            return [AllocDirError(f"failed to unmount in {self.dir}: {e}")]
        errors: list[BaseException] = []
        try:
            for name in _TEARDOWN:
                errors.extend(self._take_down(task_fd, name))
        finally:
            os.close(task_fd)
        return errors

    def _take_down(self, task_fd: int, name: str) -> list[BaseException]:
        where = f"{self.dir}/{name}"
        try:
            dirfd.lstat_at(task_fd, name)
        except FileNotFoundError:
            return []
        if is_root():
            try:
                dirfd.unmount_at(task_fd, name, where)
            except OSError as e:
                return [AllocDirError(f"failed to unmount {where}: {e.strerror or e}")]
        try:
            problems = remove_tree_at(task_fd, name, where)
        except OSError as e:
            problems = [e]
        return [AllocDirError(f"failed to remove {e.filename or where}: {e.strerror or e}")
                for e in problems]
