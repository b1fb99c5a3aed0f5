"""``AllocDir``: creating, reading, snapshotting, moving and destroying one
allocation's directory."""

from __future__ import annotations

import copy as copy_module
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, BinaryIO

from . import dirfd
from .cards import alloc_html, alloc_text
from .errors import AllocDirError, NotAnAllocDirError, NotBuiltError
from .fileinfo import AllocFileInfo, FileList, scan_dir
from .fsops import TreeSize, measure_at, remove_tree_at
from .hardlinks import secret_link
from .layout import (
    ALLOC_DIR_MODE, LOG_DIR_NAME, SHARED_ALLOC_DIRS, SHARED_ALLOC_NAME, SHARED_DATA_DIR,
    SHARED_DIR_MODE, TASK_LOCAL, snapshot_error_filename,
)
from .move import JOURNAL_PREFIX, Move, check_sources, move_dir
from .ownership import task_owner
from .paths import (
    OpenedPath, PathArg, fd_path, linked_into_secrets, open_directory, open_path, open_regular,
    real_root, reopen_for_reading, resolve,
)
from .recognize import is_alloc_dir
from .sniff import SNIFF_LEN, detect_content_type
from .summary import summarize_alloc
from .task_dir import TaskDir, check_task_name
from .watch import FileChanges, wait_for_path

