"""``view``: a pager widget over one file of an allocation, paged by byte offset.

The paging is the terminal app's: an ``inspector.core.pager.Pager`` over an
``FsSource`` (``read_at`` at byte offsets), so only what is shown is read and
an 8 GiB log opens, and reaches its tail, as fast as a small one. Binary
content is a hex dump (``inspector.core.hexdump`` rows); searching is
``inspector.core.search`` (chunked, cancellable, smart case); file content
keeps its SGR colours and nothing else (``inspector.core.text.ansi_text``,
rendered by ``inspector.notebook.html``). Directories, FIFOs, sockets and devices
are never opened; a secret shows ``read_at``'s refusal.

Every read runs in a worker thread (one operation at a time per viewer, in
order); the widgets change on the kernel's loop (see ``_ui``).
"""

from __future__ import annotations

import html
import posixpath
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from allocdir.display import age_html, size_html

from ..core.lognames import group_rotations, is_set_name, parse_rotated
from .html import lines_html, name_html
from ..core.pager import FsSource, Pager, Row
from ..core.search import Match, SearchCancelled, SearchPattern, search_backward, search_forward
from ..core.text import printable
from ..core.viewing import NotViewable, open_for_viewing
from ._ui import SerialQueue, UiScheduler, Widget, await_until, widgets
from .roots import NotebookRoot

PAGE_LINES = 40
"""Lines on one page of the viewer."""
PROGRESS_EVERY = 0.1
"""Seconds between search progress updates."""
BODY_HEIGHT = "34em"

_OFFSET = re.compile(r"^\s*(0x[0-9a-f_]+|[0-9][0-9_,]*)\s*(%?)\s*$", re.IGNORECASE)


