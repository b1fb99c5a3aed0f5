"""The rows of a followed log, kept up to date as it is written.

While a session follows, a :class:`~inspector.core.follow.Follower` watches
the end of the file and wakes the session when something happened. The rows
are read from the document itself, so the ``&`` filter, line numbers,
wrapping and level colours apply as on any screen (``tail -f | grep``,
numbered) and the status says where the screen is. Each frame reads only
what was appended since the frame before: of a writer faster than the
screen, the lines that scrolled past unseen are never parsed.

When the follower marks a truncation or a file created again, the lines it
had read before stay on screen above a separator, and the new content comes
below, read from the document from the start of the new file.
"""

from __future__ import annotations

from rich.text import Text

from ..levels import colour_levels
from ..pager import Row, line_text, wrap_starts
from .document import Outcome, View
from .frame import Frame, FrameRow, separator_text

FINGERPRINT = 64
"""Bytes before the end of what was read, compared on every frame: a file
rewritten past its old end is not read as if it had grown."""


class FollowTail:
    """The rows shown while following one :class:`~.logdoc.LogDocument`."""

    def __init__(self, doc, feed) -> None:
        self.doc = doc
        self.feed = feed
        """The feed these rows follow."""
        self.layout: tuple | None = None
        self.rows: list[Row] = []
        self.numbers: list[int | None] = []
        self.made: list[FrameRow] = []  # the frame rows of ``rows``
        self.history: tuple[FrameRow, ...] = ()
        self.resume = 0  # where the first line not read for good starts
        self.epoch = 0  # where the content since the last separator starts
        self.marked: int | None = None
        self.reopened = 0
        self.notice = ""
        self.dropped = getattr(self.doc.source, "dropped", 0)
        self.print = b""  # the bytes before ``resume`` when read
        self.suspect = False  # they changed: a mark is expected

    def advance(self, feed, view: View, outcome: Outcome) -> Frame | None:
        """The frame after what ``feed`` saw (None: wait for the follower's
        next word, e.g. the mark of a truncation already visible in the size)."""
        doc, pager = self.doc, self.doc.pager
        doc.layout(view)
        before = pager.size
        self._follow_files(feed)
        doc.sync(outcome)
        rebased = self._rebase()
        marked = self._separate(feed, view)
        if marked:
            outcome.recount = True
            self.suspect = False
        elif pager.size < before or not rebased and not self._intact():
            # Truncated, or rewritten past the old end: the follower's mark
            # (on its way) tells what was above. If it does not come, the
            # file was changed in place: read it again, whole.
            if not self.suspect:
                self.suspect = True
                return None
            self.suspect = False
            pager.forget()
            doc.recount()
            outcome.recount = True
        self._tell(feed, outcome)
        key = (view.width, view.height, view.wrap, view.numbers, view.match, pager.filter,
               pager.hex_mode, doc.epoch, pager.context, pager.render)
        whole = key != self.layout or outcome.recount
        lower = self.epoch if whole else self.resume
        keep = 0 if whole else self._kept()
        kept, kept_numbers, kept_made = self.rows[:keep], self.numbers[:keep], self.made[:keep]
        lines = pager.tail_lines(lower, view.height)
        fresh = [row for line in lines for row in pager.rows(line)]
        fresh_numbers = None
        if view.numbers and not pager.hex_mode:
            doc.count_appended(before)
            fresh_numbers = doc.numbers(fresh, _last_numbered(kept, kept_numbers))
        numbers = kept_numbers + (fresh_numbers or [None] * len(fresh))
        made = kept_made + doc.frame_rows(fresh, view, fresh_numbers)
        rows = (kept + fresh)[-view.height:]
        self.rows, self.numbers, self.made = rows, numbers[-view.height:], made[-view.height:]
        self.resume, self.layout = max(lower, pager.last_line_start()), key
        self.print = self._fingerprint()
        if len(rows) >= view.height:
            self.history = ()
        pager.top, pager.top_row = (rows[0].line.start, 0) if rows else (pager.top, 0)
        return doc.frame_of(rows, view, above=self.history, numbers=self.numbers,
                            following=feed.path, made=self.made)

    def _kept(self) -> int:
        """How many of the rows shown are of lines read for good (before
        ``resume``): they stay as they are."""
        keep = len(self.rows)
        while keep and self.rows[keep - 1].line.end > self.resume:
            keep -= 1
        return keep

    def _rebase(self) -> bool:
        """Bytes left the head of the set (rotated away): what was read moved
        down with them, and is read again whole."""
        dropped = getattr(self.doc.source, "dropped", 0)
        moved, self.dropped = dropped - self.dropped, dropped
        if moved:
            self.epoch, self.resume = max(0, self.epoch - moved), max(0, self.resume - moved)
            self.layout = None
        return bool(moved)

    def _fingerprint(self) -> bytes:
        """The bytes just before ``resume``, read from the file (not a cache)."""
        low = max(self.epoch, self.resume - FINGERPRINT)
        return self.doc.source.read(low, self.resume - low) if self.resume > low else b""

    def _intact(self) -> bool:
        """Whether the bytes read for good are still there (not rewritten)."""
        return self._fingerprint() == self.print

    def _follow_files(self, feed) -> None:
        """The follower went on into a new file of the set, or a file created again."""
        doc = self.doc
        reopened = getattr(feed, "reopened", 0)
        if reopened != self.reopened:
            self.reopened = reopened
            doc.reopen(feed.path)
            self.epoch = 0
            return
        source = doc.source
        if getattr(source, "is_set", False) and source.start_of(feed.path) is None:
            doc.pager.sync(force=True)  # rotated into a file the set has not listed yet

    def _separate(self, feed, view: View) -> bool:
        """Keep what the follower read above a separator for each mark it made
        since the last frame; the new content starts at the file followed."""
        probe = feed.state(last=0)
        if self.marked is None:
            self.marked = probe.marked
            return False
        if probe.marked == self.marked:
            return False
        state = feed.state()
        new = state.marked - self.marked
        self.marked = state.marked
        if new <= 0 or not state.marks:
            return False
        upto = state.marks[-1][0]
        self.history = self._rows_of(state.lines[:upto], state.marks, view)[-view.height:]
        start = self.doc.source.start_of(feed.path) if self.doc.is_set else 0
        self.epoch = start or 0
        self.doc.pager.forget()
        self.doc.recount()
        return True

    def _rows_of(self, lines: list[bytes], marks, view: View) -> tuple[FrameRow, ...]:
        """Rows of lines the follower read (gone from the file since), with
        the separators at their marks; the filter applies, numbers do not."""
        by_index: dict[int, list[str]] = {}
        for index, label in marks:
            by_index.setdefault(index, []).append(label)
        pattern = self.doc.pager.filter
        out: list[FrameRow] = []
        for i in range(len(lines) + 1):
            for label in by_index.get(i, ()):
                out.append(FrameRow(separator_text(label, view.width), separator=label))
            if i == len(lines) or (pattern is not None and not pattern.matches_line(lines[i])):
                continue
            out.extend(FrameRow(text) for text in _wrapped(lines[i], view))
        return tuple(out)

    def _tell(self, feed, outcome: Outcome) -> None:
        """The follower's notice, when it says something new."""
        notice = feed.state(last=0).notice
        if notice and notice != self.notice:
            outcome.notices.append((notice, None))
        self.notice = notice



def _last_numbered(rows: list[Row], numbers: list[int | None]) -> tuple[int, int] | None:
    """(start, number) of the last row with a known number, to count on from."""
    for row, number in zip(reversed(rows), reversed(numbers), strict=True):
        if number is not None and row.index == 0:
            return row.line.start, number
    return None


def _wrapped(data: bytes, view: View) -> list[Text]:
    text = colour_levels(line_text(data))
    if not view.wrap or text.cell_len <= view.width:
        return [text]
    starts = wrap_starts(text.plain, view.width)
    ends = starts[1:] + [len(text)]
    return [text[a:b] for a, b in zip(starts, ends, strict=True)]
