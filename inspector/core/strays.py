"""Directories of a client root that are not allocations.

A task owns its ``alloc/`` and can rename two of ``data``, ``logs`` and
``tmp`` away: its directory then lacks the layout of an alloc dir, and an
inspector listing only alloc dirs would hide exactly the allocation that
misbehaves. So every directory of a client root that is not an alloc dir is
shown too, with the reason ("not an allocation: alloc/ lacks data, tmp"),
and can be browsed read-only: :class:`NonAllocDir` reads through
``AllocDir``'s read side (the same rules for escapes, secrets, FIFOs) and
refuses snapshot, move and destroy with the reason. A root may hold a
hundred thousand such directories: :class:`StrayDirs` keeps their names
and reasons in two lists, and makes a :class:`NonAllocDir` only for the
ones a user opens.
"""

from __future__ import annotations

import bisect
import os

from allocdir import AllocDir, NotAnAllocDirError

from .text import printable

NOT_AN_ALLOCATION = "not an allocation"


class NonAllocDir:
    """A directory of a client root that is not an allocation, readable as
    one (``list``, ``stat``, ``read_at``, ``change_events``,
    ``block_until_exists``, as ``AllocDirFS``), with no action: snapshot,
    move and destroy raise ``NotAnAllocDirError`` with :meth:`refusal`."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self._reader = AllocDir(path)
        self.alloc_dir = self._reader.alloc_dir
        self.reason = reason
        self.task_dirs: dict = {}

    @property
    def alloc_id(self) -> str:
        """The directory's name (what an alloc id would be)."""
        return os.path.basename(self.alloc_dir)

    @property
    def description(self) -> str:
        """"not an allocation: <why>"."""
        return f"{NOT_AN_ALLOCATION}: {self.reason}"

    def refusal(self, verb: str) -> str:
        """Why ``verb`` ("snapshot", "move", "destroy") is refused, in one line."""
        return f"Cannot {verb} {printable(self.alloc_id)}: {printable(self.description)}"

    def list(self, path):
        """``AllocDir.list`` of the directory (the same path and secret rules)."""
        return self._reader.list(path)

    def stat(self, path):
        """``AllocDir.stat`` of ``path``."""
        return self._reader.stat(path)

    def read_at(self, path, offset: int):
        """``AllocDir.read_at``: secrets and special files refused as there."""
        return self._reader.read_at(path, offset)

    def change_events(self, path, cur_offset: int, **options):
        """``AllocDir.change_events`` of ``path``."""
        return self._reader.change_events(path, cur_offset, **options)

    def block_until_exists(self, path, **options):
        """``AllocDir.block_until_exists`` of ``path``."""
        return self._reader.block_until_exists(path, **options)

    def snapshot(self, *_args, **_kwargs):
        """Refused: it is not an allocation."""
        raise NotAnAllocDirError(self.refusal("snapshot"))

    def snapshot_estimate(self, *_args, **_kwargs):
        """Refused: it is not an allocation."""
        raise NotAnAllocDirError(self.refusal("snapshot"))

    def move(self, *_args, **_kwargs):
        """Refused: it is not an allocation."""
        raise NotAnAllocDirError(self.refusal("move"))

    def destroy(self, *_args, **_kwargs):
        """Refused: it is not an allocation."""
        raise NotAnAllocDirError(self.refusal("destroy"))

    def __repr__(self) -> str:
        return f"NonAllocDir({self.alloc_dir!r}, {self.reason!r})"


class StrayDirs:
    """The directories of a client root that are not allocations, in name
    order: ``names[i]`` and :meth:`reason` of each (a few distinct reasons,
    shared), and :meth:`fs` to read one."""

    def __init__(self, root: str = "") -> None:
        self.root = root
        self.names: list[str] = []
        self._reasons: list[str] = []
        self._shared: dict[str, str] = {}

    def add(self, name: str, reason: str) -> None:
        """Record a directory (added in name order)."""
        self.names.append(name)
        self._reasons.append(self._shared.setdefault(reason, reason))

    def __len__(self) -> int:
        return len(self.names)

    def reason(self, index: int) -> str:
        """Why entry ``index`` is not an allocation."""
        return self._reasons[index]

    def fs(self, index: int) -> NonAllocDir:
        """A read-only view of entry ``index``."""
        return NonAllocDir(os.path.join(self.root, self.names[index]), self._reasons[index])

    def find(self, name: str) -> int | None:
        """The index of ``name``, or None."""
        i = bisect.bisect_left(self.names, name)
        return i if i < len(self.names) and self.names[i] == name else None
