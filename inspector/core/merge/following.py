"""The rows of a followed merged stream: new lines from every source, in the
order they came.

The first frame is the stream's last screen. After it, each frame adds the
complete lines each source gained since (a line still being written waits
for its newline, or for a piece's worth of bytes, as lines from several
writers cannot be interleaved half-written), source after source in the
order the sources changed, read from the sources' documents: the ``&``
filter, numbers, wrapping and level colours apply as on any screen. Of a
writer faster than the screen, only the lines that fit are read.

Each source keeps the promise of one followed log: when its follower
marks a truncation or a file created again, a separator row names the
source and what happened, and its new content follows; a rotation is
followed into the next file without a gap (its set is one log).
"""

from __future__ import annotations

from ..session.document import Outcome, View
from ..session.frame import Frame, FrameRow, Place, separator_text
from . import moves, order
from .order import Entry


class MergedTail:
    """The rows shown while following a :class:`~.document.MergedDocument`."""

    def __init__(self, doc, feed) -> None:
        self.doc = doc
        self.feed = feed
        """The feed these rows follow."""
        self.rows: list[FrameRow] = []
        self.layout: tuple | None = None
        self.resume: dict[int, int] = {}  # absolute offset of each source's first line not shown
        self.sizes: dict[int, int] = {}
        self.bases: dict[int, int] = {}
        self.marked: dict[int, int] = {}
        self.reopened: dict[int, int] = {}
        self.numbered: dict[int, tuple[int, int]] = {}

    def advance(self, view: View, outcome: Outcome) -> Frame:
        """The frame after what the feed saw."""
        doc = self.doc
        doc.layout(view)
        changed = self.feed.take_changes()
        for s in changed:
            self._follow_files(s, outcome)
        doc.sync(outcome)
        rewritten = [s for s in changed if self._rewritten(s)]
        key = (view.width, view.height, view.wrap, view.numbers, view.match, doc.filter,
               doc.hidden)
        if key != self.layout:
            self._whole(view)
            self.layout = key
        else:
            for s in _with_changes(changed, self._behind()):
                if s in doc.hidden:
                    continue
                if s in rewritten:
                    self.rows.append(self._separator(s, view))
                    self.resume[s] = doc.parts[s].absolute(0)
                self.rows.extend(self._new_rows(s, view))
            self.rows = self.rows[-view.height:]
        self._remember()
        return self._frame(view)

    # -- reading --------------------------------------------------------------

    def _whole(self, view: View) -> None:
        """The stream's last screen, complete lines only."""
        doc = self.doc
        moves.tail(doc)
        rows = [(entry, row) for entry, row in moves.screen(doc) if self._complete(entry)]
        self.rows = doc.frame_rows(rows, view)
        self.resume = {part.index: part.absolute(self._complete_end(part.index))
                       for part in doc.parts}
        self.numbered = {}

    def _complete(self, entry: Entry) -> bool:
        return entry.line.end <= self._complete_end(entry.part)

    def _complete_end(self, s: int) -> int:
        """Where the lines still being written start (local): the end, when
        the log ends with a newline."""
        pager = self.doc.parts[s].pager
        return pager.last_line_start() if pager is not None else 0

    def _new_rows(self, s: int, view: View) -> list[FrameRow]:
        """The rows of the complete lines source ``s`` gained since the last frame."""
        doc, part = self.doc, self.doc.parts[s]
        if part.pager is None:
            return []
        lower, end = part.local(self.resume.get(s, part.absolute(0))), self._complete_end(s)
        if end <= lower:
            return []
        lines = [line for line in part.pager.tail_lines(lower, view.height) if line.end <= end]
        self.resume[s] = part.absolute(end)
        if not lines:
            return []
        cursor = order.end(doc.parts)
        entries = [(Entry(s, line, b"", cursor), row) for line in lines
                   for row in part.rows(line)]
        made = doc.frame_rows(entries, view)
        if view.numbers and part.doc is not None:
            part.doc.count_appended(self.sizes.get(s, 0))
            rows = [row for _entry, row in entries]
            numbers = part.doc.numbers(rows, self.numbered.get(s))
            made = [row._replace(number=number if row_of.index == 0 else None)
                    for row, row_of, number in zip(made, rows, numbers, strict=True)]
            known = [(r.line.start, n) for r, n in zip(rows, numbers, strict=True)
                     if n is not None and r.index == 0]
            if known:
                self.numbered[s] = known[-1]
        return made

    def _behind(self) -> list[int]:
        """Sources whose end moved without a word from their follower (a
        change the feed coalesced): read them too."""
        return [part.index for part in self.doc.parts
                if part.index in self.resume and part.pager is not None
                and part.local(self.resume[part.index]) < self._complete_end(part.index)]

    # -- what happened to a source's files ------------------------------------

    def _follow_files(self, s: int, outcome: Outcome) -> None:
        """Source ``s``'s first file appeared, its follower went on into a
        file its set has not listed yet, or followed a file created again."""
        part, follower = self.doc.parts[s], self.feed.follower(s)
        if part.doc is None:
            part.sync(outcome, force=True)
            return
        if follower is None:
            return
        reopened = follower.reopened
        if reopened != self.reopened.get(s, 0):
            self.reopened[s] = reopened
            part.reopened(follower.path, self.sizes.get(s, part.size()))
            return
        source = part.doc.source
        if getattr(source, "is_set", False) and source.start_of(follower.path) is None:
            part.doc.pager.sync(force=True)

    def _rewritten(self, s: int) -> bool:
        """Whether source ``s``'s follower marked a truncation (or a file
        created again) since the last frame; its offsets moved on then."""
        part, follower = self.doc.parts[s], self.feed.follower(s)
        if follower is None or part.doc is None:
            return False
        marked = follower.state(last=0).marked
        if marked == self.marked.get(s, 0):
            return False
        self.marked[s] = marked
        if part.base == self.bases.get(s, part.base):  # not noticed by the document: do it
            old = self.sizes.get(s, 0)
            part.doc.pager.forget()
            part.doc.recount()
            part.base += old
            part.reset_records()
        return True

    def _separator(self, s: int, view: View) -> FrameRow:
        part = self.doc.parts[s]
        follower = self.feed.follower(s)
        label = "recreated" if follower is not None and follower.reopened else "truncated"
        return FrameRow(separator_text(f"{part.tag} {label}", view.width), separator=label,
                        tag=self.doc.tag_text(s))

    def _remember(self) -> None:
        for part in self.doc.parts:
            self.sizes[part.index] = part.size()
            self.bases[part.index] = part.base

    # -- the frame ------------------------------------------------------------

    def _frame(self, view: View) -> Frame:
        doc = self.doc
        end = order.end(doc.parts)
        path = self.feed.path
        place = Place(path=path, offset=_size_of(doc, path), size=doc.size, percent=100.0,
                      top=end, first_end=end, bottom=end, condition=doc.condition())
        numbering = view.numbers
        return Frame(mode="text", rows=tuple(self.rows), place=place, highlight=view.highlight,
                     numbers=numbering, gutter=doc.gutter() if numbering else 0,
                     following=True, tags=doc.tag_width())


def _with_changes(changed: list[int], behind: list[int]) -> list[int]:
    """The sources to read, in the order they changed (those behind after)."""
    return changed + [s for s in behind if s not in changed]


def _size_of(doc, path: str) -> int:
    """How far the file ``path`` was read (its size), if it is a member of a source."""
    for part in doc.parts:
        source = part.doc.source if part.doc is not None else None
        if source is not None and getattr(source, "start_of", None) is not None:
            start = source.start_of(path)
            if start is not None:
                return part.size() - start
    return 0
