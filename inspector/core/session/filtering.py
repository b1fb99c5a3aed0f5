"""The ``&`` filter of a session, and its running count.

The filter is a regex, or a field expression (``status>=500``,
``level>=warn``: :mod:`inspector.core.structured.expr`), which pages,
counts and follows the same way.

Setting a filter is a navigation operation (the view shows only the lines
matching); how many lines match is counted in the count lane, the status
showing the count as it grows. When the file grows (or is followed), only
the appended bytes are counted; when it is rewritten, it is counted again.
"""

from __future__ import annotations

from ..search import SearchPattern
from ..structured.pattern import parse_filter
from ..text import printable
from .jobs import COUNT, Token


MAX_CONTEXT = 99
"""Context lines asked for beyond this are this many."""


class Filtering:
    """The filter and its count, of one :class:`~.session.ReaderSession`."""

    def __init__(self, session) -> None:
        self._session = session
        self.pattern: SearchPattern | None = None
        self.matches: int | None = None
        self.token: Token | None = None
        self.context = 0
        """Lines shown around each match (as ``grep -C``)."""
        self.paused: SearchPattern | None = None
        """The filter switched off by :meth:`toggle`, to switch back on."""

    @property
    def counting(self) -> bool:
        """True while the count runs."""
        return self.pattern is not None and self.token is not None

    def reset(self) -> None:
        """No filter (another file)."""
        self.pattern, self.matches, self.token = None, None, None
        self.context, self.paused = 0, None

    def set_context(self, owner: int, lines: int) -> None:
        """Show ``lines`` lines of context around each match."""
        session = self._session
        self.context = max(0, min(int(lines), MAX_CONTEXT))
        session._request("context", self.context, owner=owner)
        what = f"{self.context} lines of context around each match" if self.context \
            else "no context: only the matching lines"
        if self.pattern is None:
            what += " (once a & filter is set)"
        session._say(what, owner)

    def toggle(self, owner: int) -> None:
        """Switch the filter off (the top line stays) or back on."""
        session = self._session
        if self.pattern is not None:
            paused = self.pattern
            self.set(owner, "")
            self.paused = paused
            session._say(f"filter &{printable(paused.text)} off: every line (\\ again: back on)",
                         owner)
        elif self.paused is not None:
            paused, self.paused = self.paused, None
            self.set(owner, paused.text)
        else:
            session._say("no filter to switch on: set one with &", owner)

    def set(self, owner: int, text: str) -> None:
        """Show only the lines matching the regex ``text``; "" shows every line."""
        session = self._session
        self._stop_count()
        if not text:
            if self.pattern is not None:
                self.pattern = self.matches = None
                self._highlight()
                session._notices.say("filter off: every line", owner)
                session._request("filter", None, owner=owner)
                session._refresh()
            return
        try:
            pattern = parse_filter(text)
        except ValueError as exc:
            session._say(printable(exc), owner)
            return
        self.pattern, self.matches, self.paused = pattern, None, None
        self._highlight()
        session._request("filter", pattern, owner=owner)
        self.count(owner)

    def _highlight(self) -> None:
        session = self._session
        search = session._searching.pattern
        shown = search or self.pattern
        highlight = shown.text_regex if shown is not None else None
        session._view = session._view._replace(highlight=highlight)

    def _stop_count(self) -> None:
        if self.token is not None:
            self.token.cancel()
            self.token = None

    def count(self, owner: int | None = None) -> None:
        """Count the matching lines (going on from the last count when only
        bytes were appended since)."""
        session = self._session
        doc, pattern = session._doc, self.pattern
        if doc is None or pattern is None:
            return
        self._stop_count()
        token = self.token = session._clock.token()

        def counted(total: int) -> None:
            self.token, self.matches = None, total
            if total == 0:
                session._notices.say(f"no line matches {pattern.text}", owner)
            session._refresh()
            self.keep_up()

        def partial(count: int) -> None:
            self.matches = count
            session._refresh()

        def failed(error: BaseException) -> None:
            if token is self.token:
                self.token = None
            session._say(f"filter count failed: {printable(error)}")

        session.executor.submit(lambda job: doc.count(pattern, job.token, job.report), token,
                                done=counted, progress=partial, failed=failed, lane=COUNT)

    def keep_up(self) -> None:
        """Count again what the file gained since the last count."""
        doc = self._session._doc
        if self.pattern is not None and self.token is None and doc is not None \
                and doc.count_due(self.pattern):
            self.count()
