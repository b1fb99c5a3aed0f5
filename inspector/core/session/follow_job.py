"""Following: the feed's thread, and the job that turns its changes into frames.

The feed (a :class:`~inspector.core.follow.Follower`) runs in a lane of its
own and reads what is written as soon as the kernel says so. The follow job
waits for it to change (``wait_changed``: no timer), waits for the screen to
have taken the previous frame, and builds the next one from the document:
when the screen is idle a new line is on its way at once; when the writer
is faster than the screen, frames are made only as fast as they are shown
and the keys are never queued behind them.
"""

from __future__ import annotations

from collections.abc import Callable

from .document import Outcome, View
from .jobs import FOLLOW, FOLLOWER, Executor, Job, Token

WAIT = 0.5
"""Seconds a follow job waits for a change before looking at its token again
(stopping wakes it at once: the feed bumps its version when it ends)."""
SHOWN_WAIT = 1.0
"""Seconds to wait for the screen to take a frame before making the next anyway."""
RETRY = 0.05
"""Seconds before a frame put off is made anyway."""


class FollowJob:
    """One follow of a document: ``on_frame((frame, outcome))`` on the UI
    thread for each change, ``on_end(notice)`` if the feed stops by itself
    (the file deleted, not waited for)."""

    def __init__(self, executor: Executor, token: Token, doc, feed,
                 view: Callable[[], View], on_frame: Callable, on_end: Callable[[str], None],
                 on_failed: Callable[[BaseException], None] | None = None) -> None:
        self.feed = feed
        self.token = token
        executor.submit(lambda job: feed.run(), token, lane=FOLLOWER, failed=on_failed)
        executor.submit(lambda job: _pump(job, doc, feed, view), token, lane=FOLLOW,
                        progress=on_frame, done=on_end, failed=on_failed)

    @property
    def path(self) -> str:
        """The file followed now (it changes when the log rotates)."""
        return self.feed.path

    def stop(self) -> None:
        """Stop following: the feed's thread and the job end soon; what they
        deliver from now on is dropped."""
        self.token.cancel()
        self.feed.stop()


def _pump(job: Job, doc, feed, view: Callable[[], View]) -> str:
    """The follow job: a frame per change of the feed; returns the feed's
    last notice once it stopped by itself."""
    seen, deferred = -1, False
    while not job.cancelled:
        # A frame put off (the file changed under what was read, the
        # follower's word awaited) is made soon, with or without that word.
        version = feed.wait_changed(seen, RETRY if deferred else WAIT)
        if job.cancelled:
            break
        ended = version > 0 and not feed.running
        if version != seen or deferred:
            seen = version
            job.wait_delivered(SHOWN_WAIT)
            outcome = Outcome()
            with doc.lock:
                frame = doc.follow_frame(feed, view(), outcome)
            deferred = frame is None
            if frame is not None or outcome.notices or outcome.recount:
                job.report((frame, outcome))
        if ended:
            break
    return doc.follow_notice(feed)
