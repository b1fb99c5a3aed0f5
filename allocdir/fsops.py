"""Tree operations that must lose nothing and follow nothing: removal that
stops at mount points, and the copy-then-verify used to move across file
systems. Every one works below a directory fd through :func:`dirfd.walk`."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass

from . import dirfd
from .dirfd import ENTER, ERROR, LEAF, LEAVE, MOUNT, RUN
from .errors import AllocDirError
from .mounts import is_root
from .room import Allowance, RoomHook
from .sparse import Extents, data_extents, data_length, may_have_holes


def _join(where: str, rel: str) -> str:
    return f"{where}/{rel}" if rel else where


def still_mounted(where: str) -> OSError:
    """The error reported for a mount point a removal did not go through."""
    return OSError(errno.EBUSY, "still mounted, not removed", where)


REMOVE_THREADS = 2
"""Subtrees removed at once: unlinks in different directories run in
parallel in the kernel (in one directory they take turns on its lock), and
the system calls release the interpreter, so two threads take about half
the time on two cores."""
SPLIT_DIRS = 32
"""Directories held open, at most, to hand their subdirectories out."""
SPLIT_DEPTH = 4
"""How deep to look for subdirectories to hand out."""


def remove_tree_at(dir_fd: int, name: str, where: str) -> list[OSError]:
    """Remove ``name`` in ``dir_fd`` and everything below it on its own mount.

    A symlink is removed, never followed; a mount point (another device, or
    a bind mount of the same file system) is not entered and is reported, as
    is anything else that could not be removed, with its parents. Returns the
    errors; what could be removed is removed.

    The subtrees below the first few levels are removed by
    :data:`REMOVE_THREADS` threads, each through its own walk from a
    directory fd (on the tree's device only); a last walk from ``name``
    removes what is left (the files of those first levels, the emptied
    directories) and reports what could not go.
    """
    split = _Split(dir_fd)
    try:
        split.plan(dir_fd, name, where, 0)
        split.remove_subtrees()
        # This walk meets again whatever a subtree's walk could not remove:
        # its errors are the ones that still stand.
        return _remove(dir_fd, name, where).errors
    finally:
        split.close()


class _Split:
    """Directories near the top of a tree opened to list their
    subdirectories, and the subtrees found below them."""

    def __init__(self, dir_fd: int) -> None:
        self.dev = os.fstat(dir_fd).st_dev
        self.opened: list[int] = []
        self.subtrees: list[tuple[int, str, str]] = []  # (parent fd, name, path)

    def plan(self, parent_fd: int, name: str, where: str, depth: int) -> None:
        """Open ``name`` and list its subdirectories: each is planned in turn
        (down to :data:`SPLIT_DEPTH`), or becomes a subtree; so does a
        directory without subdirectories. Anything
        unusual (a link, a mount point, an error) is left to the last walk,
        which reports it as the sequential removal does."""
        try:
            fd = os.open(name, dirfd.DIR_FLAGS, dir_fd=parent_fd)
        except OSError:
            return
        try:
            if os.fstat(fd).st_dev != self.dev or dirfd.is_mount_root(fd):
                os.close(fd)
                return
            with os.scandir(fd) as entries:
                subdirs = [e.name for e in entries if e.is_dir(follow_symlinks=False)]
        except OSError:
            os.close(fd)
            return
        except BaseException:
            os.close(fd)
            raise
        if not subdirs:  # nothing to hand out below: it is a subtree itself
            os.close(fd)
            if depth:
                self.subtrees.append((parent_fd, name, where))
            return
        self.opened.append(fd)
        for sub in subdirs:
            if (depth + 1 < SPLIT_DEPTH and len(self.opened) < SPLIT_DIRS
                    and _may_have_subdirs(fd, sub)):
                self.plan(fd, sub, f"{where}/{sub}", depth + 1)
            else:
                self.subtrees.append((fd, sub, f"{where}/{sub}"))

    def remove_subtrees(self) -> None:
        """Remove every subtree, in threads when there are several. What
        they could not remove, the caller's last walk meets and reports."""
        if len(self.subtrees) >= 2 and (os.cpu_count() or 1) >= 2:
            from concurrent.futures import ThreadPoolExecutor

            try:
                with ThreadPoolExecutor(REMOVE_THREADS,
                                        thread_name_prefix="allocdir-remove") as pool:
                    list(pool.map(self._remove_subtree, self.subtrees))
                return
            except RuntimeError:  # no new threads (the interpreter is exiting)
                pass
        for subtree in self.subtrees:
            self._remove_subtree(subtree)

    def _remove_subtree(self, subtree: tuple[int, str, str]) -> None:
        parent_fd, name, where = subtree
        _remove(parent_fd, name, where, device=self.dev)

    def close(self) -> None:
        for fd in self.opened:
            os.close(fd)
        self.opened.clear()


def _may_have_subdirs(dir_fd: int, name: str) -> bool:
    """False when the link count of directory ``name`` says it has no
    subdirectories (2: its name and its "."), so planning need not list it;
    a file system that does not count them (1, btrfs) says True. A hint
    only: whoever walks the subtree lists what is there then."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_nlink != 2
    except OSError:
        return False


def remove_copied_at(top_fd: int, where: str,
                     copy: dict[str, Entry]) -> tuple[list[OSError], list[str]]:
    """Empty the directory open as ``top_fd`` of what ``copy`` (a manifest of
    its verified copy) holds: an entry goes only if the copy has it as it is
    now (kind, size, mtime, link target); anything else, changed or added
    since it was copied, stays and is returned in the second list. The
    directory itself stays (its parent removes it by name, once empty)."""

    def changed(dir_fd: int, name: str, rel: str) -> bool:
        entry = _leaf_entry(dir_fd, name)
        return entry is not None and copy.get(rel) != entry

    removal = _remove(top_fd, ".", where, keep=changed, top=False)
    return removal.errors, removal.kept


class _Removal:
    """What a removal walk met: errors, entries kept on purpose, and for each
    directory it is in whether everything in it went (so it can go too)."""

    def __init__(self) -> None:
        self.errors: list[OSError] = []
        self.kept: list[str] = []
        self.emptied: list[bool] = []

    def failed(self, error: OSError) -> None:
        self.errors.append(error)
        self.not_emptied()

    def not_emptied(self) -> None:
        if self.emptied:
            self.emptied[-1] = False

    def rmdir(self, name: str, dir_fd: int, path: str) -> None:
        try:
            os.rmdir(name, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        except OSError as e:
            self.failed(dirfd.named(e, path))


def _remove(dir_fd: int, name: str, where: str, keep=None, top: bool = True,
            device: int | None = None) -> _Removal:
    """Remove what is below ``name`` (and it, with ``top``), leaving the
    non-directories for which ``keep(dir_fd, name, rel)`` is true; with
    ``device``, ``name`` on another device counts as a mount point."""
    removal = _Removal()
    unlink = os.unlink
    for step in dirfd.walk(dir_fd, name, where=where, runs=True, device=device):
        kind = step.kind
        if kind == RUN or kind == LEAF:
            leaves = step.leaves if kind == RUN else [(step.name, step.regular)]
            for leaf, _ in leaves:
                rel = step.rel if kind == LEAF else None
                if keep is not None:
                    rel = rel if rel is not None else f"{step.rel}/{leaf}".lstrip("/")
                    if keep(step.dir_fd, leaf, rel):
                        removal.kept.append(rel)
                        removal.not_emptied()
                        continue
                try:
                    unlink(leaf, dir_fd=step.dir_fd)
                except FileNotFoundError:
                    pass
                except OSError as e:
                    rel = rel if rel is not None else f"{step.rel}/{leaf}".lstrip("/")
                    removal.failed(dirfd.named(e, _join(where, rel)))
        elif kind == ENTER:
            removal.emptied.append(True)
        elif kind == MOUNT:
            removal.failed(still_mounted(_join(where, step.rel)))
        elif kind == ERROR:
            removal.failed(step.error)
        elif kind == LEAVE:
            if step.depth == 0 and not top:
                break
            if removal.emptied.pop():
                removal.rmdir(step.name, step.dir_fd, _join(where, step.rel))
            else:
                removal.not_emptied()
    return removal


@dataclass(frozen=True)
class Entry:
    """What a copy must reproduce of one entry: its kind, and for a file its
    size and modification time (a copy keeps it), for a link its target."""

    kind: str
    size: int = 0
    link: str = ""
    mtime_ns: int = 0


def manifest_at(dir_fd: int, name: str, where: str) -> dict[str, Entry]:
    """Every entry of ``name`` in ``dir_fd`` and below, by path relative to
    it (``""`` is the top); sockets, which are not copied, are left out."""
    result: dict[str, Entry] = {}
    for step in dirfd.walk(dir_fd, name, where=where):
        if step.kind == ERROR:
            raise step.error
        if step.kind == MOUNT:
            raise AllocDirError(f"{_join(where, step.rel)} is a mount point")
        if step.kind == ENTER:
            result[step.rel] = Entry("d")
        elif step.kind == LEAF:
            entry = _leaf_entry(step.dir_fd, step.name)
            if entry is not None:
                result[step.rel] = entry
    return result


def _leaf_entry(dir_fd: int, name: str) -> Entry | None:
    try:
        st = dirfd.lstat_at(dir_fd, name)
    except FileNotFoundError:
        return None
    if stat.S_ISSOCK(st.st_mode):
        return None
    if stat.S_ISLNK(st.st_mode):
        return Entry("link", link=os.readlink(name, dir_fd=dir_fd))
    if stat.S_ISREG(st.st_mode):
        return Entry("file", size=st.st_size, mtime_ns=st.st_mtime_ns)
    return Entry(stat.filemode(st.st_mode)[0])


def verify_copy(src: tuple[int, str, str], dst: tuple[int, str, str]) -> dict[str, Entry]:
    """Raise ``AllocDirError`` unless the copy ``dst`` holds every entry of
    ``src``; each is ``(dir fd, name, path for messages)``. Returns the
    copy's manifest."""
    want, have = manifest_at(*src), manifest_at(*dst)
    missing = sorted(rel or "." for rel, entry in want.items()
                     if have.get(rel) != entry and not (entry.kind in "bc" and not is_root()))
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise AllocDirError(f"copy of {src[2]} to {dst[2]} differs at {len(missing)} entries: "
                            f"{shown}")
    return have


def copy_tree_at(src_fd: int, src_name: str, dst_fd: int, dst_name: str, where: str, *,
                 top_perms: bool = True, room: RoomHook | None = None) -> os.stat_result:
    """Copy ``src_name`` of ``src_fd`` to the new ``dst_name`` of ``dst_fd``
    as ``cp -a`` would, following no symlink on either side.

    Regular files, directories, symlinks, FIFOs and (as root) devices keep
    their mode, times and (as root) owner; sockets, which cannot be copied,
    are skipped; FIFOs and devices are never opened; holes stay holes. A
    mount point inside refuses the copy. Directories are created 0700 and
    given their own mode and owner once filled (the top one only with
    ``top_perms``). ``room``, if given, is asked before each file's data is
    written (:mod:`allocdir.room`). Returns the ``lstat`` of the source top.
    """
    dst = dirfd.DirStack(dst_fd)
    allowance = Allowance(room)
    sources: list[os.stat_result] = []
    top_st = dirfd.lstat_at(src_fd, src_name)
    try:
        for step in dirfd.walk(src_fd, src_name, where=where):
            target = dst_name if step.depth == 0 else step.name
            if step.kind == ERROR:
                raise step.error
            if step.kind == MOUNT:
                raise AllocDirError(f"{_join(where, step.rel)} is a mount point; not copied")
            if step.kind == LEAF:
                _copy_leaf(step.dir_fd, step.name, dst.top(), target, _join(where, step.rel),
                           allowance)
            elif step.kind == ENTER:
                os.mkdir(target, 0o700, dir_fd=dst.top())
                dst.push(target, dirfd.open_dir_at(dst.top(), target, target))
                sources.append(step.st)
            elif step.kind == LEAVE:
                st = sources.pop()
                if step.depth > 0 or top_perms:
                    apply_metadata(dst.top(), st)
                dst.pop()
    finally:
        dst.close()
    return top_st


def apply_metadata(fd: int, st: os.stat_result) -> None:
    """Give the open ``fd`` the owner (as root), mode and times of ``st``."""
    if is_root():
        os.fchown(fd, st.st_uid, st.st_gid)
    os.fchmod(fd, stat.S_IMODE(st.st_mode))
    os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))


