"""Moving a directory from one alloc dir to another without losing a file.

On one file system a move is a rename. Across file systems (``EXDEV``) it is
a journaled copy: the tree is copied to a staging directory beside the
target and verified; a journal naming the source is written; the staging
directory is renamed into place; the source is removed; the journal goes.
A process killed at any point leaves every file in the source or the
target, and running the move again finishes it.
"""

from __future__ import annotations

import errno
import os

from . import mounts
from .errors import AllocDirError
from .fsops import copy_tree, remove_tree, verify_copy

STAGING_PREFIX = ".allocdir-moving-"
JOURNAL_PREFIX = ".allocdir-moved-"


def _sidecars(target: str) -> tuple[str, str]:
    parent, name = os.path.split(target)
    return (os.path.join(parent, STAGING_PREFIX + name),
            os.path.join(parent, JOURNAL_PREFIX + name))


def move_dir(source: str, target: str, what: str) -> None:
    """Move the directory ``source`` to ``target``, replacing an empty one.

    ``what`` names it in error messages ("data dir", "task 'web' local dir").
    """
    source = os.path.abspath(source)
    if _resume(source, target, what):
        return
    if not os.path.isdir(source):
        return
    try:
        os.rmdir(target)  # replace an empty target; a full one stays and fails below
    except OSError:
        pass
    try:
        os.rename(source, target)
        return
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise AllocDirError(f"error moving {what}: {e}") from e
    _move_across(source, target, what)


def _move_across(source: str, target: str, what: str) -> None:
    staging, journal = _sidecars(target)
    if os.path.lexists(target):
        raise AllocDirError(f"error moving {what}: {target} exists and is not empty; "
                            f"the source {source} is untouched")
    _discard(staging)  # an unverified copy from a move killed earlier
    try:
        copy_tree(source, staging)
        verify_copy(source, staging)
        _write_journal(journal, source)
    except (OSError, AllocDirError) as e:
        _discard(staging)
        raise AllocDirError(f"error moving {what} across file systems: {e}; "
                            f"the source {source} is untouched") from e
    try:
        os.rename(staging, target)
    except OSError as e:
        os.unlink(journal)
        _discard(staging)
        raise AllocDirError(f"error moving {what}: {e}; the source {source} is untouched") from e
    _finish(source, target, journal, what)


def _resume(source: str, target: str, what: str) -> bool:
    """Finish a move across file systems that a killed process left half
    done; False when there is none."""
    staging, journal = _sidecars(target)
    try:
        with open(journal, encoding="utf-8", errors="surrogateescape") as f:
            recorded = f.read()
    except FileNotFoundError:
        return False
    if recorded != source:
        raise AllocDirError(f"error moving {what}: {target} has an unfinished move from "
                            f"{recorded}; run that move again first")
    if os.path.lexists(staging):
        if os.path.lexists(target) and not _is_empty_dir(target):
            raise AllocDirError(f"error moving {what}: both {staging} and {target} exist; "
                                f"leaving both and the source {source} as they are")
        try:
            os.rmdir(target)
        except FileNotFoundError:
            pass
        os.rename(staging, target)
    elif not os.path.lexists(target):
        raise AllocDirError(f"error moving {what}: the journal {journal} says the copy was "
                            f"verified, but neither {staging} nor {target} exists")
    _finish(source, target, journal, what)
    return True


def _finish(source: str, target: str, journal: str, what: str) -> None:
    """The verified copy is in place: remove the source, then the journal."""
    if os.path.lexists(source):
        real = os.path.realpath(source)
        problems = remove_tree(real, frozenset(mounts.mounts_under(real)))
        if problems:
            raise AllocDirError.collect(
                f"moved {what} to {target}, but could not remove all of the source {source} "
                f"(moving again finishes it)", problems)
    os.unlink(journal)


def _write_journal(journal: str, source: str) -> None:
    partial = journal + ".partial"
    with open(partial, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(source)
        f.flush()
        os.fsync(f.fileno())
    os.rename(partial, journal)


def _discard(path: str) -> None:
    if os.path.lexists(path):
        remove_tree(path, frozenset(mounts.mounts_under(os.path.realpath(path))))


def _is_empty_dir(path: str) -> bool:
    try:
        return not os.listdir(path)
    except NotADirectoryError:
        return False
