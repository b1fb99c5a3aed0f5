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
following links (a task dir, ``alloc/``). A source that is a symlink is
moved as a link (renamed, or recreated across file systems), never
followed, and nothing is removed through it.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass

from . import dirfd
from .errors import AllocDirError
from .fsops import Entry, apply_metadata, copy_tree_at, remove_copied_at, remove_tree_at, verify_copy

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
    a symlink where the target should be). A missing source moves nothing."""
    if _resume(m):
        return
    try:
        st = dirfd.lstat_at(m.src_fd, m.src_name)
    except FileNotFoundError:
        return
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise AllocDirError(f"error moving {m.what}: {m.source} is not a directory")
    _clear_target(m)
    try:
        os.rename(m.src_name, m.dst_name, src_dir_fd=m.src_fd, dst_dir_fd=m.dst_fd)
        return
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise AllocDirError(f"error moving {m.what}: {dirfd.named(e, m.target)}") from e
    if stat.S_ISLNK(st.st_mode):
        _move_link_across(m)
    else:
        _move_across(m)


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


def _move_link_across(m: Move) -> None:
    link = os.readlink(m.src_name, dir_fd=m.src_fd)
    os.symlink(link, m.dst_name, dir_fd=m.dst_fd)
    os.unlink(m.src_name, dir_fd=m.src_fd)


def _move_across(m: Move) -> None:
    # The source is pinned by an fd: copy, check and removal all see the one
    # directory that was there, even if a task swaps another in by name.
    top = dirfd.open_dir_at(m.src_fd, m.src_name, m.source)
    try:
        ident = dirfd.identity(os.fstat(top))
        _discard(m.sidecar_fd, m.staging)  # an unverified copy from a move killed earlier
        try:
            top_st = copy_tree_at(top, ".", m.sidecar_fd, m.staging, m.source, top_perms=False)
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
    finally:
        os.close(top)


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