if TYPE_CHECKING:  # imported when a snapshot runs: tarfile is not needed before
    from .room import RoomHook
    from .snapshot import SnapshotResult, TarStream

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

    def _repr_html_(self) -> str:
        """An HTML summary for Jupyter: tasks, dirs, mounts, sizes, newest logs.

        Gathered now, and bounded (``allocdir.summary.summarize_alloc``):
        listings of ``alloc/logs`` and the task dirs, sizes walked up to a
        budget, the mount table; no file content, no secrets dir, no FIFO.
        """
        return alloc_html(summarize_alloc(self))

    def _repr_pretty_(self, p, cycle: bool) -> None:
        """The same summary as text, for a terminal IPython."""
        p.text(repr(self) if cycle else alloc_text(summarize_alloc(self)))

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
        """An existing alloc dir read from disk, with every task dir found there.

        Raises ``FileNotFoundError`` when it does not exist and
        :class:`NotAnAllocDirError` when it is not an alloc dir (see
        :func:`allocdir.is_alloc_dir`: a client root, a data_dir, anything
        else). Entries that cannot name a task are skipped.
        """
        instance = cls(alloc_dir, logger=logger)
        fd = dirfd.open_dir(instance.alloc_dir)  # FileNotFoundError, NotADirectory...
        try:
            with os.scandir(fd) as entries:
                names = sorted(e.name for e in entries
                               if e.is_dir(follow_symlinks=False) and e.name != SHARED_ALLOC_NAME
                               and not e.name.startswith("."))
        finally:
            os.close(fd)
        if not is_alloc_dir(instance.alloc_dir):
            raise NotAnAllocDirError(
                f"{instance.alloc_dir} is not an alloc dir (no {SHARED_ALLOC_NAME}/ holding "
                f"{', '.join(sorted(SHARED_ALLOC_DIRS))})")
        for name in names:
            instance.new_task_dir(name)
        instance._built = True
        return instance

    def copy(self) -> "AllocDir":
        """A copy of this AllocDir with copies of its TaskDirs."""
        with self._lock:
            duplicate = copy_module.copy(self)
            duplicate.task_dirs = {name: td.copy() for name, td in self.task_dirs.items()}
            duplicate._lock = threading.RLock()
        return duplicate

    def new_task_dir(self, name: str) -> TaskDir:
        """Create the TaskDir of task ``name`` (not on disk) and record it.

        ``name`` must be one path component, not ``.``, ``..`` or ``alloc``
        (``ValueError``)."""
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
        are handed to nobody. Creates no task dirs. A symlink a task left in
        place of ``alloc/data``, ``logs`` or ``tmp`` is replaced, never followed."""
        with self._lock:
            try:
                parent, name = os.path.split(self.alloc_dir)
                os.makedirs(parent, exist_ok=True)  # the operator's path, not a task's
                parent_fd = dirfd.open_dir(parent)
                try:
                    alloc_fd = dirfd.ensure_dir_at(parent_fd, name, ALLOC_DIR_MODE,
                                                   self.alloc_dir)
                finally:
                    os.close(parent_fd)
                try:
                    self._build_shared(alloc_fd)
                finally:
                    os.close(alloc_fd)
            except OSError as e:
                raise AllocDirError(f"Failed to build the alloc directory {self.alloc_dir}: {e}") from e
            self._built = True

    def _build_shared(self, alloc_fd: int) -> None:
        owner = task_owner()
        shared = dirfd.ensure_dir_at(alloc_fd, SHARED_ALLOC_NAME, SHARED_DIR_MODE,
                                     self.shared_dir, owner=owner)
        try:
            for name in SHARED_ALLOC_DIRS:
                os.close(dirfd.ensure_dir_at(shared, name, SHARED_DIR_MODE,
                                             f"{self.shared_dir}/{name}", owner=owner,
                                             replace_link=True))
        finally:
            os.close(shared)

    def unmount_all(self) -> None:
        """Unmount, where mounted, and remove each task's ``alloc/``,
        ``secrets/``, ``dev/`` and ``proc/``, as Nomad does (through directory
        fds, never through a mount). Not mounted is not an error."""
        with self._lock:
            errors = [e for td in self._task_dirs() for e in td.unmount()]
        if errors:
            raise AllocDirError.collect(f"unmounting {self.alloc_dir}", errors)

    def destroy(self) -> None:
        """Unmount everything, then remove the whole alloc dir.

        Never deletes through a mount point that is still mounted (a mount
        under the alloc dir that is not one of the task mounts it unmounts,
        or one that failed to unmount, even a bind mount from the same file
        system): it is left in place with its parents, and reported. Nothing
        is followed: a symlink a task left is removed as a link.
        """
        with self._lock:
            errors: list[BaseException] = []
            try:
                self.unmount_all()
            except AllocDirError as e:
                errors.extend(e.errors)
            parent, name = os.path.split(self.alloc_dir)
            try:
                parent_fd = dirfd.open_dir(parent)
            except FileNotFoundError:
                parent_fd = -1
            except (OSError, AllocDirError) as e:
                errors.append(e)
                parent_fd = -1
            if parent_fd >= 0:
                try:
                    errors.extend(remove_tree_at(parent_fd, name, self.alloc_dir))
                finally:
                    os.close(parent_fd)
            self._built = False
        if errors:
            raise AllocDirError.collect(f"destroying {self.alloc_dir}", errors)

    # -- snapshot and move ------------------------------------------------------

    def _snapshot_tops(self, alloc_fd: int,
                       include_logs: bool = False) -> Iterator[tuple[int, str, str]]:
        """``(dir fd, name, path in the tar)`` of each tree a snapshot holds:
        ``alloc/data`` (and ``alloc/logs`` with ``include_logs``) and each
        known task's ``local/``, reached without following links. Each fd
        is closed when the next is asked for."""
        return _data_tops(alloc_fd, self.alloc_dir, [td.name for td in self._task_dirs()],
                          include_logs=include_logs)

    def snapshot_estimate(self, *, include_logs: bool = False) -> TreeSize:
        """The entries and content bytes a ``snapshot`` now would archive
        (with ``include_logs``: one that includes ``alloc/logs``)."""
        size = TreeSize()
        alloc_fd = dirfd.open_dir(self.alloc_dir)
        try:
            for fd, name, where in self._snapshot_tops(alloc_fd, include_logs):
                measure_at(fd, name, where, size)
        finally:
            os.close(alloc_fd)
        return size

    def snapshot_size(self) -> int:
        """Bytes of file content a ``snapshot`` now would archive (for progress)."""
        return self.snapshot_estimate().content_bytes

    def snapshot(self, w: BinaryIO, *, progress: Callable[[int], None] | None = None,
                 room: RoomHook | None = None, include_logs: bool = False) -> SnapshotResult:
        """Write a tar of ``alloc/data`` and each task's ``local/`` to ``w``.

        As Nomad's snapshot, it leaves the task logs out; ``include_logs``
        adds ``alloc/logs`` (walked the same way: nothing followed, logmon's
        FIFOs archived as headers and never opened).

        Names are relative to the alloc dir; symlinks are archived as links,
        FIFOs and devices as headers only, sockets skipped, files with holes
        as sparse entries; a file another process holds a lease on, a hard
        link to a file in a task's secrets dir, and the content of a mount
        point are left out and listed in the result's ``skipped``. On an
        error the tar is completed with ``NOMAD-<alloc id>-ERROR.log``
        describing it, then the error is raised. ``progress``, if given, is
        called with the number of content bytes archived so far. ``room``,
        if given, is asked before each entry's bytes are written (see
        :class:`allocdir.room.RoomCheck`, which stops the snapshot before
        the destination drops below a reserve); what it raises stops the
        snapshot as any error does.
        """
        from .snapshot import SnapshotResult, TarStream, archive_tree

        tar = TarStream(w, progress, room)
        result = SnapshotResult()
        root = real_root(self.alloc_dir)

        def linked_secret(st: os.stat_result) -> str:
            return secret_link(root, st)

        try:
            alloc_fd = dirfd.open_dir(self.alloc_dir)
            try:
                for fd, name, where in self._snapshot_tops(alloc_fd, include_logs):
                    archive_tree(tar, fd, name, where, result, linked_secret=linked_secret)
            finally:
                os.close(alloc_fd)
            tar.close()
        except Exception as e:
            self._finish_failed_snapshot(tar, e)
            raise AllocDirError(f"failed to snapshot {self.alloc_dir}: {e}") from e
        return result

    def _finish_failed_snapshot(self, tar: TarStream, error: BaseException) -> None:
        from .snapshot import error_entry

        name = snapshot_error_filename(self.alloc_id)
        info, content = error_entry(name, error)
        tar.unlimited()  # a few blocks: written even when the room ran out
        try:
            tar.add_bytes(info, content)
            tar.close()
        except Exception as e:  # the writer itself failed: nothing more to save
            self.logger.error("could not append %s to the snapshot: %s", name, e)

    def move(self, other: "AllocDir", tasks: Iterable[object]) -> None:
        """Move ``other``'s ``alloc/data`` and each named task's ``local/`` here.

        ``tasks`` are task names (or objects with a ``name``). An empty target
        directory is replaced; a task with no ``local/`` is skipped. Across
        file systems the data is copied (holes kept), verified, and only then
        removed from ``other``; a failure at any step leaves every file in
        the source or the target. Nothing is followed, and only real
        directories move: a source that is a symlink refuses the move. So
        does a copy across file systems that would take the destination
        below its reserve (:mod:`allocdir.room`): checked before anything
        moves, and again before each file is copied.
        """
        with self._lock:
            if not self._built:
                raise NotBuiltError(f"unable to move to {self.alloc_dir!r} - alloc dir is not built")
            names = [check_task_name(t if isinstance(t, str) else t.name) for t in tasks]
            dst_fd = dirfd.open_dir(self.alloc_dir)
            try:
                try:
                    src_fd = dirfd.open_dir(other.alloc_dir)
                except FileNotFoundError:
                    return  # nothing to move, as in Nomad
                try:
                    if dirfd.identity(os.fstat(src_fd)) == dirfd.identity(os.fstat(dst_fd)):
                        raise AllocDirError(f"unable to move {other.alloc_dir} into itself")
                    check_sources(self._move_sources(other, names, src_fd, dst_fd), dst_fd,
                                  self.alloc_dir)
                    self._move_shared(other, src_fd, dst_fd)
                    for name in names:
                        self._move_task(other, name, src_fd, dst_fd)
                finally:
                    os.close(src_fd)
            finally:
                os.close(dst_fd)

    def _move_sources(self, other: "AllocDir", names: list[str], src_fd: int,
                      dst_fd: int) -> Iterator[tuple[int, str, str]]:
        """``(parent fd, name, path)`` of what a move of ``names`` takes from
        ``other``, but for what an unfinished move already copied (its
        journal is here: running the move again only finishes it)."""
        for fd, name, where in _data_tops(src_fd, other.alloc_dir, names):
            if not _exists_at(dst_fd, JOURNAL_PREFIX + where.replace("/", ".")):
                yield fd, name, f"{other.alloc_dir}/{where}"

    def _move_shared(self, other: "AllocDir", src_fd: int, dst_fd: int) -> None:
        src = dirfd.open_dir_at(src_fd, SHARED_ALLOC_NAME, other.shared_dir)
        try:
            dst = dirfd.open_dir_at(dst_fd, SHARED_ALLOC_NAME, self.shared_dir)
            try:
                move_dir(Move(src, SHARED_DATA_DIR, dst, SHARED_DATA_DIR, dst_fd,
                              f"{SHARED_ALLOC_NAME}.{SHARED_DATA_DIR}",
                              f"{other.shared_dir}/{SHARED_DATA_DIR}",
                              f"{self.shared_dir}/{SHARED_DATA_DIR}", "data dir"))
            finally:
                os.close(dst)
        finally:
            os.close(src)

    def _move_task(self, other: "AllocDir", name: str, src_fd: int, dst_fd: int) -> None:
        source_dir, target_dir = f"{other.alloc_dir}/{name}", f"{self.alloc_dir}/{name}"
        key = f"{name}.{TASK_LOCAL}"
        try:
            src = dirfd.open_dir_at(src_fd, name, source_dir)
        except FileNotFoundError:
            return
        try:
            pending = _exists_at(dst_fd, JOURNAL_PREFIX + key)
            if not pending and not _exists_at(src, TASK_LOCAL):
                return  # nothing to move: no empty task dir is made for it
            try:
                dst = dirfd.ensure_dir_at(dst_fd, name, SHARED_DIR_MODE, target_dir,
                                          owner=task_owner())
            except OSError as e:
                raise AllocDirError(f"error creating {target_dir} for task {name!r} local dir: "
                                    f"{e}") from e
            try:
                move_dir(Move(src, TASK_LOCAL, dst, TASK_LOCAL, dst_fd, key,
                              f"{source_dir}/{TASK_LOCAL}", f"{target_dir}/{TASK_LOCAL}",
                              f"task {name!r} local dir"))
            finally:
                os.close(dst)
        finally:
            os.close(src)

    # -- the read side (AllocDirFS) ----------------------------------------------

    def list(self, path: PathArg) -> FileList:
        """The entries of the directory ``path``, sorted by name, as lstat sees
        them (a ``list`` that Jupyter shows as a table)."""
        fd, resolved = open_directory(self.alloc_dir, path)
        try:
            infos, _ = scan_dir(fd)
        finally:
            os.close(fd)
        return FileList(infos, path=resolved.rel)

    def stat(self, path: PathArg) -> AllocFileInfo:
        """Information about ``path`` (symlinks followed, within the alloc dir)
        with its content type sniffed from its first 512 bytes (best effort:
        a file that cannot be read now is ``application/octet-stream``).

        The answer and the sniffed bytes both come from one ``O_PATH`` fd on
        what the path led to, checked to be inside the alloc dir: a task
        swapping the file for a link to a host dir cannot make it describe
        that dir."""
        opened = open_path(self.alloc_dir, path, allow_secret=True)
        try:
            st = os.fstat(opened.fd)
            name = os.path.basename(opened.rel) or self.alloc_id
            return AllocFileInfo.from_stat(name, st, self._content_type(opened, st))
        finally:
            os.close(opened.fd)

    @staticmethod
    def _content_type(opened: OpenedPath, st: os.stat_result) -> str:
        if stat.S_ISDIR(st.st_mode):
            return "application/octet-stream"
        if opened.rel.endswith(".json"):
            return "application/json"
        if not stat.S_ISREG(st.st_mode) or opened.is_secret:
            return "application/octet-stream"  # never opened
        if st.st_nlink > 1 and linked_into_secrets(opened.root, st):
            return "application/octet-stream"
        try:
            fd = reopen_for_reading(opened)
        except (PermissionError, BlockingIOError):
            return "application/octet-stream"  # sniffing is best effort, as in Nomad
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
            lexical = resolve(self.alloc_dir, path).host
            return FileChanges(fd_path(fd), fd, cur_offset, poll_interval=poll_interval,
                               link_path=lexical)
        except BaseException:
            os.close(fd)
            raise


def _data_tops(alloc_fd: int, alloc_dir: str, tasks: Iterable[str], *,
               include_logs: bool = False) -> Iterator[tuple[int, str, str]]:
    """``(dir fd, name, path below the alloc dir)`` of ``alloc/data`` and
    each task's ``local/`` (the data a snapshot holds and a move takes),
    with ``include_logs`` also ``alloc/logs``, reached without following
    links; missing parents are left out. Each fd is closed when the next is
    asked for."""
    shared = [SHARED_DATA_DIR, LOG_DIR_NAME] if include_logs else [SHARED_DATA_DIR]
    parents = [(SHARED_ALLOC_NAME, name) for name in shared]
    parents += [(task, TASK_LOCAL) for task in tasks]
    for parent, name in parents:
        try:
            fd = dirfd.open_dir_at(alloc_fd, parent, f"{alloc_dir}/{parent}")
        except FileNotFoundError:
            continue
        try:
            yield fd, name, f"{parent}/{name}"
        finally:
            os.close(fd)


def _exists_at(dir_fd: int, name: str) -> bool:
    try:
        dirfd.lstat_at(dir_fd, name)
        return True
    except FileNotFoundError:
        return False
