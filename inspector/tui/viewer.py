"""The file viewer: keys, the prompt and the rows of a reader session.

What a key does (paging a file or a whole rotation set by byte offset,
searching, filtering, numbering lines, going to a line or a time,
following) is the session's (:mod:`inspector.core.session`), the same as in
the notebook. This widget binds the keys, runs the prompt, draws the frames
the session hands out (:class:`~inspector.tui.viewer_body.ViewerBody`) and
runs the session's jobs in Textual thread workers
(:class:`~inspector.tui.executor.TextualExecutor`).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import MouseScrollDown, MouseScrollUp
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from inspector.core.session.frame import Frame
from inspector.core.session.session import ReaderSession
from inspector.core.session.status import Status
from inspector.core.viewing import FirstScreen
from inspector.tui.executor import Delivered, TextualExecutor
from inspector.tui.search_bar import SearchBar
from inspector.tui.status_bar import StatusBar
from inspector.tui.viewer_body import ViewerBody
from inspector.tui.viewer_tools import TOOL_BINDINGS, ViewerTools

POLL_INTERVAL = 1.0
"""Seconds between looks at the open file (growth, rotation, deletion)."""
WHEEL_LINES = 3
HSCROLL_CELLS = 8
WRAP = True
"""Whether long lines wrap when a file is opened (``w`` toggles)."""


class FileViewer(ViewerTools, Widget, can_focus=True):
    """Shows one file (or rotation set) of an allocation: text, hex dump, or
    why it cannot be shown. Its status is posted (:class:`StatusChanged`)
    and, given a ``status_bar``, shown there with the rows."""

    DEFAULT_CSS = """
    FileViewer {
        height: 1fr;
        width: 1fr;
        layout: vertical;
    }
    FileViewer:focus ViewerBody {
        background: $surface-lighten-1 10%;
    }
    """

    # The keys that open the prompt are priority bindings: they act when the
    # app reads them, so the keys typed right after them (in the same burst)
    # already go to the prompt, never to the viewer's own bindings.
    BINDINGS = [
        # First, so that the footer shows it whatever else it has room for.
        Binding("f1", "app.help", "Help", key_display="F1"),
        Binding("j,down", "line_down", "Line down", show=False),
        Binding("k,up", "line_up", "Line up (stops follow)", show=False),
        Binding("space,pagedown", "page_down", "Page down"),
        Binding("b,pageup", "page_up", "Page up (stops follow)"),
        Binding("g,home", "head", "Head (stops follow)", show=False),
        Binding("G,end", "tail", "Tail"),
        Binding("slash", "search", "Search", key_display="/", priority=True),
        Binding("question_mark", "search_backward", "Search backward", key_display="?",
                show=False, priority=True),
        Binding("n", "next_match", "Next match (same direction)", show=False),
        Binding("N", "previous_match", "Previous match (other direction)", show=False),
        Binding("ampersand", "filter", "Filter", key_display="&", priority=True),
        Binding("e", "next_error", "Next error line", show=False),
        Binding("E", "previous_error", "Previous error line", show=False),
        Binding("colon", "goto", "Go to line / N% / @time / 0x offset", key_display=":",
                priority=True),
        Binding("left_square_bracket", "previous_file", "Previous file of the rotation set",
                key_display="[", show=False),
        Binding("right_square_bracket", "next_file", "Next file of the rotation set",
                key_display="]", show=False),
        Binding("number_sign", "toggle_numbers", "Line numbers", key_display="#", show=False),
        Binding("h,left", "scroll_left", "Scroll left (no wrap)", show=False),
        Binding("l,right", "scroll_right", "Scroll right (no wrap)", show=False),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("f", "toggle_follow", "Follow"),
        Binding("t", "toggle_sources", "Sources of a merged stream: all, each alone",
                show=False),
        Binding("escape", "cancel", "Cancel search / filter scan / stop follow", show=False),
    ] + TOOL_BINDINGS + [
        Binding(str(digit), f"goto_digit({digit})", "Go to line or N%", show=False,
                priority=True)
        for digit in range(10)
    ]

    wrap: reactive[bool] = reactive(WRAP)
    line_numbers: reactive[bool] = reactive(False)

    @dataclass
    class StatusChanged(Message):
        """The viewer's status changed (None once the file is closed)."""

        status: Status | None

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None,
        status_bar: StatusBar | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._status_bar = status_bar  # shown with the rows: one repaint, not two
        self._body = ViewerBody()
        self._session = ReaderSession(TextualExecutor(self), self._show, wrap=WRAP,
                                      reopen=True)
        self._last_status: Status | None = None
        self._pending_open: tuple | None = None
        self._composed = False

    def compose(self) -> ComposeResult:
        """The rows, with the prompt bar docked below."""
        yield self._body
        yield SearchBar()

    def on_mount(self) -> None:
        """Open a file requested before the viewer was mounted; look at it now and then."""
        self._composed = True
        self.set_interval(POLL_INTERVAL, self._session.poll)
        if self._pending_open is not None:
            fs, path, options = self._pending_open
            self._pending_open = None
            self.open_file(fs, path, **options)

    def on_unmount(self) -> None:
        """Stop the jobs and close the file."""
        self._session.on_frame = None
        self._session.close()

    # -- the public contract ----------------------------------------------

    @property
    def body(self) -> ViewerBody:
        """The widget that draws the rows."""
        return self._body

    @property
    def session(self) -> ReaderSession:
        """The reader session behind the viewer."""
        return self._session

    @property
    def path(self) -> str | None:
        """The path (relative to the alloc dir) of the file at the top of the
        screen (of a rotation set: the member shown; when following: the
        member followed)."""
        return self._session.path

    @property
    def fs(self):
        """The AllocDirFS of the open file, or None."""
        return self._session.fs

    @property
    def mode(self) -> str:
        """What is shown: "text", "hex" or "message"."""
        return self._session.mode

    @property
    def status(self) -> Status | None:
        """The current status (what was last posted)."""
        return self._last_status

    @property
    def following(self) -> bool:
        """Whether the end of the file is followed."""
        return self._session.following

    def open_file(
        self, fs, path: str, *, label: str | None = None, follow: bool = False,
        first: FirstScreen | None = None,
    ) -> None:
        """Open ``path`` of ``fs``; returns at once, the file loads in a worker.

        A rotated log opens its whole set, at the first byte of ``path``
        (with ``follow``: at the end of the set's last file). ``first`` is
        that screen already read (see :func:`read_first_screen`), e.g. by the
        command line before the app started: shown at once, then laid out
        again for the viewer's real size.
        """
        if not self._composed:
            self._drop_pending()
            self._pending_open = (fs, path, {"label": label, "follow": follow, "first": first})
            return
        self._ready().open(fs, path, label=label, follow=follow, first=first)

    def open_merged(self, specs, *, label: str, follow: bool = False, fs=None) -> None:
        """Open the logs of ``specs`` (``inspector.core.merge.SourceSpec``s,
        or a function giving them, run in a worker) as one stream in time
        order, each row after its source's tag; returns at once."""
        if not self._composed:
            self.call_after_refresh(self.open_merged, specs, label=label, follow=follow, fs=fs)
            return
        self._drop_pending()
        self._ready().open_merged(specs, label=label, follow=follow, fs=fs)

    def _ready(self) -> ReaderSession:
        """The session, laid out for the body's size now (the body's Resized
        message may still be on its way when a key comes)."""
        size = self._body.size
        if size.width > 0 and size.height > 0:
            self._session.resize(size.width, size.height)
        return self._session

    def _drop_pending(self) -> None:
        """Forget a file asked for before the viewer was mounted (closing
        its first screen's source, if it was read already)."""
        pending, self._pending_open = self._pending_open, None
        first = pending[2]["first"] if pending is not None else None
        if first is not None and first.pager is not None:
            first.pager.source.close()

    def close_file(self) -> None:
        """Forget the open file (e.g. after its allocation was destroyed)."""
        self._drop_pending()
        if self._composed:
            self._session.close()

    # -- what the session hands out ---------------------------------------

    @on(Delivered)
    def _delivered(self, message: Delivered) -> None:
        TextualExecutor.deliver(message)

    def _show(self, frame: Frame) -> None:
        self._body.show(frame)
        if frame.status != self._last_status:
            self._last_status = frame.status
            if self._status_bar is not None:
                self._status_bar.show(frame.status)
            self.post_message(self.StatusChanged(frame.status))

    @on(ViewerBody.Resized)
    def _body_resized(self, event: ViewerBody.Resized) -> None:
        event.stop()
        self._session.resize(event.width, event.height)

    # -- keys ---------------------------------------------------------------

    def action_toggle_follow(self) -> None:
        """Start or stop following the end of the file."""
        self._ready().follow(not self._session.following)

    def action_toggle_sources(self) -> None:
        """In a merged stream: show every source, then each alone in turn,
        keeping the place."""
        from inspector.core.merge.sources import next_shown

        sources = self._session.sources
        if not sources:
            self.notify("t shows the sources of a merged stream one by one", timeout=3)
            return
        hidden = next_shown(sources)
        self._ready().set_sources(hidden)
        shown = [tag for i, (tag, _on) in enumerate(sources) if i not in hidden]
        self.notify("showing " + (", ".join(shown) if len(shown) < len(sources)
                                  else "every source"), timeout=3, markup=False)

    def action_toggle_wrap(self) -> None:
        """Wrap long lines, or cut them at the edge."""
        self.wrap = not self.wrap

    def watch_wrap(self, wrap: bool) -> None:
        """Lay the rows out again when wrapping is switched on or off."""
        if wrap and self.is_mounted:
            self._body.scroll_x_cells = 0
        self._ready().set_wrap(wrap)

    def action_toggle_numbers(self) -> None:
        """Show or hide line numbers (counted in the background, as `less -N`)."""
        self.line_numbers = not self.line_numbers

    def watch_line_numbers(self, on: bool) -> None:
        """Count lines (once per file) and draw with or without the gutter."""
        self._ready().set_numbers(on)

    def _open_prompt(self, kind: str, value: str = "") -> None:
        bar = self.query_one(SearchBar)
        if bar.is_open:
            raise SkipAction()  # the key is typed into the prompt
        modes = ("text",) if kind in "&cC" else ("text", "hex")
        if self.mode in modes:
            bar.open(kind, value)

    def action_search(self) -> None:
        """Open the prompt to search forward."""
        self._open_prompt("/")

    def action_search_backward(self) -> None:
        """Open the prompt to search backward."""
        self._open_prompt("?")

    def action_filter(self) -> None:
        """Open the prompt to show only matching lines (empty: every line)."""
        self._open_prompt("&")

    def action_goto(self) -> None:
        """Open the prompt to go to a line, a percentage, a time or a byte offset."""
        self._open_prompt(":")

    def action_goto_digit(self, digit: int) -> None:
        """A digit starts a go-to (``123`` enter: line 123, ``50%`` enter: half-way)."""
        self._open_prompt(":", str(digit))

    def action_line_down(self) -> None:
        """Scroll one row down."""
        self._ready().line_down()

    def action_line_up(self) -> None:
        """Scroll one row up (stops following)."""
        self._ready().line_up()

    def action_page_down(self) -> None:
        """Scroll one screen down."""
        self._ready().page_down()

    def action_page_up(self) -> None:
        """Scroll one screen up (stops following)."""
        self._ready().page_up()

    def action_head(self) -> None:
        """Go to the start of the file (stops following)."""
        self._ready().head()

    def action_tail(self) -> None:
        """Go to the end of the file."""
        self._ready().tail()

    def action_previous_file(self) -> None:
        """Go to the start of the previous file of the rotation set."""
        self._ready().previous_file()

    def action_next_file(self) -> None:
        """Go to the start of the next file of the rotation set."""
        self._ready().next_file()

    def action_scroll_left(self) -> None:
        """Show the columns to the left (when lines are not wrapped)."""
        self._body.scroll_x_cells = max(0, self._body.scroll_x_cells - HSCROLL_CELLS)

    def action_scroll_right(self) -> None:
        """Show the columns to the right (when lines are not wrapped)."""
        if not self.wrap and self.mode == "text":
            self._body.scroll_x_cells += HSCROLL_CELLS

    def action_next_match(self) -> None:
        """Find the next match of the last search, in its direction."""
        self._ready().search_again()

    def action_previous_match(self) -> None:
        """Find the next match of the last search, in the other direction."""
        self._ready().search_again(reverse=True)

    def action_next_error(self) -> None:
        """Go to the next line logged at error level."""
        self._ready().next_error()

    def action_previous_error(self) -> None:
        """Go to the previous line logged at error level."""
        self._ready().next_error(backward=True)

    def action_cancel(self) -> None:
        """Cancel a running search or filter scan, else stop following, else
        let the app handle escape."""
        if not self._session.cancel():
            raise SkipAction()

    def on_mouse_scroll_down(self, event: MouseScrollDown) -> None:
        """Scroll down a few rows with the wheel."""
        event.stop()
        self._ready().line_down(WHEEL_LINES)

    def on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        """Scroll up a few rows with the wheel (stops following)."""
        event.stop()
        self._ready().line_up(WHEEL_LINES)

    # -- the prompt -----------------------------------------------------------

    @on(SearchBar.Submitted)
    def _prompt_submitted(self, event: SearchBar.Submitted) -> None:
        event.stop()
        self.focus()
        kind, text, session = event.kind, event.pattern, self._ready()
        if self.tool_prompt(kind, text):
            return
        if kind == "&":
            session.filter(text)
        elif kind == ":":
            if text.strip():
                session.goto(text)
        else:
            session.search(text, backward=kind == "?")

    @on(SearchBar.Dismissed)
    def _prompt_dismissed(self, event: SearchBar.Dismissed) -> None:
        event.stop()
        self.focus()
