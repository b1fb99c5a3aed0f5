"""AllocTree: allocations, their `alloc/` and task dirs, as a virtual list.

The tree draws only the rows on screen. A listed directory is kept as a
compact :class:`~inspector.core.listing.Listing` (names and flat arrays, no
object per entry), and rows are found by counting through the expanded
directories, so a directory of 100,000 entries is reachable by scrolling,
`g` and `G`, with memory bounded by its names.

Directories are listed through `AllocDirFS.list` in a thread worker when a
node is first expanded; an expanded directory is watched (inotify, through
:class:`~inspector.core.dirwatch.DirWatcher`) and listed again when it
changes, at most four times a second (less often for a directory that takes
long to list). Ages are redrawn as they tick; when an allocation's logs were
last written comes from the same watcher
(:class:`~inspector.core.logtimes.LogTimes`), not from listing them.
Directories of a client root that are not allocations are listed after the
allocations, with the reason, and browse read-only
(:mod:`inspector.core.strays`). Whatever a worker meets (a task can make a
listing raise), it ends as a message on the node, never as the app's end.
Rotated logs
`<task>.<stream>.0..N` show as one node for the set, expandable to its
files. `&` narrows every listed directory to the names containing a text;
`o` orders by name (natural: `.2` before `.10`) or newest first. A task's
`secrets/` lists names and sizes, each locked: opening one shows the
refusal.
"""

from __future__ import annotations

import os
import time
import weakref
from datetime import datetime, timezone
from typing import Any

from rich.segment import Segment
from rich.text import Text
from textual import events, on, work
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, WorkerState

from allocdir import SHARED_ALLOC_NAME, AllocDir, AllocFileInfo

from ..core.failure import failure_text
from ..core.listing import K_DIR, K_SPECIAL, MTIME, NAME, Listing, link_target
from ..core.roots import Discovery, Root
from ..core.strays import StrayDirs
from ..core.text import printable
from ..core.treewatch import REFRESH_PER_SECOND, TreeWatch
from .tree_labels import (  # noqa: F401 (special_tag: part of the tree's API)
    ALLOC, CONTAINERS, DIR, FILE, NOTE, ROOT, SECRET, SECRET_FILE, SET, SPECIAL, STRAY,
    node_label, special_tag,
)

SECRET_DIRS = ("secrets", "private")
"""Task subdirectories whose files are locked (Nomad's secrets, newer `private/`)."""

AGE_TICK = 5.0
"""Seconds between redraws of the ages (and looks at logs dirs that are due one)."""
DROP_LISTING_OVER = 5000
"""A collapsed directory with more entries forgets its listing (it is listed again on expand)."""

Key = tuple[str, str]
"""Identifies a node across refreshes: (alloc dir path, rel path)."""


def _join(rel: str, name: str) -> str:
    return f"{rel}/{name}" if rel else name


def is_secret_dir(rel: str) -> bool:
    """True for `<task>/secrets` (or `private`) directly under a task dir."""
    parts = rel.split("/")
    return (
        len(parts) == 2
        and parts[0] != SHARED_ALLOC_NAME
        and parts[1].lower() in SECRET_DIRS
    )


def list_dir(alloc: AllocDir, rel: str) -> Listing:
    """List a directory for the tree, symlinks resolved. Blocking; raises
    what `AllocDir.list` raises."""
    infos = alloc.list(rel)
    targets = {
        info.name: link_target(alloc, _join(rel, info.name))
        for info in infos
        if info.file_mode.startswith("l") and not is_secret_dir(rel)
    }
    listing = Listing(infos, targets)
    listing.order(NAME)  # sorted here, in the worker, not on the event loop
    return listing


def load_dir(alloc: AllocDir, rel: str) -> Listing | str:
    """List `rel` for the tree, or return the reason it cannot be listed.

    A permission error becomes "permission denied" so the node says why it is
    empty instead of looking empty; any other failure, expected or not (a
    task can make a listing raise), becomes its message too. A secrets dir
    lists its names and sizes (``AllocDir.list`` gives no more); its files
    stay locked.
    """
    try:
        return list_dir(alloc, rel)
    except Exception as exc:
        return failure_text(exc, f"listing {alloc.alloc_dir}/{rel}")


