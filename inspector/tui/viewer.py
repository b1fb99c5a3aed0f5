"""The file viewer: pages through a file (or a whole rotation set) by byte
offset, searches, filters, numbers lines and follows it.

Every read happens in a thread worker; the event loop only renders rows that
were already read. Navigation requests are queued and applied in order by one
worker at a time, so fast key repeats are neither lost nor run concurrently
against the same pager. A Nomad log ``<task>.<stream>.<N>`` is opened with
the other files of its rotation set as one log
(:class:`~inspector.core.rotation.LogSource`).
"""

from __future__ import annotations

import posixpath
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone

from rich.segment import Segment
from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.events import MouseScrollDown, MouseScrollUp, Resize
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from inspector.core.pager import Pager, Row, line_text, wrap_starts
from inspector.core.rotation import LogSource
from inspector.core.search import Match, SearchCancelled, SearchPattern
from inspector.core.text import plain, printable
from inspector.core.session.paging import (
    Screen, apply, char_span, screen_of, separator,
)
from inspector.core.viewing import FirstScreen, read_first_screen
from inspector.tui.search_bar import SearchBar
from inspector.tui.status_bar import ViewerStatus

FOLLOW_REFRESH = 0.02
"""Seconds between checks for new followed bytes (coalesces redraws)."""
POLL_INTERVAL = 1.0
"""Seconds between looks at a file that is not followed (growth, rotation, deletion)."""
WHEEL_LINES = 3
HSCROLL_CELLS = 8
GUTTER_MIN = 6
"""Digits of the line-number gutter, at least."""
WRAP = True
"""Whether long lines wrap when a file is opened (``w`` toggles)."""
MATCH_STYLE = "black on #d7d75f"
CURRENT_MATCH_STYLE = "bold black on #5fafff"
_UP_OPS = {"up", "page_up", "head", "line", "percent", "time", "file", "goto", "goto_exact"}
_FOLLOW_OPS = {"view", "sync_tail", "reopen", "poll", "refresh", "filter"}


@dataclass(frozen=True)
class _Loaded:
    generation: int
    first: FirstScreen


class ViewerBody(Widget):
    """Draws the rows the viewer prepared; never reads the file itself."""

    DEFAULT_CSS = """
    ViewerBody {
        height: 1fr;
        width: 1fr;
    }
    ViewerBody.-message {
        color: $text-warning;
    }
    """

    scroll_x_cells: reactive[int] = reactive(0)

    class Resized(Message):
        """The body changed size: the viewer re-reads what fits."""

    def __init__(self) -> None:
        super().__init__()
        self._texts: list[Text] = []
        self._strips: dict[int, Strip] = {}
        self._highlight: re.Pattern[str] | None = None
        self._current: dict[int, tuple[int, int]] = {}
        self._gutters: list[Text] | None = None

    def on_resize(self, event: Resize) -> None:
        """Tell the viewer to read what fits the new size."""
        self.post_message(self.Resized())

    def watch_scroll_x_cells(self) -> None:
        """Redraw after a sideways scroll."""
        self._strips = {}
        self.refresh()

    def set_texts(
        self,
        texts: list[Text],
        highlight: re.Pattern[str] | None = None,
        current: dict[int, tuple[int, int]] | None = None,
        gutters: list[Text] | None = None,
    ) -> None:
        """Replace what is shown: rows, the pattern to highlight, the span of
        the current match per row (highlighted apart), and the line-number
        gutter of each row (it does not scroll sideways)."""
        self._texts = texts
        self._highlight = highlight
        self._current = current or {}
        self._gutters = gutters
        self._strips = {}
        self.refresh()

    def plain_lines(self) -> list[str]:
        """The shown rows as plain text (what a user reads), without the gutter."""
        return [text.plain for text in self._texts]

    def gutter_lines(self) -> list[str]:
        """The line-number gutter of each row ("" without line numbers)."""
        if self._gutters is None:
            return ["" for _ in self._texts]
        return [gutter.plain for gutter in self._gutters]

    def render_line(self, y: int) -> Strip:
        """Row `y` of the prepared rows, scrolled sideways and cut to the width."""
        width = self.size.width
        base = self.rich_style  # computed once: it walks the ancestors' styles
        strip = self._strips.get(y)
        if strip is None:
            gutter_width = 0
            if y < len(self._texts):
                text = self._texts[y]
                if self._highlight is not None or y in self._current:
                    text = text.copy()
                    if self._highlight is not None:
                        text.highlight_regex(self._highlight, MATCH_STYLE)
                    if y in self._current:
                        start, end = self._current[y]
                        text.stylize(CURRENT_MATCH_STYLE, start, end)
                # Unstyled text takes the widget's colours, not the terminal's default.
                segments = text.render(self.app.console, end="")
                body = Strip(list(Segment.apply_style(segments, base)))
                x = self.scroll_x_cells
                if self._gutters is not None and y < len(self._gutters):
                    gutter = self._gutters[y]
                    gutter_width = gutter.cell_len
                    gsegs = Segment.apply_style(
                        gutter.render(self.app.console, end=""), base
                    )
                    body = body.crop_extend(x, x + max(0, width - gutter_width), base)
                    strip = Strip.join([Strip(list(gsegs)), body])
                else:
                    strip = body.crop_extend(x, x + width, base)
            else:
                strip = Strip.blank(width, base)
            self._strips[y] = strip
        return strip.crop_extend(0, width, base)


