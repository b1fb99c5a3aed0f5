"""What the tree is asked to show before it is listed: directories to
expand and a node to put the cursor on, by key, applied as the listings
arrive. A reload keeps what was expanded this way; revealing a path (the
file opened with ``--open``, a notebook's ``expand("web/local")``) asks for
every directory down to it. A wish for a name a listed directory does not
hold is dropped (and said, when asked to be)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..text import printable
from .events import Notice
from .nodes import FILE, Key, Node

if TYPE_CHECKING:
    from .model import TreeModel


class Wants:
    """The expansions and the cursor a :class:`TreeModel` waits to apply."""

    def __init__(self, model: TreeModel) -> None:
        self._model = model
        self.expanded: set[Key] = set()
        self.cursor: Key | None = None
        self._said: set[Key] = set()  # wishes whose absence is to be said

    def keep_expanded(self, keys: set[Key]) -> None:
        """Expand these directories once they are listed."""
        self.expanded |= keys

    def reveal(self, alloc_dir: str, rel: str, *, expand: bool, say_missing: bool) -> None:
        """Expand every directory down to ``rel`` (``rel`` too with
        ``expand``) and put the cursor on it."""
        parts = [p for p in rel.split("/") if p]
        for depth in range(len(parts) + (1 if expand else 0)):
            self.expanded.add((alloc_dir, "/".join(parts[:depth])))
        self.cursor = (alloc_dir, "/".join(parts))
        if say_missing:
            self._said.add(self.cursor)

    def apply_to_tops(self) -> None:
        """After the allocations were discovered: apply what is wanted of
        each, and drop (saying so if asked) what names no allocation."""
        model = self._model
        for node in model.alloc_nodes:
            self.apply(node)
        for alloc_dir in {key[0] for key in self._pending()}:
            node = model.top_node(alloc_dir)
            if node is not None:
                self.apply(node)
            else:
                self._drop(lambda key, alloc_dir=alloc_dir: key[0] == alloc_dir)

    def apply(self, node: Node) -> None:
        """Expand and put the cursor on what is wanted at ``node`` and below
        it, as far as it is listed."""
        key = node.key
        if key is None:
            return
        if key in self.expanded and node.allow_expand:
            self.expanded.discard(key)
            node.expand()
        if key == self.cursor:
            self.cursor = None
            self._said.discard(key)
            self._model.move_cursor(node)
        if not node.loaded or node.listing is None:
            return
        prefix = node.rel + "/" if node.rel else ""
        for wanted in [k for k in self._pending() if k[0] == key[0]]:
            rel = wanted[1]
            if rel == node.rel or not rel.startswith(prefix):
                continue
            name = rel[len(prefix):].split("/")[0]
            child = self._model.child_named(node, name)
            if child is None:
                self._drop(lambda k, rel=rel: k[0] == key[0] and k[1] == rel)
            elif child.kind == FILE and child.parent is not node:  # a member of a set
                child.parent.expand()
                self.apply(child)
            else:
                self.apply(child)

    def _pending(self) -> set[Key]:
        return self.expanded | ({self.cursor} if self.cursor is not None else set())

    def _drop(self, matches) -> None:
        """Forget the wishes ``matches`` picks; say those that asked to be."""
        gone = {key for key in self._pending() if matches(key)}
        self.expanded -= gone
        if self.cursor in gone:
            self.cursor = None
        for key in gone & self._said:
            where = key[1] or os.path.basename(key[0])
            self._model.listener(Notice(f"{printable(where)}: no such entry"))
        self._said -= gone
