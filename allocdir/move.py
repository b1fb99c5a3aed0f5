"""Moving a directory from one alloc dir to another without losing a file.

On one file system a move is a ``renameat``. Across file systems
(``EXDEV``) it is a journaled copy: the tree is copied to a staging
directory and verified; a journal naming the source is written; the staging
directory is renamed into place; the source is removed; the journal goes. A
process killed at any point leaves every file in the source or the target,
and running the move again finishes it.

Staging directory and journal live in the destination alloc dir itself
(0755, root's when root): no task can write there, so neither can be
planted or swapped. They are created ``O_EXCL | O_NOFOLLOW``, and a journal
is only acted on when it is a regular file of ours that no one else can
write, and once the copy it names has been checked against the source.

Source and target are each a name in a directory already opened without
following links (a task dir, ``alloc/``). Only a real directory moves: a
task can swap its ``local/`` for a symlink to a host directory, and a link
carried into the new allocation would lead the client's later writes
there, so a symlink in its place is refused (and one swapped in while the
move runs is put back). A copy across file systems keeps holes, and is
refused up front, or stopped before the file that would take it there,
when the destination would drop below its reserve (:mod:`allocdir.room`).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass

from . import dirfd
from .dirfd import UnsafePathError
from .errors import AllocDirError
from .fsops import (
    Entry, TreeSize, apply_metadata, copy_tree_at, measure_at, remove_copied_at, remove_tree_at,
    verify_copy,
)
from .room import NoRoomError, RoomCheck, room_at

STAGING_PREFIX = ".allocdir-moving-"
JOURNAL_PREFIX = ".allocdir-moved-"


@dataclass(frozen=True)
class Move:
    """One directory to move: ``src_name`` in the open directory ``src_fd``
    to ``dst_name`` in ``dst_fd``; ``sidecar_fd`` is the destination alloc
    dir, where staging and journal go under ``key``. ``source`` and
    ``target`` are the paths shown in messages and kept in the journal."""

    src_fd: int
    src_name: str
    dst_fd: int
    dst_name: str
    sidecar_fd: int
    key: str
    source: str
    target: str
    what: str

    @property
    def staging(self) -> str:
        return STAGING_PREFIX + self.key

    @property
    def journal(self) -> str:
        return JOURNAL_PREFIX + self.key


def move_dir(m: Move) -> None:
    """Move ``m``'s source to its target, replacing an empty target dir (or
    a symlink where the target should be). A missing source moves nothing;
    a source that is not a real directory is refused."""
    if _resume(m):
        return
    try:
        st = dirfd.lstat_at(m.src_fd, m.src_name)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        raise AllocDirError(f"error moving {m.what}: "
                            f"{source_refusal(m.source, st, m.src_fd, m.src_name)}")
    _clear_target(m)
    try:
        # Pinned: whatever a task swaps in by name, this is the directory
        # that was checked, and the one a copy reads.
        top = dirfd.open_dir_at(m.src_fd, m.src_name, m.source)
    except UnsafePathError:
        raise AllocDirError(f"error moving {m.what}: {m.source} was swapped for a symbolic "
                            "link or a file while being moved; nothing was moved") from None
    try:
        try:
            os.rename(m.src_name, m.dst_name, src_dir_fd=m.src_fd, dst_dir_fd=m.dst_fd)
            _check_renamed(m, dirfd.identity(os.fstat(top)))
            return
        except OSError as e:
            if e.errno != errno.EXDEV:
                raise AllocDirError(f"error moving {m.what}: {dirfd.named(e, m.target)}") from e
        _move_across(m, top)
    finally:
        os.close(top)


def source_refusal(source: str, st: os.stat_result, dir_fd: int, name: str) -> str:
    """Why the source ``name`` of ``dir_fd`` (``st`` its lstat), which is
    not a directory, is not moved."""
    what = _kind_of(st, dir_fd, name)
    if stat.S_ISLNK(st.st_mode):
        return (f"{source} is {what}, not a directory: only real directories move (a link "
                "in the new allocation would lead its writes elsewhere); nothing was moved")
    return f"{source} is {what}, not a directory; nothing was moved"


def _kind_of(st: os.stat_result, dir_fd: int, name: str) -> str:
    """E.g. "a symbolic link (to /etc)", "a regular file"."""
    if not stat.S_ISLNK(st.st_mode):
        return "a regular file" if stat.S_ISREG(st.st_mode) else "a special file"
    try:
        return f"a symbolic link (to {os.readlink(name, dir_fd=dir_fd)})"
    except OSError:
        return "a symbolic link"


def _check_renamed(m: Move, ident: tuple[int, int]) -> None:
    """After a rename by name: if a task swapped something else in for the
    checked directory just before it, and that is not a real directory,
    give it back to the source and refuse. (A link no name is left for is
    removed: its target, all it holds, is in the message.)"""
    try:
        st = dirfd.lstat_at(m.dst_fd, m.dst_name)
    except FileNotFoundError:
        return
    if dirfd.identity(st) == ident or stat.S_ISDIR(st.st_mode):
        return  # the directory checked, or another real directory of the task's
    what = f"{m.source} was {_kind_of(st, m.dst_fd, m.dst_name)}"
    for name in (m.src_name, f"{m.src_name}.swapped-{os.urandom(3).hex()}"):
        if _rename_noreplace(m.dst_fd, m.dst_name, m.src_fd, name):
            fate = f"it was put back as {name}"
            break
    else:
        if not stat.S_ISLNK(st.st_mode):
            raise AllocDirError(f"error moving {m.what}: {what}, swapped in while being moved; "
                                f"it could not be put back and is at {m.target}")
        os.unlink(m.dst_name, dir_fd=m.dst_fd)
        fate = "it was removed from the target"
    raise AllocDirError(f"error moving {m.what}: {what}, swapped in while being moved; {fate}, "
                        "and the directory was not moved")


_RENAME_NOREPLACE = 1


def _rename_noreplace(src_fd: int, src: str, dst_fd: int, dst: str) -> bool:
    """``renameat2(RENAME_NOREPLACE)``; False when ``dst`` exists (or the
    call is not available)."""
    try:
        renameat2 = dirfd.libc().renameat2
    except AttributeError:  # a C library without it
        return False
    return renameat2(src_fd, os.fsencode(src), dst_fd, os.fsencode(dst), _RENAME_NOREPLACE) == 0


def _clear_target(m: Move) -> None:
    """Remove an empty target dir, or a link where the layout wants one; a
    target with content stays (and the move fails on it)."""
    try:
        st = dirfd.lstat_at(m.dst_fd, m.dst_name)
    except FileNotFoundError:
        return
    try:
        if stat.S_ISLNK(st.st_mode):
            os.unlink(m.dst_name, dir_fd=m.dst_fd)
        elif stat.S_ISDIR(st.st_mode):
            os.rmdir(m.dst_name, dir_fd=m.dst_fd)
    except OSError as e:
        if e.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
            raise AllocDirError(f"error moving {m.what}: {dirfd.named(e, m.target)}") from e
    if _exists(m.dst_fd, m.dst_name):
        raise AllocDirError(f"error moving {m.what}: {m.target} exists and is not empty; "
                            f"the source {m.source} is untouched")


def _put_in_place(m: Move) -> None:
    """Rename the verified staging copy onto the target, clearing what the
    destination's task may have left there since (an empty dir, a link)."""
    for attempt in range(3):
        _clear_target(m)
        try:
            os.rename(m.staging, m.dst_name, src_dir_fd=m.sidecar_fd, dst_dir_fd=m.dst_fd)
            return
        except OSError as e:
            if attempt == 2 or e.errno not in (errno.ENOTDIR, errno.EEXIST, errno.ENOTEMPTY,
                                              errno.EISDIR):
                raise dirfd.named(e, m.target) from None


