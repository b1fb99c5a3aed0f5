"""Reading lines out of a document on request: what the field view, copy,
export, the histogram, marks and ``nb.frame`` need besides paging.

A :class:`~inspector.core.session.document.Document` pages; a document
that also implements :class:`Lines` lets the user take its lines out.
:class:`~inspector.core.session.logdoc.LogDocument` does (one log or a
rotation set, positions are byte offsets of the set); another document (a
merged stream) implements the same methods over its own positions, and
every command below works on it unchanged. A document without them gets a
notice ("not available here") for those commands, never an error.

Threads: :meth:`Lines.line_at` and :meth:`Lines.chunks` read, from any
worker, without the document's lock (they read through a source of their
own); :meth:`Lines.anchor` and :meth:`Lines.resolve` only compute, and may
be called on the UI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, NamedTuple, Protocol, runtime_checkable

MAX_LINE = 1 << 20
"""Bytes of one line read for the field view or a copy, at most."""
CHUNK = 8 << 20
"""Bytes of whole lines handed out per chunk, about."""


class LineRef(NamedTuple):
    """One whole line (not a screen row: a long line is one line here)."""

    start: Any
    """Its position in the document."""
    data: bytes
    """Its bytes without the newline (the first ``MAX_LINE`` of them)."""
    where: str
    """Where it is in words ("line 1,204 of web.stdout.3, byte 88,112")."""
    cut: bool = False
    """Longer than ``MAX_LINE``: ``data`` is its start."""
    partial: bool = False
    """Its start is not in the document any more (the first line of a
    rotation set whose earlier file Nomad deleted)."""


class Chunk(NamedTuple):
    """Whole lines of the document, as one run of bytes."""

    start: Any
    """The position of the first byte."""
    data: bytes
    """The lines, each ending with a newline (but perhaps the last of the document)."""
    origins: tuple = ()
    """Where the bytes come from: ``(offset in data, source name, offset in
    that source)`` at each point the source changes (a member of a set, a
    log of a merged stream)."""


@runtime_checkable
class Lines(Protocol):
    """The optional methods of a document that lets its lines be taken out."""

    def line_at(self, position: Any, limit: int = MAX_LINE) -> LineRef | None:
        """The whole line holding ``position`` (None past the end). Blocking."""

    def chunks(self, start: Any = None, end: Any = None,
               cancel: threading.Event | None = None,
               size: int = CHUNK) -> Iterator[Chunk]:
        """The lines from the one holding ``start`` (None: the first) to the
        one holding ``end`` (None: the last), in chunks of about ``size``
        bytes, as the document is when called (later writes are not read).
        Blocking; ``cancel`` stops it (SearchCancelled)."""

    def anchor(self, position: Any) -> Any:
        """Something that names ``position`` however the document changes
        later (a rotation set whose first file is deleted)."""

    def resolve(self, anchor: Any) -> Any:
        """The position ``anchor`` names now, or None once it is gone."""

    def time_position(self, text: str, cancel: threading.Event | None = None) -> Any:
        """The position of the first line at or after the time ``text``
        (as ``:@`` takes it), None when every line is earlier. Blocking;
        ValueError for a bad time."""

    @property
    def size(self) -> int:
        """How many bytes the document holds now."""


def lines_of(doc) -> Lines | None:
    """``doc`` if it implements :class:`Lines`, else None."""
    return doc if isinstance(doc, Lines) else None
