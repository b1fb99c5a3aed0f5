"""Marks: ``m`` and a letter marks the top line, ``'`` and the letter goes back
to it, ``''`` to where the view was before the last jump (as in ``less``).

A mark names a line of the document, not a row of the screen: it stays on
its line while the view moves, the file grows or a filter hides lines, and
when Nomad deletes the rotation set's first file (its anchor moves with
the set, :meth:`~inspector.core.session.lines.Lines.anchor`); a mark whose
line was deleted says so when used.

While following, a mark is "now": it marks the end of what was read, and
the followed rows show a divider there ("── 'a now 10:15:03 ──"), the lines
written since coming below it. Marks go into exports (:mod:`inspector.core.export`).
"""

from __future__ import annotations

import string
from datetime import datetime
from typing import Any, NamedTuple

from .frame import Frame, FrameRow, separator_text
from .lines import lines_of

LETTERS = string.ascii_letters
"""What may name a mark."""
BACK = "'"
"""The mark of the place before the last jump."""


class Mark(NamedTuple):
    """One mark: its letter, its anchor in the document, and how it was set."""

    letter: str
    anchor: Any
    where: str
    """Where it was set, in words ("line 1,204 of web.stdout.3" / "byte 5,120")."""
    when: datetime
    now: bool = False
    """Set while following: the end of what was read (drawn as a divider)."""


class Marks:
    """The marks of one :class:`~.session.ReaderSession` (one document)."""

    def __init__(self, session) -> None:
        self._session = session
        self._marks: dict[str, Mark] = {}
        self._drawn: tuple = ()  # (rows decorated, key) of the last frame decorated

    def reset(self) -> None:
        """Forget every mark (another document)."""
        self._marks = {}
        self._drawn = ()

    def __iter__(self):
        """The marks set, by letter (the place before the last jump left out)."""
        return iter(sorted((m for k, m in self._marks.items() if k != BACK),
                           key=lambda m: m.letter))

    def position(self, letter: str) -> Any:
        """Where mark ``letter`` is now (None: not set, or its line is gone)."""
        mark = self._marks.get(letter)
        if mark is None:
            return None
        doc = self._session._doc
        lines = lines_of(doc)
        return lines.resolve(mark.anchor) if lines is not None else mark.anchor

    def positions(self) -> dict[str, Any]:
        """Every mark's position now (marks whose line is gone left out)."""
        out = {}
        for letter in self._marks:
            if letter != BACK and (at := self.position(letter)) is not None:
                out[letter] = at
        return out

    def set(self, letter: str) -> None:
        """Mark the top line as ``letter`` (while following: the end, now)."""
        session = self._session
        owner = session._notices.command()
        if letter not in LETTERS:
            session._say(f"a mark is a letter, a-z or A-Z (not {letter!r})", owner)
            return
        doc, frame = session._doc, session._frame
        if doc is None or frame.mode != "text":
            session._say("nothing to mark", owner)
            return
        following = session.following
        position = doc.size if following else frame.place.top
        where = _where(frame, following)
        self._marks[letter] = Mark(letter, _anchor(doc, position), where, datetime.now(),
                                   now=following)
        session._say(f"mark '{letter}: {where}", owner)

    def save_place(self) -> None:
        """Remember the top line as the place to come back to with ``''``
        (a jump is about to move the view)."""
        doc, frame = self._session._doc, self._session._frame
        if doc is not None and frame.mode == "text" and not self._session.following:
            self._marks[BACK] = Mark(BACK, _anchor(doc, frame.place.top), _where(frame, False),
                                     datetime.now())

    def jump(self, letter: str) -> None:
        """Go to mark ``letter`` (``'``: back to before the last jump)."""
        session = self._session
        owner = session._notices.command()
        mark = self._marks.get(letter)
        if mark is None:
            session._say("no jump to go back from" if letter == BACK
                         else f"no mark '{letter} (set one with m{letter})", owner)
            return
        position = self.position(letter)
        if position is None:
            session._say(f"mark '{letter} is gone: its line was in a file Nomad deleted", owner)
            return
        self.save_place()
        session._notices.say(f"mark '{letter}: {mark.where}" if letter != BACK
                             else f"back to {mark.where}", owner)
        session._request("goto", position, owner=owner)
        session._refresh()

    def decorate(self, frame: Frame, height: int) -> Frame:
        """``frame`` with its marked rows named and, while following, a
        divider at each "now" mark."""
        if frame.mode != "text" or not any(m.letter != BACK for m in self._marks.values()):
            return frame
        positions = self.positions()
        key = (frame.rows, tuple(sorted(positions.items())), frame.following, height)
        if self._drawn and self._drawn[1] == key:
            return frame._replace(rows=self._drawn[0])
        by_start: dict[Any, str] = {}
        for letter, at in positions.items():
            if not self._marks[letter].now:
                by_start[at] = by_start.get(at, "") + letter
        rows = [row._replace(mark=by_start[row.at]) if row.at in by_start else row
                for row in frame.rows]
        if frame.following:
            rows = self._dividers(rows, positions, frame, height)
        self._drawn = (tuple(rows), key)
        return frame._replace(rows=self._drawn[0])

    def _dividers(self, rows: list[FrameRow], positions: dict, frame: Frame,
                  height: int) -> list[FrameRow]:
        """The "now" dividers, each above the first row written after its mark."""
        width = max((row.text.cell_len for row in rows), default=40)
        full = len(rows) >= height
        for letter, at in sorted(positions.items(), key=lambda item: item[1]):
            mark = self._marks[letter]
            if not mark.now:
                continue
            lines = [i for i, row in enumerate(rows) if row.at is not None]
            if not lines or rows[lines[0]].at >= at:
                continue  # written before everything shown, or nothing shown
            after = next((i for i in lines if rows[i].at >= at), len(rows))
            label = f"'{letter} now {mark.when:%H:%M:%S}"
            rows.insert(after, FrameRow(separator_text(label, max(20, min(width, 200))),
                                        separator=label))
        return rows[-height:] if full else rows


def _anchor(doc, position: Any) -> Any:
    lines = lines_of(doc)
    return lines.anchor(position) if lines is not None else position


def _where(frame: Frame, following: bool) -> str:
    """The top line (or, following, the end) of ``frame`` in words."""
    place = frame.place
    name = place.path.rsplit("/", 1)[-1] if place.path else ""
    if following:
        return f"the end of {name}, now" if name else "the end, now"
    line = f"line {place.line:,} " if place.line is not None else ""
    return f"{line}at byte {place.offset:,} of {name}" if name else f"{line}at {place.top}"
