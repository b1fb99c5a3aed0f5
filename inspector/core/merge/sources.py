"""What a merged stream is made of: its sources, named as an operator names them.

A source (:class:`SourceSpec`) is one log of one allocation: a rotation set
by its name (``alloc/logs/web.stdout``: every ``web.stdout.N``, as one log)
or one file. Its tag is what each of its lines is shown with: the task and
the stream (``web▸out``, ``web▸err``), the file's name for another file, and
the allocation's short id in front when the sources come from several
allocations (the replacement of a crashed one).

:func:`log_sources` reads what a path names, everywhere a path is taken
(``--open``, ``logs``, the notebook): a file, a set by its name, or a task
(its stdout and stderr). :func:`alloc_sources` gives an allocation's logs,
or some tasks' and streams'. At most :data:`MAX_SOURCES` are merged at once
(:func:`capped` says so when more were asked for): each holds a few
descriptors and, while followed, a watch.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from allocdir import LOG_DIR_NAME, SHARED_ALLOC_NAME

from ..lognames import STREAMS, is_set_name, parse_rotated
from ..text import printable

LOGS = f"{SHARED_ALLOC_NAME}/{LOG_DIR_NAME}"
MAX_SOURCES = 32
"""Sources merged at once, at most (each holds up to three descriptors, and a
watch and two threads while followed)."""
TAG_CHARS = 16
"""A tag longer than this is cut (with "…")."""
SHORT_ID = 8
STREAM_WORDS = {"stdout": "out", "stderr": "err"}


class SourceSpec(NamedTuple):
    """One log to merge: ``path`` (a set name like ``alloc/logs/web.stdout``,
    or a file) of ``fs`` (an ``AllocDirFS``), shown with ``tag``."""

    fs: Any
    path: str
    tag: str

    @property
    def alloc_id(self) -> str:
        """The allocation's id ("" for a backend without one)."""
        return getattr(self.fs, "alloc_id", "") or ""

    @property
    def is_set(self) -> bool:
        """Whether ``path`` names a rotation set (by its name, without an index)."""
        return is_set_name(posixpath.basename(self.path))


class LogNameError(ValueError):
    """A path that names no log: the message says why (names escaped)."""


def tag_of(path: str) -> str:
    """The tag of a log: ``web▸out`` for ``alloc/logs/web.stdout`` (or any of
    its files), else the file's name; plain text, escaped, at most
    :data:`TAG_CHARS` characters."""
    name = posixpath.basename(path)
    parsed = parse_rotated(name)
    if parsed is None and is_set_name(name):
        stem, _, stream = name.rpartition(".")
        parsed = (stem, stream, 0)
    label = f"{parsed[0]}▸{STREAM_WORDS[parsed[1]]}" if parsed else name
    label = printable(label)
    return label if len(label) <= TAG_CHARS else label[:TAG_CHARS - 1] + "…"


def tagged(specs: Iterable[SourceSpec]) -> list[SourceSpec]:
    """``specs`` with their tags made unique and, when they come from several
    allocations, the allocation's short id in front (``5fc98185:web▸err``)."""
    specs = list(specs)
    several = len({spec.alloc_id for spec in specs}) > 1
    out, seen = [], {}
    for spec in specs:
        tag = tag_of(spec.path)
        if several and spec.alloc_id:
            tag = f"{printable(spec.alloc_id[:SHORT_ID])}:{tag}"
        count = seen.get(tag, 0)
        seen[tag] = count + 1
        out.append(spec._replace(tag=f"{tag}#{count + 1}" if count else tag))
    return out


def capped(specs: Sequence[SourceSpec]) -> tuple[list[SourceSpec], str]:
    """The first :data:`MAX_SOURCES` of ``specs``, and a notice when that is
    fewer than were asked for."""
    if len(specs) <= MAX_SOURCES:
        return list(specs), ""
    return list(specs[:MAX_SOURCES]), (f"merging the first {MAX_SOURCES} of {len(specs):,} "
                                       f"logs asked for (at most {MAX_SOURCES} at once)")


def task_names(fs) -> list[str]:
    """The tasks of an allocation: its task directories, and the tasks that
    have logs in ``alloc/logs`` (sorted). Blocking."""
    names = set(getattr(fs, "task_dirs", {}) or {})
    try:
        listed = fs.list(LOGS)
    except (FileNotFoundError, NotADirectoryError):
        listed = []
    for info in listed:
        parsed = parse_rotated(info.name)
        if parsed is not None and not info.is_dir:
            names.add(parsed[0])
    return sorted(names)


def alloc_sources(fs, tasks: Iterable[str] | None = None,
                  streams: Iterable[str] = STREAMS) -> list[SourceSpec]:
    """The logs of an allocation (or of ``tasks``) for ``streams``, as
    rotation sets by their names, whether or not they have a file yet (a
    stream written later joins the merge then). Raises :class:`LogNameError`
    for a task or a stream that is not one. Blocking: lists ``alloc/logs``."""
    streams = list(streams)
    wrong = [stream for stream in streams if stream not in STREAMS]
    if wrong:
        raise LogNameError(f"{printable(wrong[0])}: not a stream (stdout or stderr)")
    known = task_names(fs)
    chosen = known if tasks is None else list(tasks)
    missing = [task for task in chosen if task not in known]
    if missing:
        shown = ", ".join(printable(t) for t in known) or "none"
        raise LogNameError(f"{printable(missing[0])}: no such task (tasks: {shown})")
    return tagged(SourceSpec(fs, f"{LOGS}/{task}.{stream}", "")
                  for task in chosen for stream in streams)


def log_sources(fs, path: str) -> list[SourceSpec]:
    """What ``path`` names as logs: a task (its stdout and stderr), a
    rotation set by its name or by one of its files (the whole set), or a
    file. Raises :class:`LogNameError` when it names a task directory's
    other contents or nothing. Blocking."""
    path = path.strip("/")
    if path and "/" not in path and path in task_names(fs):
        return alloc_sources(fs, [path])
    name = posixpath.basename(path)
    parsed = parse_rotated(name)
    if parsed is not None:
        directory = posixpath.dirname(path)
        base = f"{directory}/{parsed[0]}.{parsed[1]}" if directory else f"{parsed[0]}.{parsed[1]}"
        return tagged([SourceSpec(fs, base, "")])
    return tagged([SourceSpec(fs, path, "")])


def next_shown(sources: Sequence[tuple[str, bool]]) -> frozenset[int]:
    """The sources to hide next when cycling through them (the viewer's
    ``t``): every source shown, then each alone in turn, then all again."""
    shown = [i for i, (_tag, on) in enumerate(sources) if on]
    count = len(sources)
    if len(shown) == count and count > 1:
        alone = 0
    elif len(shown) == 1 and shown[0] + 1 < count:
        alone = shown[0] + 1
    else:
        return frozenset()
    return frozenset(i for i in range(count) if i != alone)
