"""The commands of ``/`` ``?`` ``n`` ``N`` ``e`` ``E`` and of the ``&`` filter
(its context lines, switching it off and on, structured fields as columns):
what a :class:`~.session.ReaderSession` does when asked, handed to
:mod:`.searching` and :mod:`.filtering`, which run the jobs. A mixin of
the session: it uses the session's notices, lock and requests.
"""

from __future__ import annotations

from ..text import printable
from .jobs import locked


class SearchCommands:
    """Searching and filtering, as a session takes them (see the module)."""

    @locked
    def search(self, text: str = "", backward: bool = False) -> None:
        """Search for the regex ``text`` (smart case) from the view, wrapping
        around the end; an empty ``text`` repeats the last search."""
        self._searching.search(self._notices.command(), text, backward)

    @locked
    def search_again(self, reverse: bool = False) -> None:
        """The next match of the last search in its direction (``reverse``: the other)."""
        self._searching.again(self._notices.command(), reverse)

    @locked
    def next_error(self, backward: bool = False) -> None:
        """The next (``backward``: previous) line logged at error level."""
        owner = self._notices.command()
        if self._frame.mode == "text":
            self._view = self._view._replace(match=None)
            self._searching.start(owner, backward, errors=True)

    @locked
    def filter(self, text: str) -> None:
        """Show only the lines matching the regex ``text`` (smart case), with a
        running count; an empty ``text`` shows every line again."""
        self._filtering.set(self._notices.command(), text)

    @locked
    def set_context(self, lines: int) -> None:
        """Show ``lines`` lines around each match of the ``&`` filter, dimmed
        (as ``grep -C``); 0: only the matches."""
        self._filtering.set_context(self._notices.command(), lines)

    @locked
    def toggle_filter(self) -> None:
        """Switch the ``&`` filter off, the top line staying where it is, or
        back on."""
        self._filtering.toggle(self._notices.command())

    @locked
    def set_columns(self, text: str) -> None:
        """Show the fields named in ``text`` (``level,status:5``) as columns
        before each structured line's message; "": the lines as they are."""
        from ..structured.columns import parse_columns

        owner = self._notices.command()
        try:
            columns = parse_columns(text)
        except ValueError as exc:
            return self._say(printable(exc), owner)
        self._notices.say(columns.describe() if columns else "columns off", owner)
        self._request("columns", columns.render if columns else None, owner=owner)
