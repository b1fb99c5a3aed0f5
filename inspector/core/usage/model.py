"""The breakdown both front-ends draw: the entries of one measured
directory, sorted by size, each with its share of the parent.

A measurement (:class:`allocdir.Usage`) keeps totals per directory; the
files of the directory on screen are listed when it is shown
(:func:`allocdir.files_in`), so a million files cost no memory until their
directory is opened, and then only its largest ones: the rest is one
"other files" row whose numbers are the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from allocdir import SHARED_ALLOC_NAME, DirUsage, Usage
from allocdir.usage import DirFiles

ROOT, ALLOC, SHARED, TASK, DIR, FILE, OTHER, SKIPPED = (
    "root", "alloc", "shared", "task", "dir", "file", "other files", "skipped")


@dataclass(frozen=True)
class UsageRow:
    """One entry of a breakdown: an allocation, a task dir, a directory, a
    file, the other files of a directory, or something not counted."""

    name: str
    rel: str
    kind: str
    apparent: int
    allocated: int
    inodes: int
    files: int
    newest: float | None
    share: float
    """Of the parent's size (the chosen one), 0..1."""
    note: str = ""

    @property
    def is_dir(self) -> bool:
        """Whether the row can be entered (drilled into)."""
        return self.kind in (ALLOC, SHARED, TASK, DIR)

    def size(self, allocated: bool) -> int:
        """Allocated or apparent bytes."""
        return self.allocated if allocated else self.apparent


def kind_of(top_kind: str, rel: str) -> str:
    """What the directory at ``rel`` is, below a top that is a client root
    (``ROOT``), an alloc dir (``ALLOC``) or any directory (``DIR``)."""
    depth = rel.count("/") + 1 if rel else 0
    if top_kind == ROOT:
        if depth == 1:
            return ALLOC
        depth -= 1
        rel = rel.partition("/")[2]
    elif top_kind != ALLOC:
        return DIR if depth else top_kind
    if depth == 0:
        return ALLOC
    if depth == 1:
        return SHARED if rel == SHARED_ALLOC_NAME else TASK
    return DIR


def breakdown(usage: Usage, node: DirUsage, *, allocated: bool = False, top_kind: str = DIR,
              files: DirFiles | None = None) -> list[UsageRow]:
    """The rows of ``node``: its subdirectories and its largest files (from
    ``files``, listed for it), largest first; then the rest of its files as
    one row, and what was not counted below it."""
    whole = node.bytes(allocated) or 1
    rows = [
        UsageRow(sub.name, sub.rel, kind_of(top_kind, sub.rel), sub.apparent, sub.allocated,
                 sub.inodes, sub.files, sub.newest or None, sub.bytes(allocated) / whole,
                 f"{sub.folded:,} directories below not itemised" if sub.folded else "")
        for sub in list(node.children)
    ]
    rows += _file_rows(node, files, allocated, whole)
    prefix = f"{node.rel}/" if node.rel else ""
    for skipped in usage.skipped:
        parent, _, name = skipped.rel.rpartition("/")
        if parent == node.rel and skipped.rel.startswith(prefix) and name:
            rows.append(UsageRow(name, skipped.rel, SKIPPED, 0, 0, 0, 0, None, 0.0,
                                 skipped.reason))
    # entries by size; the aggregate of the unlisted files and what was not
    # counted after them (they are not entries one can open)
    rows.sort(key=lambda r: (r.kind in (OTHER, SKIPPED), r.kind == SKIPPED,
                             -r.size(allocated), r.name))
    return rows


def _file_rows(node: DirUsage, files: DirFiles | None, allocated: bool,
               whole: int) -> list[UsageRow]:
    """The listed files, then what the measurement counted beyond them."""
    rows = []
    shown_app = shown_alloc = shown = 0
    for f in files.largest if files is not None else []:
        name = f.rel.rpartition("/")[2]
        rows.append(UsageRow(name, f.rel, FILE, f.apparent, f.allocated, 1, 1, f.mtime,
                             (f.allocated if allocated else f.apparent) / whole))
        shown_app += f.apparent
        shown_alloc += f.allocated
        shown += 1
    rest = node.own_inodes - shown
    if rest > 0:
        app = max(0, node.own_apparent - shown_app)
        alloc = max(0, node.own_allocated - shown_alloc)
        rows.append(UsageRow(f"{rest:,} other files" if shown else f"{rest:,} files",
                             node.rel, OTHER, app, alloc, rest, max(0, node.own_files - shown),
                             None, (alloc if allocated else app) / whole))
    return rows


def flatten(usage: Usage, depth: int, *, allocated: bool = False,
            top_kind: str = DIR) -> list[tuple[int, UsageRow]]:
    """The directories down to ``depth`` levels, each with its level,
    largest first within its parent (for the command line and notebook)."""
    out: list[tuple[int, UsageRow]] = []
    pending = [(1, child) for child in _sorted(usage.tree, allocated)][::-1]
    while pending:
        level, node = pending.pop()
        parent_size = (node.parent.bytes(allocated) if node.parent else 0) or 1
        out.append((level, UsageRow(node.name, node.rel, kind_of(top_kind, node.rel),
                                    node.apparent, node.allocated, node.inodes, node.files,
                                    node.newest or None, node.bytes(allocated) / parent_size)))
        if level < depth:
            pending += [(level + 1, c) for c in _sorted(node, allocated)][::-1]
    return out


def _sorted(node: DirUsage, allocated: bool) -> list[DirUsage]:
    return sorted(node.children, key=lambda d: (-d.bytes(allocated), d.name))


def iso_time(stamp: float | None) -> str | None:
    """A modification time as ISO 8601 UTC, None for none, and a time a
    task set out of range as ``@<seconds>`` (never an exception)."""
    if not stamp:
        return None
    try:
        return datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return f"@{stamp:.0f}"
