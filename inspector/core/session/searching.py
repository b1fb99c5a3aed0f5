"""Search of a session: ``/`` ``?`` ``n`` ``N``, and the error lines of ``e`` ``E``.

A search runs in the search lane, beside the navigation; a newer search,
``escape`` or another file makes the old one stale. From the view: past
the current match when it is on screen, else from the top line. It wraps
around the end, as ``less`` does, and says so. The match found becomes the
current one (drawn apart) and the view moves to it.
"""

from __future__ import annotations


from ..search import SearchPattern
from ..text import printable
from .jobs import SEARCH, Job, Token


class Searching:
    """The last search and the one running, of one :class:`~.session.ReaderSession`."""

    def __init__(self, session) -> None:
        self._session = session
        self.pattern: SearchPattern | None = None
        self.backward = False
        self.token: Token | None = None
        self._waiting: tuple | None = None  # a search waiting for the moves asked before it

    @property
    def running(self) -> bool:
        """True while a search runs (or waits for the moves asked before it)."""
        return self.token is not None or self._waiting is not None

    def reset(self) -> None:
        """Forget the last search (another file)."""
        self.pattern, self.backward, self.token, self._waiting = None, False, None, None

    def resume(self) -> None:
        """The moves asked before a search are shown: it starts from there."""
        waiting = self._waiting
        if waiting is not None and not self._session._navigation.busy:
            self._waiting = None
            self.start(*waiting)

    def search(self, owner: int, text: str, backward: bool) -> None:
        """Search for ``text`` from the view; empty, or the last search's
        text again: the next match of the last search, in ``backward``'s
        direction."""
        session = self._session
        if text and (self.pattern is None or text != self.pattern.text):
            try:
                self.pattern = SearchPattern.parse(text)
            except ValueError as exc:
                session._say(printable(exc), owner)
                return
            session._view = session._view._replace(match=None,
                                                   highlight=self.pattern.text_regex)
        if self.pattern is None:
            session._say("no previous search", owner)
            return
        self.backward = backward
        self.start(owner, backward)

    def again(self, owner: int, reverse: bool) -> None:
        """The last search again, in its direction (``reverse``: the other)."""
        if self.pattern is None:
            self._session._say("no previous search", owner)
            return
        self.start(owner, self.backward != reverse)

    def start(self, owner: int, backward: bool, errors: bool = False) -> None:
        """Start a search (``errors``: for the next line logged at error
        level) from the view, once the moves asked before it are shown."""
        session = self._session
        doc = session._doc
        if doc is None:
            return
        if self.token is not None:
            self.token.cancel()
            self.token = None
        if session._navigation.busy:
            self._waiting = (owner, backward, errors)
            session._say("searching…", owner)
            return
        token = self.token = session._clock.token()
        start = doc.search_start(session._frame.place, session._view.match, backward, errors)
        pattern = self.pattern
        session._say("searching…", owner)

        def work(job: Job):
            if errors:
                return doc.find_level(start, backward, job.token, job.report)
            return doc.search(pattern, start, backward, job.token, job.report)

        session.executor.submit(
            work, token, lane=SEARCH, failed=self._failed(token),
            progress=lambda percent: session._say(f"searching… {percent:.0f}%", owner),
            done=lambda found: self._found(found, owner, pattern, backward, errors))

    def cancel(self) -> bool:
        """Cancel the running search; False if none runs."""
        if self.token is None and self._waiting is None:
            return False
        if self.token is not None:
            self.token.cancel()
        self.token = self._waiting = None
        self._session._say("search cancelled")
        return True

    def _found(self, found, owner: int, pattern: SearchPattern | None, backward: bool,
               errors: bool) -> None:
        self.token = None
        session = self._session
        match = found.match
        if match is None:
            session._say("no error line " + ("above" if backward else "below") if errors
                         else f"no match: {pattern.text}", owner)
            return
        if errors:
            notice = f"error line {found.where}"
        else:
            session._view = session._view._replace(match=match)
            notice = f"{'?' if backward else '/'}{pattern.text} {found.where}"
            if found.wrapped:
                notice += "  (wrapped to the " + ("bottom)" if backward else "top)")
        session._stop_follow()
        session.marks.save_place()
        # Found: it moves the view, so it says so, whatever came meanwhile.
        owner = session._notices.command()
        session._notices.say(notice, owner)
        session._request("goto" if errors else "reveal", match.offset, owner=owner)
        session._refresh()

    def _failed(self, token: Token):
        def failed(error: BaseException) -> None:
            if token is self.token:
                self.token = None
            self._session._say(f"search failed: {printable(error)}")
        return failed
