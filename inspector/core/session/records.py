"""Lines taken out of a session's document on request: the field view of the
current line (``x``), text to copy (``y``), an export (``W``), and the
histogram of levels over time (``i``).

Each runs as a job off the UI thread, through the document's
:class:`~inspector.core.session.lines.Lines`, and hands its result to the
front-end's callback on the UI thread. The current line is the line of
the current search match when it is on screen, else the top line. An
export has a token of its own: it goes on when another file is opened (it
reads a snapshot of the set) and stops only when cancelled; the
histogram belongs to the document shown and goes stale with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..text import printable
from .jobs import EXPORT, HISTOGRAM, RECORD, Clock, Job, Token
from .lines import lines_of

MAX_COPY_LINES = 10_000
"""Lines of a marked range read for a copy, at most."""


class Records:
    """The jobs that take lines out of one :class:`~.session.ReaderSession`."""

    def __init__(self, session) -> None:
        self._session = session
        self._histogram: Token | None = None

    # -- what is asked for -----------------------------------------------------

    def _lines(self, owner: int, what: str):
        """The document's Lines, or None after saying why there are none."""
        session = self._session
        doc = session._doc
        if doc is None or session._frame.mode != "text":
            session._say(f"{what}: nothing open as text", owner)
            return None
        lines = lines_of(doc)
        if lines is None:
            session._say(f"{what} is not available on this view", owner)
        return lines

    def document_lines(self):
        """The :class:`~inspector.core.session.lines.Lines` of the document
        shown (one log, a set or a merged stream), or None."""
        doc = self._session._doc
        return None if doc is None else lines_of(doc)

    def current_position(self) -> Any:
        """The position of the current line: the current match's when it is
        on screen, else the top line's."""
        session = self._session
        place, match = session._frame.place, session._view.match
        if match is not None and place.top <= match.offset < place.bottom:
            return match.offset
        return place.top

    def _submit(self, work: Callable[[Job], Any], done: Callable[[Any], None], what: str,
                lane: str, token: Token | None = None,
                progress: Callable[[Any], None] | None = None) -> Token:
        session = self._session
        token = token or session._clock.token()

        def failed(error: BaseException) -> None:
            session._say(f"{what} failed: {printable(error)}")

        session.executor.submit(work, token, done=done, failed=failed, progress=progress,
                                lane=lane)
        return token

    # -- the field view and copy -------------------------------------------------

    def field_view(self, done: Callable[[Any], None]) -> None:
        """Read the current line whole and hand its
        :class:`~inspector.core.structured.view.FieldView` to ``done``."""
        session = self._session
        owner = session._notices.command()
        lines = self._lines(owner, "the field view")
        if lines is None:
            return
        position = self.current_position()

        def work(job: Job):
            from ..structured.view import field_view

            line = lines.line_at(position)
            return None if line is None else field_view(line)

        def shown(view) -> None:
            if view is None:
                session._say("no line here", owner)
            else:
                done(view)

        self._submit(work, shown, "the field view", RECORD)

    def copy(self, done: Callable[[Any], None], mark: str = "") -> None:
        """Read the current line (``mark``: every line from that mark's line
        to the current one) and hand the sanitised, bounded
        :class:`~inspector.core.clipboard.CopyText` to ``done``."""
        session = self._session
        owner = session._notices.command()
        lines = self._lines(owner, "copy")
        if lines is None:
            return
        here = self.current_position()
        there = here
        if mark:
            there = session.marks.position(mark)
            if there is None:
                session._say(f"no mark '{mark} to copy from", owner)
                return
        start, end = min(here, there), max(here, there)

        def work(job: Job):
            from ..clipboard import MAX_COPY, clipboard_text

            picked: list[bytes] = []
            size, more = 0, False
            for chunk in lines.chunks(start, end, job.token, size=MAX_COPY + 1):
                for line in chunk.data.split(b"\n"):
                    picked.append(line)
                    size += len(line) + 1
                if size > MAX_COPY or len(picked) > MAX_COPY_LINES:
                    more = True
                    break
            if picked and picked[-1] == b"" and not more:
                picked.pop()
            return clipboard_text(picked, more=more)

        def copied(text) -> None:
            session._say(text.describe(), owner)
            done(text)

        self._submit(work, copied, "copy", RECORD)

    # -- export ----------------------------------------------------------------

    def plan(self, scope: str, fmt: str, *, marks: str = "", since: str = "",
             until: str = ""):
        """The :class:`~inspector.core.export.ExportPlan` of ``scope`` ("view",
        "marks" with the two mark letters in ``marks``, "all", "time" from
        ``since`` to ``until``) in ``fmt``; a str saying why not."""
        from ..export import ALL, MARKS, TIME, VIEW, ExportPlan

        session = self._session
        if session._doc is None or session._frame.mode != "text":
            return "nothing open as text to export"
        if lines_of(session._doc) is None:
            return "export is not available on this view"
        label = session._label
        carried = session.marks.positions()
        filtering = session._filtering
        if scope == VIEW and filtering.pattern is not None:
            context = f", {filtering.context} lines of context" if filtering.context else ""
            return ExportPlan(VIEW, fmt, pattern=filtering.pattern, context=filtering.context,
                              marks=carried, label=label,
                              description=f"lines matching &{filtering.pattern.text}{context}")
        if scope in (VIEW, ALL):
            return ExportPlan(ALL, fmt, marks=carried, label=label, description="every line")
        if scope == MARKS:
            letters = [c for c in marks if not c.isspace() and c not in ",-'"]
            if len(letters) != 2:
                return "name two marks, e.g. ab (the lines from 'a to 'b)"
            at = [session.marks.position(letter) for letter in letters]
            if None in at:
                missing = letters[at.index(None)]
                return f"no mark '{missing}"
            return ExportPlan(MARKS, fmt, start=min(at), end=max(at), marks=carried,
                              label=label, description=f"lines from '{letters[0]} to "
                                                       f"'{letters[1]}")
        if scope == TIME:
            if not since.strip():
                return "give the time the range starts at (e.g. 10:15 or 2026-11-28T10:15)"
            return ExportPlan(TIME, fmt, marks=carried, label=label,
                              description=f"lines from {since.strip()} to "
                                          f"{until.strip() or 'the end'}",
                              start=("time", since.strip()), end=("time", until.strip()))
        return f"no such export: {scope}"

    def export(self, plan, target, roots: list[str], done: Callable[[Any], None],
               progress: Callable[[tuple[int, int]], None] | None = None
               ) -> threading.Event:
        """Write ``plan`` to ``target`` (checked with
        :func:`~inspector.core.export.export_target`); ``done`` gets the
        :class:`~inspector.core.export.ExportOutcome`, cancelled or not.
        Returns the event that cancels it (the export is not tied to the
        file shown: it goes on when another is opened)."""
        lines = lines_of(self._session._doc)
        cancel = threading.Event()

        def work(job: Job):
            return run_export(lines, plan, target, roots, cancel,
                              progress=lambda d, t: job.report((d, t)))

        self._submit(work, done, "export", EXPORT, token=Clock().token(), progress=progress)
        return cancel

    # -- the histogram -----------------------------------------------------------

    def histogram(self, done: Callable[[Any], None],
                  progress: Callable[[Any], None] | None = None,
                  buckets: int = 120) -> Token | None:
        """Count the lines per level over time (see
        :mod:`inspector.core.histogram`): ``progress`` gets each partial
        picture, ``done`` the whole one. A histogram running is replaced."""
        session = self._session
        owner = session._notices.command(clear=False)
        lines = self._lines(owner, "the histogram")
        if lines is None:
            return None
        self.cancel_histogram()

        def work(job: Job):
            from ..histogram import scan_histogram

            return scan_histogram(lines, max_buckets=buckets, cancel=job.token,
                                  progress=job.report)

        self._histogram = self._submit(work, done, "the histogram", HISTOGRAM,
                                       progress=progress)
        return self._histogram

    def cancel_histogram(self) -> None:
        """Stop the histogram running, if one is."""
        if self._histogram is not None:
            self._histogram.cancel()
            self._histogram = None

    def goto_bucket(self, histogram, index: int) -> None:
        """Go to the first line of bucket ``index`` of ``histogram`` (``:@``)."""
        self._session.goto("@" + histogram.label(index))


