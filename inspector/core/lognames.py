"""Nomad's rotated log names, ``<task>.<stdout|stderr>.<N>``: the one rule
every part of the inspector uses to recognise them.

N is written in ASCII digits (``[0-9]``), as logmon writes it and as Go's
``strconv.Atoi`` reads it. A task can name a file in ``alloc/logs`` anything:
``str.isdigit()`` and ``re``'s ``\\d`` also accept other digits, and ``int()``
then either raises (``web.stdout.²``) or reads a number the task chose
(``web.stdout.٣`` as 3, slipping a file into the set at a place of its
choosing). Such a name is not a rotated log here, anywhere.
"""

from __future__ import annotations

import posixpath
import re

STREAMS = ("stdout", "stderr")
ROTATED_LOG_RE = re.compile(r"(.*)\.(stdout|stderr)\.([0-9]+)")
"""The same rule as a regex (use it with ``fullmatch``): N in ASCII digits."""
_SET_NAME_RE = re.compile(r"(.+)\.(stdout|stderr)")


def rotation_index(suffix: str) -> int | None:
    """N for the text after ``<task>.<stream>.``: ASCII digits only, else None."""
    return int(suffix) if suffix.isascii() and suffix.isdigit() else None


def parse_rotated(name: str) -> tuple[str, str, int] | None:
    """``("web", "stdout", 3)`` for the file name ``web.stdout.3``; None for
    any other name (a path, a name without a task, an N not in ASCII digits)."""
    rest, _, suffix = name.rpartition(".")
    index = rotation_index(suffix)
    stem, _, stream = rest.rpartition(".")
    if index is None or stream not in STREAMS or not stem or "/" in stem:
        return None
    return stem, stream, index


def is_set_name(name: str) -> bool:
    """Whether ``name`` names a set without its index: ``web.stdout``."""
    found = _SET_NAME_RE.fullmatch(name)
    return found is not None and "/" not in found.group(1)


def set_name(path: str) -> str | None:
    """The name of the set the file at ``path`` belongs to (``web.stdout``), or None."""
    parsed = parse_rotated(posixpath.basename(path))
    return None if parsed is None else f"{parsed[0]}.{parsed[1]}"


def next_rotation(path: str) -> str | None:
    """The path of the file that follows ``path`` in its set
    (``alloc/logs/web.stdout.4`` → ``alloc/logs/web.stdout.5``), or None
    when ``path`` is not a rotated log."""
    directory, name = posixpath.split(path)
    parsed = parse_rotated(name)
    if parsed is None:
        return None
    stem, stream, index = parsed
    return posixpath.join(directory, f"{stem}.{stream}.{index + 1}")


def group_rotations(names: list[str]) -> dict[str, list[tuple[int, str]]]:
    """Group the rotated log names of one directory: ``{"web.stdout": [(0,
    "web.stdout.0"), (1, "web.stdout.1")]}``, each list in order of N."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for name in names:
        parsed = parse_rotated(name)
        if parsed is not None:
            groups.setdefault(f"{parsed[0]}.{parsed[1]}", []).append((parsed[2], name))
    for members in groups.values():
        members.sort()
    return groups


def members_of(set_name: str, names) -> list[tuple[int, str]]:
    """The members of the set ``set_name`` (``web.stdout``) among ``names``,
    as ``(N, name)`` in order of N: :func:`group_rotations` for one set,
    without parsing the names of other files."""
    prefix = set_name + "."
    cut = len(prefix)
    members = []
    for name in names:
        if name.startswith(prefix):
            index = rotation_index(name[cut:])
            if index is not None:
                members.append((index, name))
    members.sort()
    return members
