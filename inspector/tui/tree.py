"""AllocTree: the tree of allocations in the terminal, drawn from the core
tree model (:mod:`inspector.core.tree`).

The model decides everything (what is listed and when, the orders and the
name filter, rotation sets, locked secrets, watching, the rows of a virtual
list of any size, the cursor, what each row says); this widget holds one,
runs its jobs in Textual thread workers (the reader session's
:class:`~inspector.tui.executor.TextualExecutor`), calls its timers, turns
keys into its calls and draws the rows on screen with the Line API (a
row's ``Strip`` is kept until the rows, the ages, the width, the cursor or
the focus change). A directory of 100,000 entries is
reachable by scrolling, `g` and `G`, with memory bounded by its names.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rich.segment import Segment
from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, WorkerState

from allocdir import AllocDir, AllocFileInfo

from ..core.failure import failure_text
from ..core.roots import Root
from ..core.tree import events as tree_events
from ..core.tree import load_dir  # noqa: F401 (part of the tree's API: the listing job's work)
from ..core.tree.model import TreeModel
from ..core.tree.nodes import (  # noqa: F401 (node kinds: part of the tree's API)
    ALLOC, CONTAINERS, DIR, FILE, MARKABLE, NOTE, ROOT, SECRET, SECRET_FILE, SET, SPECIAL, STRAY,
    Key, Node,
)
from .executor import Delivered, TextualExecutor
from .tree_labels import fitted, styled

POLL_PER_SECOND = 4
"""Looks at what the directory watcher saw, per second."""
AGE_TICK = 5.0
"""Seconds between redraws of the ages (and looks at logs dirs that are due one)."""
LINES_CACHED = 256
"""Rows whose drawing is kept."""


class AllocTree(ScrollView, can_focus=True):
    """The tree pane: root → allocations → directories, listed lazily."""

    DEFAULT_CSS = """
    AllocTree {
        width: 1fr;
        height: 1fr;
        background: $surface;
    }
    AllocTree:focus {
        background-tint: $foreground 5%;
    }
    AllocTree > .alloc-tree--cursor {
        background: $block-cursor-blurred-background;
        text-style: $block-cursor-blurred-text-style;
    }
    AllocTree:focus > .alloc-tree--cursor {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
        text-style: $block-cursor-text-style;
    }
    """

    COMPONENT_CLASSES = {"alloc-tree--cursor"}

    BINDINGS = [
        # First, so that the footer shows it whatever else it has room for.
        Binding("f1", "app.help", "Help", key_display="F1"),
        Binding("enter", "select_cursor", "Open / expand"),
        Binding("space", "toggle_node", "Mark a log / expand", show=False),
        Binding("m", "merge", "Merge logs", show=False),  # in the help; the footer is full
        Binding("j,down", "cursor_down", "Cursor down", show=False),
        Binding("k,up", "cursor_up", "Cursor up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("g,home", "first", "First entry", show=False),
        Binding("G,end", "last", "Last entry", show=False),
        Binding("left", "collapse_or_parent", "Collapse / to the parent", show=False),
        Binding("right", "expand_node", "Expand", show=False),
        Binding("ampersand", "filter_names", "Filter names", key_display="&"),
        Binding("o", "toggle_order", "Order: name / newest / size"),
    ]

    cursor_line: var[int] = var(0, always_update=True)
    filter_text: var[str] = var("")

    class FileSelected(Message):
        """`enter` on a file (or a rotation set): the app opens it in the viewer."""

        def __init__(self, alloc: AllocDir, rel: str, info: AllocFileInfo | None) -> None:
            super().__init__()
            self.alloc = alloc
            self.rel = rel
            self.info = info

    class MergeSelected(Message):
        """`m`, or `enter` on an entry of logs as one stream: the app opens
        ``sources`` merged (:class:`~inspector.core.tree.events.OpenMerged`)."""

        def __init__(self, merged: tree_events.OpenMerged) -> None:
            super().__init__()
            self.merged = merged

    class Loaded(Message):
        """A directory (or the root) finished loading; used by tests and refresh."""

        def __init__(self, key: Key | None) -> None:
            super().__init__()
            self.key = key

    class FilterRequested(Message):
        """`&` in the tree: the app shows the name filter."""

    class CursorMoved(Message):
        """The cursor is on another row: the app's first screen follows it."""

    def __init__(self, root: Root, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alloc_root = root
        self._executor = TextualExecutor(self)
        self.model = TreeModel(root, self._executor, listener=self._on_model)
        self._redraws = 0
        self._lines: LRUCache[tuple, Strip] = LRUCache(LINES_CACHED)

    # ----------------------------------------------------------- the model

    @property
    def root(self) -> Node:
        """The root node (the client root, or the one alloc dir)."""
        return self.model.root

    @property
    def allocs(self) -> list:
        """The allocations found."""
        return self.model.allocs

    @property
    def log_times(self):
        """When each allocation's logs were last written."""
        return self.model.log_times

    @property
    def watched(self) -> set:
        """The keys of the directories being watched."""
        return self.model.watched

    @property
    def row_count(self) -> int:
        """How many rows the tree has now."""
        return self.model.row_count

    @property
    def cursor_node(self) -> Node | None:
        """The node under the cursor."""
        found = self.model.node_at(self.cursor_line)
        return found[0] if found is not None else None

    def node_at(self, row: int) -> tuple[Node, int] | None:
        """The node at a row and its depth."""
        return self.model.node_at(row)

    def row_of(self, node: Node | None) -> int | None:
        """The row a node is on, or None when it is not shown."""
        return self.model.row_of(node)

    def find(self, key: Key) -> Node | None:
        """The node with this key, if its directories are listed."""
        return self.model.find(key)

    def reload(self) -> None:
        """Re-read the allocations and every open directory, keeping what is expanded."""
        self.model.reload()

    def reveal(self, alloc: AllocDir, rel: str) -> None:
        """Expand the directories down to `rel` and put the cursor on it once loaded."""
        self.model.reveal(alloc, rel)

    def current_alloc(self) -> AllocDir | None:
        """The allocation of the node under the cursor, if any."""
        return self.model.current_alloc(self.cursor_node)

    def expand(self, node: Node) -> None:
        """Expand a container (listed in a worker the first time)."""
        self.model.expand(node)

    def collapse(self, node: Node) -> None:
        """Collapse a container."""
        self.model.collapse(node)

    def move_cursor(self, node: Node | None) -> None:
        """Put the cursor on `node` (when it is shown)."""
        row = self.model.row_of(node)
        if row is not None:
            self.cursor_line = row

    def _on_model(self, event: object) -> None:
        """What the model says, on the event loop."""
        if isinstance(event, tree_events.Changed):
            self.virtual_size = Size(self.size.width, self.model.row_count)
            self.refresh()
        elif isinstance(event, tree_events.Redraw):
            self._redraws += 1
            self.refresh()
        elif isinstance(event, tree_events.CursorMoved):
            self.cursor_line = event.row
        elif isinstance(event, tree_events.Loaded):
            self.post_message(self.Loaded(event.key))
        elif isinstance(event, tree_events.Notice):
            self.notify(event.text, severity="error" if event.error else "warning", markup=False)

    # ----------------------------------------------------------- lifecycle

    def on_mount(self) -> None:
        """Start listing the allocations; tick the ages; pick up changes."""
        self.model.start()
        self.set_interval(1 / POLL_PER_SECOND, self.model.poll)
        self.set_interval(AGE_TICK, self._tick)

    def on_unmount(self) -> None:
        """Remove every watch (no thread or inotify watch outlives the tree)."""
        self._executor.close()
        self.model.close()

    def _tick(self) -> None:
        """Ages move on: redraw, and let the model look at what is due."""
        self.model.tick()

    @on(Delivered)
    def _delivered(self, message: Delivered) -> None:
        """A job's outcome, applied here; should applying it fail, that is
        said, never the end of the app."""
        try:
            TextualExecutor.deliver(message)
        except Exception as exc:
            self.notify(failure_text(exc, "updating the tree"), severity="error", markup=False)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """The last net under the workers' own handling: a worker that still
        raised is said, never the end of the app, never silent."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            event.stop()
            self.notify(f"{event.worker.name}: {failure_text(event.worker.error)}",
                        severity="error", markup=False)

    # ----------------------------------------------------------- drawing

    def label_of(self, node: Node, now: datetime | None = None) -> Text:
        """The label of a node, styled: name, then size and age, dimmed."""
        return styled(self.model.label_of(node, now or datetime.now(timezone.utc)))

    def render_line(self, y: int) -> Strip:
        """One row, as drawn before if nothing it depends on changed."""
        width = self.scrollable_content_region.width  # not under the scrollbar
        row = self.scroll_offset.y + y
        key = (row, width, self.model.version, self._redraws, row == self.cursor_line,
               self.has_focus)
        strip = self._lines.get(key)
        if strip is None:
            strip = self._lines[key] = self._draw_row(row, width)
        return strip

    def _draw_row(self, row: int, width: int) -> Strip:
        """Indentation, an arrow for what expands, the label."""
        base = self.rich_style
        found = self.model.node_at(row) if row < self.row_count else None
        if found is None:
            return Strip.blank(max(width, self.size.width), base)
        node, depth = found
        text = Text(no_wrap=True, end="")
        text.append("  " * max(0, depth - 1) if depth else "")
        if node.allow_expand:
            text.append("▾ " if node.expanded else "▸ ", style="dim")
        elif node.kind != ROOT:
            text.append("  ")
        label = self.model.label_of(node, datetime.now(timezone.utc))
        text.append_text(fitted(label, max(1, width - text.cell_len)))
        text.truncate(width, overflow="ellipsis", pad=True)
        style = base
        if row == self.cursor_line:
            style = base + self.get_component_rich_style("alloc-tree--cursor")
        segments = list(text.render(self.app.console, end=""))
        full = max(width, self.size.width)
        return Strip(list(Segment.apply_style(segments, style))).crop_extend(0, full, style)

    def get_label_width(self, node: Node) -> int:
        """The label width without rendering it."""
        return self.label_of(node).cell_len + 2

    def watch_cursor_line(self, previous: int, line: int) -> None:
        """Tell the model; redraw the old and new cursor rows; keep the cursor in view."""
        row = self.model.cursor.set(line)
        if row != line:
            self.cursor_line = row
            return
        self.post_message(self.CursorMoved())
        self.refresh()
        self.scroll_to_region(Region(0, line, 1, 1), animate=False, force=True,
                              x_axis=False, immediate=True)

    def on_resize(self, event: events.Resize) -> None:
        """Keep the virtual size in step with the width."""
        self.virtual_size = Size(event.size.width, self.row_count)

    # ----------------------------------------------------------- keys

    def action_cursor_down(self) -> None:
        """One row down."""
        self.cursor_line = self.model.cursor.by(1)

    def action_cursor_up(self) -> None:
        """One row up."""
        self.cursor_line = self.model.cursor.by(-1)

    def action_page_down(self) -> None:
        """One screen down."""
        self.cursor_line = self.model.cursor.by(max(1, self.size.height - 1))

    def action_page_up(self) -> None:
        """One screen up."""
        self.cursor_line = self.model.cursor.by(-max(1, self.size.height - 1))

    def action_first(self) -> None:
        """The first row."""
        self.cursor_line = self.model.cursor.first()

    def action_last(self) -> None:
        """The last row (of the biggest directory, if it is open)."""
        self.cursor_line = self.model.cursor.last()

    def action_select_cursor(self) -> None:
        """Open a file, a rotation set or logs as one stream; expand or
        collapse a directory."""
        self._act_on(self.model.activate(self.cursor_node))

    def _act_on(self, outcome) -> None:
        if isinstance(outcome, tree_events.Open):
            self.post_message(self.FileSelected(outcome.alloc, outcome.rel, outcome.info))
        elif isinstance(outcome, tree_events.OpenMerged):
            self.post_message(self.MergeSelected(outcome))
        elif isinstance(outcome, tree_events.Refused):
            self.notify(outcome.message, severity="warning", markup=False)
        elif isinstance(outcome, tree_events.Marked):
            count = f"{outcome.count:,} {'log' if outcome.count == 1 else 'logs'} marked"
            self.notify(f"{count} · m merges them" if outcome.count else "no log marked",
                        markup=False, timeout=2)

    def action_toggle_node(self) -> None:
        """Mark or unmark a log (a file, a rotation set) for merging; expand
        or collapse anything else."""
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.kind != SET:
            self.model.toggle(node)
        elif node.kind in MARKABLE:
            self._act_on(self.model.toggle_mark(node))

    def action_merge(self) -> None:
        """The marked logs as one stream; with none marked, the logs of the
        task or the allocation under the cursor."""
        self._act_on(self.model.merge(self.cursor_node))

    def action_expand_node(self) -> None:
        """Expand the node under the cursor."""
        node = self.cursor_node
        if node is not None and node.allow_expand:
            self.model.expand(node)

    def action_collapse_or_parent(self) -> None:
        """Collapse the node under the cursor, or go to its parent."""
        node = self.cursor_node
        if node is not None and node.allow_expand and node.expanded:
            self.model.collapse(node)
        elif self.model.cursor.to_parent():
            self.cursor_line = self.model.cursor.row

    def action_toggle_order(self) -> None:
        """Order by name (natural) or newest first."""
        order = self.model.next_order()
        self.notify(f"ordered by {order.words}", markup=False, timeout=2)

    def action_filter_names(self) -> None:
        """Ask the app for the name filter."""
        self.post_message(self.FilterRequested())

    def watch_filter_text(self, text: str) -> None:
        """Narrow every listed directory to the matching names."""
        self.model.set_filter(text)

    async def _on_click(self, event: events.Click) -> None:
        row = self.scroll_offset.y + event.y
        if 0 <= row < self.row_count:
            if row == self.cursor_line:
                self.action_select_cursor()
            else:
                self.cursor_line = row