def _copy_leaf(src_fd: int, name: str, dst_fd: int, target: str, where: str,
               allowance: Allowance) -> None:
    try:
        st = dirfd.lstat_at(src_fd, name)
    except FileNotFoundError:
        return
    mode = st.st_mode
    if stat.S_ISREG(mode):
        _copy_file(src_fd, name, dst_fd, target, where, allowance)
        return
    if stat.S_ISLNK(mode):
        os.symlink(os.readlink(name, dir_fd=src_fd), target, dir_fd=dst_fd)
    elif stat.S_ISFIFO(mode):
        os.mkfifo(target, 0o600, dir_fd=dst_fd)
    elif (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) and is_root():
        os.mknod(target, (mode & ~0o7777) | 0o600, st.st_rdev, dir_fd=dst_fd)
    else:
        return  # sockets, and devices when not root
    # The staging tree is root's alone while it is filled: a name there is safe.
    if is_root():
        os.chown(target, st.st_uid, st.st_gid, dir_fd=dst_fd, follow_symlinks=False)
    if not stat.S_ISLNK(mode):
        os.chmod(target, stat.S_IMODE(mode), dir_fd=dst_fd)
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns), dir_fd=dst_fd,
             follow_symlinks=False)


def _copy_file(src_fd: int, name: str, dst_fd: int, target: str, where: str,
               allowance: Allowance) -> None:
    try:
        source, st = dirfd.open_file_at(src_fd, name, where)
    except FileNotFoundError:
        return
    try:
        extents = data_extents(source, st.st_size) if may_have_holes(st) else None
        allowance.take(where, st.st_size if extents is None else data_length(extents))
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                      | os.O_CLOEXEC, 0o600, dir_fd=dst_fd)
        try:
            copy_content(source, out, st.st_size, extents)
            apply_metadata(out, st)
        finally:
            os.close(out)
    finally:
        os.close(source)