class Node:
    """One row of the tree with an identity: the root, an allocation, a
    directory, a rotation set, a file. File nodes are made on demand (for
    the cursor, for tests); directories that were opened are kept."""

    def __init__(self, tree: AllocTree, kind: str, parent: Node | None, *,
                 alloc: AllocDir | None = None, rel: str = "", name: str = "",
                 entry: int | None = None, set_name: str | None = None) -> None:
        self._tree = tree
        self.kind = kind
        self.parent = parent
        self.alloc = alloc
        self.rel = rel
        self.name = name
        self.entry = entry
        self.set_name = set_name
        self.expanded = False
        self.loaded = kind == SET  # a set's files are in its directory's listing
        self.listing: Listing | None = None
        self.error: str | None = None
        self._strong: dict[Any, Node] = {}
        self._weak: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._cache: dict[str, tuple[int, Any]] = {}

    # -- the Tree-like API --------------------------------------------------

    @property
    def data(self) -> Node:
        """The node itself (it is its own data, as a Textual TreeNode's data)."""
        return self

    @property
    def key(self) -> Key | None:
        """The node's identity across refreshes, or None for the root."""
        if self.alloc is None:
            return None
        return (self.alloc.alloc_dir, self.rel)

    @property
    def open_rel(self) -> str:
        """The path the viewer opens for this node (a set: its first file)."""
        if self.kind == SET and self.parent is not None and self.parent.listing is not None:
            members = self.parent.listing.members(self.set_name or "")
            if members:
                return _join(self.parent.rel, self.parent.listing.names[members[0]])
        return self.rel

    @property
    def owner_listing(self) -> Listing | None:
        """The listing this node's entry is in (a set's files: the directory's)."""
        parent = self.parent
        if parent is None:
            return None
        if parent.kind == SET:
            parent = parent.parent
        return parent.listing if parent is not None else None

    @property
    def info(self) -> AllocFileInfo | None:
        """What `AllocDir.list` said about the entry (None for the root and allocs)."""
        listing = self.owner_listing
        if self.entry is None or listing is None or self.entry >= len(listing):
            return None
        return listing.info(self.entry)

    @property
    def is_expanded(self) -> bool:
        return self.expanded

    @property
    def allow_expand(self) -> bool:
        return self.kind in CONTAINERS and self.kind != ROOT

    @property
    def label(self) -> Text:
        """The label as shown (without the indentation and the arrow)."""
        return self._tree.label_of(self)

    @property
    def children(self) -> list[Node]:
        """The child rows that have identity, in the order shown (made on demand)."""
        if self.kind not in CONTAINERS:
            return []
        items = self.items()
        if not items:
            note = self.note() if self.expanded else None
            return [] if note is None else [_Note(self._tree, self, *note)]
        return [self.child(item) for item in items]

    @property
    def line(self) -> int:
        """The row of the node, or -1 when it is not shown."""
        row = self._tree.row_of(self)
        return -1 if row is None else row

    def expand(self) -> None:
        self._tree.expand(self)

    def collapse(self) -> None:
        self._tree.collapse(self)

    def toggle(self) -> None:
        if self.expanded:
            self.collapse()
        else:
            self.expand()

    def __repr__(self) -> str:
        return f"<Node {self.kind} {self.rel!r}>"

    # -- structure ----------------------------------------------------------

    def _cached(self, name: str, make):
        version = self._tree._version
        hit = self._cache.get(name)
        if hit is not None and hit[0] == version:
            return hit[1]
        value = make()
        self._cache[name] = (version, value)
        return value

    def items(self) -> list:
        """What this container shows, in order: allocation nodes, then stray
        indices, then notes (root); entry indices or set names (directories),
        member indices (sets)."""
        tree = self._tree
        if self.kind == ROOT:
            return self._cached("items", tree._root_items)
        if self.kind == SET:
            listing = self.owner_listing
            if listing is None:
                return []
            return self._cached("items", lambda: listing.members(
                self.set_name or "", tree.order_by))
        listing = self.listing
        if listing is None:
            return []
        forced = ()
        if tree.filter_text:  # an expanded directory stays visible, so its matches show
            forced = tuple(sorted(
                ((sub.set_name if sub.kind == SET else sub.entry, id(sub))
                 for sub in self._strong.values() if sub.expanded),
                key=lambda pair: str(pair[0])))
        signature = (id(listing), tree.order_by, tree.filter_text, forced)
        hit = self._cache.get("items")
        if hit is not None and hit[0] == signature:
            return hit[1]
        items = listing.order(tree.order_by, tree.filter_text)
        if forced:
            shown = set(items)
            items.extend(item for item, _ in forced if item not in shown)
        self._cache["items"] = (signature, items)
        return items

    def note(self) -> tuple[str, str] | None:
        """The text shown in place of children: loading, an error, empty."""
        if self.kind == ROOT:
            return None if self._tree._loaded_root else ("loading…", "dim italic")
        if self.kind == SET:
            return None
        if not self.loaded:
            return ("loading…", "dim italic")
        if self.error is not None:
            return (self.error, "red")
        if self.listing is not None and len(self.listing) == 0:
            return ("empty", "dim italic")
        if self._tree.filter_text:
            return ("no name matches the filter", "dim italic")
        return ("empty", "dim italic")

    def child(self, item) -> Node:
        """The node of one of :meth:`items`."""
        if isinstance(item, Node):
            return item
        cache_key = item
        node = self._strong.get(cache_key) or self._weak.get(cache_key)
        if node is not None:
            return node
        tree = self._tree
        if self.kind == ROOT:  # a directory that is not an allocation
            node = Node(tree, STRAY, self, alloc=tree._strays.fs(item), rel="",
                        name=tree._strays.names[item], entry=item)
        elif self.kind == SET:
            name = self.owner_listing.names[item]
            node = Node(tree, FILE, self, alloc=self.alloc, rel=_join(self.parent.rel, name),
                        name=name, entry=item)
        elif isinstance(item, str):  # a rotation set
            node = Node(tree, SET, self, alloc=self.alloc, rel=_join(self.rel, item + ".*"),
                        name=item, set_name=item)
        else:
            listing = self.listing
            name = listing.names[item]
            kind_code = listing.kinds[item]
            rel = _join(self.rel, name)
            if kind_code == K_DIR:
                kind = SECRET if is_secret_dir(rel) and item not in listing.targets else DIR
            elif self.kind == SECRET:
                kind = SECRET_FILE
            elif kind_code == K_SPECIAL:
                kind = SPECIAL
            else:
                kind = FILE
            node = Node(tree, kind, self, alloc=self.alloc, rel=rel, name=name, entry=item)
        self._weak[cache_key] = node
        return node

    def keep(self, node: Node) -> None:
        """Hold on to a child that has state (expanded, listed)."""
        item = node.set_name if node.kind == SET else node.entry
        if item is not None:
            self._strong[item] = node

    def subnodes(self) -> list[tuple[int, Node]]:
        """Expanded child containers with their position in :meth:`items`, in order."""
        def make():
            items = self.items()
            out = []
            if self.kind == ROOT:
                for pos, item in enumerate(items):
                    if not isinstance(item, Node):
                        break  # the strays: their expanded nodes are kept below
                    if item.expanded:
                        out.append((pos, item))
            for item, node in self._strong.items():
                if node.expanded and node.kind in CONTAINERS:
                    try:
                        out.append((items.index(item), node))
                    except ValueError:
                        pass
            out.sort(key=lambda pair: pair[0])
            return out

        return self._cached("subnodes", make)

    def count(self) -> int:
        """Rows below this node (0 when collapsed)."""
        if not self.expanded and self.kind != ROOT:
            return 0

        def make():
            items = self.items()
            if not items:
                return 0 if self.note() is None else 1
            return len(items) + sum(node.count() for _, node in self.subnodes())

        return self._cached("count", make)

    def position_of(self, node: Node) -> int | None:
        """Where a child is in :meth:`items` (None if not shown)."""
        items = self.items()
        if node.kind == NOTE and self.kind != ROOT:
            return 0 if not items else None
        if self.kind == ROOT:
            item = node.entry if node.kind == STRAY else node
        else:
            item = node.set_name if node.kind == SET else node.entry
        try:
            return items.index(item)
        except ValueError:
            return None


