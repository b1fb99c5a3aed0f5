"""A keep directory (what ``allocdir-inspector keep`` writes) read as a
root of allocations, read-only.

A keep directory is recognised by its manifest (``DIR/.allocdir-keep``,
:mod:`inspector.core.keep.layout`). Each kept allocation has Nomad's
layout, so it is read through ``AllocDir``'s read side (the same rules
for escapes, secrets, FIFOs) by :class:`KeptCopy`, which adds what was
kept about it (``.keep/alloc.json``: first and last seen, gone) and the
order of its logs: a member truncated at the source went on in a new
generation (``web.stdout.0`` then ``web.stdout.0.1``), and a rotation set
is read in order of member then generation, as one log.

Nothing kept is changed, but for one thing: a kept copy can be removed
(:meth:`KeptCopy.destroy`, the typed-id confirmation of destroy), never
while a keeper runs on the directory (it holds the directory's lock and
would go on copying into it): that is refused with the reason. A kept
copy may be snapshotted (a tar of its ``alloc/data`` and ``local/``
files, to take the evidence elsewhere); it cannot be moved.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
from datetime import datetime, timezone

from allocdir import AllocDir, AllocDirError, NotAnAllocDirError, dirfd
from allocdir.fsops import remove_tree_at
from allocdir.times import utc_from_timestamp
from allocdir.plaintext import age_words

from .actions import DestroyWords
from .keep.layout import MANIFEST_FORMAT, MANIFEST_NAME, STATE_DIR, kept_log_order
from .keep.store import read_file
from .text import printable

SUMMARY_FILE = "alloc.json"
_KEEPER_RUNS = ("a keep process is running on {keep_dir}: stop it first (it would go on "
                "copying into the copy being removed)")
SUMMARY_LIMIT = 1 << 20
"""Bytes of an ``alloc.json`` read, at most (ours are a few KiB)."""


def is_keep_dir(path: str) -> bool:
    """Whether the directory ``path`` holds a keep manifest (a regular file
    named ``.allocdir-keep`` whose JSON says it is one). Never raises."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        st = os.stat(MANIFEST_NAME, dir_fd=fd, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode):
            return False
        manifest = json.loads(read_file(fd, MANIFEST_NAME, SUMMARY_LIMIT) or b"null")
    except (OSError, ValueError):
        return False
    finally:
        os.close(fd)
    return isinstance(manifest, dict) and manifest.get("format") == MANIFEST_FORMAT


