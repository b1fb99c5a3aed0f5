"""One listed directory, kept compact, in the order and with the filter the
user chose: what a tree of allocations needs for directories of any size.

A directory of 100,000 entries listed by ``AllocDir.list`` is 100,000
``AllocFileInfo`` objects; :class:`Listing` keeps their names in a list and
everything else in flat arrays (about 100 bytes an entry), so a tree can
keep every entry of a big directory reachable without keeping an object per
entry. Rotated logs (``web.stdout.0..N``, two files or more) are grouped
into one entry for the set.

Order: directories first, then names in natural order (``web.stdout.2``
before ``web.stdout.10``), or newest first. A filter keeps the names that
contain the text (smart case).
"""

from __future__ import annotations

import re
from array import array

from allocdir import AllocDirError, AllocFileInfo, PathEscapesError
from allocdir.display import kind_of
from allocdir.fileinfo import utc_from_timestamp

from .lognames import group_rotations

NAME, MTIME = "name", "mtime"
"""The two orders."""

K_FILE, K_DIR, K_LINK, K_SPECIAL = 0, 1, 2, 3
"""Entry kinds (a symlink to a directory inside the alloc dir is K_DIR with a target)."""

_DIGITS = re.compile(r"([0-9]+)")
"""Runs of ASCII digits (``\\d`` would take any script's digits as a number too)."""


def _pad(match: re.Match[str]) -> str:
    digits = match.group().lstrip("0") or "0"
    return chr(0x30 + len(digits)) + digits  # longer numbers sort after shorter ones


def natural_key(name: str) -> str:
    """A sort key that orders digit runs by value: ``a2`` before ``a10``."""
    return _DIGITS.sub(_pad, name)


def natural_keys(names: list[str]) -> list[str]:
    """:func:`natural_key` of every name, in one pass (names hold no "/")."""
    return _DIGITS.sub(_pad, "/".join(names)).split("/") if names else []


def smart_match(text: str):
    """A predicate on names: contains ``text``, ignoring case unless it has a capital."""
    if text != text.lower():
        return lambda name: text in name
    return lambda name: text in name.lower()


class Listing:
    """The entries of one directory (see the module docstring).

    Entry ``i`` has ``names[i]``, ``kinds[i]``, ``sizes[i]``, ``mtimes[i]``
    (seconds; a time out of range as its clamped ``mod_time``, which
    :meth:`info` gives back), ``modes[i]`` (``ls`` style) and, for a symlink,
    ``targets[i]`` (what it points at: "dir", "file", "broken", "escapes",
    "secret"…).
    Entries are stored in name order; :attr:`sets` maps a rotation set's
    name to its member entries (in order of N).
    """

    def __init__(self, infos: list[AllocFileInfo], targets: dict[str, str] | None = None) -> None:
        targets = targets or {}
        if any(a.name > b.name for a, b in zip(infos, infos[1:], strict=False)):
            infos = sorted(infos, key=lambda info: info.name)
        self.names: list[str] = [info.name for info in infos]
        self.sizes = array("q", [info.size for info in infos])
        self.mtimes = array("d", [info.mod_time.timestamp() for info in infos])
        shared: dict[str, str] = {}
        self.modes: list[str] = [shared.setdefault(info.file_mode, info.file_mode)
                                 for info in infos]
        self.kinds = bytearray(
            K_DIR if info.is_dir else K_SPECIAL if info.file_mode[:1] in "psbc" else K_FILE
            for info in infos
        )
        self.targets: dict[int, str] = {}
        if targets:
            for i, name in enumerate(self.names):
                target = targets.get(name)
                if target is not None:
                    self.targets[i] = target
                    self.kinds[i] = K_DIR if target == "dir" else K_LINK
        kinds = self.kinds
        files = [name for i, name in enumerate(self.names) if kinds[i] == K_FILE]
        self.sets: dict[str, list[int]] = {}
        grouped = {name: members for name, members in group_rotations(files).items()
                   if len(members) >= 2}
        if grouped:
            index = {name: i for i, name in enumerate(self.names)}
            for set_name, members in grouped.items():
                self.sets[set_name] = [index[name] for _, name in members]
        self._member_of = {i: s for s, members in self.sets.items() for i in members}
        self._sorted: dict[str, list[int | str]] = {}

    def __len__(self) -> int:
        return len(self.names)

    def find(self, name: str) -> int | None:
        """The index of the entry called ``name``, or None."""
        import bisect

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

    def order(self, by: str = NAME, text: str = "") -> list[int | str]:
        """The entries to show, in order: an entry index, or a set's name in
        place of its members. Directories come first; ``text`` keeps only
        names containing it (a set is kept if its name or a member's does).
        The full order is sorted once per ``by`` and kept."""
        base = self._sorted.get(by)
        if base is None:
            base = self._sorted[by] = self._sort(by)
        if not text:
            return list(base)
        match = smart_match(text)
        names = self.names
        out: list[int | str] = []
        for item in base:
            if isinstance(item, str):
                if match(item) or any(match(names[i]) for i in self.sets[item]):
                    out.append(item)
            elif match(names[item]):
                out.append(item)
        return out

    def _sort(self, by: str) -> list[int | str]:
        dirs: list[int] = []
        files: list[int | str] = []
        kinds = self.kinds
        for i in range(len(self.names)):
            if i in self._member_of:
                continue
            (dirs if kinds[i] == K_DIR else files).append(i)
        files.extend(self.sets)
        if by == MTIME:
            def newest(item):
                return -(self.set_mtime(item) if isinstance(item, str) else self.mtimes[item])

            dirs.sort(key=newest)
            files.sort(key=newest)
        else:
            keys = natural_keys(self.names)
            dirs.sort(key=keys.__getitem__)
            files.sort(key=lambda item: natural_key(item) if isinstance(item, str)
                       else keys[item])
        return dirs + files

    def members(self, set_name: str, by: str = NAME) -> list[int]:
        """A set's members (in order of N, or newest first)."""
        members = list(self.sets.get(set_name, ()))
        if by == MTIME:
            members.sort(key=lambda i: -self.mtimes[i])
        return members


def link_target(fs, rel: str) -> str:
    """What the symlink ``rel`` of ``fs`` leads to, through the alloc dir's
    rules (never outside, never into a secret): "dir", "file", "FIFO",
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
        return "dir"
    kind = kind_of(info.file_mode)
    return "file" if kind in ("file", "other") else kind

