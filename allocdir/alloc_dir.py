"""``AllocDir``: creating, reading, snapshotting, moving and destroying one
allocation's directory."""

from __future__ import annotations

import copy as copy_module
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import BinaryIO

from . import mounts
from .errors import AllocDirError, NotBuiltError
from .fileinfo import AllocFileInfo
from .fsops import remove_tree
from .layout import (
    ALLOC_DIR_MODE, SHARED_ALLOC_DIRS, SHARED_ALLOC_NAME, SHARED_DATA_DIR, SHARED_DIR_MODE,
    TASK_LOCAL, snapshot_error_filename,
)
from .move import move_dir
from .ownership import drop_dir_permissions
from .paths import PathArg, fd_path, open_directory, open_regular, resolve
from .sniff import SNIFF_LEN, detect_content_type
from .snapshot import TarStream, archive_tree, error_entry, regular_bytes
from .task_dir import TaskDir
from .watch import FileChanges, wait_for_path

_log = logging.getLogger("allocdir")


class AllocDir:
    """An allocation's directory: its layout, and safe access to its files.

    Read-side methods take paths relative to the alloc dir and refuse any
    that lead outside it or into a task's secrets. Every method is safe for
    concurrent use from several threads.
    """

    def __init__(self, alloc_dir: str | os.PathLike, *,
                 logger: logging.Logger | None = None) -> None:
        self.alloc_dir = os.path.abspath(os.fspath(alloc_dir))
        self.shared_dir = os.path.join(self.alloc_dir, SHARED_ALLOC_NAME)
        self.task_dirs: dict[str, TaskDir] = {}
        self.logger = logger or _log
        self._built = False
        # Guards ``task_dirs`` and ``_built``; mutating operations hold it
        # throughout so that build, move and destroy never interleave.
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"AllocDir({self.alloc_dir!r})"

    @property
    def alloc_id(self) -> str:
        """The allocation id: the base name of the alloc dir."""
        return os.path.basename(self.alloc_dir)

    @property
    def is_built(self) -> bool:
        """True after ``build()`` (or ``discover()`` of a built dir), until ``destroy()``."""
        with self._lock:
            return self._built

    @classmethod
    def discover(cls, alloc_dir: str | os.PathLike, *,
                 logger: logging.Logger | None = None) -> "AllocDir":
        """An existing alloc dir read from disk, with every task dir found there."""
        instance = cls(alloc_dir, logger=logger)
        with os.scandir(instance.alloc_dir) as entries:
            names = sorted(e.name for e in entries
                           if e.is_dir(follow_symlinks=False) and e.name != SHARED_ALLOC_NAME
                           and not e.name.startswith("."))
        for name in names:
            instance.new_task_dir(name)
        instance._built = os.path.isdir(instance.shared_dir)
        return instance

    def copy(self) -> "AllocDir":
        """A copy of this AllocDir with copies of its TaskDirs."""
        with self._lock:
            duplicate = copy_module.copy(self)
            duplicate.task_dirs = {name: td.copy() for name, td in self.task_dirs.items()}
            duplicate._lock = threading.RLock()
        return duplicate

    def new_task_dir(self, name: str) -> TaskDir:
        """Create the TaskDir of task ``name`` (not on disk) and record it."""
        task_dir = TaskDir(self.alloc_dir, name, logger=self.logger)
        with self._lock:
            self.task_dirs[name] = task_dir
        return task_dir

    def _task_dirs(self) -> list[TaskDir]:
        with self._lock:
            return [self.task_dirs[name] for name in sorted(self.task_dirs)]

    # -- building and tearing down ------------------------------------------

    def build(self) -> None:
        """Create the alloc dir, the shared dir and its subdirs; as root they
        are handed to nobody. Creates no task dirs."""
        with self._lock:
            try:
                os.makedirs(self.alloc_dir, mode=ALLOC_DIR_MODE, exist_ok=True)
                os.chmod(self.alloc_dir, ALLOC_DIR_MODE)
                os.makedirs(self.shared_dir, mode=SHARED_DIR_MODE, exist_ok=True)
                drop_dir_permissions(self.shared_dir, SHARED_DIR_MODE)
                for name in SHARED_ALLOC_DIRS:
                    path = os.path.join(self.shared_dir, name)
                    os.makedirs(path, mode=SHARED_DIR_MODE, exist_ok=True)
                    drop_dir_permissions(path, SHARED_DIR_MODE)
            except OSError as e:
                raise AllocDirError(f"Failed to build the alloc directory {self.alloc_dir}: {e}") from e
            self._built = True

    def unmount_all(self) -> None:
        """Unmount (and remove) each task's ``alloc/`` and ``secrets/``, and
        unmount ``dev/`` and ``proc/``. Not mounted is not an error."""
        with self._lock:
            errors = [e for td in self._task_dirs() for e in td.unmount()]
        if errors:
            raise AllocDirError.collect(f"unmounting {self.alloc_dir}", errors)

    def destroy(self) -> None:
        """Unmount everything, then remove the whole alloc dir.

        Never deletes through a mount point that is still mounted (a mount
        under the alloc dir that is not one of the task mounts it unmounts,
        or one that failed to unmount, even a bind mount from the same file
        system): it is left in place with its parents, and reported.
        """
        with self._lock:
            errors: list[BaseException] = []
            try:
                self.unmount_all()
            except AllocDirError as e:
                errors.extend(e.errors)
            root = os.path.realpath(self.alloc_dir)
            errors.extend(remove_tree(root, frozenset(mounts.mounts_under(root))))
            self._built = False
        if errors:
            raise AllocDirError.collect(f"destroying {self.alloc_dir}", errors)

    # -- snapshot and move ------------------------------------------------------

    def _snapshot_roots(self) -> list[str]:
        return [os.path.join(self.shared_dir, SHARED_DATA_DIR)] + [
            td.local_dir for td in self._task_dirs()]

    def snapshot_size(self) -> int:
        """Bytes of file content a ``snapshot`` now would archive (for progress)."""
        return regular_bytes(self._snapshot_roots())

    def snapshot(self, w: BinaryIO, *, progress: Callable[[int], None] | None = None) -> None:
        """Write a tar of ``alloc/data`` and each task's ``local/`` to ``w``.

        Names are relative to the alloc dir; symlinks are archived as links,
        FIFOs and devices as headers only, sockets skipped. On an error the
        tar is completed with ``NOMAD-<alloc id>-ERROR.log`` describing it,
        then the error is raised. ``progress``, if given, is called with the
        number of content bytes archived so far.
        """
        tar = TarStream(w, progress)
        root = self.alloc_dir
        try:
            for top in self._snapshot_roots():
                archive_tree(tar, root, top)
            tar.close()
        except Exception as e:
            self._finish_failed_snapshot(tar, e)
            raise AllocDirError(f"failed to snapshot {self.alloc_dir}: {e}") from e

    def _finish_failed_snapshot(self, tar: TarStream, error: BaseException) -> None:
        name = snapshot_error_filename(self.alloc_id)
        info, content = error_entry(name, error)
        try:
            tar.add_bytes(info, content)
            tar.close()
        except Exception as e:  # the writer itself failed: nothing more to save
            self.logger.error("could not append %s to the snapshot: %s", name, e)

    def move(self, other: "AllocDir", tasks: Iterable[object]) -> None:
        """Move ``other``'s ``alloc/data`` and each named task's ``local/`` here.

        ``tasks`` are task names (or objects with a ``name``). An empty target
        directory is replaced. Across file systems the data is copied,
        verified, and only then removed from ``other``; a failure at any step
        leaves every file in the source or the target.
        """
        with self._lock:
            if not self._built:
                raise NotBuiltError(f"unable to move to {self.alloc_dir!r} - alloc dir is not built")
            pairs = [(os.path.join(other.shared_dir, SHARED_DATA_DIR),
                      os.path.join(self.shared_dir, SHARED_DATA_DIR), "data dir")]
            for task in tasks:
                name = task if isinstance(task, str) else task.name
                pairs.append((os.path.join(other.alloc_dir, name, TASK_LOCAL),
                              os.path.join(self.alloc_dir, name, TASK_LOCAL),
                              f"task {name!r} local dir"))
            for source, target, what in pairs:
                self._move_one(source, target, what)

    def _move_one(self, source: str, target: str, what: str) -> None:
        parent = os.path.dirname(target)
        try:
            if not os.path.isdir(parent):
                os.makedirs(parent, mode=0o777, exist_ok=True)
                drop_dir_permissions(parent, SHARED_DIR_MODE)
        except OSError as e:
            raise AllocDirError(f"error creating {parent} for {what}: {e}") from e
        move_dir(source, target, what)

    # -- the read side (AllocDirFS) ----------------------------------------------

    def list(self, path: PathArg) -> list[AllocFileInfo]:
        """The entries of the directory ``path``, sorted by name, as lstat sees them."""
        fd, _ = open_directory(self.alloc_dir, path)
        try:
            with os.scandir(fd) as entries:
                infos = []
                for entry in entries:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    infos.append(AllocFileInfo.from_stat(entry.name, st))
        finally:
            os.close(fd)
        infos.sort(key=lambda info: info.name)
        return infos

    def stat(self, path: PathArg) -> AllocFileInfo:
        """Information about ``path`` (symlinks followed, within the alloc dir)
        with its content type sniffed from its first 512 bytes."""
        resolved = resolve(self.alloc_dir, path)
        st = os.stat(resolved.real)
        name = os.path.basename(resolved.rel) or self.alloc_id
        return AllocFileInfo.from_stat(name, st, self._content_type(resolved, st))

    def _content_type(self, resolved, st: os.stat_result) -> str:
        if stat.S_ISDIR(st.st_mode):
            return "application/octet-stream"
        if resolved.rel.endswith(".json"):
            return "application/json"
        if not stat.S_ISREG(st.st_mode) or resolved.is_secret:
            return "application/octet-stream"  # never opened
        fd = open_regular(self.alloc_dir, resolved.given)
        try:
            return detect_content_type(os.pread(fd, SNIFF_LEN, 0))
        finally:
            os.close(fd)

    def read_at(self, path: PathArg, offset: int) -> BinaryIO:
        """An open binary file positioned at ``offset`` (the caller closes it).

        Refuses secrets (:class:`SecretReadError`) and anything that is not a
        regular file, without opening or blocking on it.
        """
        if offset < 0:
            raise ValueError(f"negative offset {offset}")
        fd = open_regular(self.alloc_dir, path)
        try:
            os.lseek(fd, offset, os.SEEK_SET)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def block_until_exists(self, path: PathArg, *,
                           poll_interval: float | None = None) -> "Future[None]":
        """A future that resolves once ``path`` exists; ``cancel()`` stops it."""
        resolved = resolve(self.alloc_dir, path)
        return wait_for_path(resolved.real, poll_interval=poll_interval)

    def change_events(self, path: PathArg, cur_offset: int, *,
                      poll_interval: float | None = None) -> FileChanges:
        """Watch the existing file ``path`` for changes past ``cur_offset``.

        Raises ``FileNotFoundError`` when it does not exist; ``poll_interval``
        (seconds) selects the polling backend instead of inotify.
        """
        if cur_offset < 0:
            raise ValueError(f"negative offset {cur_offset}")
        fd = open_regular(self.alloc_dir, path)  # refuses escapes, secrets, FIFOs
        try:
            return FileChanges(fd_path(fd), fd, cur_offset, poll_interval=poll_interval)
        except BaseException:
            os.close(fd)
            raise
