"""Listing one directory for the tree, and keeping the listing compact.

:func:`load_dir` is the work a listing job does (blocking, in a worker):
``AllocDirFS.list``, what each symlink leads to (through the alloc dir's
rules: never outside, never into a secret; not looked up inside a secrets
dir), the entries sorted by name. Whatever it meets (a permission error, a
time no date holds, anything a task makes a listing raise) comes back as
the message shown on the node.

A directory of 100,000 entries listed by ``AllocDir.list`` is 100,000
``AllocFileInfo`` objects; :class:`Listing` keeps their names in a list and
everything else in flat arrays (about 100 bytes an entry), so that every
entry of a big directory stays reachable without an object per entry.
Rotated logs (``web.stdout.0..N``, two files or more) are grouped into one
entry for the set; in a kept copy, with their kept generations
(``web.stdout.0.1``, by the copy's ``log_order``). The orders of :mod:`~inspector.core.tree.order` are
sorted once each and kept.
"""

from __future__ import annotations

import bisect
from array import array

from allocdir import AllocDirError, AllocFileInfo, PathEscapesError
from allocdir.kinds import DIR, file_kind
from allocdir.paths import is_protected
from allocdir.times import utc_from_timestamp

from ..failure import failure_text
from ..lognames import group_rotations
from .order import NAME, Item, Order, natural_keys

K_FILE, K_DIR, K_LINK, K_SPECIAL = 0, 1, 2, 3
"""Entry kinds (a symlink to a directory inside the alloc dir is K_DIR with a target)."""


class Listing:
    """The entries of one directory (see the module docstring).

    Entry ``i`` has ``names[i]``, ``kinds[i]``, ``sizes[i]``, ``mtimes[i]``
    (seconds; a time out of range as its clamped ``mod_time``, which
    :meth:`info` gives back), ``modes[i]`` (``ls`` style) and, for a symlink,
    ``targets[i]`` (what it points at: "dir", "file", "broken", "escapes",
    "secret"…). Entries are stored in name order; :attr:`sets` maps a
    rotation set's name to its member entries (in order of N; with
    ``log_order``, a kept copy's ``(set, N, G)`` of a name, in order of N
    then generation G).
    """

    def __init__(self, infos: list[AllocFileInfo], targets: dict[str, str] | None = None,
                 log_order=None) -> None:
        if any(a.name > b.name for a, b in zip(infos, infos[1:], strict=False)):
            infos = sorted(infos, key=lambda info: info.name)
        self.names: list[str] = [info.name for info in infos]
        self.sizes = array("q", [info.size for info in infos])
        self.mtimes = array("d", [info.mod_time.timestamp() for info in infos])
        shared: dict[str, str] = {}
        self.modes: list[str] = [shared.setdefault(info.file_mode, info.file_mode)
                                 for info in infos]
        self.kinds = bytearray(
            K_DIR if info.is_dir else K_SPECIAL if file_kind(info.file_mode).special else K_FILE
            for info in infos
        )
        self.targets: dict[int, str] = {}
        for name, target in (targets or {}).items():
            i = self.find(name)
            if i is not None:
                self.targets[i] = target
                self.kinds[i] = K_DIR if target == "dir" else K_LINK
        self._log_order = log_order
        self.sets: dict[str, list[int]] = self._group_sets()
        self._member_of = {i: s for s, members in self.sets.items() for i in members}
        self._sorted: dict[str, list[Item]] = {}
        self._natural: list[str] | None = None
        self.dir_sizes: dict[int, tuple[int, bool]] = {}
        """Measured subdirectories (entry → bytes, complete), for the size order."""

    def _group_sets(self) -> dict[str, list[int]]:
        kinds = self.kinds
        files = [name for i, name in enumerate(self.names) if kinds[i] == K_FILE]
        grouped = {name: members for name, members in self._rotations(files).items()
                   if len(members) >= 2}
        if not grouped:
            return {}
        index = {name: i for i, name in enumerate(self.names)}
        return {set_name: [index[name] for _, name in members]
                for set_name, members in grouped.items()}

    def _rotations(self, files: list[str]) -> dict[str, list[tuple]]:
        """``group_rotations`` of ``files``, or with a kept copy's order its
        members as ``((N, G), name)``."""
        if self._log_order is None:
            return group_rotations(files)
        groups: dict[str, list[tuple]] = {}
        for name in files:
            kept = self._log_order(name)
            if kept is not None:
                groups.setdefault(kept[0], []).append(((kept[1], kept[2]), name))
        for members in groups.values():
            members.sort()
        return groups

    def set_numbers(self, set_name: str) -> list[int]:
        """The rotation numbers N of a set's members, in order, each once
        (a kept generation ``web.stdout.0.1`` is of N = 0)."""
        numbers = []
        for i in self.sets.get(set_name, ()):
            name = self.names[i]
            if self._log_order is not None:
                number = self._log_order(name)[1]
            else:
                number = int(name.rsplit(".", 1)[1])
            if not numbers or numbers[-1] != number:
                numbers.append(number)
        return numbers

    def __len__(self) -> int:
        return len(self.names)

    def find(self, name: str) -> int | None:
        """The index of the entry called ``name``, or None."""
        i = bisect.bisect_left(self.names, name)
        return i if i < len(self.names) and self.names[i] == name else None

    def set_of(self, index: int) -> str | None:
        """The rotation set an entry belongs to (None if it is not grouped)."""
        return self._member_of.get(index)

    def info(self, index: int) -> AllocFileInfo:
        """The entry as an ``AllocFileInfo`` (made on demand)."""
        return AllocFileInfo(
            name=self.names[index],
            is_dir=self.kinds[index] == K_DIR and index not in self.targets,
            size=self.sizes[index],
            file_mode=self.modes[index],
            mod_time=utc_from_timestamp(self.mtimes[index]),
        )

    def set_size(self, set_name: str) -> int:
        """The bytes of every member of a set."""
        return sum(self.sizes[i] for i in self.sets[set_name])

    def set_mtime(self, set_name: str) -> float:
        """When a set was last written (its newest member)."""
        return max(self.mtimes[i] for i in self.sets[set_name])

    def size_of(self, item: Item) -> int:
        """The bytes of an entry or a set."""
        return self.set_size(item) if isinstance(item, str) else self.sizes[item]

    def mtime_of(self, item: Item) -> float:
        """When an entry or a set was last written."""
        return self.set_mtime(item) if isinstance(item, str) else self.mtimes[item]

    def natural_keys(self) -> list[str]:
        """The natural sort key of every name (made once)."""
        if self._natural is None:
            self._natural = natural_keys(self.names)
        return self._natural

    def add_dir_sizes(self, sizes: dict[str, tuple[int, bool]]) -> None:
        """Take the measured sizes of subdirectories (by name); the size
        order is sorted again."""
        for name, size in sizes.items():
            i = self.find(name)
            if i is not None:
                self.dir_sizes[i] = size
        self._sorted.pop("size", None)

    def ordered(self, order: Order = NAME) -> list[Item]:
        """What the directory shows, in ``order``: directories first, then
        files and sets (a set's name in place of its members). Sorted once
        per order and kept; do not change the list returned."""
        base = self._sorted.get(order.name)
        if base is None:
            dirs: list[int] = []
            files: list[Item] = []
            member_of, kinds = self._member_of, self.kinds
            for i in range(len(self.names)):
                if i not in member_of:
                    (dirs if kinds[i] == K_DIR else files).append(i)
            files.extend(self.sets)
            base = self._sorted[order.name] = order.sort(self, dirs, files)
        return base

    def members(self, set_name: str, order: Order = NAME) -> list[int]:
        """A set's members: in order of N, or newest first in the order by time."""
        members = list(self.sets.get(set_name, ()))
        if order.name != NAME.name:
            members.sort(key=lambda i: -self.mtimes[i])
        return members