class FileViewer(Widget, can_focus=True):
    """Shows one file (or rotation set) of an allocation: text, hex dump, or
    why it cannot be shown."""

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

    BINDINGS = [
        # First, so that the footer shows it whatever else it has room for.
        Binding("f1", "app.help", "Help", key_display="F1"),
        Binding("j,down", "line_down", "Line down", show=False),
        Binding("k,up", "line_up", "Line up (stops follow)", show=False),
        Binding("space,pagedown", "page_down", "Page down"),
        Binding("b,pageup", "page_up", "Page up (stops follow)"),
        Binding("g,home", "head", "Head (stops follow)", show=False),
        Binding("G,end", "tail", "Tail"),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("question_mark", "search_backward", "Search backward", key_display="?",
                show=False),
        Binding("n", "next_match", "Next match (same direction)", show=False),
        Binding("N", "previous_match", "Previous match (other direction)", show=False),
        Binding("ampersand", "filter", "Filter", key_display="&"),
        Binding("e", "next_error", "Next error line", show=False),
        Binding("E", "previous_error", "Previous error line", show=False),
        Binding("colon", "goto", "Go to line / N% / @time", key_display=":"),
        Binding("left_square_bracket", "previous_file", "Previous file of the rotation set",
                key_display="[", show=False),
        Binding("right_square_bracket", "next_file", "Next file of the rotation set",
                key_display="]", show=False),
        Binding("number_sign", "toggle_numbers", "Line numbers", key_display="#", show=False),
        Binding("h,left", "scroll_left", "Scroll left (no wrap)", show=False),
        Binding("l,right", "scroll_right", "Scroll right (no wrap)", show=False),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("f", "toggle_follow", "Follow"),
        Binding("escape", "cancel", "Cancel search / filter scan / stop follow", show=False),
    ] + [
        Binding(str(digit), f"goto_digit({digit})", "Go to line or N%", show=False)
        for digit in range(10)
    ]

    wrap: reactive[bool] = reactive(WRAP)
    following: reactive[bool] = reactive(False)
    line_numbers: reactive[bool] = reactive(False)

    class StatusChanged(Message):
        """The viewer's status changed (None once the file is closed)."""

        def __init__(self, status: ViewerStatus | None) -> None:
            super().__init__()
            self.status = status

    class _Progress(Message):
        def __init__(self, generation: int, text: str) -> None:
            super().__init__()
            self.generation = generation
            self.text = text

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._fs = None
        self._path: str | None = None
        self._opened_path: str | None = None
        self._label = ""
        self._generation = 0
        self._pager: Pager | None = None
        self._mode = "message"
        self._file_size = 0
        self._mod_time: datetime | None = None
        self._content_type = ""
        self._offset = 0
        self._file_offset = 0
        self._member = 1
        self._members = 1
        self._set_name: str | None = None
        self._top_line: int | None = None
        self._percent = 0.0
        self._notice = ""
        self._rows: list[Row] = []
        self._numbers: list[int | None] = []
        self._ops: deque[tuple] = deque()
        self._nav_busy = False
        self._nav_cancel = threading.Event()
        self._follower = None  # a Follower while following
        self._follow_timer: Timer | None = None
        self._poll_timer: Timer | None = None
        self._follow_seen = -1
        self._followed_at: tuple[str, int] | None = None
        self._pattern: SearchPattern | None = None
        self._direction_backward = False
        self._match: Match | None = None
        self._search_cancel: threading.Event | None = None
        self._filter: SearchPattern | None = None
        self._filter_count: int | None = None
        self._filter_done = False
        self._count_cancel: threading.Event | None = None
        self._drop_filter = False
        self._index = None
        self._index_cancel: threading.Event | None = None
        self._index_done = False
        self._last_status: ViewerStatus | None = None
        self._pending_open: tuple | None = None
        self._composed = False
        self._body = ViewerBody()

    def compose(self) -> ComposeResult:
        """The rows, with the prompt bar docked below."""
        yield self._body
        yield SearchBar()

    def on_mount(self) -> None:
        """Open a file requested before the viewer was mounted."""
        self._composed = True
        self._poll_timer = self.set_interval(POLL_INTERVAL, self._poll)
        if self._pending_open is not None:
            fs, path, label, follow, first = self._pending_open
            self._pending_open = None
            self.open_file(fs, path, label=label, follow=follow, first=first)

    @property
    def body(self) -> ViewerBody:
        """The widget that draws the rows."""
        return self._body

    # -- the public contract ----------------------------------------------

    @property
    def path(self) -> str | None:
        """The path (relative to the alloc dir) of the file at the top of the
        screen (of a rotation set: the member shown; when following: the
        member followed)."""
        return self._path

    @property
    def fs(self):
        """The AllocDirFS of the open file, or None."""
        return self._fs

    @property
    def mode(self) -> str:
        """What is shown: "text", "hex" or "message"."""
        return self._mode

    @property
    def status(self) -> ViewerStatus | None:
        """The current status (what was last posted)."""
        return self._last_status

    @property
    def pager(self) -> Pager | None:
        """The pager of the open file (driven by the workers; read it, don't drive it)."""
        return self._pager

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
            self._pending_open = (fs, path, label, follow, first)
            return
        self._forget()
        self._fs, self._path, self._opened_path = fs, path, path
        self._label = label if label is not None else path
        if first is not None:
            self._show_first(first, follow)
            return
        self._mode, self._notice = "message", "loading…"
        self._show_message("loading…")
        self._post_status()
        width, height = self._view_size()
        self._load(self._generation, fs, path, width, height, self.wrap, follow)

    def _drop_pending(self) -> None:
        """Forget a file asked for before the viewer was mounted (closing
        its first screen's source, if it was read already)."""
        pending, self._pending_open = self._pending_open, None
        if pending is not None and pending[4] is not None and pending[4].pager is not None:
            pending[4].pager.source.close()

    def close_file(self) -> None:
        """Forget the open file (e.g. after its allocation was destroyed)."""
        self._drop_pending()
        if not self._composed:
            return
        self._forget()
        self._fs = self._path = self._opened_path = None
        self._mode, self._notice = "message", ""
        self._show_message("")
        self._last_status = None
        self.post_message(self.StatusChanged(None))

    def action_toggle_follow(self) -> None:
        """Start or stop following the end of the file."""
        if self.following:
            self._stop_follow("")
        else:
            self._start_follow()

    def action_toggle_wrap(self) -> None:
        """Wrap long lines, or cut them at the edge."""
        self.wrap = not self.wrap

    def action_toggle_numbers(self) -> None:
        """Show or hide line numbers (counted in the background, as `less -N`)."""
        self.line_numbers = not self.line_numbers

    def action_search(self) -> None:
        """Open the prompt to search forward."""
        if self._mode in ("text", "hex"):
            self.query_one(SearchBar).open("/")

    def action_search_backward(self) -> None:
        """Open the prompt to search backward."""
        if self._mode in ("text", "hex"):
            self.query_one(SearchBar).open("?")

    def action_filter(self) -> None:
        """Open the prompt to show only matching lines (empty: every line)."""
        if self._mode == "text":
            self.query_one(SearchBar).open("&")

    def action_goto(self) -> None:
        """Open the prompt to go to a line, a percentage or a time."""
        if self._mode in ("text", "hex"):
            self.query_one(SearchBar).open(":")

    def action_goto_digit(self, digit: int) -> None:
        """A digit starts a go-to (``123`` enter: line 123, ``50%`` enter: half-way)."""
        if self._mode in ("text", "hex"):
            self.query_one(SearchBar).open(":", str(digit))

    # -- other actions ----------------------------------------------------

    def action_line_down(self) -> None:
        """Scroll one row down."""
        self._request("down", 1)

    def action_line_up(self) -> None:
        """Scroll one row up (stops following)."""
        self._request("up", 1)

    def action_page_down(self) -> None:
        """Scroll one screen down."""
        self._request("page_down")

    def action_page_up(self) -> None:
        """Scroll one screen up (stops following)."""
        self._request("page_up")

    def action_head(self) -> None:
        """Go to the start of the file (stops following)."""
        self._request("head")

    def action_tail(self) -> None:
        """Go to the end of the file."""
        self._request("refresh")
        self._request("tail")

    def action_previous_file(self) -> None:
        """Go to the start of the previous file of the rotation set."""
        self._request("file", -1)

    def action_next_file(self) -> None:
        """Go to the start of the next file of the rotation set."""
        self._request("file", 1)

    def action_scroll_left(self) -> None:
        """Show the columns to the left (when lines are not wrapped)."""
        body = self.body
        body.scroll_x_cells = max(0, body.scroll_x_cells - HSCROLL_CELLS)

    def action_scroll_right(self) -> None:
        """Show the columns to the right (when lines are not wrapped)."""
        if not self.wrap and self._mode == "text":
            self.body.scroll_x_cells += HSCROLL_CELLS

    def action_next_match(self) -> None:
        """Find the next match of the last search, in its direction."""
        self._search_again(backward=self._direction_backward)

    def action_previous_match(self) -> None:
        """Find the next match of the last search, in the other direction."""
        self._search_again(backward=not self._direction_backward)

    def action_next_error(self) -> None:
        """Go to the next line logged at error level."""
        self._start_search(None, backward=False, errors=True)

    def action_previous_error(self) -> None:
        """Go to the previous line logged at error level."""
        self._start_search(None, backward=True, errors=True)

    def action_cancel(self) -> None:
        """Cancel a running search or filter scan, else stop following, else
        let the app handle escape."""
        if self._search_cancel is not None and not self._search_cancel.is_set():
            self._search_cancel.set()
            self._set_notice("search cancelled")
        elif self._nav_busy and not self._nav_cancel.is_set():
            self._nav_cancel.set()
            if self._filter is not None:
                # A filter that cannot find its lines quickly is given up.
                self._drop_filter = True
                if self._count_cancel is not None:
                    self._count_cancel.set()
            self._set_notice("cancelled")
        elif self.following:
            self._stop_follow("")
        else:
            raise SkipAction()

    # -- loading ----------------------------------------------------------

    def _forget(self) -> None:
        """Stop everything about the current file."""
        self._generation += 1
        self._stop_follow(None)
        for cancel in (self._search_cancel, self._count_cancel, self._index_cancel):
            if cancel is not None:
                cancel.set()
        self._search_cancel = self._count_cancel = self._index_cancel = None
        self._nav_cancel.set()
        self._nav_cancel = threading.Event()
        self._ops = deque()
        self._nav_busy = False
        if self._pager is not None:
            self._close_source(self._pager)
        self._pager, self._match, self._index = None, None, None
        self._filter, self._filter_count, self._filter_done = None, None, False
        self._drop_filter = False
        self._index_done = False
        self._file_size, self._mod_time, self._content_type = 0, None, ""
        self._offset, self._file_offset, self._percent = 0, 0, 0.0
        self._member, self._members, self._set_name, self._top_line = 1, 1, None, None
        self._rows, self._numbers = [], []

    @staticmethod
    def _close_source(pager: Pager) -> None:
        close = getattr(pager.source, "close", None)
        if close is not None:
            close()

    def _view_size(self) -> tuple[int, int]:
        try:
            size = self.body.size if self.is_mounted else None
        except NoMatches:  # being unmounted
            size = None
        if not size or size.width <= 0 or size.height <= 0:
            return 80, 24
        return size.width, size.height

    def _text_width(self, width: int) -> int:
        """The width left for text beside the line-number gutter."""
        return max(1, width - self._gutter_width()) if self._numbering() else width

    def _numbering(self) -> bool:
        return self.line_numbers and self._mode == "text"

    def _gutter_width(self) -> int:
        digits = GUTTER_MIN
        index = self._index
        if index is not None:
            known = max(index.newlines + 1, (self._top_line or 0) + 100)
            digits = max(digits, len(str(known)))
        return digits + 1

    @work(thread=True, exclusive=True, group="viewer-load")
    def _load(
        self, generation: int, fs, path: str, width: int, height: int, wrap: bool, follow: bool
    ) -> None:
        first = read_first_screen(fs, path, width, height, wrap=wrap, follow=follow)
        if not self._deliver(self._loaded, _Loaded(generation, first), follow) and first.pager:
            self._close_source(first.pager)

    def _deliver(self, callback, *args) -> bool:
        """Run ``callback`` on the event loop; False if the app is gone."""
        try:
            self.app.call_from_thread(callback, *args)
        except (RuntimeError, NoMatches):  # the app is gone, or going
            return False
        return True

    def _loaded(self, loaded: _Loaded, follow: bool) -> None:
        if loaded.generation != self._generation:
            if loaded.first.pager is not None:
                self._close_source(loaded.first.pager)
            return
        self._show_first(loaded.first, follow)

    def _show_first(self, first: FirstScreen, follow: bool) -> None:
        self._notice = ""
        self._file_size, self._mod_time = first.size, first.mod_time
        self._content_type = first.content_type
        if first.pager is None:
            self._mode = "message"
            self._show_message(first.message)
            self._post_status()
            return
        self._pager = first.pager
        source = first.pager.source
        self._set_name = source.set_name if isinstance(source, LogSource) else None
        self._mode = "hex" if first.pager.hex_mode else "text"
        self._rows = first.rows
        self._show_rows(first.rows)
        if self.line_numbers:
            self._start_index()
        if follow:
            self._start_follow()
        # The screen may have been resized while loading; the status names
        # the member. Before the first layout, the body's Resized asks.
        if self.body.size.area:
            self._request("view")
        else:
            self._post_status()

    # -- navigation -------------------------------------------------------

    def _request(self, op: str, *args) -> None:
        """Queue a pager operation and make sure a worker is applying the queue."""
        if self._pager is None:
            return
        if self.following:
            if op in _UP_OPS:
                self._stop_follow("")
            elif op not in _FOLLOW_OPS:
                return
        self._ops.append((op, *args))
        if not self._nav_busy:
            self._nav_busy = True
            if self._nav_cancel.is_set():
                self._nav_cancel = threading.Event()
            width, height = self._view_size()
            self._navigate(
                self._generation, self._pager, self._ops, self._text_width(width), height,
                self.wrap, self._nav_cancel, self._index, self._numbering(),
            )

    @work(thread=True, group="viewer-nav")
    def _navigate(
        self, generation: int, pager: Pager, ops: deque, width: int, height: int, wrap: bool,
        cancel: threading.Event, index, numbering: bool,
    ) -> None:
        error, screen = "", None
        notices: list[str] = []
        last_post = [0.0]

        def progress(percent: float) -> None:
            now = time.monotonic()
            if now - last_post[0] >= 0.1:
                last_post[0] = now
                self.post_message(self._Progress(generation, f"scanning… {percent:.0f}%"))

        pager.cancel, pager.progress = cancel, progress
        changed = False
        dropped_before = getattr(pager.source, "dropped", 0)
        try:
            pager.set_view(width, height, wrap)
            while ops and generation == self._generation:
                op, *args = ops.popleft()
                result = apply(pager, op, args, cancel, index)
                if result:
                    notices.append(result)
                if op != "poll":
                    changed = True
            changed = changed or bool(pager.notices)
            if pager.notices:
                notices.extend(pager.notices)
                pager.notices.clear()
            rows = pager.screen()
            screen = screen_of(pager, rows, index if numbering else None)
            screen.notices = notices
            screen.changed = changed or screen.size != self._file_size
            screen.rebased = getattr(pager.source, "dropped", 0) != dropped_before
        except SearchCancelled:
            ops.clear()
            error = "cancelled"
        except Exception as exc:  # a notice, never a traceback in the UI
            ops.clear()
            error = f"read failed: {printable(exc)}"
        finally:
            pager.cancel, pager.progress = None, None
        self._deliver(self._navigated, generation, pager, screen, error, (width, height, wrap))

    def _navigated(self, generation: int, pager: Pager, screen: Screen | None, error: str,
                   laid_out: tuple[int, int, bool]) -> None:
        if generation != self._generation:
            return  # a file that was closed meanwhile
        self._nav_busy = False
        if error:
            self._set_notice(error)
            if self._drop_filter:
                self._drop_filter = False
                self._set_filter("")
                self._set_notice("filter cancelled: every line")
        elif screen is not None:
            if self._index is not None and (screen.rebased or screen.size < self._file_size):
                self._restart_index()  # bytes left the head, or the file was truncated
            if screen.notices:
                self._notice = "; ".join(screen.notices)
            self._file_size = screen.size
            self._file_offset, self._member, self._members = (
                screen.file_offset, screen.member, screen.members,
            )
            self._top_line = screen.top_line
            if screen.file and not self.following:
                self._path = screen.file
            if screen.changed and (not self.following or self._mode == "hex"):
                self._rows, self._numbers = screen.rows, screen.numbers
                self._show_rows(screen.rows)
            else:
                self._post_status()
        width, height = self._view_size()
        if self._ops or laid_out != (self._text_width(width), height, self.wrap):
            # Asked for meanwhile, or resized after the worker took its size.
            self._request("view")

    def _show_rows(self, rows: list[Row]) -> None:
        pager = self._pager
        self.body.remove_class("-message")
        texts = [row.text for row in rows]
        current: dict[int, tuple[int, int]] = {}
        match = self._match
        if match is not None and self._mode == "text":
            for y, row in enumerate(rows):
                line = row.line
                if line.start <= match.offset < line.end:
                    start, end = char_span(line.data, match.offset - line.start, match.length)
                    a, b = start - row.start, end - row.start
                    if b > 0 and a < len(row.text):
                        current[y] = (max(0, a), min(len(row.text), max(b, a + 1)))
        gutters = None
        if self._numbering():
            width = self._gutter_width() - 1
            gutters = []
            numbers = self._numbers if len(self._numbers) == len(rows) else [None] * len(rows)
            for row, number in zip(rows, numbers, strict=True):
                if row.index == 0 and number is not None:
                    gutters.append(Text(f"{number:>{width}} ", style="dim", end=""))
                else:
                    gutters.append(Text(" " * (width + 1), end=""))
        self.body.set_texts(texts, self._highlight_pattern(), current, gutters)
        if pager is not None:
            self._file_size = pager.size
            self._offset = rows[0].line.start if rows else pager.top
            self._percent = pager.percent(rows)
        self._post_status()

    def _highlight_pattern(self) -> re.Pattern[str] | None:
        pattern = self._pattern or self._filter
        return pattern.text_regex if pattern is not None else None

    def _show_message(self, message: str) -> None:
        # Messages quote file names and errors: each line is shown as plain text.
        self.body.add_class("-message")
        self.body.set_texts([plain(line) for line in message.splitlines()])

    def watch_wrap(self, wrap: bool) -> None:
        """Re-read the screen when wrapping is switched on or off."""
        if wrap and self.is_mounted:
            self.body.scroll_x_cells = 0
        if self.following:
            self._follow_seen = -1
            self._follow_tick()
        self._request("view")
        self._post_status()

    def watch_line_numbers(self, on: bool) -> None:
        """Start counting lines (once per file) and redraw with or without the gutter."""
        if on and self._pager is not None and self._index is None:
            self._start_index()
        if self.following:
            self._follow_seen = -1
            self._follow_tick()
        self._request("view")
        self._post_status()

    @on(ViewerBody.Resized)
    def _body_resized(self, event: ViewerBody.Resized) -> None:
        event.stop()
        self._request("view")
        if self.following:
            self._follow_seen = -1

    def on_unmount(self) -> None:
        """Stop the workers and close the file."""
        self._forget()

    def on_mouse_scroll_down(self, event: MouseScrollDown) -> None:
        """Scroll down a few rows with the wheel."""
        event.stop()
        self._request("down", WHEEL_LINES)

    def on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        """Scroll up a few rows with the wheel (stops following)."""
        event.stop()
        self._request("up", WHEEL_LINES)

    def _poll(self) -> None:
        """Look at the file now and then: growth, new or rotated-away members,
        deletion (while following too: the set's files come and go)."""
        if self._pager is not None and not self._nav_busy:
            self._request("refresh" if self.following else "poll")

    # -- line numbers ---------------------------------------------------

    def _start_index(self) -> None:
        from inspector.core.lineindex import LineIndex

        pager = self._pager
        if pager is None or pager.hex_mode:
            return
        source = pager.source
        self._index = LineIndex(source.read, source.size)
        self._index_done = False
        self._index_cancel = threading.Event()
        self._build_index(self._generation, self._index, self._index_cancel)

    def _restart_index(self) -> None:
        """Bytes left the head of the set: count again from its new start."""
        if self._index_cancel is not None:
            self._index_cancel.set()
        self._start_index()

    @work(thread=True, group="viewer-index")
    def _build_index(self, generation: int, index, cancel: threading.Event) -> None:
        last_post = [0.0]

        def progress(done: int, size: int) -> None:
            now = time.monotonic()
            if now - last_post[0] >= 0.25:
                last_post[0] = now
                self._deliver(self._index_progress, generation, index, False)

        while not cancel.is_set():
            try:
                index.build(cancel, progress)
            except SearchCancelled:
                return
            except Exception:  # the file went away: numbers stay unknown
                return
            self._deliver(self._index_progress, generation, index, True)
            # Keep counting what is appended, at the poll's pace.
            if cancel.wait(POLL_INTERVAL):
                return

    def _index_progress(self, generation: int, index, done: bool) -> None:
        if generation != self._generation or index is not self._index:
            return
        first = done and not self._index_done
        self._index_done = done
        if self._numbering() and (first or any(n is None for n in self._numbers)):
            self._request("view")
        self._post_status()

    # -- follow -----------------------------------------------------------

    def _start_follow(self) -> None:
        if self._pager is None or self._fs is None or self._path is None:
            return
        from inspector.core.follow import Follower

        source = self._pager.source
        path = source.path if isinstance(source, LogSource) else self._path
        self._follower = Follower(self._fs, path, reopen=True)
        self._follow_seen = -1
        self._followed_at = None
        self._path = path
        self.following = True
        self._run_follower(self._follower)
        self._follow_timer = self.set_interval(FOLLOW_REFRESH, self._follow_tick)
        self._post_status()

    @work(thread=True, exclusive=True, group="viewer-follow")
    def _run_follower(self, follower) -> None:
        follower.run()

    def _stop_follow(self, notice: str | None) -> None:
        """Stop following and show the file's tail from the pager.

        ``notice`` None means the file is being forgotten: nothing is redrawn.
        """
        follower, self._follower = self._follower, None
        if self._follow_timer is not None:
            self._follow_timer.stop()
            self._follow_timer = None
        if follower is None:
            return
        follower.stop()
        self.following = False
        if notice is None:
            return
        self._notice = notice
        if follower.reopened:
            self._request("reopen", self._fs, follower.path)
        self._request("refresh")
        self._request("tail")
        self._post_status()

    def _follow_tick(self) -> None:
        follower = self._follower
        if follower is None or follower.version == self._follow_seen:
            return
        width, height = self._view_size()
        state = follower.state(last=height)
        self._follow_seen = state.version
        position = (state.path, state.offset)
        if self._followed_at is not None and position != self._followed_at:
            self._mod_time = datetime.now(timezone.utc)  # it was just written to
        self._followed_at = position
        self._path = state.path
        self._member, self._members = self._member_of(state.path)
        if state.notice:
            self._notice = state.notice
        if self._mode == "hex":
            self._request("refresh")
            self._request("sync_tail")
        else:
            self._show_follow_rows(state.lines, state.partial, state.marks, width, height)
            self._file_offset = state.offset
            self._percent = 100.0
            self._post_status()
        if not state.running:
            self._stop_follow(state.notice)

    def _member_of(self, path: str) -> tuple[int, int]:
        """Which file of the open rotation set ``path`` is, and of how many
        (a rotation the set has not listed yet comes after its files)."""
        source = self._pager.source if self._pager is not None else None
        if not isinstance(source, LogSource) or not source.is_set:
            return 1, 1
        paths = [segment.path for segment in source.segments()]
        if path in paths:
            return paths.index(path) + 1, len(paths)
        return len(paths) + 1, len(paths) + 1

    def _show_follow_rows(
        self, lines: list[bytes], partial: bytes, marks, width: int, height: int
    ) -> None:
        texts: list[Text] = []
        by_index: dict[int, list[str]] = {}
        for index, label in marks:
            by_index.setdefault(index, []).append(label)
        items = lines + ([partial] if partial else [])
        for i in range(len(items) + 1):
            for label in by_index.get(i, ()):
                texts.append(separator(label, width))
            if i == len(items):
                break
            text = line_text(items[i])
            if self._mode == "text":
                from inspector.core.levels import colour_levels

                colour_levels(text)
            if self.wrap and text.cell_len > width:
                starts = wrap_starts(text.plain, width)
                ends = starts[1:] + [len(text)]
                texts.extend(text[a:b] for a, b in zip(starts, ends, strict=True))
            else:
                texts.append(text)
        self.body.remove_class("-message")
        self.body.set_texts(texts[-height:], self._highlight_pattern())

    # -- prompt: search, filter, go to ----------------------------------

    @on(SearchBar.Submitted)
    def _prompt_submitted(self, event: SearchBar.Submitted) -> None:
        event.stop()
        self.focus()
        kind, text = event.kind, event.pattern
        if kind == "&":
            self._set_filter(text)
        elif kind == ":":
            self._goto(text.strip())
        else:
            backward = kind == "?"
            if text:
                try:
                    self._pattern = SearchPattern.parse(text)
                except ValueError as exc:
                    self._set_notice(printable(exc))
                    return
                self._match = None
            if self._pattern is None:
                self._set_notice("no previous search")
                return
            self._direction_backward = backward
            self._start_search(self._pattern, backward=backward, from_view=True)

    @on(SearchBar.Dismissed)
    def _prompt_dismissed(self, event: SearchBar.Dismissed) -> None:
        event.stop()
        self.focus()

    def _goto(self, text: str) -> None:
        if not text:
            return
        if text.startswith("@"):
            self._request("time", text[1:].strip())
        elif text.endswith("%"):
            try:
                percent = float(text[:-1])
            except ValueError:
                self._set_notice(f"not a percentage: {printable(text)}")
                return
            self._request("percent", max(0.0, min(100.0, percent)))
        else:
            try:
                number = int(text.replace(",", "").replace("_", ""))
            except ValueError:
                self._set_notice(f"not a line number: {printable(text)} (N, N% or @time)")
                return
            if self._mode == "hex":
                self._request("goto", max(0, number))  # a byte offset in a hex dump
            else:
                if self._index is None:
                    self._start_index()
                self._request("line", max(1, number))

    def _set_filter(self, text: str) -> None:
        if self._count_cancel is not None:
            self._count_cancel.set()
            self._count_cancel = None
        if not text:
            if self._filter is not None:
                self._filter, self._filter_count = None, None
                self._set_notice("filter off: every line")
                self._request("filter", None)
            return
        try:
            pattern = SearchPattern.parse(text)
        except ValueError as exc:
            self._set_notice(printable(exc))
            return
        self._filter, self._filter_count, self._filter_done = pattern, 0, False
        self._notice = ""
        self._request("filter", pattern)
        if self._pager is not None:
            cancel = threading.Event()
            self._count_cancel = cancel
            self._count(self._generation, self._pager.source, pattern, cancel)

    @work(thread=True, group="viewer-count")
    def _count(self, generation: int, source, pattern: SearchPattern,
               cancel: threading.Event) -> None:
        from inspector.core.search import count_matching_lines

        last_post = [0.0]

        def progress(count: int, offset: int) -> None:
            now = time.monotonic()
            if now - last_post[0] >= 0.1:
                last_post[0] = now
                self._deliver(self._counted, generation, pattern, count, False)

        try:
            total = count_matching_lines(source.read, source.size(), pattern, cancel=cancel,
                                         progress=progress)
        except SearchCancelled:
            return
        except Exception as exc:
            self._deliver(self._set_notice, f"filter count failed: {printable(exc)}")
            return
        self._deliver(self._counted, generation, pattern, total, True)

    def _counted(self, generation: int, pattern: SearchPattern, count: int, done: bool) -> None:
        if generation != self._generation or pattern is not self._filter:
            return
        self._filter_count, self._filter_done = count, done
        if done:
            self._count_cancel = None
            if count == 0:
                self._notice = f"no line matches {pattern.text}"
        self._post_status()

    def _search_again(self, backward: bool) -> None:
        if self._pattern is None:
            self._set_notice("no previous search")
            return
        self._start_search(self._pattern, backward=backward, from_view=True)

    def _search_start(self, backward: bool, skip_current: bool) -> int:
        """Where a search starts: just past the current match when it is on
        screen, else the view (the top line; for `e`, past it)."""
        match = self._match
        rows = self._rows
        if match is not None and rows and rows[0].line.start <= match.offset < rows[-1].line.end:
            return match.offset if backward else match.offset + 1
        top = rows[0].line.start if rows else self._offset
        if skip_current and not backward and rows:
            return rows[0].line.end
        return top

    def _start_search(self, pattern: SearchPattern | None, backward: bool, *,
                      from_view: bool = True, errors: bool = False) -> None:
        if self._fs is None or self._path is None or self._pager is None:
            return
        if errors and self._mode != "text":
            return
        if self._search_cancel is not None:
            self._search_cancel.set()
        cancel = threading.Event()
        self._search_cancel = cancel
        if errors:
            self._match = None
        start = self._search_start(backward, skip_current=errors)
        self._set_notice("searching…")
        self._search(self._generation, self._pager.source, pattern, start, backward, errors,
                     cancel)

    @work(thread=True, exclusive=True, group="viewer-search")
    def _search(
        self,
        generation: int,
        source,
        pattern: SearchPattern | None,
        start: int,
        backward: bool,
        errors: bool,
        cancel: threading.Event,
    ) -> None:
        from inspector.core.search import Found, search

        last_post = [0.0]

        def progress(percent: float) -> None:
            now = time.monotonic()
            if now - last_post[0] >= 0.1:
                last_post[0] = now
                self.post_message(self._Progress(generation, f"searching… {percent:.0f}%"))

        dropped = getattr(source, "dropped", 0)
        outcome: Found | str
        try:
            size = source.size()
            if errors:
                from inspector.core.levels import find_level_line

                outcome = Found(find_level_line(source.read, size, start, backward=backward,
                                                cancel=cancel, progress=progress))
            else:
                outcome = search(source.read, size, pattern, start, backward=backward,
                                 cancel=cancel, progress=progress)
            moved = getattr(source, "dropped", 0) - dropped
            if moved and outcome.match is not None:  # the set rotated meanwhile
                shifted = outcome.match.offset - moved
                outcome = Found(Match(shifted, outcome.match.length) if shifted >= 0 else None,
                                outcome.wrapped)
        except SearchCancelled:
            outcome = "search cancelled"
        except Exception as exc:  # shown as a notice, never a traceback
            outcome = f"search failed: {printable(exc)}"
        self._deliver(self._searched, generation, cancel, pattern, backward, errors, outcome)

    @on(_Progress)
    def _progress(self, event: _Progress) -> None:
        if event.generation == self._generation and (
            self._search_cancel is not None or self._nav_busy
        ):
            self._set_notice(event.text)

    def _searched(
        self, generation: int, cancel: threading.Event, pattern: SearchPattern | None,
        backward: bool, errors: bool, outcome,
    ) -> None:
        if generation != self._generation or cancel is not self._search_cancel:
            return
        self._search_cancel = None
        if isinstance(outcome, str):
            self._set_notice(outcome)
            return
        match = outcome.match
        if match is None:
            if errors:
                self._set_notice("no error line " + ("above" if backward else "below"))
            else:
                self._set_notice(f"no match: {pattern.text}")
            return
        where = self._describe(match.offset)
        if errors:
            self._notice = f"error line {where}"
        else:
            self._match = match
            prefix = "?" if backward else "/"
            self._notice = f"{prefix}{pattern.text} {where}"
            if outcome.wrapped:
                self._notice += "  (wrapped to the " + ("bottom)" if backward else "top)")
        if self.following:
            self._stop_follow(self._notice)
        if errors:
            self._request("goto", match.offset)
        else:
            self._request("reveal", match.offset)
        self._post_status()

    def _describe(self, offset: int) -> str:
        """'at byte N' (of which member, for a set)."""
        pager = self._pager
        source = pager.source if pager is not None else None
        if isinstance(source, LogSource) and source.is_set:
            seg, local = source.locate(offset)
            return f"at byte {local:,} of {printable(seg.name)}"
        return f"at byte {offset:,}"

    # -- status -----------------------------------------------------------

    def _set_notice(self, notice: str) -> None:
        self._notice = notice
        self._post_status()

    def _post_status(self) -> None:
        if self._path is None:
            return
        index = self._index
        lines = None
        if index is not None and self._index_done:
            lines = index.line_count
        filter_text = ""
        if self._filter is not None:
            filter_text = self._filter.text
        status = ViewerStatus(
            path=self._display_label(),
            size=self._file_size,
            mod_time=self._mod_time,
            content_type=self._content_type,
            offset=self._file_offset if self._set_name else self._offset,
            percent=self._percent,
            following=self.following,
            mode=self._mode,
            wrap=self.wrap,
            notice=self._notice,
            member=self._member,
            members=self._members,
            line=self._top_line if self._numbering() or self._top_line else None,
            lines=lines,
            indexing=index is not None and not self._index_done,
            filter=filter_text,
            matches=self._filter_count,
            counting=self._filter is not None and not self._filter_done,
            numbers=self._numbering(),
        )
        if status != self._last_status:
            self._last_status = status
            self.post_message(self.StatusChanged(status))

    def _display_label(self) -> str:
        """The label, with the file name of the member shown (or followed)."""
        opened, path = self._opened_path, self._path
        if opened is None or path is None or opened == path:
            return self._label
        if self._label.endswith(opened):
            return self._label[: len(self._label) - len(opened)] + path
        return posixpath.join(posixpath.dirname(self._label), posixpath.basename(path))