def copy_content(source: int, out: int, size: int | None = None,
                 extents: Extents | None = None) -> None:
    """Copy everything from ``source`` to ``out`` (both at their start), in
    the kernel where it can. With ``extents`` (the data regions of the
    first ``size`` bytes, :func:`allocdir.sparse.data_extents`) only those
    are copied and the holes stay holes; what the file holds past ``size``
    (it grew meanwhile) is copied after them."""
    offset = 0
    if extents is not None and size is not None:
        for start, length in extents:
            os.lseek(out, start, os.SEEK_SET)
            _send_range(source, out, start, length)
        os.ftruncate(out, size)  # the hole at the end, if there is one
        os.lseek(out, size, os.SEEK_SET)
        offset = size
    _send_range(source, out, offset, None)


def _send_range(source: int, out: int, offset: int, length: int | None) -> None:
    """Copy ``length`` bytes of ``source`` from ``offset`` (None: up to its
    end) to where ``out`` is; fewer if the file is shorter."""
    end = None if length is None else offset + length
    while end is None or offset < end:
        count = 8 << 20 if end is None else min(8 << 20, end - offset)
        try:
            sent = os.sendfile(out, source, offset, count)
        except OSError as e:
            if e.errno not in (errno.EINVAL, errno.ENOSYS):
                raise
            break
        if not sent:
            return
        offset += sent
    while end is None or offset < end:
        chunk = os.pread(source, 1 << 20 if end is None else min(1 << 20, end - offset), offset)
        if not chunk:
            return
        view = memoryview(chunk)
        while view:
            view = view[os.write(out, view):]
        offset += len(chunk)


