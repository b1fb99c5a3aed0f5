"""The tree of allocations as a model any front-end draws: the terminal's
``AllocTree`` and the notebook's ``Browser`` both hold one.

The root lists the allocations of a :class:`~inspector.core.roots.Root`
(and, after them, its directories that are not allocations, with the
reason); a container is listed the first time it is expanded, in a job the
front-end's executor runs (:mod:`~inspector.core.tree.loading`; the
executor is the reader session's kind, :mod:`inspector.core.session.jobs`),
and kept compact
(:mod:`~inspector.core.tree.listing`). Rows come from
:mod:`~inspector.core.tree.rows`, what they say from
:mod:`~inspector.core.tree.labels`, the cursor from
:mod:`~inspector.core.tree.cursor`. Orders and the name filter apply to
every listed directory. With watching on, every expanded directory is
watched and listed again when it changes (throttled,
:mod:`~inspector.core.tree.watching`), and each allocation's logs dir tells
its last write; the front-end calls :meth:`TreeModel.poll` and
:meth:`TreeModel.tick` on its timers.

Everything here runs where the model lives (the UI thread, the notebook's
queue): the jobs' work is the only thing that runs elsewhere, and it only
returns results. Whatever a job meets ends as a message on its node (or a
:class:`~inspector.core.tree.events.Notice`), never as an exception.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timezone

from ..roots import Root
from ..session.jobs import Executor
from ..strays import StrayDirs
from ..text import printable
from . import rows
from .cursor import Cursor
from .events import (
    Changed, CursorMoved, Marked, Notice, Open, OpenMerged, Redraw, Refused, Toggled,
)
from .filter import NameFilter
from .labels import Label, label_of
from .loading import Loader
from .merging import ENTRY_NAME, Marks, entry_of, merge, open_entry
from .nodes import MERGED, OPENABLE, ROOT, SECRET, SET, SPECIAL, Key, Node
from .order import NAME, ORDERS, Order, following
from .reveal import Wants
from .watching import TreeWatch

DROP_LISTING_OVER = 5000
"""A collapsed directory with more entries forgets its listing (it is listed again on expand)."""


class TreeModel:
    """Allocations and their directories as rows (see the module docstring).

    ``listener`` receives the :mod:`~inspector.core.tree.events` messages;
    ``watch=False`` leaves directories unwatched (a front-end without a
    timer refreshes by :meth:`reload`).
    """

    def __init__(self, root: Root, executor: Executor, *, watch: bool = True,
                 listener: Callable[[object], None] | None = None) -> None:
        self.alloc_root = root
        self.executor = executor
        self.listener = listener or (lambda event: None)
        self.version = 0
        """Moves on whenever the rows change (the row math caches by it)."""
        self.order: Order = NAME
        self.orders: tuple[Order, ...] = ORDERS
        self.name_filter = NameFilter()
        self.root = Node(self, ROOT, None, name=root.path)
        self.root.expanded = True
        self.allocs: list = []
        self.alloc_nodes: list[Node] = []
        self.strays = StrayDirs(root.path)
        self.root_notes: list[Node] = []
        self.discovered = False
        self.loading_text = "loading…"
        """What the root says until discovered (how far a snapshot tar's index is read)."""
        self.cursor = Cursor(self)
        self.watch = TreeWatch() if watch else None
        self.log_times = self.watch.log_times if self.watch is not None else None
        self.wants = Wants(self)
        self.loader = Loader(self)
        self.marks = Marks()
        """The logs marked for merging (:mod:`~inspector.core.tree.merging`)."""

    # -- rows -----------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """How many rows the tree has now (the root's included)."""
        return 1 + rows.count(self.root)

    def node_at(self, row: int) -> tuple[Node, int] | None:
        """The node on ``row`` and its depth."""
        return rows.node_at(self.root, row)

    def row_of(self, node: Node | None) -> int | None:
        """The row ``node`` is on, or None when it is not shown."""
        return rows.row_of(self.root, node)

    def items_of(self, node: Node) -> list:
        """What a container shows, in order (:func:`rows.items`)."""
        return rows.items(node)

    def note_of(self, node: Node) -> tuple[str, str] | None:
        """(text, tone) shown in place of a container's children."""
        return rows.note(node)

    def label_of(self, node: Node, now: datetime | None = None) -> Label:
        """What ``node``'s row says at ``now`` (ages move on)."""
        return label_of(node, now or datetime.now(timezone.utc), self.log_times)

    def find(self, key: Key) -> Node | None:
        """The node with this key, if its directories are listed."""
        alloc_dir, rel = key
        node = self.top_node(alloc_dir)
        if node is None or not rel:
            return node
        parts = rel.split("/")
        for part in parts:
            node = self.child_named(node, part)
            if node is None:
                return None
        return node

    def top_node(self, alloc_dir: str) -> Node | None:
        """The node of an allocation, or of a directory of the root that is not one."""
        node = next((a for a in self.alloc_nodes if a.alloc.alloc_dir == alloc_dir), None)
        if node is None and os.path.dirname(alloc_dir) == self.strays.root:
            index = self.strays.find(os.path.basename(alloc_dir))
            if index is not None:
                node = self.root.child(index)
        return node

    def child_named(self, node: Node, name: str) -> Node | None:
        """The child of ``node`` called ``name`` (a set: ``web.stdout.*``; a
        member of a set is found below its set), if listed."""
        if name == ENTRY_NAME:
            return entry_of(node)
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

    def current_alloc(self, node: Node | None = None):
        """The allocation of ``node`` (by default the cursor's), if any."""
        node = node if node is not None else self.cursor.node
        while node is not None:
            if node.alloc is not None:
                return node.alloc
            node = node.parent
        return None

    # -- what the user does ---------------------------------------------------

    def expand(self, node: Node) -> None:
        """Expand a container, listing it in a job the first time (and
        checking it again in the background the next times)."""
        if not node.allow_expand or node.expanded:
            return
        node.expanded = True
        if node.parent is not None:
            node.parent.keep(node)
        if node.kind != SET:
            if node.loaded:
                self.watch_node(node)
            self.loader.list(node)
        self.changed()

    def collapse(self, node: Node) -> None:
        """Collapse a container; stop watching it and what is open below it."""
        if not node.expanded or node.kind == ROOT:
            return
        cursor = self.cursor.node
        inside = cursor is not None and _is_below(cursor, node)
        node.expanded = False
        self.unwatch_below(node)
        if node.listing is not None and len(node.listing) > DROP_LISTING_OVER:
            node.listing, node.loaded = None, False
            node.forget_children()
        if inside:
            self.cursor.to(node)
        self.changed(moved=inside)

    def move_cursor(self, node: Node | None) -> bool:
        """Put the cursor on ``node``; False when it is not shown."""
        if not self.cursor.to(node):
            return False
        self.listener(CursorMoved(self.cursor.row))
        return True

    def toggle(self, node: Node) -> None:
        """Expand or collapse."""
        (self.collapse if node.expanded else self.expand)(node)

    def activate(self, node: Node | None):
        """Choosing ``node`` (enter, a click): open a file or a set
        (:class:`Open`), logs as one stream (:class:`OpenMerged`), expand or
        collapse a directory (:class:`Toggled`), say that a FIFO, socket or
        device is not opened (:class:`Refused`: its row already says which
        it is)."""
        if node is None:
            return None
        if node.kind == MERGED:
            return open_entry(node)
        if node.kind in OPENABLE and node.alloc is not None:
            return Open(node.alloc, node.open_rel, node.info)
        if node.allow_expand:
            self.toggle(node)
            return Toggled(node.expanded)
        if node.kind == SPECIAL:
            return Refused(f"{printable(node.rel)}: not a regular file")
        return None

    def toggle_mark(self, node: Node | None) -> Marked | Refused | None:
        """Mark a log (a file or a rotation set) for merging, or unmark it
        (:class:`Marked`); anything else is not marked (:class:`Refused`)."""
        if node is None:
            return None
        outcome = self.marks.toggle(node)
        if isinstance(outcome, Marked):
            self.listener(Redraw())
        return outcome

    def merge(self, node: Node | None = None) -> OpenMerged | Refused:
        """The marked logs as one stream (then unmarked); with none marked,
        the logs of the task or allocation ``node`` (by default the
        cursor's) is in."""
        had = len(self.marks)
        outcome = merge(self.marks, node if node is not None else self.cursor.node)
        if had:
            self.listener(Redraw())
        return outcome

    def set_order(self, order: Order) -> None:
        """Order every listed directory by ``order`` (by size: the expanded
        directories' subdirectories are measured, in jobs)."""
        self.order = order
        if order.name == "size":
            for node in self._expanded_nodes():
                self.loader.measure(node)
        self.changed()

    def _expanded_nodes(self) -> list[Node]:
        out: list[Node] = []

        def walk(nodes) -> None:
            for sub in nodes:
                if sub.expanded and sub.loaded:
                    out.append(sub)
                    walk(sub.kept())

        walk(self.alloc_nodes + self.root.kept())
        return out

    def next_order(self) -> Order:
        """The next of :attr:`orders` (``o``); returns it."""
        self.set_order(following(self.order, self.orders))
        return self.order

    def set_filter(self, text: str) -> None:
        """Narrow every listed directory to the names containing ``text``."""
        self.name_filter = NameFilter(text)
        self.changed()

    def start(self) -> None:
        """List the allocations (the first time)."""
        self.loader.discover()

    def reload(self) -> None:
        """Discover the allocations again and list every open directory
        again, keeping what is expanded and where the cursor is."""
        self.wants.keep_expanded(self._expanded_keys())
        node = self.cursor.node
        if node is not None and node.key:
            self.wants.cursor = node.key
        self.loader.discover()

    def reveal(self, alloc, rel: str, *, expand: bool = False, say_missing: bool = False) -> None:
        """Expand the directories down to ``rel`` of ``alloc`` (and ``rel``
        itself with ``expand``) and put the cursor on it, as they are listed.
        With ``say_missing``, a part not found is said (a :class:`Notice`)."""
        self.wants.reveal(alloc.alloc_dir, rel, expand=expand, say_missing=say_missing)
        for node in self.alloc_nodes + self.root.kept():
            self.wants.apply(node)

    # -- the front-end's timers ---------------------------------------------

    def poll(self) -> None:
        """Take what the watcher saw (a few times a second): list again the
        changed directories that are due; redraw when a log was written."""
        if self.watch is None:
            return
        due, moved, notice = self.watch.poll(self.loader.listing)
        if notice is not None:
            self.listener(Notice(notice, error=True))
        if moved:
            self.listener(Redraw())
        for key in due:
            node = self.find(key)
            if node is not None and node.expanded and node.loaded:
                self.loader.list(node)

    def tick(self) -> None:
        """Ages moved on: redraw; look at the logs dirs that are due a look
        (events lost, replaced, polled). Log writes themselves come as events."""
        self.listener(Redraw())
        self.loader.look_at_logs()

    def close(self) -> None:
        """Stop: no job delivers any more, every watch is removed."""
        self.loader.stop()
        if self.watch is not None:
            self.watch.close()

    @property
    def watched(self) -> set:
        """The keys of the directories being watched."""
        return self.watch.watched() if self.watch is not None else set()

    # -- watching -------------------------------------------------------------

    def watch_node(self, node: Node) -> None:
        """Watch an expanded directory (not a set, a locked one or a failed one)."""
        if self.watch is None or node.alloc is None or not node.loaded:
            return
        if node.kind == SET or node.error is not None or node.kind == SECRET:
            return
        self.watch.watch(node.key, node.alloc.alloc_dir, node.rel)

    def unwatch_below(self, node: Node) -> None:
        """Stop watching ``node`` and what was open below it."""
        if self.watch is None:
            return
        if node.key is not None:
            self.watch.unwatch(node.key)
        for sub in node.kept():
            self.unwatch_below(sub)

    def _expanded_keys(self) -> set[Key]:
        keys: set[Key] = set()

        def walk(nodes) -> None:
            for sub in nodes:
                if sub.expanded and sub.key:
                    keys.add(sub.key)
                    walk(sub.kept())

        walk(self.alloc_nodes + self.root.kept())
        return keys

    def changed(self, moved: bool = False) -> None:
        """The rows changed: recount (caches go), keep the cursor on its node."""
        self.version += 1
        if self.cursor.follow() or moved:
            self.listener(CursorMoved(self.cursor.row))
        self.listener(Changed())


def _is_below(node: Node, top: Node) -> bool:
    while node.parent is not None:
        node = node.parent
        if node is top:
            return True
    return False
