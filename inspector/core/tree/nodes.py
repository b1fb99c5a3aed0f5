"""The nodes of the tree model: the root, an allocation, a directory of the
root that is not an allocation, a directory, a file, a special file, a
locked secret (directory or file), a rotation set, a note.

A node is identified across refreshes by its key, ``(alloc dir, rel)``.
Directories that were opened are kept (with their :class:`Listing`); the
node of any other entry is made when something asks for it (a drawn row,
the cursor, a test) and held weakly, so a directory of 100,000 entries
costs its listing, not 100,000 objects. Where a node sits among the rows is
:mod:`~inspector.core.tree.rows`' business.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from allocdir.paths import is_protected

from .listing import K_DIR, K_SPECIAL, Listing

if TYPE_CHECKING:
    from .labels import Label
    from .model import TreeModel

ROOT, ALLOC, STRAY, DIR, FILE, SPECIAL, SECRET, SECRET_FILE, SET, NOTE, MERGED = (
    "root", "alloc", "stray", "dir", "file", "special", "secret", "secret-file", "set", "note",
    "merged")
"""Node kinds (a STRAY is a directory of the client root that is not an
allocation; a SECRET is a directory in a task's ``secrets/``, or it itself;
MERGED is the entry of an allocation's or a task's logs as one stream,
:mod:`~inspector.core.tree.merging`)."""
CONTAINERS = (ROOT, ALLOC, STRAY, DIR, SECRET, SET)
"""The kinds that have children."""
OPENABLE = (FILE, SET, SECRET_FILE)
"""The kinds a viewer opens (a secret shows the library's refusal)."""
MARKABLE = (FILE, SET)
"""The kinds marked for merging (a log: a file, or a rotation set as one log)."""

Key = tuple[str, str]
"""A node's identity across refreshes: (alloc dir path, rel path)."""


def join(rel: str, name: str) -> str:
    """``rel/name`` (``name`` at the top)."""
    return f"{rel}/{name}" if rel else name


class Node:
    """One row of the tree with an identity (see the module docstring)."""

    def __init__(self, model: TreeModel, kind: str, parent: Node | None, *, alloc=None,
                 rel: str = "", name: str = "", entry: int | None = None,
                 set_name: str | None = None) -> None:
        self.model = model
        self.kind = kind
        self.parent = parent
        self.alloc = alloc
        """The allocation (an ``AllocDirFS``: an ``AllocDir`` or a ``NonAllocDir``)."""
        self.rel = rel
        self.name = name
        self.entry = entry
        self.set_name = set_name
        self.expanded = False
        self.loaded = kind == SET  # a set's files are in its directory's listing
        self.listing: Listing | None = None
        self.error: str | None = None
        self.merged: Node | None = None
        """An allocation's or a task's entry of its logs as one stream (made when shown)."""
        self._strong: dict[Any, Node] = {}
        self._weak: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._cache: dict[str, tuple[Any, Any]] = {}

    def __repr__(self) -> str:
        return f"<Node {self.kind} {self.rel!r}>"

    @property
    def data(self) -> Node:
        """The node itself (as a Textual ``TreeNode``'s data)."""
        return self

    @property
    def key(self) -> Key | None:
        """The node's identity across refreshes, or None for the root and notes."""
        if self.alloc is None:
            return None
        return (self.alloc.alloc_dir, self.rel)

    @property
    def open_rel(self) -> str:
        """The path a viewer opens for this node (a set: its first file)."""
        if self.kind == SET and self.parent is not None and self.parent.listing is not None:
            members = self.parent.listing.members(self.set_name or "")
            if members:
                return join(self.parent.rel, self.parent.listing.names[members[0]])
        return self.rel

    @property
    def owner_listing(self) -> Listing | None:
        """The listing this node's entry is in (a set's files: the directory's)."""
        parent = self.parent
        if parent is not None and parent.kind == SET:
            parent = parent.parent
        return parent.listing if parent is not None else None

    @property
    def info(self):
        """What ``AllocDir.list`` said about the entry (None for the root and allocs)."""
        listing = self.owner_listing
        if self.entry is None or listing is None or self.entry >= len(listing):
            return None
        return listing.info(self.entry)

    @property
    def is_expanded(self) -> bool:
        """Whether its children are shown."""
        return self.expanded

    @property
    def allow_expand(self) -> bool:
        """Whether it has children to show (the root is always expanded)."""
        return self.kind in CONTAINERS and self.kind != ROOT

    @property
    def label(self) -> Label:
        """What the row says (``str()`` of it is the plain text)."""
        return self.model.label_of(self)

    @property
    def children(self) -> list[Node]:
        """The child rows, in the order shown (nodes made on demand)."""
        if self.kind not in CONTAINERS:
            return []
        shown = self.items()
        if not shown:
            note = self.note() if self.expanded else None
            return [] if note is None else [Note(self.model, self, *note)]
        return [self.child(item) for item in shown]

    @property
    def line(self) -> int:
        """The row of the node, or -1 when it is not shown."""
        row = self.model.row_of(self)
        return -1 if row is None else row

    def expand(self) -> None:
        """Show the children (listed in the background the first time)."""
        self.model.expand(self)

    def collapse(self) -> None:
        """Hide the children."""
        self.model.collapse(self)

    def toggle(self) -> None:
        """Expand or collapse."""
        self.model.toggle(self)

    def items(self) -> list:
        """What this container shows, in order: allocation nodes, then the
        indices of the root's other directories, then notes (the root);
        entry indices or set names (a directory); member indices (a set)."""
        return self.model.items_of(self)

    def note(self) -> tuple[str, str] | None:
        """(text, tone) shown in place of children: loading, an error, empty."""
        return self.model.note_of(self)

    # -- children -------------------------------------------------------------

    def child(self, item) -> Node:
        """The node of one of :meth:`items` (made, or found again)."""
        if isinstance(item, Node):
            return item
        node = self._strong.get(item) or self._weak.get(item)
        if node is None:
            node = self._make_child(item)
            self._weak[item] = node
        return node

    def _make_child(self, item) -> Node:
        model = self.model
        if self.kind == ROOT:  # a directory of the root that is not an allocation
            strays = model.strays
            return Node(model, STRAY, self, alloc=strays.fs(item), name=strays.names[item],
                        entry=item)
        if self.kind == SET:
            name = self.owner_listing.names[item]
            return Node(model, FILE, self, alloc=self.alloc, rel=join(self.parent.rel, name),
                        name=name, entry=item)
        if isinstance(item, str):  # a rotation set
            return Node(model, SET, self, alloc=self.alloc, rel=join(self.rel, item + ".*"),
                        name=item, set_name=item)
        name = self.listing.names[item]
        rel = join(self.rel, name)
        return Node(model, _entry_kind(self.listing.kinds[item], rel), self, alloc=self.alloc,
                    rel=rel, name=name, entry=item)

    def keep(self, node: Node) -> None:
        """Hold on to a child that has state (expanded, listed)."""
        item = node.set_name if node.kind == SET else node.entry
        if item is not None:
            self._strong[item] = node

    def kept(self) -> list[Node]:
        """The children held on to (those that were expanded)."""
        return list(self._strong.values())

    def forget_children(self) -> None:
        """Drop every child node (a new listing numbers entries anew)."""
        self._strong.clear()
        self._weak = weakref.WeakValueDictionary()


def _entry_kind(code: int, rel: str) -> str:
    """The node kind of a listed entry: locked where the library's secret
    rule (``allocdir.paths.is_protected``) says reading is refused."""
    if code == K_DIR:
        return SECRET if is_protected(rel) else DIR
    if is_protected(rel):
        return SECRET_FILE
    return SPECIAL if code == K_SPECIAL else FILE


class Note(Node):
    """A row that is only text ("loading…", "permission denied", "empty");
    ``tone`` is "note" or "error"."""

    def __init__(self, model: TreeModel, parent: Node, text: str, tone: str) -> None:
        super().__init__(model, NOTE, parent)
        self.text, self.tone = text, tone

    def __eq__(self, other) -> bool:
        return isinstance(other, Note) and other.parent is self.parent and other.text == self.text

    def __hash__(self) -> int:
        return hash((id(self.parent), self.text))
