"""Several logs as one stream, in time order: a reader session's document.

:class:`MergedDocument` implements
:class:`~inspector.core.session.document.Document`, so every key of the
viewer works on it unchanged: paging both ways, ``g``/``G``, search with
wrap, the ``&`` filter and its count, levels and ``e``/``E``, line
numbers, go to a time, wrap, follow. How lines are ordered and what a
place is: :mod:`.order`; the moves: :mod:`.moves`; search and counts:
:mod:`.scans`; following: :mod:`.following`.

What differs from one log, and the status says so where it matters:

- each row carries its source's tag (``web▸err``) in a gutter;
- line numbers are each source's own (the gutter and ``:N`` use the line
  numbers of the top line's log);
- the percentage is of the stream's span of time (of its bytes, in source
  order, when no source has times);
- a byte offset (``:0x1f00``), ``[``/``]`` and the hex dump name places in
  one file: they say so instead;
- ``t`` (the session's ``set_sources``) hides or shows sources, keeping the
  place.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from rich.text import Text

from ..search import Match, SearchPattern
from ..session.document import Facts, Found, Loaded, Outcome, View
from ..session.frame import Frame, FrameRow, Place, message_frame
from ..session.logdoc import GUTTER_MIN
from ..session.paging import char_span
from ..stamps import Reference, key_seconds
from . import moves, order, scans
from .order import Cursor, Entry, Hit
from .part import Part
from .sources import SourceSpec, capped

PALETTE = ("cyan", "magenta", "green", "yellow", "bright_blue", "bright_magenta",
           "bright_cyan", "bright_green", "blue", "bright_yellow")
"""The colours of the tags, in source order (red is kept for errors)."""
CONTENT_TYPE = "text/plain; merged"


class MergedDocument:
    """The logs of ``parts``, merged (see the module docstring)."""

    def __init__(self, parts: Sequence[Part], notice: str = "") -> None:
        self.parts = list(parts)
        self.lock = threading.RLock()
        self.top: Cursor = order.head(self.parts)
        self.top_row = 0
        self.hidden: frozenset[int] = frozenset()
        self.filter: SearchPattern | None = None
        self.height = 24
        self.tail = None  # the rows of a follow (following.MergedTail), made when one starts
        self.top_part = 0
        """The source of the top line (line numbers and ``:N`` are its)."""
        self._notice = notice
        self._numbers = False
        self._span: tuple[int, tuple[float, float] | None] | None = None
        self._tags = {part.index: Text(part.tag, style=PALETTE[part.index % len(PALETTE)],
                                       end="") for part in self.parts}
        self.facts = Facts(self.size, self._newest(), CONTENT_TYPE)

    @classmethod
    def load(cls, specs: Sequence[SourceSpec], view: View, *, follow: bool = False,
             token: threading.Event | None = None) -> Loaded:
        """Open the logs of ``specs`` (the first :data:`~.sources.MAX_SOURCES`)
        at the stream's start, or its end for ``follow``. Blocking."""
        kept, notice = capped(specs)
        if not kept:
            return Loaded(None, message_frame("Nothing to merge: no log was named."), Facts())
        parts = [Part(i, spec) for i, spec in enumerate(kept)]
        for part in parts:
            part.open()
        doc = cls(parts, notice)
        with doc.lock:
            doc.layout(view)
            (moves.tail if follow else moves.head)(doc)
            frame = doc.frame(view._replace(numbers=False))
        return Loaded(doc, frame, doc.facts)

    # -- what it is ---------------------------------------------------------

    @property
    def mode(self) -> str:
        """Always "text"."""
        return "text"

    @property
    def size(self) -> int:
        """The size of every source together."""
        return sum(part.size() for part in self.parts)

    @property
    def shown(self) -> list[int]:
        """The sources shown (not hidden), in order."""
        return [s for s in range(len(self.parts)) if s not in self.hidden]

    @property
    def sources(self) -> list[tuple[str, bool]]:
        """Each source's tag and whether it is shown."""
        return [(part.tag, part.index not in self.hidden) for part in self.parts]

    def tag_text(self, s: int) -> Text:
        """The coloured tag of source ``s`` (plain text: escaped when made)."""
        return self._tags[s]

    def _newest(self) -> datetime | None:
        times = [part.doc.facts.mod_time for part in self.parts
                 if part.doc is not None and part.doc.facts.mod_time is not None]
        return max(times) if times else None

    def close(self) -> None:
        """Close every source."""
        for part in self.parts:
            part.close()

    # -- the view (a worker holding the lock) --------------------------------

    def tag_width(self) -> int:
        """The tag gutter's width: the longest tag shown, and a space."""
        return max((len(self.parts[s].tag) for s in self.shown), default=0) + 1

    def gutter(self) -> int:
        """The line-number gutter's width (each source numbers its own lines)."""
        digits = max([GUTTER_MIN] + [part.doc.gutter() - 1 for part in self.parts
                                     if part.doc is not None])
        return digits + 1

    def layout(self, view: View) -> None:
        """Lay every source out for ``view`` less the gutters."""
        self.height, self._numbers = view.height, view.numbers
        width = view.width - self.tag_width() - (self.gutter() if view.numbers else 0)
        for part in self.parts:
            if part.pager is not None:
                part.pager.set_view(max(1, width), view.height, view.wrap)

    def apply(self, op: str, args: tuple, token: threading.Event, outcome: Outcome,
              owner: int | None, progress: Callable[[float], None] | None = None) -> None:
        """Apply one navigation operation (see :data:`~.moves.MOVES`)."""
        pagers = [part.pager for part in self.parts if part.pager is not None]
        for pager in pagers:
            pager.cancel, pager.progress = token, progress
        try:
            if op != "poll":
                outcome.changed = True
            self.sync(outcome, force=op == "refresh")
            notice = moves.MOVES[op](self, args, token)
        finally:
            for pager in pagers:
                pager.cancel = pager.progress = None
        if op == "sources":
            outcome.recount = True
        if notice:
            outcome.notices.append((notice, owner))

    def sync(self, outcome: Outcome, force: bool = False) -> None:
        """Pick up what changed in every source (``force``: their directories
        listed now; a source without a file looks for one)."""
        for part in self.parts:
            part.sync(outcome, force=force)

    def frame(self, view: View, outcome: Outcome | None = None) -> Frame:
        """The rows from the top cursor down, laid out for ``view``."""
        self.layout(view)
        return self.frame_of(moves.screen(self), view)

    def frame_of(self, rows: list[tuple[Entry, object]], view: View, *, following: str = "",
                 above: tuple[FrameRow, ...] = ()) -> Frame:
        """A frame of ``rows`` (entries and their screen rows; ``above``:
        rows drawn before them, e.g. a separator while following)."""
        numbering = view.numbers
        made = self.frame_rows(rows, view)
        shown = (above + tuple(made))[-view.height:] if above else tuple(made)
        place = self.place(rows, made, following)
        return Frame(mode="text", rows=shown, place=place, highlight=view.highlight,
                     numbers=numbering, gutter=self.gutter() if numbering else 0,
                     following=bool(following), tags=self.tag_width())

    def frame_rows(self, rows: list[tuple[Entry, object]], view: View) -> list[FrameRow]:
        """The frame's rows of ``rows``: tag, text, the source's line number on a
        line's first row, and where the current match is."""
        previous: dict[int, tuple[int, int]] = {}
        match = view.match
        made = []
        for entry, row in rows:
            part = self.parts[entry.part]
            number = None
            if view.numbers and row.index == 0 and part.doc is not None:
                number = part.doc.numbers([row], previous.get(entry.part))[0]
                if number is not None:
                    previous[entry.part] = (row.line.start, number)
            current = self._current(entry, row, match) if match is not None else None
            made.append(FrameRow(row.text, number, current, tag=self._tags[entry.part]))
        return made

    def _current(self, entry: Entry, row, match: Match) -> tuple[int, int] | None:
        """Where the current match is in ``row``'s text, if it is there."""
        hit = match.offset
        if not isinstance(hit, Hit) or hit.part != entry.part:
            return None
        line = row.line
        at = self.parts[hit.part].local(hit.at)
        if not line.start <= at < line.end:
            return None
        start, end = char_span(line.data, at - line.start, match.length)
        a, b = start - row.start, end - row.start
        if b <= 0 or a >= len(row.text):
            return None
        return max(0, a), min(len(row.text), max(b, a + 1))

    def place(self, rows: list[tuple[Entry, object]], made: list[FrameRow],
              following: str = "") -> Place:
        """Where ``rows`` are: the top line's file and offset, the cursors a
        search starts from, how far through the stream the bottom is."""
        condition = self.condition()
        if not rows:
            return Place(size=self.size, percent=100.0, top=self.top, first_end=self.top,
                         bottom=self.top, condition=condition)
        first, row = rows[0]
        last = rows[-1][0]
        self.top_part = first.part
        part = self.parts[first.part]
        where = part.doc.place([row])
        percent = 100.0 if following else self.percent(last)
        return Place(path=where.path, offset=where.offset, member=where.member,
                     members=where.members, size=self.size, percent=percent,
                     line=made[0].number, top=first.before, first_end=_after(self, first),
                     bottom=_after(self, last), condition=condition)

    def percent(self, entry: Entry) -> float:
        """How far through the stream ``entry`` is: by time, else by bytes."""
        span = self.time_span()
        seconds = key_seconds(entry.key) if span is not None else None
        if span is not None and seconds is not None:
            first, last = span
            return 100.0 if last <= first else max(0.0, min(100.0, 100.0 * (seconds - first)
                                                             / (last - first)))
        after = _after(self, entry)
        done = sum(self.parts[s].local(after[s]) for s in self.shown)
        total = sum(self.parts[s].size() for s in self.shown)
        return 100.0 if total == 0 else min(100.0, 100.0 * done / total)

    def time_span(self) -> tuple[float, float] | None:
        """(first, last) time of the sources shown, in seconds; None when
        none has times. Looked at again when a source changed size."""
        sizes = hash(tuple((part.size(), part.base) for part in self.parts)) ^ hash(self.hidden)
        if self._span is None or self._span[0] != sizes:
            firsts, lasts = [], []
            for s in self.shown:
                part = self.parts[s]
                if part.doc is not None and part.timed:
                    first, last = part.first_key(), part.last_key()
                    if first is not None and last is not None:
                        firsts.append(key_seconds(first))
                        lasts.append(key_seconds(last))
            firsts = [f for f in firsts if f is not None]
            lasts = [f for f in lasts if f is not None]
            self._span = (sizes, (min(firsts), max(lasts)) if firsts and lasts else None)
        return self._span[1]

    def reference(self) -> Reference | None:
        """A date for a time typed alone when no line is on screen."""
        for s in self.shown:
            part = self.parts[s]
            if part.doc is not None and (key := part.first_key()) is not None:
                return Reference(key[:8], None)
        return None

    def condition(self) -> str:
        """What holds of the stream while it holds: sources left out or
        without timestamps, clocks going backwards."""
        notes = [self._notice] if self._notice else []
        troubled = [f"{part.tag}: {part.problem}" for part in self.parts
                    if part.problem and part.problem != "no file yet"]
        notes += troubled
        untimed = [part.tag for part in self.parts
                   if part.doc is not None and part.size() and not part.timed]
        if untimed:
            notes.append(f"no timestamps in {', '.join(untimed)}: merged by file order, first")
        backwards = [part.tag for part in self.parts if part.backwards]
        if backwards:
            notes.append(f"times go backwards in {', '.join(backwards)}: "
                         "kept in file order")
        return "; ".join(notes)

    def search_start(self, place: Place, match: Match | None, backward: bool,
                     skip_current: bool) -> Cursor:
        """Where a search from the view starts: just past the current match
        when it is on screen, else the top line (``skip_current``: the line
        after it)."""
        shown = place.bottom > place.top
        hit = match.offset if match is not None else None
        if isinstance(hit, Hit) and shown and place.top <= hit.cursor < place.bottom:
            start = list(hit.cursor)
            start[hit.part] = hit.at + (0 if backward else 1)
            return tuple(start)
        if skip_current and not backward and shown:
            return place.first_end
        return place.top

    # -- scans (any worker) --------------------------------------------------

    def search(self, pattern: SearchPattern, start: Cursor, backward: bool,
               token: threading.Event, progress: Callable[[float], None]) -> Found:
        """The next match from ``start``, wrapping around the end."""
        return scans.search(self, pattern, start, backward, token, progress)

    def find_level(self, start: Cursor, backward: bool, token: threading.Event,
                   progress: Callable[[float], None]) -> Found:
        """The next error record from ``start``."""
        return scans.find_level(self, start, backward, token, progress)

    def count(self, pattern: SearchPattern, token: threading.Event,
              progress: Callable[[int], None]) -> int:
        """How many lines of the sources shown match ``pattern``."""
        return scans.count(self, pattern, token, progress)

    def build_index(self, token: threading.Event,
                    progress: Callable[[int], None]) -> int | None:
        """Count every source's lines."""
        return scans.build_index(self, token, progress)

    @property
    def line_count(self) -> int | None:
        """How many lines the top line's log has, once counted."""
        part = self.parts[self.top_part] if self.parts else None
        return part.doc.line_count if part is not None and part.doc is not None else None

    @property
    def indexing(self) -> bool:
        """Whether lines are being counted for the first time."""
        return any(part.doc.indexing for part in self.parts if part.doc is not None)

    def index_due(self) -> bool:
        """Whether a source's line count is behind it."""
        return any(part.doc.index_due() for part in self.parts if part.doc is not None)

    def count_due(self, pattern: SearchPattern) -> bool:
        """Whether the filter's count is behind a source shown."""
        return any(self.parts[s].doc.count_due(pattern) for s in self.shown
                   if self.parts[s].doc is not None)

    # -- following ------------------------------------------------------------

    def feed(self, reopen: bool, **options):
        """A feed following every source (:class:`~.feed.MergedFeed`), not yet running."""
        from .feed import MergedFeed

        return MergedFeed(self.parts, reopen=reopen)

    def follow_frame(self, feed, view: View, outcome: Outcome) -> Frame | None:
        """The stream's end as ``feed`` saw it: new lines in the order they came."""
        if self.tail is None or self.tail.feed is not feed:
            from .following import MergedTail

            self.tail = MergedTail(self, feed)
        return self.tail.advance(view, outcome)

    def follow_notice(self, feed) -> str:
        """Why the feed stopped (every source ended)."""
        return feed.notice


def _after(doc: MergedDocument, entry: Entry) -> Cursor:
    """The cursor just after ``entry``'s line."""
    after = list(entry.before)
    after[entry.part] = doc.parts[entry.part].absolute(entry.line.end)
    return tuple(after)


def open_merged(specs: Sequence[SourceSpec], view: View, *, follow: bool = False,
                token: threading.Event | None = None) -> Loaded:
    """Open a merged stream of ``specs`` for a session (see
    :meth:`MergedDocument.load`). Blocking."""
    return MergedDocument.load(specs, view, follow=follow, token=token)
