"""``browse``: a tree of allocations and their directories beside a file pane.

The tree is a list box of the visible nodes, indented: choosing a directory
expands or collapses it (listed in a worker thread the first time, through
``AllocDir.list``), choosing a file opens it in the pane (a
:class:`~inspector.notebook.viewer.Viewer`, paged by byte offset). As in the
terminal app, a big directory shows its first :data:`BATCH` entries and a
"… N more" node that adds the next batch, so a directory of 100k entries
never becomes 100k options at once; a task's ``secrets/`` (and
``private/``) is shown locked and never listed; FIFOs, sockets and devices
are marked and never opened. Names go through ``printable``: what a task
names its files cannot break the list.

Directories of a client root that are not allocations (a task can hide
its allocation by renaming its ``alloc/data``) are listed after the
allocations with the reason, in batches too, and browse read-only
(:mod:`inspector.core.strays`). Whatever a listing raises, it is shown on
its entry (or below the tree), and the rest of the tree is still listed.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from allocdir import SHARED_ALLOC_NAME, AllocDir, AllocFileInfo
from allocdir.display import kind_of, size_words

from .html import name_html
from ..core.failure import failure_text
from ..core.listing import link_target
from ..core.strays import NonAllocDir, StrayDirs
from ..core.text import printable
from ._ui import SerialQueue, UiScheduler, Widget, await_until, widgets
from .roots import NotebookRoot
from .viewer import Viewer

BATCH = 500
"""Entries of a directory added to the tree at a time."""
SECRET_DIRS = ("secrets", "private")
INDENT = "\u00a0\u00a0\u00a0"  # no-break spaces: a list box collapses plain ones
ROWS = 30

ALLOC, STRAY, DIR, FILE, SPECIAL, SECRET, MORE, NOTE = (
    "alloc", "stray", "dir", "file", "special", "secret", "more", "note")
_DIRS = (ALLOC, STRAY, DIR)


def is_secret_dir(rel: str) -> bool:
    """True for ``<task>/secrets`` (or ``private``) right under a task dir."""
    parts = rel.split("/")
    return len(parts) == 2 and parts[0] != SHARED_ALLOC_NAME and \
        parts[1].casefold() in SECRET_DIRS


@dataclass
class Node:
    """One line of the tree."""

    key: int
    kind: str
    alloc: AllocDir | None
    rel: str
    depth: int
    label: str
    info: AllocFileInfo | None = None
    expanded: bool = False
    loaded: bool = False
    loading: bool = False
    children: list[int] = field(default_factory=list)
    rest: list = field(default_factory=list)  # MORE: entries (or stray indices) not yet added


def _listing(alloc: AllocDir, rel: str) -> list[AllocFileInfo]:
    """A directory's entries, directories first. Blocking; run in a worker.
    What a symlink leads to is looked up only for the entries actually added
    to the tree (see ``link_target``)."""
    return sorted(alloc.list(rel), key=lambda info: (not info.is_dir, info.name))


class Browser(Widget):
    """Allocations and their directories on the left, the chosen file on the right.

    The tree (which directories are listed, which are expanded) is owned by
    the browser's worker queue: clicks and the methods below queue an
    operation, so ``expand()`` and ``open()`` right after ``browse()`` act in
    order, and the list box gets the new lines when they are ready.
    """

    def __init__(self, target: NotebookRoot | AllocDir, *, rows: int = ROWS,
                 page_lines: int = 30) -> None:
        w = widgets()
        self.target = target
        self._ui = UiScheduler()
        self._queue = SerialQueue()
        self._nodes: dict[int, Node] = {}  # worker-owned, as are _top and _strays
        self._top: list[int] = []
        self._strays = StrayDirs()
        self._next_key = 0
        self._syncing = False

        self.header = w.HTML()
        self.refresh_button = w.Button(description="Refresh", icon="refresh",
                                       layout=w.Layout(width="auto"))
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.tree = w.Select(options=[], rows=rows,
                             layout=w.Layout(width="36%", min_width="18em", height="auto"))
        self.tree.observe(self._chosen, "value")
        self.viewer = Viewer(lines=page_lines)
        self.viewer.widget.layout = w.Layout(width="64%", margin="0 0 0 8px")
        self.notice = w.HTML()
        self.widget = w.VBox([w.HBox([self.refresh_button, self.header],
                                     layout=w.Layout(align_items="center")),
                              w.HBox([self.tree, self.viewer.widget]), self.notice],
                             layout=w.Layout(width="100%"))
        self.refresh()

    # -- the public contract ------------------------------------------------

    def refresh(self) -> None:
        """Look at the disk again: the allocations and the expanded directories."""
        self._submit(self._load_top, "listing the allocations")

    def labels(self) -> list[str]:
        """The tree's lines, as shown."""
        return [label for label, _ in self.tree.options]

    def expand(self, rel: str, alloc: AllocDir | str | None = None) -> Browser:
        """Expand the directory ``rel`` of ``alloc`` (an AllocDir or an id
        prefix; not needed when one allocation is browsed). ``""`` is the
        allocation itself. Queued: it acts once what was asked before is done."""
        target = self._alloc(alloc)

        def op() -> None:
            node = self._find(rel, target)
            if node is None:
                self._say(f"{name_html(rel)} is not in the tree: expand its parent first")
            elif not node.expanded:
                self._toggle(node)
        self._submit(op, f"expanding {rel or target.alloc_id}")
        return self

    def open(self, rel: str, alloc: AllocDir | str | None = None, **options) -> Viewer:
        """Open the file ``rel`` of ``alloc`` in the pane (as choosing it does)."""
        target = self._alloc(alloc)
        self._submit(lambda: self.viewer.open(target, rel, **options), f"opening {rel}")
        return self.viewer

    def wait(self, timeout: float = 10.0) -> Browser:
        """Block until listings and the pane's reads are done."""
        if not self._queue.wait(timeout):
            raise TimeoutError(f"the browser was still listing after {timeout:g} s")
        if self._ui.on_loop_thread:
            self._ui.flush()
        self.viewer.wait(timeout)
        return self

    async def ready(self, timeout: float = 10.0) -> Browser:
        """In a notebook cell: ``await browser.ready()``."""
        await await_until(self._queue.idle, timeout, "the browser's listings")
        self._ui.flush()
        await self.viewer.ready(timeout)
        return self

    # -- the tree (worker thread) ---------------------------------------------

    def _submit(self, op, doing: str) -> None:
        """Queue ``op``; whatever it raises is said below the tree, and the
        operations after it still run."""
        def guarded() -> None:
            try:
                op()
            except Exception as exc:
                self._say(f"{name_html(doing)} failed: {name_html(failure_text(exc, doing))}")
        self._queue.submit(guarded)

    def _allocs(self) -> tuple[list[AllocDir], StrayDirs, str]:
        if isinstance(self.target, NotebookRoot):
            self.target.refresh()
            return self.target.allocs, self.target.strays, self.target.description
        return [self.target], StrayDirs(), f"alloc dir {printable(self.target.alloc_dir)}"

    def _single(self, allocs: list[AllocDir]) -> bool:
        return not isinstance(self.target, NotebookRoot) or (
            len(allocs) == 1 and self.target.root.single)

    def _load_top(self) -> None:
        expanded = {(n.alloc.alloc_dir if n.alloc else "", n.rel)
                    for n in self._nodes.values() if n.expanded}
        try:
            allocs, strays, description = self._allocs()
        except Exception as exc:
            self._say(f"cannot list: {name_html(failure_text(exc, 'listing the allocations'))}")
            return
        nodes: dict[int, Node] = {}
        top: list[int] = []
        for alloc in allocs:
            if self._single(allocs):
                top.extend(self._add_entries(nodes, alloc, "", -1, _safe_listing(alloc, "")))
                continue
            key = self._new_key()
            tasks = ", ".join(printable(t) for t in sorted(alloc.task_dirs)) or "no tasks"
            nodes[key] = Node(key, ALLOC, alloc, "", 0,
                              f"{printable(alloc.alloc_id)}  ({tasks})")
            top.append(key)
        top.extend(self._stray_nodes(nodes, strays, list(range(len(strays)))))
        self._nodes, self._top, self._strays = nodes, top, strays
        # Open again what was open, as far as it still exists.
        pending = list(top)
        while pending:
            node = nodes[pending.pop(0)]
            if node.kind in _DIRS and \
                    (node.alloc.alloc_dir if node.alloc else "", node.rel) in expanded:
                self._list_into(node)
                pending.extend(node.children)
        count = len(allocs)
        others = (f" · {len(strays):,} {'directory' if len(strays) == 1 else 'directories'} "
                  "that are not allocations") if len(strays) else ""
        header = (f'<span style="font-family:var(--jp-code-font-family,monospace);'
                  f'font-size:12px"><b>{name_html(description)}</b> · {count} '
                  f'{"allocation" if count == 1 else "allocations"}{others}</span>')
        self._ui.call(setattr, self.header, "value", header)
        self._publish()

    def _new_key(self) -> int:
        self._next_key += 1
        return self._next_key

    def _list_into(self, node: Node) -> None:
        listing = _safe_listing(node.alloc, node.rel)
        node.children = self._add_entries(self._nodes, node.alloc, node.rel, node.depth,
                                          listing)
        node.loaded = node.expanded = True

    def _add_entries(self, nodes: dict[int, Node], alloc: AllocDir, rel: str, depth: int,
                     listing) -> list[int]:
        if isinstance(listing, str):  # the listing failed: say why, in the tree
            key = self._new_key()
            nodes[key] = Node(key, NOTE, alloc, rel, depth + 1, f"({listing})")
            return [key]
        keys = [self._safe_entry_node(nodes, alloc, rel, depth + 1, info)
                for info in listing[:BATCH]]
        if len(listing) > BATCH:
            keys.append(self._more_node(nodes, alloc, rel, depth + 1, listing[BATCH:]))
        if not keys:
            key = self._new_key()
            nodes[key] = Node(key, NOTE, alloc, rel, depth + 1, "(empty)")
            keys.append(key)
        return keys

    def _more_node(self, nodes: dict[int, Node], alloc: AllocDir | None, rel: str, depth: int,
                   rest: list) -> int:
        key = self._new_key()
        nodes[key] = Node(key, MORE, alloc, rel, depth,
                          f"… {len(rest):,} more (choose to show {min(BATCH, len(rest))})",
                          rest=rest)
        return key

    def _stray_nodes(self, nodes: dict[int, Node], strays: StrayDirs,
                     indices: list[int]) -> list[int]:
        """Top-level nodes for the directories that are not allocations: the
        first :data:`BATCH` of ``indices``, then a "… N more" node."""
        keys = []
        for index in indices[:BATCH]:
            key = self._new_key()
            fs = strays.fs(index)
            nodes[key] = Node(key, STRAY, fs, "", 0,
                              f"{printable(fs.alloc_id)}  ({printable(fs.description)})")
            keys.append(key)
        if len(indices) > BATCH:
            keys.append(self._more_node(nodes, None, "", 0, indices[BATCH:]))
        return keys

    def _safe_entry_node(self, nodes: dict[int, Node], alloc: AllocDir, parent: str,
                         depth: int, info: AllocFileInfo) -> int:
        """:meth:`_entry_node`, or a note saying why that entry cannot be shown."""
        try:
            return self._entry_node(nodes, alloc, parent, depth, info)
        except Exception as exc:
            key = self._new_key()
            rel = posixpath.join(parent, info.name) if parent else info.name
            nodes[key] = Node(key, NOTE, alloc, rel, depth, f"{printable(info.name)}  "
                              f"({failure_text(exc, f'looking at {rel}')})")
            return key

    def _entry_node(self, nodes: dict[int, Node], alloc: AllocDir, parent: str, depth: int,
                    info: AllocFileInfo) -> int:
        key = self._new_key()
        rel = posixpath.join(parent, info.name) if parent else info.name
        name = printable(info.name)
        kind_word = kind_of(info.file_mode)
        if is_secret_dir(rel) and info.is_dir:
            kind, label = SECRET, f"\N{LOCK} {name}/  locked"
        elif info.is_dir:
            kind, label = DIR, f"{name}/"
        elif kind_word == "symlink":
            target = link_target(alloc, rel)
            kind = DIR if target == "dir" else FILE
            label = f"{name}@ → {target}"
        elif kind_word in ("FIFO", "socket", "char device", "block device"):
            mark = {"FIFO": "|", "socket": "="}.get(kind_word, "")
            kind, label = SPECIAL, f"{name}{mark}  {kind_word}"
        else:
            kind, label = FILE, f"{name}  {size_words(info.size)}"
        nodes[key] = Node(key, kind, alloc, rel, depth, label, info)
        return key

    def _choose(self, key: int) -> None:
        node = self._nodes.get(key)
        if node is None:
            return
        if node.kind in _DIRS:
            self._toggle(node)
        elif node.kind == FILE:
            self.viewer.open(node.alloc, node.rel)
            self._say("")
        elif node.kind == SPECIAL:
            self._say(f"{name_html(node.rel)} is a {name_html(kind_of(node.info.file_mode))}: "
                      "it is never opened (reading could block)")
        elif node.kind == SECRET:
            self._say(f"{name_html(node.rel)} holds the task's secrets: it is never listed "
                      "or read")
        elif node.kind == MORE:
            self._more(node)

    def _toggle(self, node: Node) -> None:
        if node.expanded:
            node.expanded = False
        elif node.loaded:
            node.expanded = True
        else:
            self._list_into(node)
        self._say("")
        self._publish()

    def _more(self, node: Node) -> None:
        parent = next((n for n in self._nodes.values() if node.key in n.children), None)
        siblings = parent.children if parent is not None else self._top
        if node.alloc is None:  # directories of the root that are not allocations
            keys = self._stray_nodes(self._nodes, self._strays, node.rest)
        else:
            batch, rest = node.rest[:BATCH], node.rest[BATCH:]
            keys = [self._safe_entry_node(self._nodes, node.alloc, node.rel, node.depth, info)
                    for info in batch]
            if rest:
                keys.append(self._more_node(self._nodes, node.alloc, node.rel, node.depth,
                                            rest))
        at = siblings.index(node.key)
        siblings[at:at + 1] = keys
        del self._nodes[node.key]
        self._publish()

    def _publish(self) -> None:
        """Hand the visible lines to the list box."""
        options = []

        def walk(keys: list[int]) -> None:
            for key in keys:
                node = self._nodes.get(key)
                if node is None:
                    continue
                options.append((self._label(node), key))
                if node.expanded:
                    walk(node.children)

        walk(self._top)
        self._ui.call(self._set_options, options)

    def _find(self, rel: str, alloc: AllocDir) -> Node | None:
        rel = rel.strip("/")
        for node in self._nodes.values():
            if node.kind in _DIRS and node.rel == rel and node.alloc is not None \
                    and node.alloc.alloc_dir == alloc.alloc_dir:
                return node
        return None

    @staticmethod
    def _label(node: Node) -> str:
        indent = INDENT * max(0, node.depth)
        if node.kind in _DIRS:
            arrow = "▾" if node.expanded else "▸"
            return f"{indent}{arrow} {node.label}"
        return f"{indent}\u00a0\u00a0{node.label}"

    # -- the list box (kernel loop) -------------------------------------------

    def _chosen(self, change) -> None:
        key = change["new"]
        if self._syncing or key is None:
            return
        self._set_value(None)  # so that choosing the same line again acts again
        self._submit(lambda: self._choose(key), "opening the line chosen")

    def _set_options(self, options: list[tuple[str, int]]) -> None:
        self._syncing = True
        try:
            self.tree.options = options
            self.tree.value = None
        finally:
            self._syncing = False

    def _set_value(self, value) -> None:
        self._syncing = True
        try:
            self.tree.value = value
        finally:
            self._syncing = False

    def _say(self, text_html: str) -> None:
        value = (f'<span style="font-size:11px;color:#8a6d00">{text_html}</span>'
                 if text_html else "")
        self._ui.call(setattr, self.notice, "value", value)

    def _alloc(self, alloc) -> AllocDir | NonAllocDir:
        if isinstance(alloc, (AllocDir, NonAllocDir)):
            return alloc
        if isinstance(self.target, NotebookRoot):
            if alloc is None:
                if len(self.target) != 1:
                    raise ValueError("name the allocation: several are browsed")
                return self.target[0]
            return self.target.lookup(alloc)
        return self.target

    def _plain(self) -> str:
        return "\n".join(label for label, _ in self.tree.options[:40])


def _safe_listing(alloc: AllocDir, rel: str):
    """The listing, or a one-line reason it failed (shown in the tree):
    whatever the listing raised, the rest of the tree is still listed."""
    try:
        return _listing(alloc, rel)
    except Exception as exc:
        return failure_text(exc, f"listing {rel or alloc.alloc_id}")


def browse(target: NotebookRoot | AllocDir, *, rows: int = ROWS) -> Browser:
    """A widget to browse ``target`` (a ``NotebookRoot`` from ``open_root``,
    or one ``AllocDir``): a tree of allocations and directories, listed as
    they are expanded, beside a pager on the chosen file."""
    return Browser(target, rows=rows)