def list_dir(fs, rel: str) -> Listing:
    """List a directory for the tree, symlinks looked up (not in a secrets
    dir). Blocking; raises what ``AllocDirFS.list`` raises."""
    infos = fs.list(rel)
    targets = {}
    if not is_protected(rel):
        targets = {info.name: link_target(fs, _join(rel, info.name))
                   for info in infos if info.is_symlink}
    listing = Listing(infos, targets, getattr(fs, "log_order", None))
    listing.ordered(NAME)  # sorted here, in the worker, not on the UI thread
    return listing


def load_dir(fs, rel: str) -> Listing | str:
    """List ``rel`` for the tree, or return the reason it cannot be listed.

    A permission error becomes "permission denied" so the node says why it is
    empty instead of looking empty; any other failure, expected or not (a
    task can make a listing raise), becomes its message too. A secrets dir
    lists its names and sizes (``AllocDir.list`` gives no more); its files
    stay locked.
    """
    try:
        return list_dir(fs, rel)
    except Exception as exc:
        return failure_text(exc, f"listing {getattr(fs, 'alloc_dir', '')}/{rel}")


def link_target(fs, rel: str) -> str:
    """What the symlink ``rel`` of ``fs`` leads to, through the alloc dir's
    rules (never outside, never into a secret): "dir", "file", "fifo",
    "socket", "char device" or "block device"; or why it leads nowhere:
    "escapes", "broken", "secret", "refused", "unreadable". Blocking."""
    try:
        info = fs.stat(rel)
    except PathEscapesError:
        return "escapes"
    except FileNotFoundError:
        return "broken"
    except AllocDirError as exc:
        return "secret" if "secret" in str(exc).lower() else "refused"
    except OSError:
        return "unreadable"
    if info.is_dir:
        return DIR.word
    kind = file_kind(info.file_mode)
    return kind.tag if kind.special else "file"


def _join(rel: str, name: str) -> str:
    return f"{rel}/{name}" if rel else name
