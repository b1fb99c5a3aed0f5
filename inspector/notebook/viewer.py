"""``view``: the terminal app's pager as a notebook widget.

What each button and box does is the terminal's viewer, key for key: both
drive a reader session (:mod:`inspector.core.session`). A Nomad log opens
with its whole rotation set as one log (``[``/``]`` move between its
files); levels are coloured; search is a regex with smart case that wraps
around the end and marks the current match; the ``&`` filter shows only
the matching lines with a running count; go-to takes a line, ``N%``, an
``@time`` or a byte offset (``0x1f00``, ``b1048576``); ``#`` numbers the
lines. Only what is shown is read, so an 8 GiB log opens, and reaches its
tail, as fast as a small one. Directories, FIFOs, sockets and devices are
never opened; a secret shows ``read_at``'s refusal.

Every read runs in a worker; the widgets change on the kernel's loop (see
:mod:`.executor`). In a cell, ``await viewer.ready()`` before reading what
it shows (``text()``, ``shown``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..core.session.frame import Frame
from ..core.session.session import ReaderSession
from ..core.text import printable
from ..core.viewing import set_member
from ._ui import UiScheduler, Widget, await_until, widgets
from .executor import NotebookExecutor
from .frames import frame_html, status_html, title_html
from .roots import NotebookRoot
from .viewer_tools import ViewerTools

PAGE_LINES = 40
"""Lines on one page of the viewer."""
WIDTH = 200
"""Cells a row is laid out for (separators); the browser wraps, not the pager."""
BODY_HEIGHT = "34em"


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
    """``path`` itself, or for a rotation set named without its index
    (``alloc/logs/web.stdout``) its newest file. Raises FileNotFoundError
    when there is none. Blocking (lists the directory)."""
    return set_member(fs, path, newest=True)


@dataclass
class Shown:
    """What the viewer shows now (as applied to the widgets)."""

    mode: str = "message"
    """"text", "hex" or "message" (a refusal, an error, or nothing open)."""
    lines: list[str] = field(default_factory=list)
    top: int = 0
    """The byte offset of the first line shown (of a set: of the whole set)."""
    bottom: int = 0
    size: int = 0
    percent: float = 0.0
    message: str = ""
    notice: str = ""
    tags: list[str] = field(default_factory=list)
    """In a merged stream: the source of each line (``web▸err``)."""


class Viewer(ViewerTools, Widget):
    """A pager over one file or rotation set: head, tail, pages, files of the
    set, go-to, search, the ``&`` filter, error lines, wrap, hex, numbers.

    Buttons and boxes drive it in Jupyter; the same operations are methods
    (``head()``, ``tail()``, ``next_page()``, ``goto()``, ``find()``,
    ``filter()``, ``next_error()``, ``next_file()``, ``mark()``, ``jump()``,
    ``fields()``, ``set_columns()``, ``set_context()``, ``toggle_filter()``,
    ``export()``…), each returning at
    once: the file is read in a worker. ``wait()`` (or ``await
    viewer.ready()`` in a cell) returns once what was asked is shown;
    ``shown`` and ``text()`` say what that is.
    """

    def __init__(self, target=None, path: str | None = None, *, lines: int = PAGE_LINES,
                 wrap: bool = False, start: str | int = "head", label: str | None = None,
                 numbers: bool = False) -> None:
        self.page_lines = max(1, lines)
        self.wrap = wrap
        self.label = ""
        self.shown = Shown()
        self._ui = UiScheduler()
        self._executor = NotebookExecutor(self._ui)
        self.session = ReaderSession(self._executor, self._apply, width=WIDTH,
                                     height=self.page_lines, wrap=False, numbers=numbers,
                                     reopen=False)
        self._syncing = False  # set while the viewer itself moves a toggle
        self._build(widgets(), numbers)
        if target is None or path is None:
            self.body.value = frame_html(Frame(message="Pick a file to view."))
        else:
            self.open(target, path, start=start, label=label)

    def _build(self, w, numbers: bool) -> None:
        def button(description: str, icon: str, tooltip: str, action) -> object:
            made = w.Button(description=description, icon=icon, tooltip=tooltip,
                            layout=w.Layout(width="auto"))
            made.on_click(lambda _b: action())
            return made

        def box(placeholder: str, width: str, action) -> object:
            made = w.Text(placeholder=placeholder, continuous_update=False,
                          layout=w.Layout(width=width))
            made.observe(lambda change: action(change["new"]), "value")
            return made

        def toggle(description: str, icon: str, tooltip: str, value: bool, which: str):
            made = w.ToggleButton(value=value, description=description, icon=icon,
                                  tooltip=tooltip, layout=w.Layout(width="auto"))
            made.observe(lambda change: self._toggled(which, change["new"]), "value")
            return made

        self.title = w.HTML()
        self.head_button = button("Head", "angle-double-up", "start (g)", self.head)
        self.prev_button = button("Prev", "angle-up", "previous page (b)", self.prev_page)
        self.next_button = button("Next", "angle-down", "next page (space)", self.next_page)
        self.tail_button = button("Tail", "angle-double-down", "end (G)", self.tail)
        self.prev_file_button = button("", "step-backward",
                                       "previous file of the rotation set ([)", self.prev_file)
        self.next_file_button = button("", "step-forward",
                                       "next file of the rotation set (])", self.next_file)
        self.offset_box = box("go to: 1200, 50%, @10:15, 0x1f00", "14em",
                              lambda text: self.goto(text) if text.strip() else None)
        self.go_button = button("Go", "share", "go to what is typed (:)",
                                lambda: self.goto(self.offset_box.value))
        self.search_box = box("search (regex, smart case)", "14em",
                              lambda text: self.find(text) if text else None)
        self.find_prev_button = button("", "search-minus", "previous match (N)",
                                       lambda: self.find(self.search_box.value, backward=True))
        self.find_next_button = button("", "search-plus", "next match (n)",
                                       lambda: self.find(self.search_box.value))
        self.filter_box = box("& filter (regex); empty: every line", "14em", self.filter)
        self.prev_error_button = button("", "arrow-up", "previous error line (E)",
                                        self.prev_error)
        self.next_error_button = button("Errors", "arrow-down", "next error line (e)",
                                        self.next_error)
        self.wrap_toggle = toggle("Wrap", "align-left", "wrap long lines (w)", self.wrap, "wrap")
        self.hex_toggle = toggle("Hex", "th", "show as a hex dump", False, "hex")
        self.numbers_toggle = toggle("#", "list-ol", "line numbers (#)", numbers, "numbers")
        self.body = w.HTML(layout=w.Layout(max_height=BODY_HEIGHT, overflow="auto",
                                           border="1px solid #ddd", width="100%"))
        self.status = w.HTML()
        self.fields_box = w.HTML()
        self.fields_button = button("Fields", "code", "the fields of the current line (x)",
                                    self.fields)
        self._controls = [
            self.head_button, self.prev_button, self.next_button, self.tail_button,
            self.prev_file_button, self.next_file_button, self.offset_box, self.go_button,
            self.search_box, self.find_prev_button, self.find_next_button, self.filter_box,
            self.prev_error_button, self.next_error_button, self.wrap_toggle,
            self.hex_toggle, self.numbers_toggle, self.fields_button]
        toolbar = w.HBox(self._controls, layout=w.Layout(flex_flow="row wrap"))
        self.widget = w.VBox([self.title, toolbar, self.body, self.status, self.fields_box],
                             layout=w.Layout(width="100%"))

    # -- the public contract ----------------------------------------------

    def open(self, target, path: str, *, start: str | int = "head",
             label: str | None = None) -> Viewer:
        """Show ``path`` of ``target`` (an ``AllocDir``, or a ``NotebookRoot``
        with the path starting with an alloc id prefix) from ``start``
        ("head", "tail" or a byte offset); a rotated log or a set named
        without an index (``alloc/logs/web.stdout``) opens as its whole set.
        Returns at once."""
        fs, rel = resolve(target, path)
        alloc_id = getattr(fs, "alloc_id", "")
        self.label = label if label is not None else (f"{alloc_id}/{rel}" if alloc_id else rel)
        self.session.open(fs, rel, label=self.label, start=start)
        return self

    @property
    def fs(self):
        """The ``AllocDirFS`` of the open file."""
        return self.session.fs

    @property
    def path(self) -> str | None:
        """The file at the top of the page (of a set: that member)."""
        return self.session.path

    def head(self) -> None:
        """Go to the start of the file (of a set: of its first file)."""
        self.session.head()

    def tail(self) -> None:
        """Go to the end of the file (the last page)."""
        self.session.tail()

    def next_page(self) -> None:
        """One page towards the end."""
        self.session.page_down()

    def prev_page(self) -> None:
        """One page towards the start."""
        self.session.page_up()

    def next_file(self) -> None:
        """The start of the next file of the rotation set."""
        self.session.next_file()

    def prev_file(self) -> None:
        """The start of the previous file of the rotation set."""
        self.session.previous_file()

    def goto(self, target: int | str) -> None:
        """Go to ``target``: a byte offset (an int), or what the go-to box
        takes: ``1200`` (line), ``50%``, ``@2026-11-28T10:15``, ``@10:15``,
        ``0x1f00``, ``b1048576`` (byte offsets). A bad one is a notice."""
        if isinstance(target, int) and not isinstance(target, bool):
            target = f"b{max(0, target)}"
        self.session.goto(str(target))

    def find(self, text: str, *, backward: bool = False) -> None:
        """Search for the regex ``text`` (smart case: a capital makes it exact)
        from the page (past the current match, when shown: the same text
        again finds the next match), wrapping around the end, and show the
        match, marked apart from the others."""
        self.session.search(text, backward=backward)

    def cancel_search(self) -> None:
        """Stop a running search (or a long filter scan)."""
        self.session.cancel()

    def filter(self, text: str) -> None:
        """Show only the lines matching the regex ``text`` (``&``), with their
        count; an empty ``text`` shows every line again."""
        self.session.filter(text)

    def next_error(self) -> None:
        """The next line logged at error level (``e``)."""
        self.session.next_error()

    def prev_error(self) -> None:
        """The previous line logged at error level (``E``)."""
        self.session.next_error(backward=True)

    def set_wrap(self, wrap: bool) -> None:
        """Wrap long lines in the browser, or scroll them sideways."""
        self.wrap = bool(wrap)
        self._move_toggle(self.wrap_toggle, self.wrap)
        self._apply(self.session.frame)

    def set_hex(self, hex_mode: bool) -> None:
        """Show the file as a hex dump, or as text."""
        self._move_toggle(self.hex_toggle, bool(hex_mode))
        self.session.set_hex(bool(hex_mode))

    def show_sources(self, tags: Iterable[str] | None = None) -> None:
        """In a merged stream: show only the sources tagged ``tags`` (None:
        every source), keeping the place."""
        sources = self.session.sources
        wanted = None if tags is None else set(tags)
        unknown = set() if wanted is None else wanted - {tag for tag, _on in sources}
        if unknown:
            raise ValueError(f"no such source: {', '.join(sorted(unknown))} "
                             f"(sources: {', '.join(tag for tag, _on in sources)})")
        self.session.set_sources({i for i, (tag, _on) in enumerate(sources)
                                  if wanted is not None and tag not in wanted})

    def set_numbers(self, numbers: bool) -> None:
        """Line numbers (counted in the background, as ``less -N``)."""
        self._move_toggle(self.numbers_toggle, bool(numbers))
        self.session.set_numbers(bool(numbers))

    def text(self) -> list[str]:
        """The lines shown, as plain text."""
        return list(self.shown.lines)

    @property
    def busy(self) -> bool:
        """True while a read or a search is running or queued."""
        return self._executor.busy or self.session.busy

    def wait(self, timeout: float = 10.0) -> Viewer:
        """Block until what was asked is shown (TimeoutError after ``timeout``)."""
        try:
            self._executor.settle(timeout)
        except TimeoutError:
            raise TimeoutError(f"the viewer was still busy after {timeout:g} s") from None
        return self

    async def ready(self, timeout: float = 10.0) -> Viewer:
        """In a notebook cell: ``await viewer.ready()`` until what was asked is shown."""
        def settled() -> bool:
            self._ui.flush()
            return not self.busy
        await await_until(settled, timeout, "the viewer's reads")
        return self

    def close(self) -> None:
        """Stop what runs, close the file and disable the controls."""
        self.session.close()
        self._executor.close()
        for control in self._controls:
            control.disabled = True

    # -- showing (the kernel's loop) ----------------------------------------

    def _toggled(self, which: str, value: bool) -> None:
        if self._syncing:
            return
        {"wrap": self.set_wrap, "hex": self.set_hex, "numbers": self.set_numbers}[which](value)

    def _move_toggle(self, toggle, value: bool) -> None:
        if toggle.value != value:
            self._syncing = True
            try:
                toggle.value = value
            finally:
                self._syncing = False

    def _apply(self, frame: Frame) -> None:
        status, place = frame.status, frame.place
        merged = bool(frame.tags)  # places are cursors: the top line's offset in its file
        self.shown = Shown(mode=frame.mode, lines=frame.lines,
                           top=(place.offset if merged else place.top) or 0,
                           bottom=0 if merged else place.bottom or 0, size=place.size, percent=place.percent,
                           message=frame.message, notice=status.notice if status else "",
                           tags=[row.tag.plain if row.tag is not None else ""
                                 for row in frame.rows] if frame.tags else [])
        self.body.value = frame_html(frame, wrap=self.wrap)
        self.status.value = status_html(frame, self.wrap)
        self.title.value = title_html(self.label, status)
        if frame.mode in ("text", "hex"):
            self._move_toggle(self.hex_toggle, frame.mode == "hex")
        self._published()

    def _html(self) -> str:
        return self.title.value + self.body.value + self.status.value

    def _plain(self) -> str:
        shown = self.shown
        head = f"{printable(self.label)} [{shown.mode}]"
        if shown.mode == "message":
            return f"{head}\n{shown.message}"
        if shown.tags:
            return "\n".join([f"{head} {shown.percent:.0f}% of {shown.size:,} bytes"]
                             + [f"{tag} {line}" for tag, line in zip(shown.tags, shown.lines,
                                                                     strict=False)])
        return "\n".join([f"{head} bytes {shown.top:,}–{shown.bottom:,} of {shown.size:,}"]
                         + shown.lines)


def view(target, path: str, *, lines: int = PAGE_LINES, wrap: bool = False,
         start: str | int = "head", numbers: bool = False) -> Viewer:
    """A pager widget on ``path`` of ``target`` (an ``AllocDir``; or a
    ``NotebookRoot`` with ``path`` starting with an alloc id prefix); a
    rotation set by its name (``alloc/logs/web.stdout``) or any of its files.

    ``start`` is "head", "tail" or a byte offset. Returns at once; the
    first page is read in a worker thread.
    """
    return Viewer(target, path, lines=lines, wrap=wrap, start=start, numbers=numbers)
