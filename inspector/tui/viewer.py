"""The file viewer: pages through a file by byte offset, searches and follows it.

Every read happens in a thread worker; the event loop only renders rows that
were already read. Navigation requests are queued and applied in order by one
worker at a time, so fast key repeats are neither lost nor run concurrently
against the same pager.
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
from textual.events import MouseScrollDown, MouseScrollUp, Resize
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from inspector.core.follow import Follower
from inspector.core.pager import FsSource, Pager, Row, line_text, wrap_starts
from inspector.core.search import Match, SearchCancelled, SearchPattern, search_backward, search_forward
from inspector.tui.search_bar import SearchBar
from inspector.tui.status_bar import ViewerStatus
from inspector.core.text import plain, printable

FOLLOW_REFRESH = 0.02
"""Seconds between checks for new followed bytes (coalesces redraws)."""
WHEEL_LINES = 3
HSCROLL_CELLS = 8
TEXT_SUFFIXES = re.compile(r"(\.log|\.(stdout|stderr)\.\d+|\.txt|\.json)$")
_UP_OPS = {"up", "page_up", "head"}
_FOLLOW_OPS = {"view", "sync_tail", "reopen"}
_SPECIAL_FILES = {
    "p": "a FIFO",
    "s": "a socket",
    "c": "a character device",
    "b": "a block device",
}


def is_text(path: str, content_type: str) -> bool:
    """Whether a file is shown as text (else as a hex dump)."""
    return (
        content_type.startswith("text/")
        or content_type.startswith("application/json")
        or TEXT_SUFFIXES.search(path) is not None
    )


@dataclass(frozen=True)
class _Loaded:
    generation: int
    pager: Pager | None
    rows: list[Row]
    size: int
    mod_time: datetime | None
    content_type: str
    message: str = ""


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

    def on_resize(self, event: Resize) -> None:
        """Tell the viewer to read what fits the new size."""
        self.post_message(self.Resized())

    def watch_scroll_x_cells(self) -> None:
        """Redraw after a sideways scroll."""
        self.refresh()

    def set_texts(self, texts: list[Text], highlight: re.Pattern[str] | None = None) -> None:
        """Replace what is shown."""
        self._texts = texts
        self._highlight = highlight
        self._strips = {}
        self.refresh()

    def plain_lines(self) -> list[str]:
        """The shown rows as plain text (what a user reads)."""
        return [text.plain for text in self._texts]

    def render_line(self, y: int) -> Strip:
        """Row `y` of the prepared rows, scrolled sideways and cut to the width."""
        width = self.size.width
        strip = self._strips.get(y)
        if strip is None:
            if y < len(self._texts):
                text = self._texts[y]
                if self._highlight is not None:
                    text = text.copy()
                    text.highlight_regex(self._highlight, "black on yellow")
                # Unstyled text takes the widget's colours, not the terminal's default.
                segments = text.render(self.app.console, end="")
                strip = Strip(list(Segment.apply_style(segments, self.rich_style)))
            else:
                strip = Strip.blank(0)
            self._strips[y] = strip
        x = self.scroll_x_cells
        return strip.crop_extend(x, x + width, self.rich_style)


class FileViewer(Widget, can_focus=True):
    """Shows one file of an allocation: text, hex dump, or why it cannot be shown."""

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
        Binding("j,down", "line_down", "Line down", show=False),
        Binding("k,up", "line_up", "Line up (stops follow)", show=False),
        Binding("space,pagedown", "page_down", "Page down"),
        Binding("b,pageup", "page_up", "Page up (stops follow)"),
        Binding("g,home", "head", "Head (stops follow)", show=False),
        Binding("G,end", "tail", "Tail"),
        Binding("slash", "search", "Search"),
        Binding("n", "next_match", "Next match", show=False),
        Binding("N", "previous_match", "Previous match", show=False),
        Binding("h,left", "scroll_left", "Scroll left (no wrap)", show=False),
        Binding("l,right", "scroll_right", "Scroll right (no wrap)", show=False),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("f", "toggle_follow", "Follow"),
        Binding("escape", "cancel", "Cancel search / stop follow", show=False),
    ]

    wrap: reactive[bool] = reactive(True)
    following: reactive[bool] = reactive(False)

    class StatusChanged(Message):
        """The viewer's status changed (None once the file is closed)."""

        def __init__(self, status: ViewerStatus | None) -> None:
            super().__init__()
            self.status = status

    class _SearchProgress(Message):
        def __init__(self, generation: int, percent: float) -> None:
            super().__init__()
            self.generation = generation
            self.percent = percent

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
        self._percent = 0.0
        self._notice = ""
        self._ops: deque[tuple] = deque()
        self._nav_busy = False
        self._follower: Follower | None = None
        self._follow_timer: Timer | None = None
        self._follow_seen = -1
        self._followed_at: tuple[str, int] | None = None
        self._pattern: SearchPattern | None = None
        self._match: Match | None = None
        self._search_cancel: threading.Event | None = None
        self._last_status: ViewerStatus | None = None
        self._pending_open: tuple | None = None
        self._composed = False

    def compose(self) -> ComposeResult:
        """The rows, with the search bar docked below."""
        yield ViewerBody()
        yield SearchBar()

    def on_mount(self) -> None:
        """Open a file requested before the viewer was mounted."""
        self._composed = True
        if self._pending_open is not None:
            fs, path, label, follow = self._pending_open
            self._pending_open = None
            self.open_file(fs, path, label=label, follow=follow)

    @property
    def body(self) -> ViewerBody:
        """The widget that draws the rows."""
        return self.query_one(ViewerBody)

    # -- the public contract ----------------------------------------------

    @property
    def path(self) -> str | None:
        """The path (relative to the alloc dir) of the open file; follows rotation."""
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

    def open_file(
        self, fs, path: str, *, label: str | None = None, follow: bool = False
    ) -> None:
        """Open ``path`` of ``fs``; returns at once, the file loads in a worker."""
        if not self._composed:
            self._pending_open = (fs, path, label, follow)
            return
        self._forget()
        self._fs, self._path, self._opened_path = fs, path, path
        self._label = label if label is not None else path
        self._mode, self._notice = "message", "loading…"
        self._show_message("loading…")
        self._post_status()
        width, height = self._view_size()
        self._load(self._generation, fs, path, width, height, self.wrap, follow)

    def close_file(self) -> None:
        """Forget the open file (e.g. after its allocation was destroyed)."""
        self._pending_open = None
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

    def action_search(self) -> None:
        """Open the search bar."""
        if self._mode in ("text", "hex"):
            self.query_one(SearchBar).open()

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
        self._request("tail")

    def action_scroll_left(self) -> None:
        """Show the columns to the left (when lines are not wrapped)."""
        body = self.body
        body.scroll_x_cells = max(0, body.scroll_x_cells - HSCROLL_CELLS)

    def action_scroll_right(self) -> None:
        """Show the columns to the right (when lines are not wrapped)."""
        if not self.wrap and self._mode == "text":
            self.body.scroll_x_cells += HSCROLL_CELLS

    def action_next_match(self) -> None:
        """Find the next match of the last search."""
        self._search_again(backward=False)

    def action_previous_match(self) -> None:
        """Find the previous match of the last search."""
        self._search_again(backward=True)

    def action_cancel(self) -> None:
        """Cancel a running search, else stop following, else let the app handle escape."""
        if self._search_cancel is not None and not self._search_cancel.is_set():
            self._search_cancel.set()
            self._set_notice("search cancelled")
        elif self.following:
            self._stop_follow("")
        else:
            raise SkipAction()

    # -- loading ----------------------------------------------------------

    def _forget(self) -> None:
        """Stop everything about the current file."""
        self._generation += 1
        self._stop_follow(None)
        if self._search_cancel is not None:
            self._search_cancel.set()
            self._search_cancel = None
        self._ops = deque()
        self._nav_busy = False
        if self._pager is not None:
            self._close_source(self._pager)
        self._pager, self._match = None, None
        self._file_size, self._mod_time, self._content_type = 0, None, ""
        self._offset, self._percent = 0, 0.0

    @staticmethod
    def _close_source(pager: Pager) -> None:
        close = getattr(pager.source, "close", None)
        if close is not None:
            close()

    def _view_size(self) -> tuple[int, int]:
        size = self.body.size if self.is_mounted else None
        if not size or size.width <= 0 or size.height <= 0:
            return 80, 24
        return size.width, size.height

    @work(thread=True, exclusive=True, group="viewer-load")
    def _load(
        self, generation: int, fs, path: str, width: int, height: int, wrap: bool, follow: bool
    ) -> None:
        loaded = _read_first_screen(generation, fs, path, width, height, wrap, follow)
        if not self._deliver(self._loaded, loaded, follow) and loaded.pager is not None:
            self._close_source(loaded.pager)

    def _deliver(self, callback, *args) -> bool:
        """Run ``callback`` on the event loop; False if the app is gone."""
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:
            return False
        return True

    def _loaded(self, loaded: _Loaded, follow: bool) -> None:
        if loaded.generation != self._generation:
            if loaded.pager is not None:
                self._close_source(loaded.pager)
            return
        self._notice = ""
        self._file_size, self._mod_time = loaded.size, loaded.mod_time
        self._content_type = loaded.content_type
        if loaded.pager is None:
            self._mode = "message"
            self._show_message(loaded.message)
            self._post_status()
            return
        self._pager = loaded.pager
        self._mode = "hex" if loaded.pager.hex_mode else "text"
        self._show_rows(loaded.rows)
        if follow:
            self._start_follow()
        # The screen may have been resized while loading.
        self._request("view")

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
            width, height = self._view_size()
            self._navigate(self._generation, self._pager, self._ops, width, height, self.wrap)

    @work(thread=True, group="viewer-nav")
    def _navigate(
        self, generation: int, pager: Pager, ops: deque, width: int, height: int, wrap: bool
    ) -> None:
        error = ""
        try:
            pager.set_view(width, height, wrap)
            while ops and generation == self._generation:
                op, *args = ops.popleft()
                _apply(pager, op, args)
            rows = pager.screen()
        except Exception as exc:  # a notice, never a traceback in the UI
            rows, error = [], f"read failed: {exc}"
        self._deliver(self._navigated, generation, pager, rows, error)

    def _navigated(self, generation: int, pager: Pager, rows: list[Row], error: str) -> None:
        if generation != self._generation:
            return  # a file that was closed meanwhile
        self._nav_busy = False
        if error:
            self._set_notice(error)
        else:
            self._file_size = pager.size
            if not self.following or self._mode == "hex":
                self._show_rows(rows)
        if self._ops:
            self._request("view")

    def _show_rows(self, rows: list[Row]) -> None:
        pager = self._pager
        highlight = self._pattern.text_regex if self._pattern is not None else None
        self.body.remove_class("-message")
        self.body.set_texts([row.text for row in rows], highlight)
        if pager is not None:
            self._file_size = pager.size
            self._offset = rows[0].line.start if rows else pager.top
            self._percent = pager.percent(rows)
        self._post_status()

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

    # -- follow -----------------------------------------------------------

    def _start_follow(self) -> None:
        if self._pager is None or self._fs is None or self._path is None:
            return
        self._follower = Follower(self._fs, self._path)
        self._follow_seen = -1
        self._followed_at = None
        self.following = True
        self._run_follower(self._follower)
        self._follow_timer = self.set_interval(FOLLOW_REFRESH, self._follow_tick)
        self._post_status()

    @work(thread=True, exclusive=True, group="viewer-follow")
    def _run_follower(self, follower: Follower) -> None:
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
        self._path = follower.path
        self._request("reopen", self._fs, follower.path)
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
        if state.notice:
            self._notice = state.notice
        if self._mode == "hex":
            self._request("reopen", self._fs, state.path)
            self._request("sync_tail")
        else:
            self._show_follow_rows(state.lines, state.partial, width, height)
            on_screen = sum(len(line) + 1 for line in state.lines) + len(state.partial)
            self._file_size = state.offset  # all of the current file has been read
            self._offset = max(0, state.offset - on_screen)
            self._percent = 100.0
            self._post_status()
        if not state.running:
            self._stop_follow(state.notice)

    def _show_follow_rows(
        self, lines: list[bytes], partial: bytes, width: int, height: int
    ) -> None:
        texts: list[Text] = []
        for data in lines + ([partial] if partial else []):
            text = line_text(data)
            if self.wrap and text.cell_len > width:
                starts = wrap_starts(text.plain, width)
                ends = starts[1:] + [len(text)]
                texts.extend(text[a:b] for a, b in zip(starts, ends, strict=True))
            else:
                texts.append(text)
        highlight = self._pattern.text_regex if self._pattern is not None else None
        self.body.remove_class("-message")
        self.body.set_texts(texts[-height:], highlight)

    # -- search -----------------------------------------------------------

    @on(SearchBar.Submitted)
    def _search_submitted(self, event: SearchBar.Submitted) -> None:
        event.stop()
        self.focus()
        if event.pattern:
            self._pattern = SearchPattern.parse(event.pattern)
            self._match = None
        if self._pattern is None:
            return
        self._start_search(self._offset, backward=False)

    @on(SearchBar.Dismissed)
    def _search_dismissed(self, event: SearchBar.Dismissed) -> None:
        event.stop()
        self.focus()

    def _search_again(self, backward: bool) -> None:
        if self._pattern is None:
            self._set_notice("no previous search")
            return
        if self._match is None:
            start = self._offset
        else:
            start = self._match.offset if backward else self._match.offset + 1
        self._start_search(start, backward=backward)

    def _start_search(self, start: int, backward: bool) -> None:
        if self._fs is None or self._path is None or self._pager is None:
            return
        if self._search_cancel is not None:
            self._search_cancel.set()
        cancel = threading.Event()
        self._search_cancel = cancel
        self._set_notice("searching…")
        self._search(self._generation, self._fs, self._path, self._pattern, start, backward, cancel)

    @work(thread=True, exclusive=True, group="viewer-search")
    def _search(
        self,
        generation: int,
        fs,
        path: str,
        pattern: SearchPattern,
        start: int,
        backward: bool,
        cancel: threading.Event,
    ) -> None:
        last_post = [0.0]

        def progress(percent: float) -> None:
            now = time.monotonic()
            if now - last_post[0] >= 0.1:
                last_post[0] = now
                self.post_message(self._SearchProgress(generation, percent))

        outcome: Match | str | None
        try:
            source = FsSource(fs, path)
            try:
                if backward:
                    outcome = search_backward(
                        source.read, pattern, start, cancel=cancel, progress=progress
                    )
                else:
                    outcome = search_forward(
                        source.read, source.size(), pattern, start, cancel=cancel,
                        progress=progress,
                    )
            finally:
                source.close()
        except SearchCancelled:
            outcome = "search cancelled"
        except Exception as exc:  # shown as a notice, never a traceback
            outcome = f"search failed: {exc}"
        self._deliver(self._searched, generation, cancel, pattern, outcome)

    @on(_SearchProgress)
    def _search_progress(self, event: _SearchProgress) -> None:
        if event.generation == self._generation and self._search_cancel is not None:
            self._set_notice(f"searching… {event.percent:.0f}%")

    def _searched(
        self, generation: int, cancel: threading.Event, pattern: SearchPattern, outcome
    ) -> None:
        if generation != self._generation or cancel is not self._search_cancel:
            return
        self._search_cancel = None
        if isinstance(outcome, Match):
            self._match = outcome
            self._notice = f"/{pattern.text} at byte {outcome.offset:,}"
            if self.following:
                self._stop_follow(self._notice)
            self._request("reveal", outcome.offset)
            self._post_status()
        elif outcome is None:
            self._set_notice(f"no match: {pattern.text}")
        else:
            self._set_notice(outcome)

    # -- status -----------------------------------------------------------

    def _set_notice(self, notice: str) -> None:
        self._notice = notice
        self._post_status()

    def _post_status(self) -> None:
        if self._path is None:
            return
        status = ViewerStatus(
            path=self._display_label(),
            size=self._file_size,
            mod_time=self._mod_time,
            content_type=self._content_type,
            offset=self._offset,
            percent=self._percent,
            following=self.following,
            mode=self._mode,
            wrap=self.wrap,
            notice=self._notice,
        )
        if status != self._last_status:
            self._last_status = status
            self.post_message(self.StatusChanged(status))

    def _display_label(self) -> str:
        """The label, with the file name updated when follow moved to a rotated file."""
        opened, path = self._opened_path, self._path
        if opened is None or path is None or opened == path:
            return self._label
        if self._label.endswith(opened):
            return self._label[: len(self._label) - len(opened)] + path
        return posixpath.join(posixpath.dirname(self._label), posixpath.basename(path))


