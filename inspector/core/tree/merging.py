"""Logs as one stream from the tree: the entries that open an allocation's
or a task's logs merged, and the logs marked for merging.

An expanded allocation shows "all logs" first, a task's directory
"<task>: stdout+stderr"; choosing one opens that stream
(:class:`~.events.OpenMerged`). Which logs it holds is found in the job
that opens it (listing ``alloc/logs`` blocks), so a task's stream that has
no file yet still joins when it is written.

Marks (``space`` in the terminal) are files and rotation sets, across
allocations, kept by key in the order they were made, as the sources they
stand for: a few bytes each, however many are marked. Merging them
(``m``) opens the first :data:`~inspector.core.merge.sources.MAX_SOURCES`
and says so when there were more; the marks are then cleared. With
nothing marked, ``m`` merges what the cursor is in: its task's
stdout+stderr, else its allocation's logs.
"""

from __future__ import annotations

from ..merge.sources import SourceSpec, alloc_sources, tagged
from ..text import printable
from .events import Marked, OpenMerged, Refused
from .nodes import ALLOC, DIR, MARKABLE, MERGED, SECRET_FILE, SET, Key, Node, join

ENTRY_NAME = "\0merged"
"""The last part of an entry's ``rel`` (no file has a NUL in its name)."""
ALL_LOGS = "all logs"
NOTHING = ("Nothing to merge: mark logs with space, or put the cursor on an allocation "
           "or a task.")


def is_task_dir(node: Node) -> bool:
    """Whether ``node`` is a task's directory of an allocation."""
    return (node.kind == DIR and node.parent is not None and node.parent.kind == ALLOC
            and node.name in (getattr(node.alloc, "task_dirs", None) or {}))


def entry_of(node: Node) -> Node | None:
    """The merged-logs entry shown first in ``node`` (an allocation or a
    task's directory; made once and kept), or None for anything else."""
    if node.kind != ALLOC and not is_task_dir(node):
        return None
    if node.merged is None:
        name = ALL_LOGS if node.kind == ALLOC else f"{node.name}: stdout+stderr"
        node.merged = Node(node.model, MERGED, node, alloc=node.alloc,
                           rel=join(node.rel, ENTRY_NAME), name=name)
    return node.merged


def open_entry(entry: Node) -> OpenMerged:
    """What choosing a merged-logs entry opens."""
    fs, owner = entry.alloc, entry.parent
    task = None if owner.kind == ALLOC else owner.name
    alloc_id = getattr(fs, "alloc_id", "") or ""
    label = f"{alloc_id}: {printable(entry.name)}" if alloc_id else printable(entry.name)
    return OpenMerged(lambda: alloc_sources(fs, None if task is None else [task]), label, fs)


def scope_of(node: Node | None) -> Node | None:
    """The entry ``m`` opens with nothing marked: the node's own if it is
    one, else that of the task directory it is in, else of its allocation."""
    while node is not None:
        if node.kind == MERGED:
            return node
        if node.kind == ALLOC or is_task_dir(node):
            return entry_of(node)
        node = node.parent
    return None


def source_of(node: Node) -> SourceSpec:
    """The log a file or a rotation set node stands for (a set by its name)."""
    if node.kind == SET:
        return SourceSpec(node.alloc, join(node.parent.rel, node.set_name or ""), "")
    return SourceSpec(node.alloc, node.rel, "")


class Marks:
    """The logs marked for merging (see the module docstring)."""

    def __init__(self) -> None:
        self._marked: dict[Key, SourceSpec] = {}

    def __len__(self) -> int:
        return len(self._marked)

    def __contains__(self, key: Key | None) -> bool:
        return key in self._marked

    def toggle(self, node: Node) -> Marked | Refused:
        """Mark a file or a rotation set, or unmark it."""
        if node.kind not in MARKABLE or node.key is None:
            reason = ("a secret is never read" if node.kind == SECRET_FILE
                      else "only logs (files and rotation sets) are merged")
            return Refused(f"{printable(node.name or node.rel)}: not marked ({reason})")
        if node.key in self._marked:
            del self._marked[node.key]
            return Marked(False, len(self._marked))
        self._marked[node.key] = source_of(node)
        return Marked(True, len(self._marked))

    def clear(self) -> None:
        """Unmark every log."""
        self._marked.clear()

    def open(self) -> OpenMerged:
        """What merging the marked logs opens (tags unique; an allocation's
        short id in front when they come from several)."""
        specs = tagged(self._marked.values())
        allocs = {id(spec.fs) for spec in specs}
        fs = specs[0].fs if len(allocs) == 1 else None
        count = len(specs)
        return OpenMerged(specs, f"{count} marked {'log' if count == 1 else 'logs'}", fs)


def merge(marks: Marks, node: Node | None) -> OpenMerged | Refused:
    """``m``: the marked logs (then unmarked), or the stream of what
    ``node`` is in (:func:`scope_of`)."""
    if marks:
        opened = marks.open()
        marks.clear()
        return opened
    entry = scope_of(node)
    return open_entry(entry) if entry is not None else Refused(NOTHING)
