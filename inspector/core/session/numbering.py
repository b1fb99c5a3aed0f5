"""Line numbers of a session: the lines counted in the background.

When line numbers are turned on (``#``), the document's line index is built
in the index lane; rows show their numbers once known, and the status the
number of lines. When the file grows, only what was appended is counted;
when bytes leave the head of a rotation set or the file is rewritten, the
lines are counted again from its new start.
"""

from __future__ import annotations

from ..text import printable
from .jobs import INDEX, Token


class Numbering:
    """The line count job of one :class:`~.session.ReaderSession`."""

    def __init__(self, session) -> None:
        self._session = session
        self.token: Token | None = None

    def reset(self) -> None:
        """Another file: nothing is being counted."""
        self.token = None

    def start(self) -> None:
        """Count the lines (what is not counted yet)."""
        session = self._session
        doc = session._doc
        if doc is None or doc.mode == "hex":
            return
        if self.token is not None:
            self.token.cancel()
        token = self.token = session._clock.token()

        def counted(_lines) -> None:
            self.token = None
            if session._view.numbers:
                session._request("view")  # the numbers of the rows are known now
            session._refresh()

        def failed(error: BaseException) -> None:
            if token is self.token:
                self.token = None
            session._say(f"line count failed: {printable(error)}")

        session.executor.submit(lambda job: doc.build_index(job.token, job.report), token,
                                done=counted, progress=lambda _done: session._refresh(),
                                failed=failed, lane=INDEX)

    def keep_up(self) -> None:
        """Count what the file gained, if numbers are shown."""
        doc = self._session._doc
        if self._session._view.numbers and self.token is None and doc is not None \
                and doc.index_due():
            self.start()
