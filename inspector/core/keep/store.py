"""The keep directory on disk: opened once, and every write below it made
through directory fds opened ``O_NOFOLLOW`` from it.

DIR is the operator's: it is created 0700 (or taken over only if it is an
empty directory or already a keep directory of the same user), locked
against a second keeper, and never reached again by its name. Kept files
are 0600.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
from typing import Any

from allocdir import AllocDirError, dirfd
from allocdir.destination import open_owned_dir
from allocdir.dirfd import ENTER, LEAF, RUN

from .layout import (
    DIR_MODE, FILE_MODE, FORMAT_VERSION, MANIFEST_FORMAT, MANIFEST_NAME, STAGING_DIR, STATE_DIR,
)

NEW_FILE_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
TEMP_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
KEPT_SHARED_DIRS = ("logs", "data")
"""Made in every kept ``alloc/``, so that the copy has Nomad's layout."""


class KeepDirError(Exception):
    """DIR cannot be used; the message is the one-line reason."""


def ensure_path(base_fd: int, rel: str, where: str) -> int:
    """The directory ``rel`` below ``base_fd``, made (0700) where missing;
    returns it opened. No component may be a symlink."""
    fd = os.dup(base_fd)
    try:
        for part in [p for p in rel.split("/") if p]:
            child = dirfd.ensure_dir_at(fd, part, DIR_MODE, f"{where}/{part}")
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def open_kept_file(dir_fd: int, name: str) -> int:
    """Open (creating it 0600 if missing) the kept file ``name`` of
    ``dir_fd`` for reading and writing; a new name is made durable."""
    try:
        return os.open(name, NEW_FILE_FLAGS & ~os.O_CREAT, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    fd = os.open(name, NEW_FILE_FLAGS | os.O_EXCL, FILE_MODE, dir_fd=dir_fd)
    try:
        os.fsync(dir_fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_atomically(dir_fd: int, name: str, data: bytes, staging_fd: int | None = None) -> None:
    """Replace ``name`` in ``dir_fd`` with ``data``, all or nothing: written
    to a temporary file (in ``staging_fd``, or beside it), synced, renamed
    into place, and the directory synced."""
    staging = dir_fd if staging_fd is None else staging_fd
    temp = f".{name[:200]}.tmp" if staging_fd is None else f"{name[:200]}.tmp"
    try:
        os.unlink(temp, dir_fd=staging)
    except FileNotFoundError:
        pass
    fd = os.open(temp, TEMP_FILE_FLAGS, FILE_MODE, dir_fd=staging)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fdatasync(fd)
        finally:
            os.close(fd)
        os.rename(temp, name, src_dir_fd=staging, dst_dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(temp, dir_fd=staging)
        except OSError:
            pass
        raise
    os.fsync(dir_fd)


def read_file(dir_fd: int, name: str, limit: int) -> bytes | None:
    """The content of our file ``name`` in ``dir_fd`` (a symlink is not
    followed), None if it does not exist. ``ValueError`` if it holds more
    than ``limit`` bytes (not a file this program wrote)."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise ValueError(f"{name}: {size:,} bytes, more than keep metadata holds")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def allocated_bytes(dir_fd: int, name: str) -> int:
    """Blocks (in bytes) that ``name`` in ``dir_fd`` and everything below
    it take on disk."""
    total = 0
    for step in dirfd.walk(dir_fd, name, runs=True):
        if step.kind == ENTER:
            total += step.st.st_blocks * 512
        elif step.kind in (LEAF, RUN):
            leaves = [leaf for leaf, _ in step.leaves] if step.kind == RUN else [step.name]
            for leaf in leaves:
                try:
                    total += dirfd.lstat_at(step.dir_fd, leaf).st_blocks * 512
                except FileNotFoundError:
                    continue
    return total


class KeepStore:
    """An open keep directory. :meth:`open` validates, creates and locks it."""

    def __init__(self, fd: int, path: str) -> None:
        self.fd = fd
        self.path = path

    @classmethod
    def open(cls, path: str) -> KeepStore:
        """Open DIR (created 0700 with its missing parents if needed) and
        lock it. Raises :class:`KeepDirError` when it is not a directory,
        belongs to another user, is not empty and not a keep directory, or
        another keeper holds it."""
        path = os.path.abspath(path)
        parent, name = os.path.split(path)
        try:
            # Every directory on the way is one only root or this user can
            # change (made so where missing), so no one else can lead DIR
            # elsewhere; DIR itself is made 0700 through its parent's fd.
            parent_fd = open_owned_dir(parent, create=True)
            try:
                try:
                    os.mkdir(name, DIR_MODE, dir_fd=parent_fd)
                except FileExistsError:
                    pass
                fd = dirfd.open_dir_at(parent_fd, name, path)
            finally:
                os.close(parent_fd)
        except (OSError, AllocDirError) as e:
            raise KeepDirError(_reason(e)) from None
        store = cls(fd, path)
        try:
            store._take()
        except BaseException:
            os.close(fd)
            raise
        return store

    def _take(self) -> None:
        st = os.fstat(self.fd)
        if st.st_uid != os.geteuid():
            raise KeepDirError(f"owned by uid {st.st_uid}, not by this user: use a directory "
                               "of your own")
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise KeepDirError("another keep process is using it") from None
        with os.scandir(self.fd) as entries:
            names = {e.name for e in entries}
        if names and MANIFEST_NAME not in names:
            raise KeepDirError("not empty and not a keep directory (no "
                               f"{MANIFEST_NAME}): name a new or empty directory")
        if MANIFEST_NAME in names:
            manifest = self.read_manifest()
            if manifest.get("format") != MANIFEST_FORMAT:
                raise KeepDirError(f"{MANIFEST_NAME} is not a keep manifest")
            if manifest.get("version", 0) > FORMAT_VERSION:
                raise KeepDirError(f"kept by a newer version (format {manifest.get('version')})")
        os.fchmod(self.fd, DIR_MODE)

    def read_manifest(self) -> dict[str, Any]:
        """The manifest, or ``{}`` when there is none yet."""
        try:
            data = read_file(self.fd, MANIFEST_NAME, 1 << 20)
            manifest = {} if data is None else json.loads(data)
        except OSError as e:
            raise KeepDirError(f"{MANIFEST_NAME}: {_reason(e)}") from None
        except ValueError:
            raise KeepDirError(f"{MANIFEST_NAME} is not a keep manifest") from None
        if not isinstance(manifest, dict):
            raise KeepDirError(f"{MANIFEST_NAME} is not a keep manifest")
        return manifest

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Replace the manifest atomically."""
        body = {"format": MANIFEST_FORMAT, "version": FORMAT_VERSION, **manifest}
        write_atomically(self.fd, MANIFEST_NAME, json.dumps(body, indent=1).encode() + b"\n")

    def kept_allocs(self) -> list[str]:
        """The allocations kept here (directories holding a ``.keep``)."""
        found = []
        with os.scandir(self.fd) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                    continue
                try:
                    st = os.stat(f"{entry.name}/{STATE_DIR}", dir_fd=self.fd,
                                 follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    found.append(entry.name)
        return sorted(found)

    def open_alloc(self, alloc_id: str) -> int:
        """The directory of ``alloc_id`` here, made with its layout
        (``alloc/logs``, ``alloc/data``, ``.keep/tmp``) if missing."""
        dirfd.check_name(alloc_id, "allocation id")
        where = f"{self.path}/{alloc_id}"
        fd = dirfd.ensure_dir_at(self.fd, alloc_id, DIR_MODE, where)
        try:
            for rel in [f"alloc/{name}" for name in KEPT_SHARED_DIRS] + [
                    f"{STATE_DIR}/{STAGING_DIR}"]:
                os.close(ensure_path(fd, rel, where))
        except BaseException:
            os.close(fd)
            raise
        return fd

    def remove_alloc(self, alloc_id: str) -> list[OSError]:
        """Remove the copy of ``alloc_id``; return what could not be removed."""
        dirfd.check_name(alloc_id, "allocation id")
        from allocdir.fsops import remove_tree_at

        errors = remove_tree_at(self.fd, alloc_id, f"{self.path}/{alloc_id}")
        try:
            os.fsync(self.fd)
        except OSError as e:
            errors.append(e)
        return errors

    def allocated(self, alloc_id: str) -> int:
        """Bytes the copy of ``alloc_id`` takes on disk."""
        return allocated_bytes(self.fd, alloc_id)

    def free_bytes(self) -> int:
        """Bytes free for this user on DIR's file system."""
        vfs = os.fstatvfs(self.fd)
        blocks = vfs.f_bfree if os.geteuid() == 0 else vfs.f_bavail
        return blocks * vfs.f_frsize

    def vanished(self) -> bool:
        """Whether DIR was removed while kept open."""
        return os.fstat(self.fd).st_nlink == 0

    def close(self) -> None:
        """Release the lock and the fd."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.errno is not None:
        if error.errno == errno.ENOTDIR:
            return "not a directory"
        return os.strerror(error.errno).lower()
    return str(error)