def _move_across(m: Move, top: int) -> None:
    """Copy the pinned source ``top`` to staging, verify, journal, put in
    place, then empty the source of what the copy holds."""
    ident = dirfd.identity(os.fstat(top))
    _discard(m.sidecar_fd, m.staging)  # an unverified copy from a move killed earlier
    try:
        top_st = copy_tree_at(top, ".", m.sidecar_fd, m.staging, m.source, top_perms=False,
                              room=RoomCheck(m.sidecar_fd, m.target))
        copy = verify_copy((top, ".", m.source), (m.sidecar_fd, m.staging, m.staging))
        _write_journal(m, ident)
        staging = dirfd.open_dir_at(m.sidecar_fd, m.staging, m.staging)
        try:
            apply_metadata(staging, top_st)
        finally:
            os.close(staging)
    except (OSError, AllocDirError) as e:
        _discard(m.sidecar_fd, m.staging)
        _remove_journal(m)
        raise AllocDirError(f"error moving {m.what} across file systems: {e}; "
                            f"the source {m.source} is untouched") from e
    try:
        _put_in_place(m)
    except (OSError, AllocDirError) as e:
        _remove_journal(m)
        _discard(m.sidecar_fd, m.staging)
        raise AllocDirError(f"error moving {m.what} to {m.target}: {e}; the source "
                            f"{m.source} is untouched") from e
    _finish(m, top, copy)


def check_sources(sources: Iterable[tuple[int, str, str]], dst_fd: int, target: str) -> None:
    """Refuse a whole move before anything of it moves: a source that is a
    symbolic link (or not a directory), or copies across file systems that
    would take the destination ``dst_fd`` below its reserve (their
    allocated blocks, and inodes, against its free space). ``sources`` are
    ``(parent fd, name, path)``; missing ones are left out."""
    dst_dev = os.fstat(dst_fd).st_dev
    size = TreeSize()
    labels = []
    for fd, name, path in sources:
        try:
            st = dirfd.lstat_at(fd, name)
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise AllocDirError(f"refusing the move: {source_refusal(path, st, fd, name)}")
        if st.st_dev != dst_dev:
            measure_at(fd, name, path, size)
            labels.append(path)
    if not labels:
        return
    room = room_at(dst_fd)
    what = f"the copy of {', '.join(labels)} across file systems"
    if size.allocated_bytes > room.usable:
        raise NoRoomError(what, size.allocated_bytes, room, target, done="nothing was moved")
    if room.inodes is not None and size.entries > room.inodes:
        raise AllocDirError(f"{what} needs {size.entries:,} inodes, {room.inodes:,} free on "
                            f"{target}; nothing was moved")