@dataclass
class TreeSize:
    """What some trees hold: entries; ``content_bytes``, the size of their
    regular files; ``archived_bytes``, what a snapshot stores of those (a
    file with holes: its allocated blocks and a sparse map); and
    ``allocated_bytes``, the blocks every entry takes (what a copy needs)."""

    entries: int = 0
    content_bytes: int = 0
    archived_bytes: int = 0
    allocated_bytes: int = 0


SPARSE_OVERHEAD = 3 * 512
"""What a sparse entry adds to a tar, about: its PAX records and its map."""


def measure_at(dir_fd: int, name: str, where: str, into: TreeSize, *,
               limit: int | None = None, cancel=None) -> bool:
    """Add the entries and bytes of ``name`` in ``dir_fd`` (and below) to
    ``into``. Entries that vanish meanwhile are not counted.

    Returns True when the whole tree was measured; False when it stopped
    early, the figures then being lower bounds: once ``limit`` entries were
    counted in all (``into.entries``), or when ``cancel`` (anything with
    ``is_set()``, e.g. a ``threading.Event``) is set.
    """
    bounded = limit is not None or cancel is not None
    walk = dirfd.walk(dir_fd, name, where=where, runs=True)
    try:
        for step in walk:
            if step.kind == RUN:
                leaves = [leaf for leaf, _ in step.leaves]
            elif step.kind == LEAF:
                leaves = [step.name]
            else:
                if step.kind in (ENTER, MOUNT):
                    if bounded and _spent(into, limit, cancel):
                        return False
                    into.entries += 1
                    into.allocated_bytes += step.st.st_blocks * 512
                continue
            for leaf in leaves:
                if bounded and _spent(into, limit, cancel):
                    return False
                try:
                    st = dirfd.lstat_at(step.dir_fd, leaf)
                except FileNotFoundError:
                    continue
                into.entries += 1
                allocated = st.st_blocks * 512
                into.allocated_bytes += allocated
                if stat.S_ISREG(st.st_mode):
                    into.content_bytes += st.st_size
                    into.archived_bytes += (allocated + SPARSE_OVERHEAD if may_have_holes(st)
                                            else st.st_size)
        return True
    finally:
        walk.close()  # its directory fds are closed now, not at garbage collection


def _spent(into: TreeSize, limit: int | None, cancel) -> bool:
    return (limit is not None and into.entries >= limit) or (
        cancel is not None and cancel.is_set())
