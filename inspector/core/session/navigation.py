"""The navigation queue of a session: moves applied in order, one job at a time.

A key queues an operation (see :data:`~inspector.core.session.paging.PAGING`);
if no navigation job is running, one starts. The job applies every
operation queued by then and builds one frame, so a burst of key repeats
costs one frame, is never lost, and never runs concurrently against the
same document. An operation queued after the view changed (a resize) is
left for the next job, laid out for the new view.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from ..text import printable
from .document import Outcome, View
from .jobs import NAV, Job, Token


class Navigation:
    """The queue, and the job applying it, of one :class:`~.session.ReaderSession`."""

    def __init__(self, session) -> None:
        self._session = session
        self.ops: deque = deque()
        self.token: Token | None = None
        self.scanning = False
        """The job reported progress: it is in a long scan (a sparse filter)."""

    @property
    def running(self) -> bool:
        """True while a job is applying the queue."""
        return self.token is not None

    @property
    def busy(self) -> bool:
        """True while moves are queued or being applied."""
        return self.token is not None or bool(self.ops)

    def reset(self) -> None:
        """Forget the queue (another file); a running job's result is stale anyway."""
        self.ops, self.token, self.scanning = deque(), None, False

    def request(self, op: str, args: tuple, owner: int | None) -> None:
        """Queue ``op`` and make sure a job applies the queue."""
        self.ops.append((op, args, owner))
        if self.token is None and self._session._doc is not None:
            self.start()

    def start(self) -> None:
        """Start a job on what is queued."""
        session = self._session
        token = self.token = session._clock.token()
        self.scanning = False
        doc, ops, view = session._doc, self.ops, session._view

        def current() -> View:
            return session._view

        def feed():
            return session.follower

        session.executor.submit(lambda job: _apply(job, doc, ops, view, feed, current), token,
                                done=self._done, failed=self._failed, progress=self._progress,
                                lane=NAV)

    def cancel_scan(self) -> bool:
        """Cancel a long scan (the queue with it); False if none runs."""
        if self.token is None or not self.scanning:
            return False
        self.token.cancel()
        self.reset()
        return True

    def _done(self, result) -> None:
        frame, outcome, view = result
        self.token = None
        session = self._session
        if self.scanning and session._notices.text.startswith("scanning"):
            session._notices.clear()
        self.scanning = False
        session._navigated(frame, outcome)
        if self.ops or view != session._view:
            session._request("view")  # asked for meanwhile, or resized after the job began

    def _progress(self, percent: float) -> None:
        self.scanning = True
        self._session._say(f"scanning… {percent:.0f}%")

    def _failed(self, error: BaseException) -> None:
        self.token = None
        self.ops.clear()
        self._session._say(f"read failed: {printable(error)}")


def _apply(job: Job, doc, ops: deque, view: View, feed: Callable, current: Callable[[], View]):
    """The navigation job: apply the queued operations, then build the frame
    (while following, as the keys left it when the frame is made: the frame
    of the end). A poll that found nothing changed builds none."""
    outcome = Outcome()
    with doc.lock:
        doc.layout(view)
        while ops and not job.cancelled and current() is view:
            op, args, owner = ops.popleft()
            doc.apply(op, args, job.token, outcome, owner, job.report)
        followed = feed()
        if followed is not None:
            frame = doc.follow_frame(followed, view, outcome)
        elif outcome.changed:
            frame = doc.frame(view, outcome)
        else:
            frame = None
    return frame, outcome, view