def parse_offset(typed: str, size: int) -> int:
    """A byte offset from what was typed in the offset box: ``1048576``,
    ``1_048_576``, ``0x100000`` or ``50%`` (of ``size``). ValueError otherwise."""
    found = _OFFSET.match(typed)
    if found is None:
        raise ValueError(f"not an offset: {typed!r} (a byte count, 0x… or N%)")
    number, percent = found.groups()
    value = int(number.replace("_", "").replace(",", ""), 0)
    if percent:
        return min(size, size * min(value, 100) // 100)
    return value


def resolve(target, path: str):
    """``(fs, path)`` for a target that is an ``AllocDir`` (path relative to
    it) or a ``NotebookRoot`` (path starting with an alloc id prefix)."""
    if isinstance(target, NotebookRoot):
        if target.root.single:
            return target[0], path.lstrip("/")
        prefix, _, rel = path.lstrip("/").partition("/")
        return target[prefix], rel
    return target, path


def newest_rotation(fs, path: str) -> str:
    """``path`` itself, or for a rotation set without its index
    (``alloc/logs/web.stdout``) the file of that set with the highest index.
    Raises FileNotFoundError when there is none."""
    directory, stem = posixpath.split(path)
    if parse_rotated(stem) is not None or not is_set_name(stem):
        return path
    members = group_rotations(
        [info.name for info in fs.list(directory) if info.is_regular]).get(stem)
    if not members:
        raise FileNotFoundError(f"no {printable(stem)}.N in {printable(directory) or '.'}")
    return posixpath.join(directory, members[-1][1])


@dataclass
class Shown:
    """What the viewer shows now (as applied to the widgets)."""

    mode: str = "message"
    """"text", "hex" or "message" (a refusal, an error, or nothing open)."""
    lines: list[str] = field(default_factory=list)
    top: int = 0
    bottom: int = 0
    size: int = 0
    percent: float = 0.0
    message: str = ""
    notice: str = ""


class Viewer(Widget):
    """A pager over one file: head, tail, previous/next page, go to an
    offset, search, wrap, hex.

    Buttons and boxes drive it in Jupyter; the same operations are methods
    (``head()``, ``tail()``, ``next_page()``, ``prev_page()``, ``goto()``,
    ``find()``, ``set_wrap()``, ``set_hex()``), each returning at once: the
    file is read in a worker. ``wait()`` (or ``await viewer.ready()`` in a
    cell) returns once what was asked is shown; ``shown`` says what that is.
    """

    def __init__(self, target=None, path: str | None = None, *, lines: int = PAGE_LINES,
                 wrap: bool = False, start: str | int = "head", label: str | None = None) -> None:
        w = widgets()
        self.page_lines = max(1, lines)
        self.wrap = wrap
        self.fs = None
        self.path: str | None = None
        self.label = ""
        self.shown = Shown()
        self._ui = UiScheduler()
        self._queue = SerialQueue()
        self._generation = 0
        self._pager: Pager | None = None  # touched only by the queue's worker
        self._info = None
        self._pattern: SearchPattern | None = None
        self._match: Match | None = None
        self._search_cancel: threading.Event | None = None
        self._searching = 0
        self._lock = threading.Lock()
        self._syncing = False  # set while the viewer itself moves a toggle

        def button(description: str, icon: str, tooltip: str, action) -> object:
            made = w.Button(description=description, icon=icon, tooltip=tooltip,
                            layout=w.Layout(width="auto"))
            made.on_click(lambda _b: action())
            return made

        self.title = w.HTML()
        self.head_button = button("Head", "angle-double-up", "start of the file", self.head)
        self.prev_button = button("Prev", "angle-up", "previous page", self.prev_page)
        self.next_button = button("Next", "angle-down", "next page", self.next_page)
        self.tail_button = button("Tail", "angle-double-down", "end of the file", self.tail)
        self.offset_box = w.Text(placeholder="offset: 1048576, 0x100000, 50%",
                                 continuous_update=False, layout=w.Layout(width="15em"))
        self.offset_box.observe(lambda change: self._typed_offset(change["new"]), "value")
        self.go_button = button("Go", "share", "go to the offset typed",
                                lambda: self._typed_offset(self.offset_box.value))
        self.search_box = w.Text(placeholder="search (smart case)", continuous_update=False,
                                 layout=w.Layout(width="15em"))
        self.search_box.observe(lambda change: self.find(change["new"]) if change["new"] else None,
                                "value")
        self.find_next_button = button("", "search-plus", "next match",
                                       lambda: self.find(self.search_box.value))
        self.find_prev_button = button("", "search-minus", "previous match",
                                       lambda: self.find(self.search_box.value, backward=True))
        self.wrap_toggle = w.ToggleButton(value=wrap, description="Wrap", icon="align-left",
                                          tooltip="wrap long lines", layout=w.Layout(width="auto"))
        self.wrap_toggle.observe(lambda change: self._toggled("wrap", change["new"]), "value")
        self.hex_toggle = w.ToggleButton(value=False, description="Hex", icon="th",
                                         tooltip="show as a hex dump",
                                         layout=w.Layout(width="auto"))
        self.hex_toggle.observe(lambda change: self._toggled("hex", change["new"]), "value")
        self.body = w.HTML(layout=w.Layout(max_height=BODY_HEIGHT, overflow="auto",
                                           border="1px solid #ddd", width="100%"))
        self.status = w.HTML()
        toolbar = w.HBox([self.head_button, self.prev_button, self.next_button,
                          self.tail_button, self.offset_box, self.go_button, self.search_box,
                          self.find_prev_button, self.find_next_button, self.wrap_toggle,
                          self.hex_toggle], layout=w.Layout(flex_flow="row wrap"))
        self.widget = w.VBox([self.title, toolbar, self.body, self.status],
                             layout=w.Layout(width="100%"))
        if target is None or path is None:
            self._apply(self._generation, None, Shown(message="Pick a file to view."), "", [])
        else:
            self.open(target, path, start=start, label=label)

    # -- the public contract ----------------------------------------------

    def open(self, target, path: str, *, start: str | int = "head",
             label: str | None = None) -> Viewer:
        """Show ``path`` of ``target`` (an ``AllocDir``, or a ``NotebookRoot``
        with the path starting with an alloc id prefix) from ``start``
        ("head", "tail" or a byte offset). Returns at once."""
        fs, rel = resolve(target, path)
        with self._lock:
            self._generation += 1
            generation = self._generation
        self._cancel_search()
        self.fs, self.path = fs, rel
        alloc_id = getattr(fs, "alloc_id", "")
        self.label = label if label is not None else (f"{alloc_id}/{rel}" if alloc_id else rel)
        self._pattern, self._match = None, None
        self._ui.call(self._set_title, generation, None)
        self._queue.submit(lambda: self._load(generation, fs, rel, start))
        return self

    def head(self) -> None:
        """Go to the start of the file."""
        self._request("head")

    def tail(self) -> None:
        """Go to the end of the file (the last page)."""
        self._request("tail")

    def next_page(self) -> None:
        """One page towards the end."""
        self._request("page_down")

    def prev_page(self) -> None:
        """One page towards the start."""
        self._request("page_up")

    def goto(self, offset: int) -> None:
        """Show the line holding byte ``offset`` at the top."""
        self._request("goto", int(offset))

    def set_wrap(self, wrap: bool) -> None:
        """Wrap long lines in the browser, or scroll them sideways."""
        self.wrap = bool(wrap)
        self._move_toggle(self.wrap_toggle, self.wrap)
        self._request("view")

    def set_hex(self, hex_mode: bool) -> None:
        """Show the file as a hex dump, or as text."""
        self._move_toggle(self.hex_toggle, bool(hex_mode))
        self._request("hex", bool(hex_mode))

    def _toggled(self, which: str, value: bool) -> None:
        if self._syncing:
            return
        if which == "wrap":
            self.set_wrap(value)
        else:
            self.set_hex(value)

    def _move_toggle(self, toggle, value: bool) -> None:
        if toggle.value != value:
            self._syncing = True
            try:
                toggle.value = value
            finally:
                self._syncing = False

    def find(self, text: str, *, backward: bool = False) -> None:
        """Search for ``text`` (literal, smart case) after the last match or the
        top of the page (before it when ``backward``) and show the match."""
        try:
            pattern = SearchPattern.parse(text)
        except ValueError:
            self._note("type something to search for")
            return
        if self.fs is None or self.path is None:
            return
        if self._pattern != pattern:
            self._pattern, self._match = pattern, None
        self._cancel_search()
        cancel = threading.Event()
        self._search_cancel = cancel
        with self._lock:
            self._searching += 1
            generation = self._generation
        self._note("searching…")
        # Queued: it starts from where the pages asked for before it left off.
        self._queue.submit(lambda: self._start_search(generation, pattern, backward, cancel))

    def _start_search(self, generation: int, pattern: SearchPattern, backward: bool,
                      cancel: threading.Event) -> None:
        pager, match = self._pager, self._match
        if pager is None or generation != self._generation or cancel.is_set():
            with self._lock:
                self._searching -= 1
            return
        if match is None:
            start = pager.top
        else:
            start = match.offset if backward else match.offset + 1
        threading.Thread(target=self._search, name="inspector-nb-search", daemon=True,
                         args=(generation, self.fs, self.path, pattern, start, backward,
                               cancel)).start()

    def cancel_search(self) -> None:
        """Stop a running search."""
        if self._cancel_search():
            self._note("search cancelled")

    def text(self) -> list[str]:
        """The lines shown, as plain text."""
        return list(self.shown.lines)

    @property
    def busy(self) -> bool:
        """True while a read or a search is running or queued."""
        return not self._queue.idle() or self._searching > 0

    def wait(self, timeout: float = 10.0) -> Viewer:
        """Block until what was asked is shown (TimeoutError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while self.busy:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the viewer was still busy after {timeout:g} s")
            if not self._queue.wait(0.01):
                continue
            if self._searching:
                time.sleep(0.005)
        if self._ui.on_loop_thread:
            self._ui.flush()
        return self

    async def ready(self, timeout: float = 10.0) -> Viewer:
        """In a notebook cell: ``await viewer.ready()`` until what was asked is shown."""
        await await_until(lambda: not self.busy, timeout, "the viewer's reads")
        self._ui.flush()
        return self

    def close(self) -> None:
        """Stop searching, close the file and disable the controls."""
        self._cancel_search()
        with self._lock:
            self._generation += 1
        self._queue.submit(self._close_pager)
        self._queue.close()
        for control in (self.head_button, self.prev_button, self.next_button, self.tail_button,
                        self.offset_box, self.go_button, self.search_box, self.find_next_button,
                        self.find_prev_button, self.wrap_toggle, self.hex_toggle):
            control.disabled = True

    # -- reading (worker thread) --------------------------------------------

    def _request(self, op: str, *args) -> None:
        generation = self._generation
        self._queue.submit(lambda: self._navigate(generation, op, args))

    def _load(self, generation: int, fs, path: str, start: str | int) -> None:
        self._close_pager()
        try:
            opened = open_for_viewing(fs, path)
        except NotViewable as refusal:
            info = refusal.info
            self._deliver(generation, info, Shown(message=str(refusal),
                                                  size=getattr(info, "size", 0)), "", [])
            return
        pager = Pager(opened.source, hex_mode=opened.hex_mode, height=self.page_lines)
        self._pager, self._info = pager, opened.info
        try:
            if start == "tail":
                pager.tail()
            elif isinstance(start, int) and not isinstance(start, bool):
                pager.goto(start)
        except Exception as exc:
            self._deliver(generation, opened.info, Shown(message=f"Cannot read: {exc}"), "", [])
            return
        self._render(generation, pager, "")

    def _navigate(self, generation: int, op: str, args: tuple) -> None:
        pager = self._pager
        if pager is None or generation != self._generation:
            return
        notice = ""  # "view" (and anything unknown) only reads the screen again
        try:
            pager.sync()
            if op == "head":
                pager.head()
            elif op == "tail":
                pager.tail()
            elif op == "page_down":
                pager.page_down()
            elif op == "page_up":
                pager.page_up()
            elif op == "goto":
                offset = min(max(0, args[0]), pager.size)
                pager.goto(offset)
                notice = f"at byte {offset:,}"
            elif op == "reveal":
                if not pager.is_visible(args[0]):
                    pager.goto(args[0])
                notice = args[1]
            elif op == "hex" and args[0] != pager.hex_mode:
                top = pager.top
                pager = Pager(pager.source, hex_mode=args[0], height=self.page_lines)
                pager.goto(top)
                self._pager = pager
        except Exception as exc:  # shown as a notice, never raised into the cell
            notice = f"read failed: {exc}"
        self._render(generation, pager, notice)

    def _render(self, generation: int, pager: Pager, notice: str) -> None:
        try:
            rows = pager.screen()
        except Exception as exc:
            rows, notice = [], f"read failed: {exc}"
        shown = Shown(mode="hex" if pager.hex_mode else "text",
                      lines=[row.text.plain for row in rows],
                      top=rows[0].line.start if rows else pager.top,
                      bottom=pager.bottom(rows), size=pager.size,
                      percent=pager.percent(rows), notice=notice)
        self._deliver(generation, self._info, shown, self._body_html(rows), rows)

    def _body_html(self, rows: list[Row]) -> str:
        highlight = self._pattern.text_regex if self._pattern is not None else None
        return lines_html([row.text for row in rows], highlight=highlight,
                          wrap=self.wrap, empty="(empty file)")

    def _close_pager(self) -> None:
        pager, self._pager = self._pager, None
        if pager is not None:
            pager.source.close()

    def _search(self, generation: int, fs, path: str, pattern: SearchPattern, start: int,
                backward: bool, cancel: threading.Event) -> None:
        last = [0.0]

        def progress(percent: float) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY:
                last[0] = now
                self._note(f"searching… {percent:.0f}%", generation)

        try:
            source = FsSource(fs, path)
            try:
                if backward:
                    found = search_backward(source.read, pattern, start, cancel=cancel,
                                            progress=progress)
                else:
                    found = search_forward(source.read, source.size(), pattern, start,
                                           cancel=cancel, progress=progress)
            finally:
                source.close()
            if found is None:
                self._note(f"no match: {pattern.text}", generation)
            elif generation == self._generation and not cancel.is_set():
                self._match = found
                self._queue.submit(lambda: self._navigate(
                    generation, "reveal", (found.offset, f"/{pattern.text} at byte "
                                                         f"{found.offset:,}")))
        except SearchCancelled:
            pass
        except Exception as exc:  # shown, never raised
            self._note(f"search failed: {exc}", generation)
        finally:
            with self._lock:
                self._searching -= 1

    def _cancel_search(self) -> bool:
        cancel, self._search_cancel = self._search_cancel, None
        if cancel is not None and not cancel.is_set():
            cancel.set()
            return True
        return False

    # -- showing (kernel loop) -----------------------------------------------

    def _deliver(self, generation: int, info, shown: Shown, body: str, rows: list) -> None:
        self._ui.call(self._apply, generation, info, shown, body, rows)

    def _apply(self, generation: int, info, shown: Shown, body: str, rows: list) -> None:
        if generation != self._generation:
            return  # another file was opened meanwhile
        self.shown = shown
        if shown.mode == "message":
            self.body.value = lines_html([], empty=shown.message, wrap=True)
        else:
            self.body.value = body
            self._move_toggle(self.hex_toggle, shown.mode == "hex")
        self._set_title(generation, info)
        self._set_status()

    def _set_title(self, generation: int, info) -> None:
        if generation != self._generation:
            return
        parts = [f"<b>{name_html(self.label)}</b>"]
        if info is not None:
            parts.append(size_html(info.size))
            if info.content_type:
                parts.append(html.escape(info.content_type))
            parts.append("modified " + age_html(info.mod_time, datetime.now(timezone.utc)))
        self.title.value = ('<div style="font-family:var(--jp-code-font-family,monospace);'
                            'font-size:12px">' + " · ".join(parts) + "</div>")

    def _note(self, notice: str, generation: int | None = None) -> None:
        def apply() -> None:
            if generation is None or generation == self._generation:
                self.shown.notice = notice
                self._set_status()
        self._ui.call(apply)

    def _set_status(self) -> None:
        shown = self.shown
        parts = []
        if shown.mode != "message":
            parts.append(f"{shown.mode} · bytes {shown.top:,}–{shown.bottom:,} of "
                         f"{shown.size:,} ({shown.percent:.0f}%)")
        if shown.notice:
            parts.append(f'<i style="color:#8a6d00">{name_html(shown.notice)}</i>')
        self.status.value = ('<div style="font-family:var(--jp-code-font-family,monospace);'
                             'font-size:11px;color:#555">' + " · ".join(parts) + "</div>")

    def _typed_offset(self, typed: str) -> None:
        if not typed.strip():
            return
        try:
            offset = parse_offset(typed, self.shown.size)
        except ValueError as exc:
            self._note(str(exc))
            return
        self.goto(offset)

    def _plain(self) -> str:
        head = f"{printable(self.label)} [{self.shown.mode}]"
        if self.shown.mode == "message":
            return f"{head}\n{self.shown.message}"
        return "\n".join([f"{head} bytes {self.shown.top:,}–{self.shown.bottom:,} of "
                          f"{self.shown.size:,}"] + self.shown.lines)


def view(target, path: str, *, lines: int = PAGE_LINES, wrap: bool = False,
         start: str | int = "head") -> Viewer:
    """A pager widget on ``path`` of ``target`` (an ``AllocDir``; or a
    ``NotebookRoot`` with ``path`` starting with an alloc id prefix).

    ``start`` is "head", "tail" or a byte offset. Returns at once; the
    first page is read in a worker thread.
    """
    return Viewer(target, path, lines=lines, wrap=wrap, start=start)
