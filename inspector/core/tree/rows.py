"""The row math of the tree as a virtual list: which node is on a row, on
which row a node is, how many rows a container takes.

Row 0 is the root; below an expanded container come its items (its
entries in the model's order, narrowed by the name filter) and, after each
expanded child, that child's own rows. Only the expanded containers are
walked: a directory of 100,000 entries is one list of indices, and the
node of an entry is made only when its row is asked for. What a container
shows, its expanded children and its row count are cached until the model
changes (:attr:`TreeModel.version`), so drawing a screen costs a walk down
the expanded containers per row, not a walk of the entries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .merging import entry_of
from .nodes import MERGED, NOTE, ROOT, SET, Node, Note

if TYPE_CHECKING:
    from .model import TreeModel


def _cached(node: Node, name: str, signature, make):
    hit = node._cache.get(name)
    if hit is not None and hit[0] == signature:
        return hit[1]
    value = make()
    node._cache[name] = (signature, value)
    return value


def items(node: Node) -> list:
    """What a container shows, in order: allocation nodes, then the indices
    of the root's other directories, then notes (the root); entry indices
    or set names (a directory); member indices (a set)."""
    model = node.model
    if node.kind == ROOT:
        return _cached(node, "items", model.version, lambda: _root_items(model))
    if node.kind == SET:
        listing = node.owner_listing
        if listing is None:
            return []
        return _cached(node, "items", model.version,
                       lambda: listing.members(node.set_name or "", model.order))
    listing = node.listing
    if listing is None:
        return []
    flt = model.name_filter
    # An expanded directory stays whatever its name, so that a match below it shows.
    forced = tuple(sorted(((sub.set_name if sub.kind == SET else sub.entry, id(sub))
                           for sub in node.kept() if sub.expanded),
                          key=lambda pair: str(pair[0]))) if flt else ()
    signature = (id(listing), model.order.name, flt.text, forced, len(listing.dir_sizes))

    def make() -> list:
        shown = flt.narrow(listing, listing.ordered(model.order))
        if forced:
            present = set(shown)
            shown.extend(item for item, _ in forced if item not in present)
        entry = entry_of(node)  # an allocation's or a task's logs as one stream, first
        if entry is not None and (not flt or flt.matches(entry.name)):
            shown.insert(0, entry)
        return shown

    return _cached(node, "items", signature, make)


def _root_items(model: TreeModel) -> list:
    """The root's rows: allocations, the strays' indices, notes. The strays
    are a virtual list (indices; nodes made when drawn), as many as a root holds."""
    flt = model.name_filter
    allocs = [a for a in model.alloc_nodes if flt.matches(a.name) or a.expanded]
    names = model.strays.names
    if flt:
        kept = model.root._strong
        strays = [i for i, name in enumerate(names)
                  if flt.matches(name) or (i in kept and kept[i].expanded)]
    else:
        strays = list(range(len(names)))
    return allocs + strays + model.root_notes


def note(node: Node) -> tuple[str, str] | None:
    """(text, tone) shown in place of a container's children: loading, an
    error, empty; None when it has children (or is a set)."""
    if node.kind == ROOT:
        return None if node.model.discovered else (node.model.loading_text, "note")
    if node.kind == SET:
        return None
    if not node.loaded:
        return ("loading…", "note")
    if node.error is not None:
        return (node.error, "error")
    if node.listing is not None and len(node.listing) and node.model.name_filter:
        return ("no name matches the filter", "note")
    return ("empty", "note")


def subnodes(node: Node) -> list[tuple[int, Node]]:
    """The expanded child containers with their position in :func:`items`, in order."""
    def make() -> list[tuple[int, Node]]:
        shown = items(node)
        out = []
        if node.kind == ROOT:
            for pos, item in enumerate(shown):
                if not isinstance(item, Node):
                    break  # the strays: their expanded nodes are kept below
                if item.expanded:
                    out.append((pos, item))
        for item, sub in node._strong.items():
            if sub.expanded and sub.allow_expand:
                pos = _index(shown, item)
                if pos is not None:
                    out.append((pos, sub))
        out.sort(key=lambda pair: pair[0])
        return out

    return _cached(node, "subnodes", node.model.version, make)


def _index(shown: list, item) -> int | None:
    try:
        return shown.index(item)
    except ValueError:
        return None


def count(node: Node) -> int:
    """Rows below a container (0 when collapsed)."""
    if not node.expanded and node.kind != ROOT:
        return 0

    def make() -> int:
        shown = items(node)
        if not shown:
            return 0 if note(node) is None else 1
        return len(shown) + sum(count(sub) for _, sub in subnodes(node))

    return _cached(node, "count", node.model.version, make)


def position(parent: Node, node: Node) -> int | None:
    """Where ``node`` is in its parent's :func:`items` (None if not shown)."""
    shown = items(parent)
    if node.kind == NOTE and parent.kind != ROOT:
        return 0 if not shown else None
    if parent.kind == ROOT or node.kind == MERGED:
        item = node.entry if node.kind == "stray" else node
    else:
        item = node.set_name if node.kind == SET else node.entry
    return _index(shown, item)


def node_at(root: Node, row: int) -> tuple[Node, int] | None:
    """The node on ``row`` and its depth (the root is row 0, depth 0)."""
    if row < 0:
        return None
    if row == 0:
        return root, 0
    return _locate(root, row - 1, 1)


def _locate(node: Node, y: int, depth: int) -> tuple[Node, int] | None:
    shown = items(node)
    if not shown:
        said = note(node)
        return (Note(node.model, node, *said), depth) if said is not None and y == 0 else None
    offset = 0
    for pos, sub in subnodes(node):
        start = pos + offset
        if y < start:
            break
        if y == start:
            return sub, depth
        below = count(sub)
        if y <= start + below:
            return _locate(sub, y - start - 1, depth + 1)
        offset += below
    index = y - offset
    if 0 <= index < len(shown):
        return node.child(shown[index]), depth
    return None


def row_of(root: Node, node: Node | None) -> int | None:
    """The row ``node`` is on, or None when it is not shown."""
    if node is None:
        return None
    if node is root:
        return 0
    parent = node.parent
    if parent is None or not (parent.expanded or parent is root):
        return None
    above = row_of(root, parent)
    if above is None:
        return None
    pos = position(parent, node)
    if pos is None:
        return None
    return above + 1 + pos + sum(count(sub) for p, sub in subnodes(parent) if p < pos)


def depth_of(node: Node) -> int:
    """How deep ``node`` is (the root 0, an allocation 1)."""
    depth = 0
    while node.parent is not None:
        node, depth = node.parent, depth + 1
    return depth
