"""One file, or one rotation set read as one log, as a session's document.

:class:`LogDocument` is a :class:`~inspector.core.pager.Pager` over a
:class:`~inspector.core.rotation.LogSource` (positions are byte offsets of
the whole set), with the line index, the filter's running count and the
rows shown while following (:mod:`.following`). It implements
:class:`~inspector.core.session.document.Document`, and
:class:`~inspector.core.session.lines.Lines` (:mod:`.loglines`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..pager import Pager, Row
from ..rotation import LogSource
from ..search import Found as SearchFound
from ..search import Match, SearchPattern
from ..text import printable
from ..viewing import FirstScreen
from .document import Facts, Found, Loaded, Outcome, View
from .frame import Frame, FrameRow, Place, message_frame
from .loglines import LogLines
from .paging import PAGING, char_span

GUTTER_MIN = 6
"""Digits of the line-number gutter, at least."""
NUMBER_GAP = 64 * 1024
"""Rows this close to the row above are numbered by counting the newlines between."""
DELETED = "deleted: still reading the open file"


class LogDocument(LogLines):
    """A file or a rotation set of an ``AllocDirFS``, paged by byte offset."""

    def __init__(self, fs, path: str, pager: Pager, facts: Facts) -> None:
        self.fs = fs
        self.path = path
        """The file opened (a member of the set)."""
        self.pager = pager
        self.facts = facts
        self.lock = threading.RLock()
        self._index = None  # a LineIndex once numbers or a go-to-line asked for one
        self._indexed = False
        self._epoch = 0  # grows when bytes left the head or the file was rewritten
        self._dropped = getattr(pager.source, "dropped", 0)
        self._top_line: int | None = None
        self._count = _Count()
        self.tail = None  # the rows of a follow (following.FollowTail), made when one starts
        self.shown_top: int | None = None
        """Where the top line of the last frame starts (the line kept on top
        when the filter changes)."""

    @classmethod
    def loaded(cls, fs, first: FirstScreen, path: str, view: View) -> Loaded:
        """The document of a first screen already read (see
        :func:`~inspector.core.viewing.read_first_screen`) of ``path``, and
        its first frame (made of the rows read: no reading here)."""
        facts = Facts(first.size, first.mod_time, first.content_type)
        if first.pager is None:
            return Loaded(None, message_frame(first.message), facts)
        doc = cls(fs, first.path or path, first.pager, facts)
        return Loaded(doc, doc.frame_of(first.rows, view._replace(numbers=False)), facts)

    @classmethod
    def load(cls, fs, path: str, view: View, *, follow: bool = False,
             start: str | int = "head", token: threading.Event | None = None) -> Loaded:
        """Open ``path`` (see :func:`~inspector.core.viewing.read_first_screen`)
        at ``start``: "head", "tail" or a byte offset. Blocking."""
        from ..viewing import read_first_screen

        first = read_first_screen(fs, path, view.width, view.height, wrap=view.wrap,
                                  follow=follow or start == "tail")
        loaded = cls.loaded(fs, first, path, view)
        doc = loaded.doc
        if doc is not None and isinstance(start, int) and not isinstance(start, bool) \
                and start > 0:
            with doc.lock:
                doc.apply("offset", (start,), token or threading.Event(), Outcome(), None)
                loaded = loaded._replace(frame=doc.frame(view._replace(numbers=False)))
        return loaded

    # -- what it is ---------------------------------------------------------

    @property
    def source(self) -> LogSource:
        """The open file (or set)."""
        return self.pager.source

    @property
    def mode(self) -> str:
        """"text" or "hex"."""
        return "hex" if self.pager.hex_mode else "text"

    @property
    def size(self) -> int:
        """The size seen by the last pass."""
        return self.pager.size

    @property
    def is_set(self) -> bool:
        """Whether it is a rotation set (even of one file)."""
        return getattr(self.source, "is_set", False)

    def close(self) -> None:
        """Release the open files."""
        close = getattr(self.source, "close", None)
        if close is not None:
            close()

    # -- moving (a worker holding the lock) ----------------------------------

    def apply(self, op: str, args: tuple, token: threading.Event, outcome: Outcome,
              owner: int | None, progress: Callable[[float], None] | None = None) -> None:
        """Apply one navigation operation (see :data:`~.paging.PAGING`)."""
        pager = self.pager
        pager.cancel, pager.progress = token, progress
        try:
            if op != "poll":
                outcome.changed = True
            self.sync(outcome, force=op == "refresh")
            notice = PAGING[op](self, args, token)
        finally:
            self.pager.cancel = self.pager.progress = None
        if notice:
            outcome.notices.append((notice, owner))

    def sync(self, outcome: Outcome, force: bool = False) -> None:
        """Pick up what changed in the file (``force``: the set's directory
        listed now): its notices, and whether to count again, go to
        ``outcome``."""
        pager = self.pager
        before = pager.size
        changed = pager.sync(force=force) or pager.size != before
        for notice in pager.notices:
            outcome.notices.append((notice, None))
        pager.notices.clear()
        dropped = getattr(pager.source, "dropped", 0)
        if dropped != self._dropped or pager.size < before:
            self._dropped = dropped
            self.recount()
            outcome.recount = True
        outcome.changed = outcome.changed or changed

    @property
    def epoch(self) -> int:
        """Grows each time what was counted (lines, matches) must be counted again."""
        return self._epoch

    def recount(self) -> None:
        """Bytes left the head, or the file was rewritten: count again."""
        self._epoch += 1
        if self._index is not None:
            self._index.reset()

    def count_appended(self, before: int) -> None:
        """Count the lines appended since the size ``before``, if the line
        index had counted up to it (an index still counting is left to its job)."""
        index = self._index
        if index is not None and self._indexed and index.indexed >= before:
            index.ensure(self.pager.size)

    def set_hex(self, hex_mode: bool) -> str:
        """Show the bytes as a hex dump, or as text, from the same place."""
        pager = self.pager
        if hex_mode != pager.hex_mode:
            top = pager.top
            self.pager = Pager(pager.source, hex_mode=hex_mode, width=pager.width,
                               height=pager.height, wrap=pager.wrap, levels=not hex_mode)
            self.pager.goto(top)
        return ""

    def reopen(self, path: str) -> bool:
        """Read ``path`` (created again after being deleted) from now on."""
        try:
            source = LogSource(self.fs, path)
        except Exception:  # gone again, or refused: keep showing the old file
            return False
        old = self.pager.source
        self.pager.replace_source(source)
        self.path = path
        self._dropped = source.dropped
        self.recount()
        close = getattr(old, "close", None)
        if close is not None:
            close()
        return True

    # -- the frame -------------------------------------------------------------

    def layout(self, view: View) -> None:
        """Lay the pager out for ``view`` (the gutter takes its share of the width)."""
        width = max(1, view.width - self.gutter()) if self._numbering(view) else view.width
        self.pager.set_view(width, view.height, view.wrap)

    def _numbering(self, view: View) -> bool:
        return view.numbers and not self.pager.hex_mode

    def gutter(self) -> int:
        """The gutter's width: digits for the lines counted so far, and a space."""
        digits = GUTTER_MIN
        if self._index is not None:
            known = max(self._index.newlines + 1, (self._top_line or 0) + 100)
            digits = max(digits, len(str(known)))
        return digits + 1

    def frame(self, view: View, outcome: Outcome | None = None) -> Frame:
        """The rows from the anchor down, laid out for ``view``."""
        self.layout(view)
        return self.frame_of(self.pager.screen(), view)

    def frame_rows(self, rows: list[Row], view: View,
                   numbers: list[int | None] | None) -> list[FrameRow]:
        """The frame's rows of ``rows``: the text, the line number on a line's
        first row (``numbers``: one per row), where the current match is."""
        numbering = self._numbering(view) and numbers
        match = view.match if self.pager.render is None else None
        context = self.pager.is_context if self.pager.context else None
        return [FrameRow(row.text, numbers[i] if numbering and row.index == 0 else None,
                         self._current(row, match) if match is not None else None,
                         context=context is not None and context(row.line), at=row.line.start)
                for i, row in enumerate(rows)]

    def frame_of(self, rows: list[Row], view: View, *, above: tuple[FrameRow, ...] = (),
                 numbers: list[int | None] | None = None, following: str = "",
                 made: list[FrameRow] | None = None) -> Frame:
        """A frame of ``rows`` (``above``: rows drawn before them, e.g. what
        was shown before a truncation; ``following``: the file followed;
        ``made``: their frame rows, made already)."""
        numbering = self._numbering(view)
        if numbering and numbers is None:
            numbers = self.numbers(rows)
        if made is None:
            made = self.frame_rows(rows, view, numbers)
        shown = (above + tuple(made))[-view.height:] if above else tuple(made)
        place = self.place(rows, numbers[0] if numbering and numbers else None)
        if following:
            place = self._following_place(place, following)
        if numbering and numbers:
            self._top_line = numbers[0]
        self.shown_top = place.top if rows else None
        return Frame(mode=self.mode, rows=shown, place=place, highlight=view.highlight,
                     numbers=numbering, gutter=self.gutter() if numbering else 0,
                     following=bool(following))

    def _following_place(self, place: Place, path: str) -> Place:
        """Following: the file followed, and how far it was read (its end)."""

        source, member, offset = self.source, place.members, self.pager.size
        if isinstance(source, LogSource):
            segments = source.segments()
            for i, seg in enumerate(segments):
                if seg.path == path:
                    member, offset = i + 1, seg.size
        return place._replace(path=path, member=member, offset=offset,
                       percent=100.0 if self.pager.size else place.percent)

    def _current(self, row: Row, match: Match | None) -> tuple[int, int] | None:
        """Where the current match is in ``row``'s text, if it is there."""
        line = row.line
        if match is None or self.pager.hex_mode or not line.start <= match.offset < line.end:
            return None
        start, end = char_span(line.data, match.offset - line.start, match.length)
        a, b = start - row.start, end - row.start
        if b <= 0 or a >= len(row.text):
            return None
        return max(0, a), min(len(row.text), max(b, a + 1))

    def place(self, rows: list[Row], line: int | None = None) -> Place:
        """Where ``rows`` are: the file and offset of the top, the positions a search starts from."""
        pager = self.pager
        top = rows[0].line.start if rows else pager.top
        first_end = rows[0].line.end if rows else top
        path, offset, member, members, first_index = self.path, top, 1, 1, 0
        source = pager.source
        if isinstance(source, LogSource):
            seg, offset = source.locate(top)
            segments = source.segments()
            path = seg.path
            member = next((i + 1 for i, s in enumerate(segments) if s.path == seg.path), 1)
            members = len(segments)
            first_index = segments[0].index if source.is_set else 0
        condition = DELETED if getattr(source, "deleted", False) else ""
        return Place(path=path, offset=offset, member=member, members=members, size=pager.size,
                     percent=pager.percent(rows), line=line, top=top, first_end=first_end,
                     bottom=pager.bottom(rows), condition=condition, first_index=first_index)

    def numbers(self, rows: list[Row], previous: tuple[int, int] | None = None
                ) -> list[int | None]:
        """The line number of each row's line (None where not known yet):
        counted from the row above when close (``previous``: (start, number)
        of a line above the first row), else asked of the index."""
        index = self._index
        out: list[int | None] = []
        for row in rows:
            line = row.line
            if row.index > 0:
                out.append(out[-1] if out else None)
                continue
            number = None
            if previous is not None and 0 <= line.start - previous[0] <= NUMBER_GAP:
                gap = self.pager.read(previous[0], line.start - previous[0])
                number = previous[1] + gap.count(b"\n")
            elif index is not None:
                number = index.line_of(line.start)
            out.append(number)
            if number is not None:
                previous = (line.start, number)
        return out

    # -- scans (any worker) --------------------------------------------------

    def describe(self, offset: int) -> str:
        """"at byte N" (of which file, for a set)."""
        source = self.source
        if isinstance(source, LogSource) and source.is_set:
            seg, local = source.locate(offset)
            return f"at byte {local:,} of {printable(seg.name)}"
        return f"at byte {offset:,}"

    def search(self, pattern: SearchPattern, start: int, backward: bool, token: threading.Event,
               progress: Callable[[float], None]) -> Found:
        """The next match from ``start``, wrapping around the end (as less)."""
        from ..search import search

        source = self.source
        dropped = getattr(source, "dropped", 0)
        found = search(source.read, source.size(), pattern, start, backward=backward,
                       cancel=token, progress=progress)
        return self._found(found, dropped)

    def find_level(self, start: int, backward: bool, token: threading.Event,
                   progress: Callable[[float], None]) -> Found:
        """The next line logged at error level from ``start`` (no wrapping);
        an error's trace is part of it (:mod:`inspector.core.records`)."""
        from ..records import Records, find_error_record

        source = self.source
        dropped = getattr(source, "dropped", 0)
        match = find_error_record(source.read, source.size(), start,
                                  Records(source.read, source.size), backward=backward,
                                  cancel=token, progress=progress)
        return self._found(SearchFound(match), dropped)

    def _found(self, found: SearchFound, dropped: int) -> Found:
        match = found.match
        moved = getattr(self.source, "dropped", 0) - dropped
        if moved and match is not None:  # the set rotated meanwhile
            shifted = match.offset - moved
            match = Match(shifted, match.length) if shifted >= 0 else None
        where = self.describe(match.offset) if match is not None else ""
        return Found(match, found.wrapped, where)

    def count(self, pattern: SearchPattern, token: threading.Event,
              progress: Callable[[int], None]) -> int:
        """How many lines match ``pattern``; after appends, only the new bytes are read."""
        return self._count.run(self.source, pattern, self._epoch, lambda: self._epoch,
                               token, progress)

    def build_index(self, token: threading.Event, progress: Callable[[int], None]) -> int | None:
        """Count the lines to the end (and what was appended since the last time)."""
        index = self.index()
        index.build(token, lambda done, size: progress(done))
        self._indexed = True
        return index.line_count

    def index(self):
        """The line index (made on first use; built by :meth:`build_index`)."""
        if self._index is None:
            from ..lineindex import LineIndex

            # Through the document, not the source of today: a file created
            # again is read from its new source.
            self._index = LineIndex(lambda offset, length: self.source.read(offset, length),
                                    lambda: self.source.size())
        return self._index

    @property
    def line_count(self) -> int | None:
        """How many lines, once counted."""
        return self._index.line_count if self._index is not None and self._indexed else None

    @property
    def indexing(self) -> bool:
        """Whether lines are being counted for the first time."""
        return self._index is not None and not self._indexed

    def search_start(self, place: Place, match: Match | None, backward: bool,
                     skip_current: bool) -> int:
        """Where a search from the view starts: just past the current match
        when it is on screen, else the top line (``skip_current``, as for
        ``e``: the line after it)."""
        shown = place.bottom > place.top
        if match is not None and shown and place.top <= match.offset < place.bottom:
            return match.offset if backward else match.offset + 1
        if skip_current and not backward and shown:
            return place.first_end
        return place.top

    def index_due(self) -> bool:
        """Whether the line index is behind the file (it grew, or was rewritten)."""
        index = self._index
        return index is not None and self._indexed and index.indexed < self.pager.size

    def count_due(self, pattern: SearchPattern) -> bool:
        """Whether the filter's count is behind the file (it grew, or was rewritten)."""
        return self._count.behind(pattern, self._epoch, self.pager.size)

    # -- following ------------------------------------------------------------

    def feed(self, reopen: bool, **options):
        """A Follower of the set's last file (or of the file), not yet running
        (``options``: the Follower's, e.g. ``start``, the offset to read from)."""
        from ..follow import Follower

        return Follower(self.fs, getattr(self.source, "path", self.path), reopen=reopen,
                        **options)

    def follow_frame(self, feed, view: View, outcome: Outcome) -> Frame | None:
        """The end of the document as ``feed`` saw it (see :mod:`.following`)."""
        if self.tail is None or self.tail.feed is not feed:  # a follow starts
            from .following import FollowTail

            self.tail = FollowTail(self, feed)
        return self.tail.advance(feed, view, outcome)

    def follow_notice(self, feed) -> str:
        """The follower's last word ("deleted", "follow stopped: …")."""
        return feed.state(last=0).notice


