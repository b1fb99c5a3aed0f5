"""The cursor of the tree: a row, kept on the same node (by its key) when
rows appear or vanish above it, and the moves of a list (one row, a page,
first, last, to the parent)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .nodes import Key, Node

if TYPE_CHECKING:
    from .model import TreeModel


class Cursor:
    """Where the cursor is in a :class:`~inspector.core.tree.model.TreeModel`."""

    def __init__(self, model: TreeModel) -> None:
        self._model = model
        self.row = 0
        self.key: Key | None = None
        """The key of the node under the cursor (None on the root or a note)."""

    @property
    def node(self) -> Node | None:
        """The node under the cursor."""
        found = self._model.node_at(self.row)
        return found[0] if found is not None else None

    def set(self, row: int) -> int:
        """Put the cursor on ``row`` (kept within the rows); returns the row."""
        self.row = max(0, min(row, self._model.row_count - 1))
        node = self.node
        self.key = node.key if node is not None else None
        return self.row

    def to(self, node: Node | None) -> bool:
        """Put the cursor on ``node``; False when it is not shown."""
        row = self._model.row_of(node)
        if row is None:
            return False
        self.set(row)
        return True

    def by(self, rows: int) -> int:
        """Move by ``rows`` (down when positive)."""
        return self.set(self.row + rows)

    def first(self) -> int:
        """The first row."""
        return self.set(0)

    def last(self) -> int:
        """The last row (of the biggest directory, if it is open)."""
        return self.set(self._model.row_count - 1)

    def to_parent(self) -> bool:
        """Up to the node's parent (from a note too)."""
        node = self.node
        if node is None or node.parent is None:
            return False
        return self.to(node.parent)

    def follow(self) -> bool:
        """After the rows changed: back on the node it was on, if still
        shown, else kept within the rows. True when the row changed."""
        before = self.row
        model = self._model
        if self.key is not None:
            node = model.find(self.key)
            row = model.row_of(node) if node is not None else None
            if row is not None:
                self.row = row
        self.row = max(0, min(self.row, model.row_count - 1))
        return self.row != before