def run_export(lines, plan, target, roots: list[str], cancel: threading.Event,
               progress: Callable[[int, int], None] | None = None):
    """Write ``plan`` of ``lines`` to ``target`` and return the
    :class:`~inspector.core.export.ExportOutcome`, whatever happens (a
    failure is its message). Blocking: what :meth:`Records.export` runs,
    and what a caller with a thread of its own (the notebook) calls."""
    from ..export import ExportOutcome, write_export
    from ..search import SearchCancelled

    try:
        resolved = _resolve_times(lines, plan, cancel)
        if isinstance(resolved, str):
            return ExportOutcome(target.path, error=resolved)
        return write_export(lines, resolved, target, roots, cancel=cancel, progress=progress)
    except SearchCancelled:
        return ExportOutcome(target.path, cancelled=True)
    except Exception as exc:  # the outcome says it: the caller never waits forever
        return ExportOutcome(target.path, error=f"{type(exc).__name__}: {exc}")


def _resolve_times(lines, plan, cancel):
    """``plan`` with a time range's ends as positions; a str when there is
    nothing in the range or a time is wrong."""
    if not isinstance(plan.start, tuple):
        return plan
    since, until = plan.start[1], plan.end[1]
    try:
        start = lines.time_position(since, cancel)
        end = lines.time_position(until, cancel) if until else None
    except ValueError as exc:
        return printable(exc)
    if start is None:
        return f"no line at or after {printable(since)}"
    if end is not None:
        if end <= start:
            return f"no line from {printable(since)} to {printable(until)}"
        if isinstance(end, int):
            end -= 1  # up to the line before the first one at ``until``
    return replace(plan, start=start, end=end)