class _Count:
    """The filter's count so far: of which pattern, up to which line end."""

    def __init__(self) -> None:
        self.pattern: SearchPattern | None = None
        self.epoch = -1
        self.counted = 0
        self.end = 0  # counted up to here: a line start
        self.size = -1  # the size of the file when last counted
        self.total = 0

    def behind(self, pattern: SearchPattern, epoch: int, size: int) -> bool:
        return pattern != self.pattern or epoch != self.epoch or size != self.size

    def run(self, source, pattern: SearchPattern, epoch: int, current: Callable[[], int],
            token: threading.Event, progress: Callable[[int], None]) -> int:
        from ..search import count_matching_lines

        if pattern != self.pattern or epoch != self.epoch:
            self.pattern, self.epoch, self.counted, self.end = pattern, epoch, 0, 0
        size = source.size()
        if size < self.end:  # shrunk before the epoch said so: start again
            self.counted, self.end = 0, 0
        boundary = _last_line_end(source.read, self.end, size)
        base = self.counted
        counted = count_matching_lines(
            source.read, boundary, pattern, start=self.end, cancel=token,
            progress=lambda count, _offset: progress(base + count)) if boundary > self.end else 0
        partial = source.read(boundary, size - boundary) if boundary < size else b""
        if current() != epoch:  # rewritten meanwhile: this count is of another file
            return self.total
        # The line still being written is counted again, whole, next time.
        self.counted, self.end, self.size = base + counted, boundary, size
        self.total = self.counted + (1 if partial and pattern.matches_line(partial) else 0)
        return self.total


def _last_line_end(read: Callable[[int, int], bytes], low: int, size: int,
                   reach: int = 1 << 20) -> int:
    """Just past the last newline in ``[low, size)`` (within ``reach`` of the
    end; further back, the end itself), else ``low``."""
    start = max(low, size - reach)
    data = read(start, size - start)
    nl = data.rfind(b"\n")
    if nl >= 0:
        return start + nl + 1
    return size if start > low else low
