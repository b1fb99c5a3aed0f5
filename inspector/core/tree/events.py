"""What the tree model tells its front-end, and what choosing a row asks of
it: small messages, handed to the listener the front-end gave the model
(always where the model lives: the UI thread, or the notebook's queue)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Changed:
    """The rows changed (listed, expanded, ordered, filtered): count and draw again."""


@dataclass(frozen=True)
class Redraw:
    """The rows are the same but what they say moved on (ages, a log write)."""


@dataclass(frozen=True)
class Loaded:
    """A directory (``key``) or the root (``key`` None) was listed."""

    key: tuple[str, str] | None


@dataclass(frozen=True)
class Notice:
    """Something to tell the user once (watching fell back to polling, a
    look at the logs failed, a path asked for is not there)."""

    text: str
    error: bool = False


@dataclass(frozen=True)
class CursorMoved:
    """The model moved the cursor (to keep it on its node, or after a collapse)."""

    row: int


@dataclass(frozen=True)
class Open:
    """Choosing a file or a rotation set: open ``rel`` of ``alloc`` in a viewer."""

    alloc: Any
    rel: str
    info: Any = None


@dataclass(frozen=True)
class OpenMerged:
    """Choosing an entry of logs as one stream, or merging the marked logs:
    open ``sources`` (``inspector.core.merge.SourceSpec``s, or a function
    giving them that blocks: run it in a job) merged in time order, shown
    as ``label``; ``fs``: the allocation (None: several)."""

    sources: Any
    label: str
    fs: Any = None


@dataclass(frozen=True)
class Marked:
    """A log was marked or unmarked for merging; ``count`` are marked now."""

    marked: bool
    count: int


@dataclass(frozen=True)
class Refused:
    """Choosing something that is not opened (a FIFO, a socket, a device): why."""

    message: str


@dataclass(frozen=True)
class Toggled:
    """Choosing a directory expanded or collapsed it."""

    expanded: bool
