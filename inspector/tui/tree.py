"""AllocTree: allocations, their `alloc/` and task dirs, loaded lazily.

Directories are listed through `AllocDirFS.list` in a thread worker when a
node is first expanded. Big directories show their first entries at once and
a "… N more" node that adds the next batch, so a directory of 100k entries
never puts 100k nodes on the screen in one go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import humanize
from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode, UnknownNodeID

from allocdir import SHARED_ALLOC_NAME, AllocDir, AllocDirError, AllocFileInfo, PathEscapesError

from ..core.roots import Discovery, Root
from ..core.text import plain, printable

BATCH = 500
"""How many entries of a directory are added to the tree at a time."""

SECRET_DIRS = ("secrets", "private")
"""Task subdirectories that are never listed (Nomad's secrets, newer `private/`)."""

# Node kinds.
ROOT, ALLOC, DIR, FILE, SPECIAL, SECRET, MORE, NOTE = (
    "root", "alloc", "dir", "file", "special", "secret", "more", "note"
)

Key = tuple[str, str]
"""Identifies a node across refreshes: (alloc dir path, rel path)."""


@dataclass
class Entry:
    """One directory entry, with what a symlink points at."""

    info: AllocFileInfo
    rel: str
    target: str = ""  # for symlinks: "dir", "file", "broken", "escapes", "secret", ...

    @property
    def is_dir(self) -> bool:
        """True for a directory, or a symlink to one inside the alloc dir."""
        return self.info.is_dir or self.target == "dir"


@dataclass
class NodeData:
    """What a tree node stands for."""

    kind: str
    alloc: AllocDir | None = None
    rel: str = ""
    info: AllocFileInfo | None = None
    loaded: bool = False
    rest: list[Entry] = field(default_factory=list)  # MORE nodes: the entries not yet added

    @property
    def key(self) -> Key | None:
        """The node's identity across refreshes, or None for notes."""
        if self.kind in (MORE, NOTE) or self.alloc is None:
            return None
        return (self.alloc.alloc_dir, self.rel)


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


def special_tag(file_mode: str) -> tuple[str, str]:
    """(suffix, tag) for FIFOs, sockets and devices; ("", "") otherwise."""
    return {
        "p": ("|", "fifo"),
        "s": ("=", "socket"),
        "c": ("", "char device"),
        "b": ("", "block device"),
    }.get(file_mode[:1], ("", ""))


def list_entries(alloc: AllocDir, rel: str) -> list[Entry]:
    """List a directory for the tree: directories first, symlinks resolved.

    Blocking; run it in a worker. Raises what `AllocDir.list` raises.
    """
    entries = []
    for info in alloc.list(rel):
        entry = Entry(info, _join(rel, info.name))
        if info.file_mode.startswith("l"):
            entry.target = _link_target(alloc, entry.rel)
        entries.append(entry)
    entries.sort(key=lambda e: (not e.is_dir, e.info.name))
    return entries


def _link_target(alloc: AllocDir, rel: str) -> str:
    """What a symlink points at, seen through the alloc dir's rules."""
    try:
        info = alloc.stat(rel)
    except PathEscapesError:
        return "escapes"
    except FileNotFoundError:
        return "broken"
    except AllocDirError as exc:
        return "secret" if "secret" in str(exc).lower() else "refused"
    except OSError:
        return "unreadable"
    if info.is_dir:
        return "dir"
    if info.file_mode.startswith("l"):
        return "link"
    return special_tag(info.file_mode)[1] or "file"


def entry_label(entry: Entry, now: datetime | None = None) -> Text:
    """The label of an entry: name, then size (files) and age, dimmed.

    The name is shown through `printable`: a task chooses it.
    """
    info = entry.info
    name = printable(info.name)
    label = Text()
    if is_secret_dir(entry.rel) and info.is_dir:
        label.append(f"{name}/", style="bold yellow")
        label.append(" [locked]", style="yellow")
        return label
    suffix, tag = special_tag(info.file_mode)
    if entry.target:
        style = "bold cyan" if entry.is_dir else "cyan"
        label.append(f"{name}@", style=style)
        label.append(f" → {entry.target}", style="dim cyan")
    elif info.is_dir:
        label.append(f"{name}/", style="bold blue")
    elif tag:
        label.append(f"{name}{suffix}", style="magenta")
        label.append(f" {tag}", style="dim magenta")
    else:
        label.append(name)
    details = []
    if not info.is_dir and not tag and not entry.target:
        details.append(humanize.naturalsize(info.size))
    details.append(humanize.naturaltime(info.mod_time, when=now))
    label.append("  " + " · ".join(details), style="dim")
    return label


def _kind(entry: Entry) -> str:
    if is_secret_dir(entry.rel) and entry.info.is_dir:
        return SECRET
    if entry.is_dir:
        return DIR
    if special_tag(entry.info.file_mode)[1]:
        return SPECIAL
    return FILE


class AllocTree(Tree[NodeData]):
    """The tree pane: root → allocations → directories, listed lazily."""

    DEFAULT_CSS = """
    AllocTree {
        width: 48;
        min-width: 24;
        border-right: vkey $foreground 20%;
    }
    """

    BINDINGS = [
        Binding("enter", "select_cursor", "Open / expand"),
        Binding("j", "cursor_down", "Cursor down", show=False),
        Binding("k", "cursor_up", "Cursor up", show=False),
        Binding("space", "toggle_node", "Expand / collapse", show=False),
    ]

    class FileSelected(Message):
        """`enter` on a file: the app opens it in the viewer."""

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

    def __init__(self, root: Root, **kwargs: Any) -> None:
        super().__init__(plain(root.path), NodeData(ROOT), **kwargs)
        self.alloc_root = root
        self.auto_expand = False
        self.guide_depth = 2
        self._want_expanded: set[Key] = set()
        self._want_cursor: Key | None = None
        self.allocs: list[AllocDir] = []

    # ----------------------------------------------------------- loading

    def on_mount(self) -> None:
        """Start listing the allocations."""
        self.reload()

    def reload(self) -> None:
        """Re-read the allocations and every open directory, keeping what is expanded."""
        self._want_expanded |= self._expanded_keys()
        cursor = self.cursor_node
        if cursor is not None and cursor.data is not None and cursor.data.key:
            self._want_cursor = cursor.data.key
        self._discover()

    def reveal(self, alloc: AllocDir, rel: str) -> None:
        """Expand the directories down to `rel` and put the cursor on it once loaded."""
        parts = [p for p in rel.split("/") if p]
        for depth in range(len(parts)):
            self._want_expanded.add((alloc.alloc_dir, "/".join(parts[:depth])))
        self._want_cursor = (alloc.alloc_dir, "/".join(parts))
        for node in self._walk(self.root):
            self._apply_wants(node)

    def _expanded_keys(self) -> set[Key]:
        return {
            node.data.key
            for node in self._walk(self.root)
            if node.is_expanded and node.data is not None and node.data.key
        }

    def _walk(self, node: TreeNode[NodeData]):
        for child in node.children:
            yield child
            yield from self._walk(child)

    @work(thread=True, exclusive=True, group="discover")
    def _discover(self) -> None:
        found = self.alloc_root.discover()
        self.app.call_from_thread(self._show_allocs, found)

    def _show_allocs(self, found: Discovery) -> None:
        self.clear()
        self.allocs = found.allocs
        self.root.expand()
        self.root.allow_expand = False  # the root stays open: it is the whole view
        for alloc in found.allocs:
            node = self.root.add(
                plain(alloc.alloc_id, style="bold"), NodeData(ALLOC, alloc, "")
            )
            if len(found.allocs) == 1:
                self._want_expanded.add((alloc.alloc_dir, ""))
            self._apply_wants(node)
        for alloc_id, reason in found.errors.items():
            self._add_note(self.root, f"{alloc_id}: {reason}", "red")
        if not found.allocs and not found.errors:
            self._add_note(self.root, "no allocations", "dim italic")
        if self.cursor_line < 0:
            self.cursor_line = 0
        self.post_message(self.Loaded(None))

    @on(Tree.NodeExpanded)
    def _load_on_expand(self, event: Tree.NodeExpanded[NodeData]) -> None:
        node = event.node
        data = node.data
        if data is None or data.kind not in (ALLOC, DIR) or data.loaded:
            return
        data.loaded = True
        node.remove_children()
        self._add_note(node, "loading…", "dim italic")
        self._list_dir(node, data.alloc, data.rel)

    @work(thread=True, group="list")
    def _list_dir(self, node: TreeNode[NodeData], alloc: AllocDir, rel: str) -> None:
        result = load_dir(alloc, rel)
        self.app.call_from_thread(self._populate, node, result)

    def _populate(self, node: TreeNode[NodeData], result: list[Entry] | str) -> None:
        try:
            self.get_node_by_id(node.id)
        except UnknownNodeID:
            return  # the tree was refreshed meanwhile
        node.remove_children()
        if isinstance(result, str):
            self._add_note(node, result, "red")
        elif not result:
            self._add_note(node, "empty", "dim italic")
        else:
            self._add_entries(node, node.data.alloc, result)
        self.post_message(self.Loaded(node.data.key))

    def _add_entries(self, parent: TreeNode[NodeData], alloc: AllocDir, entries: list[Entry]) -> None:
        now = datetime.now(timezone.utc)
        for entry in entries[:BATCH]:
            kind = _kind(entry)
            child = parent.add(
                entry_label(entry, now),
                NodeData(kind, alloc, entry.rel, entry.info),
                allow_expand=kind == DIR,
            )
            self._apply_wants(child)
        rest = entries[BATCH:]
        if rest:
            more = Text(
                f"… {len(rest):,} more (enter: show {min(BATCH, len(rest))})",
                style="italic",
            )
            parent.add_leaf(more, NodeData(MORE, alloc, parent.data.rel, rest=rest))

    def _add_note(self, parent: TreeNode[NodeData], text: str, style: str) -> None:
        parent.add_leaf(plain(text, style=style), NodeData(NOTE))

    def _apply_wants(self, node: TreeNode[NodeData]) -> None:
        key = node.data.key if node.data else None
        if key is None:
            return
        if key in self._want_expanded and node.allow_expand:
            self._want_expanded.discard(key)
            node.expand()
        if key == self._want_cursor:
            self._want_cursor = None
            self.call_after_refresh(self._cursor_to, node)

    def _cursor_to(self, node: TreeNode[NodeData]) -> None:
        self._tree_lines  # noqa: B018 - builds the lines so node.line is current
        if node.line >= 0:
            self.move_cursor(node)

    # ----------------------------------------------------------- selection

    @on(Tree.NodeSelected)
    def _select(self, event: Tree.NodeSelected[NodeData]) -> None:
        event.stop()
        node = event.node
        data = node.data
        if data is None:
            return
        if data.kind == MORE:
            self._show_more(node)
        elif data.kind in (ALLOC, DIR):
            node.toggle()
        elif data.kind == FILE and data.alloc is not None:
            self.post_message(self.FileSelected(data.alloc, data.rel, data.info))
        elif data.kind == SECRET:
            self.notify("secrets are never listed", severity="warning", markup=False)
        elif data.kind == SPECIAL:
            self.notify(
                f"{printable(data.rel)}: not a regular file", severity="warning", markup=False
            )

    def _show_more(self, node: TreeNode[NodeData]) -> None:
        parent = node.parent
        rest = node.data.rest
        node.remove()
        self._add_entries(parent, parent.data.alloc, rest)

    # ----------------------------------------------------------- queries

    def current_alloc(self) -> AllocDir | None:
        """The allocation of the node under the cursor, if any."""
        node = self.cursor_node
        while node is not None:
            if node.data is not None and node.data.alloc is not None:
                return node.data.alloc
            node = node.parent
        return None

    def get_label_width(self, node: TreeNode[NodeData]) -> int:
        """The label width without rendering it (cheap for big directories)."""
        return node._label.cell_len + 2


def load_dir(alloc: AllocDir, rel: str) -> list[Entry] | str:
    """List `rel` for the tree, or return the reason it cannot be listed.

    A permission error becomes "permission denied" so the node says why it is
    empty instead of looking empty.
    """
    if is_secret_dir(rel):
        return "secrets are never listed"
    try:
        return list_entries(alloc, rel)
    except PermissionError:
        return "permission denied"
    except FileNotFoundError:
        return "no longer exists"
    except PathEscapesError:
        return "escapes the alloc dir"
    except (AllocDirError, OSError) as exc:
        return str(exc) or type(exc).__name__
