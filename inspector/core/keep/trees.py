"""Keeping an allocation's ``<task>/local`` (rendered templates, downloaded
artifacts) and, when asked, ``alloc/data``: whole files, copied when they
change.

A scan walks the tree through directory fds (no symlink followed, no mount
entered) and compares each entry with what was kept (kind, identity, size,
mtime, ctime). A regular file that changed is queued; :class:`FileCopy`
copies it to a staging file of the keep directory and renames it into
place, so a kept file is always a whole copy of the source at some moment
(if the source changed while being copied, the record says so and the next
scan copies it again). Symlinks, FIFOs, sockets and devices are never
copied: their record carries a note (a symlink's target, as text). A file
removed from the source stays kept, marked with when it went.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

from allocdir import AllocDirError, SecretReadError, dirfd
from allocdir.dirfd import ENTER, ERROR, LEAF, MOUNT, lstat_at, open_beneath

from .copying import copy_range
from .source import NotRegular, kind_word, open_source
from .store import ensure_path

MAX_TREE_ENTRIES = 20_000
"""Entries looked at per tree and scan; beyond, the rest waits (and a note says so)."""
MAX_DEPTH = 64
"""Directories deeper than this below a tree are not kept (a note says so)."""
MAX_RECORDS = 200_000
"""Records per allocation (files kept, notes) beyond which new files are not kept."""
MAX_WATCHED = 64
"""Directories of a tree watched for changes, at most (the rest is scanned
every ``tree_interval``)."""


def _changed(record: dict | None, st: os.stat_result) -> bool:
    if record is None or record.get("kind") != "file":
        return True
    return (record.get("dev"), record.get("ino"), record.get("size"), record.get("mtime_ns"),
            record.get("ctime_ns")) != (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
                                        st.st_ctime_ns)


class TreeKeeper:
    """One tree of an allocation (``<parent>/<name>``, e.g. ``web/local``)."""

    def __init__(self, alloc, parent: str, name: str) -> None:
        self.alloc = alloc
        self.parent, self.name = parent, name
        self.rel = f"{parent}/{name}"
        self.device: int | None = None
        self.last_scan = 0.0

    def key(self, path: str) -> str:
        """The record key of ``path`` (relative to the alloc dir)."""
        return f"file:{path}"

    def scan(self, watch: Callable[[str, int], None] | None = None) -> list[str]:
        """Walk the tree; record what is not a regular file; return the
        paths (relative to the alloc dir) of the files to copy. ``watch(rel,
        fd)`` is offered its first directories, open, to watch."""
        self.last_scan = self.alloc.now()
        wanted: list[str] = []
        seen: set[str] = set()
        complete = True
        watched = 0
        with self.alloc.source_dir() as alloc_fd:
            if alloc_fd is None:
                return []
            try:
                parent_fd = dirfd.open_dir_at(alloc_fd, self.parent,
                                              f"{self.alloc.alloc_id}/{self.parent}")
            except FileNotFoundError:
                return []
            except (OSError, AllocDirError) as e:
                self.alloc.problem(self.parent, e)
                return []
            try:
                for count, step in enumerate(dirfd.walk(parent_fd, self.name,
                                                        where=self.rel)):
                    if count >= MAX_TREE_ENTRIES:
                        complete = False
                        self.alloc.note_once(f"tree:{self.rel}", f"{self.rel} holds more than "
                                             f"{MAX_TREE_ENTRIES:,} entries: only the first "
                                             "are kept")
                        break
                    path = f"{self.rel}/{step.rel}" if step.rel else self.rel
                    if step.kind == ENTER and not step.rel:
                        self.device = step.st.st_dev
                    if step.kind == ENTER and watch is not None and watched < MAX_WATCHED:
                        watched += 1
                        watch(step.rel, step.fd)
                    if step.kind in (ENTER, LEAF, MOUNT, ERROR):
                        seen.add(path)
                    self._step(step, path, wanted)
            finally:
                os.close(parent_fd)
        if complete:
            self._gone(seen)
        return wanted

    def _step(self, step, path: str, wanted: list[str]) -> None:
        if step.kind == ENTER:
            if step.depth > MAX_DEPTH:
                self.alloc.note_once(f"deep:{self.rel}", f"{self.rel} is more than "
                                     f"{MAX_DEPTH} directories deep: deeper ones are not kept")
            else:
                record = self.alloc.file_record(self.key(path))
                if (record or {}).get("kind") != "directory" and (record or not self._full()):
                    self._record_dir(path)
        elif step.kind == MOUNT:
            self._note(path, "mount", "a mount point: not entered")
        elif step.kind == ERROR:
            self._note(path, "error", str(step.error))
        elif step.kind == LEAF and step.depth <= MAX_DEPTH + 1:
            try:
                st = lstat_at(step.dir_fd, step.name)
            except FileNotFoundError:
                return
            if stat.S_ISREG(st.st_mode):
                record = self.alloc.file_record(self.key(path))
                if record is None and self._full():
                    return
                if _changed(record, st):
                    wanted.append(path)
                elif record.get("source_gone"):  # back after a move: the same file
                    self.alloc.put_file_record({**record, "source_gone": None})
            elif stat.S_ISLNK(st.st_mode):
                try:
                    target = os.readlink(step.name, dir_fd=step.dir_fd)
                except OSError:
                    target = "?"
                self._note(path, "symlink", f"symbolic link to {target}: not copied",
                           target=target)
            elif not stat.S_ISDIR(st.st_mode):
                self._note(path, kind_word(st.st_mode), f"{kind_word(st.st_mode)}: not copied")

    def _full(self) -> bool:
        """Whether the allocation has as many records as it may keep."""
        if len(self.alloc.journal) < MAX_RECORDS:
            return False
        self.alloc.note_once("records", f"more than {MAX_RECORDS:,} files recorded: new "
                             "ones are not kept")
        return True

    def _record_dir(self, path: str) -> None:
        try:
            with self.alloc.kept_dir() as kept_fd:
                os.close(ensure_path(kept_fd, path, self.alloc.kept_path))
        except (OSError, AllocDirError) as e:
            self.alloc.write_failed(path, e)
            return
        self.alloc.put_file_record({"k": self.key(path), "path": path, "kind": "directory",
                                    "seen": self.alloc.now(), "source_gone": None})

    def _note(self, path: str, kind: str, note: str, **extra) -> None:
        old = self.alloc.file_record(self.key(path))
        if old is None and self._full():
            return
        if old and old.get("kind") == kind and old.get("note") == note and \
                not old.get("source_gone"):
            return
        record = {"k": self.key(path), "path": path, "kind": kind, "note": note,
                  "seen": self.alloc.now(), "source_gone": None, **extra}
        if old and old.get("kind") == "file":
            record["kept_file"] = old  # the copy kept before it changed kind stays
        self.alloc.put_file_record(record)
        self.alloc.verbose(f"{path}: {note}")

    def _gone(self, seen: set[str]) -> None:
        prefix = self.key(self.rel)
        for _, record in self.alloc.file_records(prefix):
            if record["path"] not in seen and not record.get("source_gone"):
                self.alloc.put_file_record({**record, "source_gone": self.alloc.now()})

    def start_copy(self, path: str) -> FileCopy | None:
        """Open ``path`` and a staging file for its copy (None if it is no
        longer a regular file, or cannot be read now: then noted)."""
        where = path
        directory, _, name = path.rpartition("/")
        with self.alloc.source_dir() as alloc_fd:
            if alloc_fd is None:
                return None
            try:
                dir_fd = open_beneath(alloc_fd, directory, where)
            except FileNotFoundError:
                return None
            except (OSError, AllocDirError) as e:
                self.alloc.problem(path, e)
                return None
        try:
            if self.device is not None and os.fstat(dir_fd).st_dev != self.device:
                self._note(path, "mount", "on another file system: not copied")
                return None
            try:
                src, st = open_source(dir_fd, name, where, self.alloc.real_path)
            except FileNotFoundError:
                return None
            except (NotRegular, SecretReadError) as e:
                self._note(path, getattr(e, "kind", "secret"), f"{e}")
                return None
            except (OSError, AllocDirError) as e:
                self.alloc.problem(path, e)
                return None
        finally:
            os.close(dir_fd)
        try:
            staging, temp, tmp_fd = self.alloc.staging_file()
        except BaseException:
            os.close(src)
            raise
        return FileCopy(self, path, src, st, staging, temp, tmp_fd)


class FileCopy:
    """One file on its way into the keep directory: copied in slices (so
    that logs keep flowing while a large file is copied) to a staging file,
    then renamed into place."""

    def __init__(self, tree: TreeKeeper, path: str, src: int, st: os.stat_result,
                 staging: int, temp: str, tmp_fd: int) -> None:
        self.tree, self.path = tree, path
        self._src, self._st = src, st
        self._staging, self._temp, self._tmp = staging, temp, tmp_fd
        self.offset = 0

    def step(self, limit: int) -> bool:
        """Copy up to ``limit`` more bytes; True when the copy is finished
        (renamed into place). Raises on a write error (after :meth:`abort`)."""
        alloc = self.tree.alloc
        try:
            want = min(limit, self._st.st_size - self.offset)
            if want > 0:
                want = alloc.room(want)
                if want <= 0:
                    return False
                before = os.fstat(self._tmp).st_blocks * 512
                done = copy_range(self._src, self._tmp, self.offset, self.offset, want,
                                  self._st.st_dev)
                alloc.wrote(done, os.fstat(self._tmp).st_blocks * 512 - before, files=True)
                self.offset += done
                if done == want and self.offset < self._st.st_size:
                    return False
            self._finish()
            return True
        except BaseException:
            self.abort()
            raise

    def _finish(self) -> None:
        alloc = self.tree.alloc
        now = os.fstat(self._src)
        changed = (now.st_size, now.st_mtime_ns, now.st_ctime_ns) != (
            self._st.st_size, self._st.st_mtime_ns, self._st.st_ctime_ns)
        os.utime(self._tmp, ns=(self._st.st_atime_ns, self._st.st_mtime_ns))
        os.fdatasync(self._tmp)
        blocks = os.fstat(self._tmp).st_blocks * 512
        directory, _, name = self.path.rpartition("/")
        with alloc.kept_dir() as kept_fd:
            target = ensure_path(kept_fd, directory, alloc.kept_path)
            try:
                try:
                    old = lstat_at(target, name).st_blocks * 512
                except FileNotFoundError:
                    old = 0
                os.rename(self._temp, name, src_dir_fd=self._staging, dst_dir_fd=target)
                os.fsync(target)
            finally:
                os.close(target)
        self._close()
        alloc.wrote(0, -old, files=True)
        alloc.put_file_record({
            "k": self.tree.key(self.path), "path": self.path, "kind": "file",
            "dev": self._st.st_dev, "ino": self._st.st_ino, "size": self._st.st_size,
            "mtime_ns": self._st.st_mtime_ns, "ctime_ns": self._st.st_ctime_ns,
            "bytes": self.offset, "blocks": blocks, "copied": alloc.now(),
            "changed_while_copied": changed, "source_gone": None})

    def abort(self) -> None:
        """Drop the staging file (its blocks are given back to the budget)."""
        if self._tmp < 0:
            return
        alloc = self.tree.alloc
        try:
            blocks = os.fstat(self._tmp).st_blocks * 512
            os.unlink(self._temp, dir_fd=self._staging)
            alloc.wrote(0, -blocks, files=True)
        except OSError:
            pass
        self._close()

    def _close(self) -> None:
        for fd in (self._src, self._tmp, self._staging):
            if fd >= 0:
                os.close(fd)
        self._src = self._tmp = self._staging = -1