class _Note(Node):
    """A row that is only text ("loading…", "permission denied", "empty")."""

    def __init__(self, tree: AllocTree, parent: Node, text: str, style: str) -> None:
        super().__init__(tree, NOTE, parent, alloc=None)
        self.text, self.style = text, style

    @property
    def key(self) -> Key | None:
        return None

    def __eq__(self, other) -> bool:
        return isinstance(other, _Note) and other.parent is self.parent and other.text == self.text

    def __hash__(self) -> int:
        return hash((id(self.parent), self.text))


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
        Binding("space", "toggle_node", "Expand / collapse", show=False),
        Binding("j,down", "cursor_down", "Cursor down", show=False),
        Binding("k,up", "cursor_up", "Cursor up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("g,home", "first", "First entry", show=False),
        Binding("G,end", "last", "Last entry", show=False),
        Binding("left", "collapse_or_parent", "Collapse / to the parent", show=False),
        Binding("right", "expand_node", "Expand", show=False),
        Binding("ampersand", "filter_names", "Filter names", key_display="&"),
        Binding("o", "toggle_order", "Order: name / newest"),
    ]

    cursor_line: var[int] = var(0, always_update=True)
    order_by: var[str] = var(NAME)
    filter_text: var[str] = var("")

    class FileSelected(Message):
        """`enter` on a file (or a rotation set): the app opens it in the viewer."""

        def __init__(self, alloc: AllocDir, rel: str, info: AllocFileInfo | None) -> None:
            super().__init__()
            self.alloc = alloc
            self.rel = rel
            self.info = info

    class Loaded(Message):
        """A directory (or the root) finished loading; used by tests and refresh."""

        def __init__(self, key: Key | None) -> None:
            super().__init__()
            self.key = key

    class FilterRequested(Message):
        """`&` in the tree: the app shows the name filter."""

    def __init__(self, root: Root, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alloc_root = root
        self.allocs: list[AllocDir] = []
        self._version = 0
        self._alloc_nodes: list[Node] = []
        self._root_notes: list[Node] = []
        self._loaded_root = False
        self.root = Node(self, ROOT, None, name=root.path)
        self.root.expanded = True
        self._strays = StrayDirs(root.path)
        self._want_expanded: set[Key] = set()
        self._want_cursor: Key | None = None
        self._cursor_key: Key | None = None
        self._watching = TreeWatch()
        self.log_times = self._watching.log_times

    # ----------------------------------------------------------- lifecycle

    def on_mount(self) -> None:
        """Start listing the allocations; tick the ages; pick up changes."""
        self.reload()
        self.set_interval(1 / REFRESH_PER_SECOND, self._take_changes)
        self.set_interval(AGE_TICK, self._tick)

    def on_unmount(self) -> None:
        """Remove every watch (no thread or inotify watch outlives the tree)."""
        self._watching.close()

    def _deliver(self, callback, *args) -> None:
        """From a worker: run ``callback(*args)`` on the event loop (nothing
        once the app is gone)."""
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:
            pass  # the app is gone

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """The last net under the workers' own handling: a worker that still
        raised is said, never the end of the app, never silent."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            event.stop()
            self.notify(f"{event.worker.name}: {failure_text(event.worker.error)}",
                        severity="error", markup=False)

    def _changed(self) -> None:
        """The shape of the tree changed: recount and redraw."""
        self._version += 1
        total = 1 + self.root.count()
        self.virtual_size = Size(self.size.width, total)
        if self._cursor_key is not None:
            node = self.find(self._cursor_key)
            row = self.row_of(node) if node is not None else None
            if row is not None:
                self.cursor_line = row
        if self.cursor_line >= total:
            self.cursor_line = total - 1
        self.refresh()

    # ----------------------------------------------------------- rows

    @property
    def row_count(self) -> int:
        """How many rows the tree has now."""
        return 1 + self.root.count()

    def node_at(self, row: int) -> tuple[Node, int] | None:
        """The node at a row and its depth."""
        if row < 0:
            return None
        if row == 0:
            return self.root, 0
        return self._locate(self.root, row - 1, 1)

    def _locate(self, node: Node, y: int, depth: int) -> tuple[Node, int] | None:
        items = node.items()
        if not items:
            note = node.note()
            return (_Note(self, node, *note), depth) if note is not None and y == 0 else None
        offset = 0
        for pos, sub in node.subnodes():
            start = pos + offset
            if y < start:
                break
            if y == start:
                return sub, depth
            below = sub.count()
            if y <= start + below:
                return self._locate(sub, y - start - 1, depth + 1)
            offset += below
        index = y - offset
        if 0 <= index < len(items):
            return node.child(items[index]), depth
        return None

    def row_of(self, node: Node | None) -> int | None:
        """The row a node is on, or None when it is not shown."""
        if node is None:
            return None
        if node is self.root:
            return 0
        parent = node.parent
        if parent is None or not (parent.expanded or parent is self.root):
            return None
        above = self.row_of(parent)
        if above is None:
            return None
        pos = parent.position_of(node)
        if pos is None:
            return None
        extra = sum(sub.count() for p, sub in parent.subnodes() if p < pos)
        return above + 1 + pos + extra

    def find(self, key: Key) -> Node | None:
        """The node with this key, if its directories are listed."""
        alloc_dir, rel = key
        node = self._top_node(alloc_dir)
        if node is None or not rel:
            return node
        parts = rel.split("/")
        for depth, part in enumerate(parts):
            node = self._child_named(node, part, last=depth == len(parts) - 1)
            if node is None:
                return None
        return node

    def _top_node(self, alloc_dir: str) -> Node | None:
        """The node of an allocation, or of a directory of the root that is not one."""
        node = next((a for a in self._alloc_nodes if a.alloc.alloc_dir == alloc_dir), None)
        if node is None and os.path.dirname(alloc_dir) == self._strays.root:
            index = self._strays.find(os.path.basename(alloc_dir))
            if index is not None:
                node = self.root.child(index)
        return node

    def _root_items(self) -> list:
        """The root's rows: allocations, the strays' indices, notes. The
        strays are a virtual list (indices, nodes made when drawn), as many
        as a root holds."""
        allocs = [a for a in self._alloc_nodes if self._matches(a.name) or a.expanded]
        names = self._strays.names
        if self.filter_text:
            kept = self.root._strong
            strays = [i for i, name in enumerate(names)
                      if self._matches(name) or (i in kept and kept[i].expanded)]
        else:
            strays = list(range(len(names)))
        return allocs + strays + self._root_notes

    def _child_named(self, node: Node, name: str, last: bool) -> Node | None:
        listing = node.listing if node.kind != SET else node.owner_listing
        if listing is None:
            return None
        if name.endswith(".*") and name[:-2] in listing.sets:
            return node.child(name[:-2])
        index = listing.find(name)
        if index is None:
            return None
        set_name = listing.set_of(index)
        if set_name is not None and node.kind != SET:
            return node.child(set_name).child(index)
        return node.child(index)

    # ----------------------------------------------------------- drawing

    def label_of(self, node: Node, now: datetime | None = None) -> Text:
        """The label of a node: name, then size and age, dimmed (see
        :func:`~inspector.tui.tree_labels.node_label`)."""
        return node_label(node, now or datetime.now(timezone.utc), self.log_times)

    def render_line(self, y: int) -> Strip:
        """One row: indentation, an arrow for what expands, the label."""
        width = self.size.width
        row = self.scroll_offset.y + y
        base = self.rich_style
        found = self.node_at(row) if row < self.row_count else None
        if found is None:
            return Strip.blank(width, base)
        node, depth = found
        text = Text(no_wrap=True, end="")
        text.append("  " * max(0, depth - 1) if depth else "")
        if node.kind in CONTAINERS and node.kind != ROOT:
            text.append("▾ " if node.expanded else "▸ ", style="dim")
        elif node.kind != ROOT:
            text.append("  ")
        text.append_text(self.label_of(node))
        text.truncate(width, overflow="ellipsis", pad=True)
        style = base
        if row == self.cursor_line:
            style = base + self.get_component_rich_style("alloc-tree--cursor")
        segments = list(text.render(self.app.console, end=""))
        strip = Strip(list(Segment.apply_style(segments, style)))
        return strip.crop_extend(0, width, style)

    def get_label_width(self, node: Node) -> int:
        """The label width without rendering it."""
        return self.label_of(node).cell_len + 2

    def watch_cursor_line(self, previous: int, line: int) -> None:
        """Redraw the old and new cursor rows and keep the cursor in view."""
        total = self.row_count
        if line >= total or line < 0:
            self.cursor_line = max(0, min(line, total - 1))
            return
        found = self.node_at(line)
        self._cursor_key = found[0].key if found is not None else None
        self.refresh()
        self.scroll_to_region(Region(0, line, 1, 1), animate=False, force=True,
                              x_axis=False, immediate=True)

    def on_resize(self, event: events.Resize) -> None:
        """Keep the virtual size in step with the width."""
        self.virtual_size = Size(event.size.width, self.row_count)

    # ----------------------------------------------------------- keys

    @property
    def cursor_node(self) -> Node | None:
        """The node under the cursor."""
        found = self.node_at(self.cursor_line)
        return found[0] if found is not None else None

    def move_cursor(self, node: Node | None) -> None:
        """Put the cursor on `node` (when it is shown)."""
        row = self.row_of(node)
        if row is not None:
            self.cursor_line = row

    def action_cursor_down(self) -> None:
        """One row down."""
        if self.cursor_line < self.row_count - 1:
            self.cursor_line += 1

    def action_cursor_up(self) -> None:
        """One row up."""
        if self.cursor_line > 0:
            self.cursor_line -= 1

    def action_page_down(self) -> None:
        """One screen down."""
        self.cursor_line = min(self.row_count - 1, self.cursor_line + max(1, self.size.height - 1))

    def action_page_up(self) -> None:
        """One screen up."""
        self.cursor_line = max(0, self.cursor_line - max(1, self.size.height - 1))

    def action_first(self) -> None:
        """The first row."""
        self.cursor_line = 0

    def action_last(self) -> None:
        """The last row (of the biggest directory, if it is open)."""
        self.cursor_line = self.row_count - 1

    def action_select_cursor(self) -> None:
        """Open a file or a rotation set; expand or collapse a directory."""
        node = self.cursor_node
        if node is None:
            return
        if node.kind in (ALLOC, STRAY, DIR, SECRET):
            node.toggle()
        elif node.kind in (FILE, SET, SECRET_FILE) and node.alloc is not None:
            self.post_message(self.FileSelected(node.alloc, node.open_rel, node.info))
        elif node.kind == SPECIAL:
            self.notify(
                f"{printable(node.rel)}: not a regular file", severity="warning", markup=False
            )

    def action_toggle_node(self) -> None:
        """Expand or collapse the node under the cursor."""
        node = self.cursor_node
        if node is not None and node.allow_expand:
            node.toggle()

    def action_expand_node(self) -> None:
        """Expand the node under the cursor."""
        node = self.cursor_node
        if node is not None and node.allow_expand and not node.expanded:
            node.expand()

    def action_collapse_or_parent(self) -> None:
        """Collapse the node under the cursor, or go to its parent."""
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.expanded:
            node.collapse()
        elif node.parent is not None:
            self.move_cursor(node.parent if not isinstance(node, _Note) else node.parent)

    def action_toggle_order(self) -> None:
        """Order by name (natural) or newest first."""
        self.order_by = MTIME if self.order_by == NAME else NAME
        self.notify("ordered by " + ("name" if self.order_by == NAME else "time, newest first"),
                    markup=False, timeout=2)

    def action_filter_names(self) -> None:
        """Ask the app for the name filter."""
        self.post_message(self.FilterRequested())

    def watch_order_by(self) -> None:
        """Re-sort every listed directory."""
        self._changed()

    def watch_filter_text(self) -> None:
        """Narrow every listed directory to the matching names."""
        self._changed()

    def _matches(self, name: str) -> bool:
        text = self.filter_text
        if not text:
            return True
        return text in name if text != text.lower() else text in name.lower()

    async def _on_click(self, event: events.Click) -> None:
        row = self.scroll_offset.y + event.y
        if 0 <= row < self.row_count:
            if row == self.cursor_line:
                self.action_select_cursor()
            else:
                self.cursor_line = row

    # ----------------------------------------------------------- expanding

    def expand(self, node: Node) -> None:
        """Expand a container, listing it in a worker the first time."""
        if not node.allow_expand or node.expanded:
            return
        node.expanded = True
        if node.parent is not None:
            node.parent.keep(node)
        if node.kind != SET and not node.loaded:
            self._list(node)
        elif node.kind != SET:
            self._watch(node)
            self._list(node)  # shown at once, checked again in the background
        self._changed()

    def collapse(self, node: Node) -> None:
        """Collapse a container; stop watching it and what is open below it."""
        if not node.expanded:
            return
        cursor = self.cursor_node
        inside = cursor is not None and self._is_below(cursor, node)
        node.expanded = False
        self._unwatch_below(node)
        if node.listing is not None and len(node.listing) > DROP_LISTING_OVER:
            node.listing, node.loaded = None, False
            node._strong.clear()
        self._changed()
        if inside:
            self.move_cursor(node)

    @staticmethod
    def _is_below(node: Node, top: Node) -> bool:
        while node.parent is not None:
            node = node.parent
            if node is top:
                return True
        return False

    def _unwatch_below(self, node: Node) -> None:
        if node.key is not None:
            self._watching.unwatch(node.key)
        for sub in list(node._strong.values()):
            self._unwatch_below(sub)

    def _list(self, node: Node) -> None:
        if self._watching.start_listing(node.key):
            self._list_dir(node, node.alloc, node.rel, time.monotonic())

    @work(thread=True, group="list", exit_on_error=False)
    def _list_dir(self, node: Node, alloc: AllocDir, rel: str, asked: float) -> None:
        started = time.monotonic()
        try:
            result = load_dir(alloc, rel)
        except Exception as exc:  # load_dir says what it can; anything else, on the node
            result = failure_text(exc, f"listing {rel}")
        self._deliver(self._populate, node, result, time.monotonic() - started)

    def _populate(self, node: Node, result: Listing | str, took: float) -> None:
        key = node.key
        self._watching.listed(key, took)  # listing again is throttled by how long it took
        if isinstance(result, str):
            node.listing, node.error = None, result
        else:
            self._adopt(node, result)
            node.error = None
        node.loaded = True
        if node.expanded:
            self._watch(node)
        self._changed()
        self._apply_wants(node)
        self.post_message(self.Loaded(key))

    def _adopt(self, node: Node, listing: Listing) -> None:
        """Take a new listing, keeping what is open below (by name)."""
        old = node.listing
        node.listing = listing
        if old is None:
            node._strong.clear()
            node._weak = weakref.WeakValueDictionary()
            return
        kept: dict[Any, Node] = {}
        for sub in node._strong.values():
            if sub.kind == SET:
                if sub.set_name in listing.sets:
                    kept[sub.set_name] = sub
                continue
            index = listing.find(sub.name)
            if index is not None:
                sub.entry = index
                kept[index] = sub
            else:
                self._unwatch_below(sub)
        node._strong = kept
        node._weak = weakref.WeakValueDictionary()

    # ----------------------------------------------------------- watching

    def _watch(self, node: Node) -> None:
        if node.alloc is None or node.kind in (SET, SECRET) or not node.loaded:
            return
        if node.error is not None:
            return
        self._watching.watch(node.key, node.alloc.alloc_dir, node.rel)

    def _take_changes(self) -> None:
        """Four times a second: list again the watched directories that
        changed; redraw when a log was written."""
        due, moved, notice = self._watching.poll()
        if notice is not None:
            self.notify(notice, severity="warning", markup=False)
        if moved:
            self.refresh()
        for key in due:
            node = self.find(key)
            if node is not None and node.expanded and node.loaded:
                self._list(node)

    def _tick(self) -> None:
        """Ages move on: redraw; look at the logs dirs that are due a look
        (events lost, replaced, polled). Nothing else: log writes come as
        events."""
        self.refresh()
        if self.log_times.due():
            self._look_at_logs()

    @work(thread=True, exclusive=True, group="log-times", exit_on_error=False)
    def _look_at_logs(self) -> None:
        try:
            self.log_times.look_again()
        except Exception as exc:  # each allocation's own failure is on its node
            self._deliver(self._say, f"looking at the logs: {failure_text(exc)}")
            return
        self._deliver(self.refresh)

    def _say(self, text: str) -> None:
        self.notify(text, severity="error", markup=False)

    @property
    def watched(self) -> set:
        """The keys of the directories being watched."""
        return self._watching.watched()

    # ----------------------------------------------------------- loading

    def reload(self) -> None:
        """Re-read the allocations and every open directory, keeping what is expanded."""
        self._want_expanded |= self._expanded_keys()
        cursor = self.cursor_node
        if cursor is not None and cursor.key:
            self._want_cursor = cursor.key
        self._discover()

    def reveal(self, alloc: AllocDir, rel: str) -> None:
        """Expand the directories down to `rel` and put the cursor on it once loaded."""
        parts = [p for p in rel.split("/") if p]
        for depth in range(len(parts)):
            self._want_expanded.add((alloc.alloc_dir, "/".join(parts[:depth])))
        self._want_cursor = (alloc.alloc_dir, "/".join(parts))
        for node in self._alloc_nodes:
            self._apply_wants(node)

    def _expanded_keys(self) -> set[Key]:
        keys = set()

        def walk(nodes) -> None:
            for sub in nodes:
                if sub.expanded and sub.key:
                    keys.add(sub.key)
                    walk(list(sub._strong.values()))

        walk(self._alloc_nodes + list(self.root._strong.values()))
        return keys

    def current_alloc(self) -> AllocDir | None:
        """The allocation of the node under the cursor, if any."""
        node = self.cursor_node
        while node is not None:
            if node.alloc is not None:
                return node.alloc
            node = node.parent
        return None

    @work(thread=True, exclusive=True, group="discover", exit_on_error=False)
    def _discover(self) -> None:
        try:
            found = self.alloc_root.discover()
        except Exception as exc:  # said as the root's note
            found = Discovery(errors={os.path.basename(self.alloc_root.path) or "/":
                                      failure_text(exc, "discovering the allocations")})
        try:
            self.log_times.track(found.allocs)  # bounded: see LogTimes
        except Exception as exc:  # each allocation's own failure is on its node
            self._deliver(self._say, f"looking at the logs: {failure_text(exc)}")
        self._deliver(self._show_allocs, found)

    def _show_allocs(self, found: Discovery) -> None:
        for key in self.watched:
            self._watching.unwatch(key)
        self.allocs = found.allocs
        self._alloc_nodes = [
            Node(self, ALLOC, self.root, alloc=alloc, rel="", name=alloc.alloc_id)
            for alloc in found.allocs
        ]
        self._strays = found.strays
        self.root._strong.clear()
        self.root._weak = weakref.WeakValueDictionary()
        self._root_notes = [_Note(self, self.root, f"{alloc_id}: {reason}", "red")
                            for alloc_id, reason in found.errors.items()]
        if not found.allocs and not found.errors:
            self._root_notes.append(_Note(self, self.root, "no allocations", "dim italic"))
        self._loaded_root = True
        if len(found.allocs) == 1:
            self._want_expanded.add((found.allocs[0].alloc_dir, ""))
        self._changed()
        for node in self._alloc_nodes:
            self._apply_wants(node)
        for alloc_dir in {key[0] for key in self._want_expanded}:
            if os.path.dirname(alloc_dir) == self._strays.root:
                node = self._top_node(alloc_dir)
                if node is not None:
                    self._apply_wants(node)
        self.post_message(self.Loaded(None))

    def _apply_wants(self, node: Node) -> None:
        """Expand what was asked to be (reveal, reload) below `node`, once listed."""
        if node.key is None:
            return
        if node.key in self._want_expanded and node.allow_expand:
            self._want_expanded.discard(node.key)
            node.expand()
        if node.key == self._want_cursor:
            self._want_cursor = None
            self.move_cursor(node)
        if not node.loaded or node.listing is None:
            return
        wants = {k for k in self._want_expanded if k[0] == node.alloc.alloc_dir}
        if self._want_cursor is not None and self._want_cursor[0] == node.alloc.alloc_dir:
            wants.add(self._want_cursor)
        prefix = node.rel + "/" if node.rel else ""
        for key in wants:
            rel = key[1]
            if not rel.startswith(prefix) or rel == node.rel:
                continue
            name = rel[len(prefix):].split("/")[0]
            child = self._child_named(node, name, last=True)
            if child is None:
                continue
            if child.kind == FILE and child.parent is not node:  # a member of a set
                set_node = child.parent
                set_node.expand()
                self._apply_wants(child)
                continue
            self._apply_wants(child)

