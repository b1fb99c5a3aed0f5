"""The contract between a reader session and what it reads.

A session does not know what a byte offset, a rotation set or a file is: it
drives a :class:`Document`. Today's document is
:class:`~inspector.core.session.logdoc.LogDocument`, one file or one rotation
set paged by byte offset. A merged stream of several logs (lines
interleaved by time, each tagged with its source) is another document: it
implements this protocol and every key works on it, without a change to
the session.

Positions (``Place.top``, ``Match.offset``, a search's start) are the
document's own values. The session only compares them (they are ordered as
the document is) and hands them back; one byte offset is one kind of
position, a merged stream's cursor is another.

Threads: the session calls :meth:`Document.apply`, :meth:`Document.frame`
and :meth:`Document.follow_frame` from workers holding :attr:`Document.lock`
(one at a time: the navigation lane, or the follow lane); the scans
(:meth:`Document.search`, :meth:`Document.find_level`,
:meth:`Document.count`, :meth:`Document.build_index`) from other workers,
without the lock, side by side with those. Nothing of it runs on the UI
thread.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from ..search import Match, SearchPattern
from .frame import Frame


class View(NamedTuple):
    """How the front-end shows the document: the size of the text area (in
    cells), wrapping, the line-number gutter, and what to mark."""

    width: int = 80
    height: int = 24
    wrap: bool = True
    numbers: bool = False
    match: Match | None = None
    """The current search match, drawn apart in the rows holding it."""
    highlight: re.Pattern[str] | None = None


class Outcome:
    """What a worker's pass over the document found besides the frame."""

    __slots__ = ("notices", "recount", "changed")

    def __init__(self) -> None:
        self.notices: list[tuple[str, int | None]] = []
        """(notice, command it belongs to, None for an event of the file)."""
        self.recount = False
        """Bytes left the head or the file was rewritten: line numbers and the
        filter's count must be counted again."""
        self.changed = False
        """The view moved or the file changed (a poll that found nothing is False)."""


class Found(NamedTuple):
    """What a search found: the match (None: nothing), whether it wrapped
    around the end, and where it is in words ("at byte 12 of web.stdout.1")."""

    match: Match | None
    wrapped: bool = False
    where: str = ""


class Facts(NamedTuple):
    """What was known of the file when it was opened."""

    size: int = 0
    mod_time: datetime | None = None
    content_type: str = ""


class Loaded(NamedTuple):
    """What opening a document gave: the document and its first frame, or
    (``doc`` None) the frame of the message saying why not."""

    doc: Any
    frame: Frame
    facts: Facts

    def close(self) -> None:
        """Release what was opened (a load that came too late)."""
        if self.doc is not None:
            self.doc.close()


class Feed(Protocol):
    """What a session follows: a :class:`~inspector.core.follow.Follower`, or
    anything with its public behaviour (several followers for a stream)."""

    def run(self) -> None:
        """Follow until stopped (blocks; the session runs it in a lane of its own)."""

    def stop(self) -> None:
        """Make :meth:`run` return soon (any thread)."""

    def wait_changed(self, version: int, timeout: float) -> int:
        """Block until the version differs from ``version`` or ``timeout``."""

    @property
    def running(self) -> bool:
        """True while :meth:`run` follows."""

    @property
    def path(self) -> str:
        """The file followed now (it changes when a log rotates)."""


class Document(Protocol):
    """What a session reads."""

    lock: threading.RLock
    """Held by the worker that moves the view or builds a frame."""
    facts: Facts

    @property
    def mode(self) -> str:
        """"text" or "hex"."""

    @property
    def size(self) -> int:
        """The size seen by the last pass (of a set: of every member)."""

    # -- the view (a worker holding the lock) --------------------------------

    def layout(self, view: View) -> None:
        """Lay the rows out for ``view`` (keeping the top line)."""

    def apply(self, op: str, args: tuple, token: threading.Event, outcome: Outcome,
              owner: int | None, progress: Callable[[float], None] | None = None) -> None:
        """Apply one navigation operation (named as in
        :data:`~inspector.core.session.paging.PAGING`); notices go to
        ``outcome`` as ``owner``'s; a long scan (a sparse filter) reports
        its ``progress`` in percent."""

    def frame(self, view: View, outcome: Outcome) -> Frame:
        """The rows on screen now, laid out for ``view``, as a frame."""

    def search_start(self, place, match: Match | None, backward: bool,
                     skip_current: bool) -> Any:
        """Where a search from the view shown at ``place`` starts (past the
        current match when it is on screen; ``skip_current``: past the top
        line). Pure: no reading, safe on the UI thread."""

    # -- scans (any worker) --------------------------------------------------

    def search(self, pattern: SearchPattern, start: Any, backward: bool,
               token: threading.Event, progress: Callable[[float], None]) -> Found:
        """The next match from ``start`` in one direction, wrapping around the end."""

    def find_level(self, start: Any, backward: bool, token: threading.Event,
                   progress: Callable[[float], None]) -> Found:
        """The next line logged at error level from ``start``."""

    def count(self, pattern: SearchPattern, token: threading.Event,
              progress: Callable[[int], None]) -> int:
        """How many lines match ``pattern`` (going on from the last count of
        the same pattern when only bytes were appended since)."""

    def build_index(self, token: threading.Event,
                    progress: Callable[[int], None]) -> int | None:
        """Count the lines (for numbers and go-to-line); the number of lines."""

    @property
    def line_count(self) -> int | None:
        """How many lines, once counted (None before)."""

    @property
    def indexing(self) -> bool:
        """Whether lines are being counted and not done."""

    def index_due(self) -> bool:
        """Whether the line count is behind the file (it grew, was rewritten)."""

    def count_due(self, pattern: SearchPattern) -> bool:
        """Whether the count of ``pattern`` is behind the file."""

    # -- following (the follow lane, holding the lock for frames) ------------

    def feed(self, reopen: bool, **options) -> Feed:
        """Something following the end of the document (not yet running);
        ``options`` are the front-end's (e.g. where to start reading)."""

    def follow_frame(self, feed: Feed, view: View, outcome: Outcome) -> Frame | None:
        """The frame of the document's end as ``feed`` saw it: new lines,
        separators where it was truncated or recreated (the first frame of
        a feed is read whole). None: nothing to show yet."""

    def follow_notice(self, feed: Feed) -> str:
        """Why ``feed`` stopped, once it stopped by itself ("deleted")."""

    def close(self) -> None:
        """Release the open files."""