class KeptCopy:
    """One kept allocation, readable as an allocation (``AllocDirFS``) with
    what was kept about it; moving is refused, removing is the kept copy's."""

    read_only = True
    allowed_actions = frozenset({"snapshot", "destroy"})
    """A kept copy may be snapshotted and removed (destroy removes the copy)."""
    destroy_words = DestroyWords(
        "Remove kept copy", "removing", "removed", "Kept copy",
        "This removes the kept copy {path} from its keep directory: what was kept of the "
        "allocation (its data, logs and task directories). The allocation on the client, if "
        "it is still there, is not touched. It cannot be undone.")
    """How the destroy dialog words it: a kept copy is removed."""

    def __init__(self, alloc: AllocDir, keep_dir: str) -> None:
        self._reader = alloc
        self.alloc_dir = alloc.alloc_dir
        self.task_dirs = alloc.task_dirs
        self.keep_dir = keep_dir
        self.summary = self._read_summary()

    @property
    def alloc_id(self) -> str:
        """The allocation's id (its directory's name in the keep directory)."""
        return os.path.basename(self.alloc_dir)

    def _read_summary(self) -> dict:
        try:
            top = os.open(self.alloc_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            return {}
        try:
            fd = dirfd.open_dir_at(top, STATE_DIR, f"{self.alloc_dir}/{STATE_DIR}")
        except (OSError, AllocDirError):
            return {}
        finally:
            os.close(top)
        try:
            data = read_file(fd, SUMMARY_FILE, SUMMARY_LIMIT)
            summary = json.loads(data) if data else {}
        except (OSError, ValueError):
            return {"notes": ["alloc.json cannot be read"]}
        finally:
            os.close(fd)
        return summary if isinstance(summary, dict) else {}

    @property
    def gone(self) -> bool:
        """Whether the allocation was gone from the client when last kept."""
        return isinstance(self.summary.get("gone"), (int, float))

    @property
    def last_seen(self) -> datetime | None:
        """When the keeper last saw the allocation on the client."""
        seen = self.summary.get("last_seen")
        return utc_from_timestamp(seen) if isinstance(seen, (int, float)) else None

    @property
    def description(self) -> str:
        """"kept · gone, last seen 3 hours ago" (or "kept · on the client when last kept")."""
        seen = self.last_seen
        when = f"last seen {age_words(seen, datetime.now(timezone.utc))}" if seen else \
            "never seen"
        state = f"gone, {when}" if self.gone else f"on the client when last kept, {when}"
        return f"kept · {state}"

    def summarize(self, *, now=None, budget=None):
        """The row of a root's table: the library's summary of the copy on disk."""
        from allocdir.summary import summarize_alloc

        return summarize_alloc(self._reader, now=now,
                               **({"budget": budget} if budget else {}))

    # -- reading: AllocDir's rules --------------------------------------------------

    @staticmethod
    def log_order(name: str):
        """``(set, N, G)`` of a kept log file name (see ``kept_log_order``)."""
        return kept_log_order(name)

    def list(self, path):
        """``AllocDir.list`` of the kept copy."""
        return self._reader.list(path)

    def stat(self, path):
        """``AllocDir.stat`` of ``path``."""
        return self._reader.stat(path)

    def read_at(self, path, offset: int):
        """``AllocDir.read_at``: secrets and special files refused as there."""
        return self._reader.read_at(path, offset)

    def change_events(self, path, cur_offset: int, **options):
        """``AllocDir.change_events``: a keeper may still be appending."""
        return self._reader.change_events(path, cur_offset, **options)

    def block_until_exists(self, path, **options):
        """``AllocDir.block_until_exists`` of ``path``."""
        return self._reader.block_until_exists(path, **options)

    # -- actions ----------------------------------------------------------------

    def refusal(self, verb: str) -> str:
        """Why ``verb`` is refused on a kept copy (everything but snapshot and remove)."""
        return f"Cannot {verb} {printable(self.alloc_id)}: a kept copy is read-only"

    def snapshot(self, w, *args, **kwargs):
        """A tar of the kept ``alloc/data`` and tasks' ``local/`` files."""
        return self._reader.snapshot(w, *args, **kwargs)

    def snapshot_estimate(self, *args, **kwargs):
        """``AllocDir.snapshot_estimate`` of the kept copy."""
        return self._reader.snapshot_estimate(*args, **kwargs)

    def move(self, *_args, **_kwargs):
        """Refused: a kept copy is evidence, not an allocation to move."""
        raise NotAnAllocDirError(self.refusal("move"))

    def removal_refusal(self) -> str | None:
        """Why removing this copy is refused now (a keeper runs on the keep
        directory), or None; :meth:`destroy` checks again under the lock."""
        try:
            fd = os.open(self.keep_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            return f"{printable(self.keep_dir)} cannot be opened: {printable(exc.strerror or exc)}"
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _KEEPER_RUNS.format(keep_dir=printable(self.keep_dir))
        finally:
            os.close(fd)  # releases the lock if taken
        return None

    def destroy(self) -> None:
        """Remove this kept copy from the keep directory, refused (with
        ``AllocDirError``) while a keeper holds the directory's lock."""
        errors = remove_kept_copy(self.keep_dir, self.alloc_id)
        if errors:
            raise AllocDirError(f"{printable(self.alloc_id)}: {len(errors)} entries could not "
                                f"be removed: {printable(errors[0])}", errors=errors)

    def __repr__(self) -> str:
        return f"KeptCopy({self.alloc_dir!r})"


def remove_kept_copy(keep_dir: str, alloc_id: str) -> list[OSError]:
    """Remove ``keep_dir/alloc_id`` through directory fds, holding the keep
    directory's lock (raises ``AllocDirError`` when a keeper holds it, or
    when ``alloc_id`` is not a kept copy). Returns what could not be removed."""
    dirfd.check_name(alloc_id, "allocation id")
    fd = os.open(keep_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AllocDirError(_KEEPER_RUNS.format(keep_dir=printable(keep_dir))) from None
        try:
            st = os.stat(f"{alloc_id}/{STATE_DIR}", dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        if st is None or not stat.S_ISDIR(st.st_mode):
            raise AllocDirError(f"{printable(alloc_id)} is not a kept copy (no {STATE_DIR}/)")
        errors = remove_tree_at(fd, alloc_id, f"{keep_dir}/{alloc_id}")
        os.fsync(fd)
        return errors
    finally:
        os.close(fd)  # releases the lock