def _apply(pager: Pager, op: str, args: list) -> None:
    """Apply one queued navigation operation (in the worker thread)."""
    pager.sync()
    if op == "down":
        pager.down(args[0])
    elif op == "up":
        pager.up(args[0])
    elif op == "page_down":
        pager.page_down()
    elif op == "page_up":
        pager.page_up()
    elif op == "head":
        pager.head()
    elif op in ("tail", "sync_tail"):
        pager.tail()
    elif op == "reveal":
        if not pager.is_visible(args[0]):
            pager.goto(args[0])
    elif op == "reopen":
        fs, path = args
        if getattr(pager.source, "path", path) != path:
            try:
                source = FsSource(fs, path)
            except Exception:
                return  # keep showing the old file (e.g. the new one is gone)
            old = pager.source
            pager.replace_source(source)
            close = getattr(old, "close", None)
            if close is not None:
                close()


def _read_first_screen(
    generation: int, fs, path: str, width: int, height: int, wrap: bool, follow: bool
) -> _Loaded:
    """Stat and open ``path`` and read its first (or last) screen; errors become messages."""
    from allocdir import AllocDirError

    def message(text: str, info=None) -> _Loaded:
        return _Loaded(
            generation, None, [], getattr(info, "size", 0), getattr(info, "mod_time", None),
            getattr(info, "content_type", ""), text,
        )

    # The path and the errors quote names a task chose: shown escaped, on one line.
    shown = printable(path)
    info = None
    try:
        info = fs.stat(path)
        kind = info.file_mode[:1]
        if info.is_dir or kind == "d":
            return message(f"{shown} is a directory: pick a file in the tree.", info)
        if kind in _SPECIAL_FILES:
            return message(
                f"{shown} is {_SPECIAL_FILES[kind]}: it is not opened (reading could block).", info
            )
        source = FsSource(fs, path)
    except FileNotFoundError:
        return message(f"{shown} does not exist (it may have been removed).", info)
    except PermissionError as exc:
        return message(f"Permission denied: {shown} ({printable(exc.strerror or exc)})", info)
    except AllocDirError as exc:
        return message(printable(exc), info)
    except OSError as exc:
        return message(f"Cannot open {shown}: {printable(exc.strerror or exc)}", info)
    except Exception as exc:  # any other backend failure is shown, not raised
        return message(f"Cannot open {shown}: {printable(exc)}", info)
    try:
        pager = Pager(
            source,
            hex_mode=not is_text(path, info.content_type),
            width=width,
            height=height,
            wrap=wrap,
        )
        if follow:
            pager.tail()
        rows = pager.screen()
    except Exception as exc:
        source.close()
        reason = printable(getattr(exc, "strerror", None) or exc)
        return message(f"Cannot read {shown}: {reason}", info)
    return _Loaded(generation, pager, rows, pager.size, info.mod_time, info.content_type)