def _resume(m: Move) -> bool:
    """Finish a move across file systems that a killed process left half
    done; False when there is none."""
    record = _read_journal(m)
    if record is None:
        return False
    if record.get("source") != m.source or record.get("target") != m.target:
        raise AllocDirError(f"error moving {m.what}: {m.target} has an unfinished move from "
                            f"{record.get('source')}; run that move again first")
    if _exists(m.sidecar_fd, m.staging):
        _put_in_place(m)
    elif not _exists(m.dst_fd, m.dst_name):
        raise AllocDirError(f"error moving {m.what}: the journal says the copy of {m.source} "
                            f"was verified, but neither the staged copy nor {m.target} exists")
    try:
        top = dirfd.open_dir_at(m.src_fd, m.src_name, m.source)
    except FileNotFoundError:
        _remove_journal(m)  # killed after the source was removed
        return True
    try:
        if dirfd.identity(os.fstat(top)) != tuple(record.get("identity") or ()):
            raise AllocDirError(f"moved {m.what} to {m.target}, but {m.source} was replaced "
                                f"during the move; it is left as it is")
        # The journal alone is not trusted: the copy must prove itself whole.
        target = dirfd.open_dir_at(m.dst_fd, m.dst_name, m.target)
        try:
            copy = verify_copy((top, ".", m.source), (target, ".", m.target))
        finally:
            os.close(target)
        _finish(m, top, copy)
    finally:
        os.close(top)
    return True


def _finish(m: Move, top: int, copy: dict[str, Entry]) -> None:
    """The verified copy is in place: empty the pinned source of what the
    copy holds, remove it once empty, then the journal. What changed in the
    source after it was copied stays there, and is reported."""
    problems, kept = remove_copied_at(top, m.source, copy)
    if problems:
        raise AllocDirError.collect(
            f"moved {m.what} to {m.target}, but could not remove all of the source "
            f"{m.source} (moving again finishes it)", problems)
    if not kept:
        try:
            if dirfd.identity(dirfd.lstat_at(m.src_fd, m.src_name)) == \
                    dirfd.identity(os.fstat(top)):
                os.rmdir(m.src_name, dir_fd=m.src_fd)
        except OSError as e:
            # Gone, or the name holds another directory now (rmdir only
            # removes an empty one): the emptied source is left, losing nothing.
            if e.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.EEXIST):
                raise
    _remove_journal(m)
    if kept:
        shown = ", ".join(kept[:5]) + (" …" if len(kept) > 5 else "")
        raise AllocDirError(f"moved {m.what} to {m.target}; {len(kept)} entries of the source "
                            f"changed after they were copied and were left in {m.source}: "
                            f"{shown}")


def _write_journal(m: Move, ident: tuple[int, int]) -> None:
    record = {"source": m.source, "target": m.target, "identity": list(ident)}
    import json  # only when a move runs: keeps it out of start-up

    data = json.dumps(record, ensure_ascii=True).encode()
    partial = m.journal + ".partial"
    _discard(m.sidecar_fd, partial)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600, dir_fd=m.sidecar_fd)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(partial, m.journal, src_dir_fd=m.sidecar_fd, dst_dir_fd=m.sidecar_fd)


def _read_journal(m: Move) -> dict | None:
    try:
        fd = os.open(m.journal, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     dir_fd=m.sidecar_fd)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise AllocDirError(f"error moving {m.what}: journal {m.journal}: {e}") from e
    try:
        st = os.fstat(fd)
        if (not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid()
                or st.st_mode & 0o022 or st.st_size > 1 << 16):
            raise AllocDirError(f"error moving {m.what}: {m.journal} in the destination is "
                                f"not a journal this library wrote; remove it by hand")
        data = os.read(fd, 1 << 16)
    finally:
        os.close(fd)
    try:
        import json

        record = json.loads(data)
    except ValueError as e:
        raise AllocDirError(f"error moving {m.what}: unreadable journal {m.journal}") from e
    return record if isinstance(record, dict) else {}


def _remove_journal(m: Move) -> None:
    for name in (m.journal, m.journal + ".partial"):
        try:
            os.unlink(name, dir_fd=m.sidecar_fd)
        except FileNotFoundError:
            pass


def _discard(dir_fd: int, name: str) -> None:
    remove_tree_at(dir_fd, name, name)


def _exists(dir_fd: int, name: str) -> bool:
    try:
        dirfd.lstat_at(dir_fd, name)
        return True
    except FileNotFoundError:
        return False
