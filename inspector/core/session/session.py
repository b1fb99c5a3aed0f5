"""The reader session: what every key of a log viewer does, for any front-end.

A :class:`ReaderSession` takes commands (open, move, search, filter, go to,
follow…) on the UI thread, runs whatever reads the file as jobs through the
front-end's :class:`~inspector.core.session.jobs.Executor`, and hands out
immutable :class:`~inspector.core.session.frame.Frame` objects through
``on_frame`` (on the UI thread) and :attr:`ReaderSession.frame`.

Where each part lives:

- moves, in order, one job at a time: :mod:`.navigation` (the operations:
  :mod:`.paging`);
- ``/`` ``?`` ``n`` ``N`` ``e`` ``E`` and ``&``: the commands in
  :mod:`.search_commands`, the jobs in :mod:`.searching` and
  :mod:`.filtering` (with its count); line numbers: :mod:`.numbering`;
- following: :mod:`.follow_job` (the job), :mod:`.following` (the rows);
- what go-to accepts: :mod:`.goto`; the status and its notices: :mod:`.status`.

Every job carries a token of the session's clock: opening another file
makes everything still running stale, and what it delivers is dropped.
Every public method takes the session's lock, so the notebook (and
headless code) may call them from any thread.
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Callable
from datetime import datetime, timezone

from ..text import printable
from .document import Loaded, Outcome, View
from .filtering import Filtering
from .follow_job import FollowJob
from .frame import Frame, message_frame
from .jobs import NAV, Clock, Executor, Job, locked
from .marks import Marks
from .navigation import Navigation
from .numbering import Numbering
from .search_commands import SearchCommands
from .searching import Searching
from .status import Notices, Status

UP_OPS = frozenset({"up", "page_up", "head", "line", "percent", "time", "file", "goto",
                    "goto_exact", "offset"})
"""Moves towards the start: they stop following (as in less)."""
FOLLOW_OPS = frozenset({"view", "poll", "refresh", "filter", "hex", "context", "columns",
                        "sources"})
"""What still applies while following (other moves wait for the user to stop)."""


class ReaderSession(SearchCommands):
    """One open file (or rotation set, or any document) and everything done to it.

    ``on_frame(frame)`` is called on the UI thread with every new frame
    (rows or status changed). ``reopen``: when following, wait for a deleted
    file to be created again (as ``tail -F``) rather than stop.
    """

    def __init__(self, executor: Executor, on_frame: Callable[[Frame], None] | None = None, *,
                 width: int = 80, height: int = 24, wrap: bool = True, numbers: bool = False,
                 reopen: bool = True, feed_options: dict | None = None) -> None:
        self.executor = executor
        self.on_frame = on_frame
        self.reopen = reopen
        self.feed_options = dict(feed_options or {})
        """Passed to the document's feed when following (e.g. ``start``)."""
        self._lock = threading.RLock()
        self._clock = Clock()
        self._notices = Notices()
        self._view = View(max(1, width), max(1, height), wrap, numbers)
        self._doc = None
        self._fs = None
        self._opened: str | None = None
        self._label = ""
        self._facts = None
        self._frame = self._raw = Frame()
        self._serial = 0
        self._mod_time: datetime | None = None
        self._loading = None
        self._navigation = Navigation(self)
        self._searching = Searching(self)
        self._filtering = Filtering(self)
        self._numbering = Numbering(self)
        self._follow: FollowJob | None = None
        self.marks = Marks(self)  # m and ' (marks.py)
        self._records = None

    # -- what is shown -------------------------------------------------------

    @property
    def frame(self) -> Frame:
        """The last frame handed out."""
        return self._frame

    @property
    def status(self) -> Status | None:
        """The status of the open file (None when nothing is open)."""
        return self._frame.status

    @property
    def fs(self):
        """The ``AllocDirFS`` of the open file, or None."""
        return self._fs

    @property
    def path(self) -> str | None:
        """The file at the top of the screen (of a set: that member; when
        following: the file followed), relative to the alloc dir."""
        if self._opened is None:
            return None
        if self._follow is not None:
            return self._follow.path
        return self._frame.place.path or self._opened

    @property
    def mode(self) -> str:
        """"text", "hex" or "message"."""
        return self._frame.mode

    @property
    def following(self) -> bool:
        """Whether the end of the file is followed."""
        return self._follow is not None

    @property
    def follower(self):
        """The feed while following (its state is what was read), else None."""
        return self._follow.feed if self._follow is not None else None

    @property
    def view(self) -> View:
        """How the rows are laid out (size, wrap, numbers) and what is marked."""
        return self._view

    @property
    def pattern(self):
        """The last search (a ``SearchPattern``), or None."""
        return self._searching.pattern

    @property
    def records(self):
        """Lines taken out on request: field view, copy, export, histogram (records.py)."""
        if self._records is None:
            from .records import Records

            self._records = Records(self)
        return self._records

    @property
    def busy(self) -> bool:
        """True while a file loads, or a move or a search is on its way."""
        return self._loading is not None or self._navigation.busy or self._searching.running

    # -- opening and closing -------------------------------------------------

    @locked
    def open(self, fs, path: str, *, label: str | None = None, follow: bool = False,
             start: str | int = "head", first=None) -> None:
        """Open ``path`` of ``fs``: a rotated log with its whole set, at
        ``path``'s first byte (a set named without an index: at its first
        file), or at ``start`` ("tail" or a byte offset), or at its end
        following. ``first``: its first screen already read (see
        ``read_first_screen``), shown at once. Returns at once."""
        from .logdoc import LogDocument

        if first is not None:
            load = LogDocument.loaded(fs, first, path, self._view)
        else:
            def load(job: Job, view: View) -> Loaded:
                return LogDocument.load(fs, path, view, follow=follow, start=start,
                                        token=job.token)
        self.open_document(load, label=label if label is not None else path, follow=follow,
                           fs=fs, path=path)

    @locked
    def open_merged(self, specs, *, label: str, follow: bool = False, fs=None) -> None:
        """Open the logs of ``specs`` (``inspector.core.merge.SourceSpec``) as
        one stream in time order, at its start (its end following). ``specs``
        may be a function giving them (blocking: it runs in the job, e.g. to
        list an allocation's logs); then ``fs`` is the allocation."""
        from ..merge import open_merged

        def load(job: Job, view: View) -> Loaded:
            chosen = specs() if callable(specs) else specs
            return open_merged(chosen, view, follow=follow, token=job.token)
        if fs is None and not callable(specs) and specs:
            fs = specs[0].fs
        self.open_document(load, label=label, follow=follow, fs=fs, path=label)

    @locked
    def open_document(self, load: Loaded | Callable[[Job, View], Loaded], *, label: str,
                      follow: bool = False, fs=None, path: str | None = None) -> None:
        """Open a document: ``load`` made already, or a function that makes
        it (in a worker) for a view. Any :class:`~.document.Document` works."""
        self._forget()
        self._fs, self._opened, self._label = fs, path if path is not None else label, label
        self._notices.command()
        if isinstance(load, Loaded):
            self._loaded(load, follow, relayout=False)
            return
        self._notices.say("loading…")
        self._emit(message_frame("loading…"))
        view, token = self._view, self._clock.token()
        self._loading = token
        self.executor.submit(lambda job: load(job, view), token, lane=NAV,
                             done=lambda loaded: self._loaded(loaded, follow),
                             failed=self._load_failed, discard=Loaded.close)

    @locked
    def close(self) -> None:
        """Forget the open file (e.g. after its allocation was destroyed)."""
        self._forget()
        self._emit(Frame())

    def _forget(self) -> None:
        self._clock.advance()  # every job of the old file is stale from now on
        if self._follow is not None:
            self._follow.stop()
            self._follow = None
        if self._doc is not None:
            self._doc.close()
        self._doc = self._fs = self._opened = self._facts = self._loading = None
        self._mod_time = None
        for part in (self._navigation, self._searching, self._filtering, self._numbering,
                     self.marks):
            part.reset()
        self._view = self._view._replace(match=None, highlight=None)
        self._notices.clear()

    def _loaded(self, loaded: Loaded, follow: bool, relayout: bool = True) -> None:
        self._loading = None
        self._notices.clear()
        self._facts = loaded.facts
        self._doc = loaded.doc
        self._emit(loaded.frame)
        if loaded.doc is None:
            return
        if self._view.numbers:
            self._numbering.start()
        if follow:
            self._start_follow()
        if relayout:
            self._request("view")  # resized, or asked for moves, while it loaded
        elif self._navigation.ops:
            self._navigation.start()

    def _load_failed(self, error: BaseException) -> None:
        self._loading = None
        self._emit(message_frame(f"Cannot open: {printable(error)}"))

    # -- moving ----------------------------------------------------------------

    @locked
    def line_down(self, count: int = 1) -> None:
        """Scroll ``count`` rows towards the end."""
        self._command("down", count)

    @locked
    def line_up(self, count: int = 1) -> None:
        """Scroll ``count`` rows towards the start (stops following)."""
        self._command("up", count)

    @locked
    def page_down(self) -> None:
        """One screen towards the end."""
        self._command("page_down")

    @locked
    def page_up(self) -> None:
        """One screen towards the start (stops following)."""
        self._command("page_up")

    @locked
    def head(self) -> None:
        """The start of the file (stops following)."""
        self.marks.save_place()
        self._command("head")

    @locked
    def tail(self) -> None:
        """The end of the file, as it is now (the set's directory listed again)."""
        self.marks.save_place()
        owner = self._notices.command()
        self._request("refresh", owner=owner)
        self._request("tail", owner=owner)

    @locked
    def next_file(self) -> None:
        """The start of the next file of the rotation set."""
        self._command("file", 1)

    @locked
    def previous_file(self) -> None:
        """The start of the previous file of the rotation set."""
        self._command("file", -1)

    @locked
    def goto(self, text: str) -> None:
        """Go to what ``text`` names: a line, N%, @time or a byte offset (see
        :mod:`inspector.core.session.goto`); a bad one is a notice."""
        from .goto import GotoError, GotoLine, GotoOffset, GotoPercent, parse_goto

        self.marks.save_place()
        owner = self._notices.command()
        try:
            target = parse_goto(text, hex_mode=self._frame.mode == "hex")
        except GotoError as exc:
            self._say(str(exc), owner)
            return
        if isinstance(target, GotoLine):
            self._request("line", target.number, owner=owner)
        elif isinstance(target, GotoPercent):
            self._request("percent", target.percent, owner=owner)
        elif isinstance(target, GotoOffset):
            self._request("offset", target.offset, owner=owner)
        else:
            self._request("time", target.text, owner=owner)

    @locked
    def resize(self, width: int, height: int) -> None:
        """The text area is now ``width`` × ``height`` cells."""
        if (width, height) != (self._view.width, self._view.height):
            self._view = self._view._replace(width=max(1, width), height=max(1, height))
            self._request("view")

    @locked
    def set_wrap(self, wrap: bool) -> None:
        """Wrap long lines, or cut them at the edge."""
        self._notices.command()
        self._view = self._view._replace(wrap=bool(wrap))
        self._request("view")

    @locked
    def set_numbers(self, numbers: bool) -> None:
        """Line numbers in a gutter (counted in the background, as ``less -N``)."""
        self._notices.command()
        self._view = self._view._replace(numbers=bool(numbers))
        if numbers and self._doc is not None and self._doc.line_count is None:
            self._numbering.start()
        self._request("view")

    @locked
    def set_hex(self, hex_mode: bool) -> None:
        """Show the file as a hex dump, or as text."""
        self._command("hex", bool(hex_mode))

    @locked
    def set_sources(self, hidden) -> None:
        """In a merged stream: hide the sources ``hidden`` (their indexes) and
        show the others, keeping the place."""
        self._command("sources", frozenset(hidden))

    @property
    def sources(self) -> list[tuple[str, bool]]:
        """In a merged stream: each source's tag and whether it is shown
        (empty for one log)."""
        return list(getattr(self._doc, "sources", None) or [])

    @locked
    def poll(self) -> None:
        """Look at the file now (growth, rotation, deletion); a front-end calls
        it now and then. Nothing is redrawn when nothing changed."""
        if self._doc is not None and not self._navigation.running:
            self._request("refresh" if self._follow is not None else "poll")

    def _command(self, op: str, *args) -> None:
        self._request(op, *args, owner=self._notices.command())

    def _request(self, op: str, *args, owner: int | None = None) -> None:
        """Queue a navigation operation (while following, a move up stops it)."""
        if self._opened is None:
            return
        if self._follow is not None:
            if op in UP_OPS:
                self._stop_follow()
            elif op not in FOLLOW_OPS:
                return
        self._navigation.request(op, args, owner)

    def _navigated(self, frame: Frame | None, outcome: Outcome) -> None:
        """A navigation job's pass: its notices, its frame."""
        self._take(outcome)
        if frame is not None:
            self._emit(frame)
        else:
            self._refresh()
        self._keep_up()
        self._searching.resume()

    def _take(self, outcome: Outcome) -> None:
        for notice, owner in outcome.notices:
            self._notices.say(notice, owner)
        if outcome.recount:
            if self._view.numbers:
                self._numbering.start()
            self._filtering.count()

    def _keep_up(self) -> None:
        self._filtering.keep_up()
        self._numbering.keep_up()

    # -- follow ------------------------------------------------------------------

    @locked
    def follow(self, on: bool = True) -> None:
        """Follow the end of the file (new lines as they are written, across
        truncation and rotation), or stop."""
        self._notices.command()
        if on and self._follow is None:
            self._start_follow()
        elif not on and self._follow is not None:
            self._stop_follow()

    def _start_follow(self) -> None:
        doc = self._doc
        if doc is None:
            return
        feed = doc.feed(self.reopen, **self.feed_options)
        self._follow = FollowJob(self.executor, self._clock.token(), doc, feed,
                                 lambda: self._view, self._followed, self._stop_follow,
                                 self._follow_failed)
        self._refresh()

    def _followed(self, result) -> None:
        frame, outcome = result
        self._take(outcome)
        if frame is not None:
            if frame.place.size != self._frame.place.size:
                self._mod_time = datetime.now(timezone.utc)  # it was written to just now
            self._emit(frame)
        else:
            self._refresh()
        self._keep_up()

    def _follow_failed(self, error: BaseException) -> None:
        self._stop_follow()
        self._say(f"follow failed: {printable(error)}")

    def _stop_follow(self, notice: str = "") -> None:
        """Stop following and show the end of the file from the document."""
        follow, self._follow = self._follow, None
        if follow is None:
            return
        follow.stop()
        if notice:
            self._notices.say(notice)
        self._request("refresh")
        self._request("tail")
        self._refresh()

    # -- cancel ------------------------------------------------------------------

    @locked
    def cancel(self) -> bool:
        """Cancel a search, else a long filter scan (the filter is given up),
        else stop following. False when there was nothing to cancel."""
        if self._searching.cancel():
            return True
        if self._navigation.cancel_scan():
            if self._filtering.pattern is not None:
                self._filtering.set(self._notices.command(), "")
                self._say("filter cancelled: every line")
            else:
                self._say("cancelled")
            self._request("view")
            return True
        if self._follow is not None:
            self._stop_follow()
            return True
        return False

    # -- frames and status -------------------------------------------------------

    def _emit(self, frame: Frame) -> None:
        self._serial += 1
        self._raw = frame
        frame = self.marks.decorate(frame, self._view.height)
        frame = frame._replace(status=self._status_of(frame), serial=self._serial,
                        following=self._follow is not None)
        self._frame = frame
        if self.on_frame is not None:
            self.on_frame(frame)

    def _refresh(self) -> None:
        """The status changed (a notice, a count): hand out the frame with it."""
        if self._status_of(self._frame) != self._frame.status:
            self._emit(self._raw)

    def _say(self, notice: str, owner: int | None = None) -> None:
        if self._notices.say(notice, owner):
            self._refresh()

    def _status_of(self, frame: Frame) -> Status | None:
        if self._opened is None:
            return None
        place, facts, doc = frame.place, self._facts, self._doc
        numbers = frame.numbers and frame.mode == "text"
        filtering = self._filtering
        return Status(
            path=self._display_label(place.path), size=place.size or getattr(facts, "size", 0),
            mod_time=self._mod_time or getattr(facts, "mod_time", None),
            content_type=getattr(facts, "content_type", ""), offset=place.offset,
            percent=place.percent, following=self._follow is not None, mode=frame.mode,
            wrap=self._view.wrap, notice=self._notices.text or place.condition,
            member=place.member, members=place.members, line=place.line,
            lines=doc.line_count if doc is not None else None,
            indexing=doc is not None and numbers and doc.indexing,
            filter=filtering.pattern.text if filtering.pattern is not None else "",
            matches=filtering.matches, counting=filtering.counting, numbers=numbers,
            first_index=place.first_index)

    def _display_label(self, shown: str) -> str:
        """The label, with the file name of the member shown (or followed)."""
        opened = self._opened
        path = self._follow.path if self._follow is not None else shown
        if opened is None or not path or opened == path:
            return self._label
        if self._label.endswith(opened):
            return self._label[: len(self._label) - len(opened)] + path
        return posixpath.join(posixpath.dirname(self._label), posixpath.basename(path))
