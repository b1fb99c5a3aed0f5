"""``open_root``: what PATH is, and its allocations by unique id prefix.

PATH is recognised exactly as the terminal app recognises it
(``inspector.core.roots.Root``): one alloc dir, a client alloc root, or a
Nomad data_dir (browsed as its ``alloc/``). ``root["5fc98185"]`` is the
``allocdir.AllocDir`` whose id starts with that prefix, so ``.list``,
``.stat``, ``.read_at``… are the library's own.

Display: a :class:`NotebookRoot` shows as a table (allocations, tasks,
sizes, ages, live logs), then the directories of the root that are not
allocations, each with the reason (a task can hide its allocation by
renaming its ``alloc/data``; :mod:`inspector.core.strays`). The table is
gathered when it is displayed: the root is listed again then (a destroyed
allocation is gone from it, a moved-to one is in it), looking into its
first :data:`DISCOVER_LIMIT` directories only, and each of the first
:data:`ROWS_SUMMARIZED` allocations is summarized with
``allocdir.summary.summarize_alloc``: bounded listings, each directory
measured within its own budget and the whole table within
:data:`MEASURE_SECONDS`, no file content, no secrets dir, no FIFO; a size
cut short says so. The rendering itself (:func:`root_html`) is a pure
function of what was gathered. Looking an allocation up (``root[...]``,
``len(root)``) uses a complete listing of the root.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial

from allocdir import AllocDir
from allocdir.plaintext import visible
from allocdir.render import age_html, esc, is_live, size_html, total_html, total_words
from allocdir.summary import AllocSummary, Budget, summarize_alloc

from ..core.roots import Discovery, Root, RootError
from ..core.strays import NOT_AN_ALLOCATION, NonAllocDir, StrayDirs

ROWS_SUMMARIZED = 100
"""Allocations gathered and shown in a root's table; the rest are counted."""
DISCOVER_LIMIT = 1000
"""Directories of the root looked into when its table is shown; the rest are counted."""
MEASURE_SECONDS = 2.0
"""Time the sizes of a root's table may take in all; what is left is said not measured."""

# The root each allocation handed out by a NotebookRoot came from, so that
# destroy and move protect that root (and its data_dir) without being told.
_ROOT_OF: weakref.WeakKeyDictionary[AllocDir, Root] = weakref.WeakKeyDictionary()


class AllocLookupError(KeyError):
    """No allocation, or more than one, has the id prefix asked for."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def root_of(alloc: AllocDir) -> Root | None:
    """The root ``alloc`` was found under by :func:`open_root`, if it was."""
    return _ROOT_OF.get(alloc)


@dataclass(frozen=True)
class RootSummary:
    """What a root's table shows, gathered at ``gathered``."""

    description: str
    path: str
    gathered: datetime
    allocs: tuple[AllocSummary, ...]
    more: int = 0
    errors: tuple[tuple[str, str], ...] = ()
    strays: tuple[tuple[str, str], ...] = ()
    """Directories that are not allocations (the first ones): (name, reason)."""
    more_strays: int = 0
    unexamined: int = 0
    """Directories of the root not looked into (past :data:`DISCOVER_LIMIT`)."""
    described: tuple[tuple[str, str], ...] = ()
    """What read-only allocations are (a kept copy, a snapshot tar): (id, words)."""


class NotebookRoot:
    """A recognised PATH and the allocations under it.

    Index it with a unique prefix of an alloc id (``root["5fc9"]``) or a
    position; iterate it for the ``AllocDir`` objects. ``refresh()`` looks
    at the disk again (also done once when a prefix matches nothing, and
    whenever it is displayed).
    """

    def __init__(self, root: Root, discovery: Discovery | None = None) -> None:
        self.root = root
        self._discovery = discovery if discovery is not None else root.discover()
        for alloc in self._discovery.allocs:
            _ROOT_OF[alloc] = root

    # -- what it is ---------------------------------------------------------

    @property
    def path(self) -> str:
        """The client alloc root, or the one alloc dir (absolute)."""
        return self.root.path

    @property
    def description(self) -> str:
        """What is browsed, in words (names escaped as for a terminal)."""
        return self.root.description

    @property
    def allocs(self) -> list[AllocDir]:
        """The allocations found, sorted by id."""
        return list(self._found().allocs)

    @property
    def errors(self) -> dict[str, str]:
        """Entries that could not be read, with the reason."""
        return dict(self._found().errors)

    @property
    def strays(self) -> StrayDirs:
        """The directories of the root that are not allocations, with the
        reason of each (``.names``, ``.reason(i)``, ``.fs(i)`` to read one)."""
        return self._found().strays

    @property
    def ids(self) -> list[str]:
        """The alloc ids, sorted."""
        return [a.alloc_id for a in self._found().allocs]

    def refresh(self, limit: int | None = None) -> NotebookRoot:
        """Discover the allocations again (blocking: it lists PATH); with
        ``limit``, looking into the first ``limit`` directories only."""
        self._discovery = self.root.discover(limit)
        for alloc in self._discovery.allocs:
            _ROOT_OF[alloc] = self.root
        return self

    def _found(self) -> Discovery:
        """The last discovery, made complete first if it was cut short."""
        if self._discovery.unexamined:
            self.refresh()
        return self._discovery

    # -- lookup ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._found().allocs)

    def __iter__(self):
        return iter(self.allocs)

    def __contains__(self, key: object) -> bool:
        try:
            self._match(key)
        except (AllocLookupError, TypeError):
            return False
        return True

    def __getitem__(self, key: str | int) -> AllocDir:
        """The allocation whose id is, or starts with, ``key`` (or at index ``key``)."""
        try:
            return self._match(key)
        except AllocLookupError:
            if isinstance(key, int):
                raise
        self.refresh()  # it may have been created since the root was opened
        return self._match(key)

    def lookup(self, key: str | int) -> AllocDir | NonAllocDir:
        """As ``root[key]``, and also a directory of the root that is not an
        allocation, by its exact name: read-only, every action refused."""
        try:
            return self[key]
        except AllocLookupError:
            index = self.strays.find(key) if isinstance(key, str) else None
            if index is None:
                raise
            return self.strays.fs(index)

    def _match(self, key: object) -> AllocDir:
        allocs = self._found().allocs
        if isinstance(key, int):
            try:
                return allocs[key]
            except IndexError:
                raise AllocLookupError(f"no allocation at index {key}: there are "
                                       f"{len(allocs)}") from None
        if not isinstance(key, str):
            raise TypeError(f"an alloc id prefix (str) or an index, not {type(key).__name__}")
        if not key:
            raise AllocLookupError("give an alloc id or a unique prefix of one")
        exact = [a for a in allocs if a.alloc_id == key]
        found = exact or [a for a in allocs if a.alloc_id.startswith(key)]
        if len(found) == 1:
            return found[0]
        if not found:
            known = ", ".join(visible(a.alloc_id) for a in allocs[:10]) or "none"
            raise AllocLookupError(f"no allocation id starts with {visible(key)!r} "
                                   f"under {visible(self.path)} (allocations: {known})")
        names = ", ".join(visible(a.alloc_id) for a in found[:10])
        raise AllocLookupError(f"{visible(key)!r} is the prefix of {len(found)} "
                               f"allocations ({names}): give more of the id")

    # -- display --------------------------------------------------------------

    def summary(self, *, now: datetime | None = None) -> RootSummary:
        """List the root again and gather the table (bounded; see the module
        doc). Blocking."""
        now = now or datetime.now(timezone.utc)
        found = self.refresh(DISCOVER_LIMIT)._discovery
        budget = Budget.for_seconds(MEASURE_SECONDS)
        firsts = found.allocs[:ROWS_SUMMARIZED]
        # A kept copy or an archive summarizes itself (an archive is not a directory).
        shown = tuple(getattr(a, "summarize", partial(summarize_alloc, a))(now=now, budget=budget)
                      for a in firsts)
        described = tuple((a.alloc_id, a.description) for a in firsts
                          if getattr(a, "read_only", False))
        strays = found.strays
        return RootSummary(self.root.description, self.path, now, shown,
                           max(0, len(found.allocs) - ROWS_SUMMARIZED),
                           tuple(sorted(found.errors.items())),
                           tuple((strays.names[i], strays.reason(i))
                                 for i in range(min(len(strays), ROWS_SUMMARIZED))),
                           max(0, len(strays) - ROWS_SUMMARIZED), found.unexamined,
                           described)

    def _repr_html_(self) -> str:
        return root_html(self.summary())

    def _repr_pretty_(self, p, cycle: bool) -> None:
        p.text(repr(self) if cycle else root_text(self.summary()))

    def __repr__(self) -> str:
        return f"NotebookRoot({self.path!r}, {len(self)} allocations)"


def open_root(path: str | os.PathLike[str]) -> NotebookRoot:
    """Open PATH: a client alloc root (``<data_dir>/alloc``), a Nomad
    data_dir, or one alloc dir. Raises ``RootError`` (one-line reason) for
    anything else, as ``allocdir-inspector PATH`` does."""
    return NotebookRoot(Root.open(path))


def root_html(summary: RootSummary) -> str:
    """The root's table: allocation, tasks, data + local size, last change,
    logs (live ones named). Pure: no I/O."""
    now = summary.gathered
    th = "text-align:left;padding:2px 12px 2px 0;border-bottom:1px solid #bbb"
    td = "text-align:left;padding:2px 12px 2px 0;vertical-align:top"
    num = "text-align:right;padding:2px 12px 2px 0;vertical-align:top;white-space:nowrap"
    dim = "color:#777"
    rows = []
    described = dict(summary.described)
    for alloc in summary.allocs:
        tasks = ", ".join(f"<b>{esc(t.name)}</b>" for t in alloc.tasks) or \
            f'<span style="{dim}">none</span>'
        age = age_html(alloc.modified, now) if alloc.modified else ""
        newest = alloc.newest_log
        if newest is not None:
            age = age_html(max(newest.mod_time, alloc.modified or newest.mod_time), now)
        live = [i for i in alloc.logs if is_live(i, now)]
        logs = "<br>".join(
            f'<code>{esc(i.name)}</code> {size_html(i.size)} '
            f'<span style="color:#007427;font-weight:600">live</span>' for i in live)
        logs = logs or f'<span style="{dim}">{alloc.log_count} files, none live</span>'
        note = f'<br><span style="color:#b22b31">{esc(alloc.error)}</span>' if alloc.error else ""
        if alloc.alloc_id in described:
            note = f'<br><span style="color:#8a6d00">{esc(described[alloc.alloc_id])}</span>{note}'
        rows.append(f'<tr><td style="{td}"><code title="{esc(alloc.path)}">'
                    f"{esc(alloc.alloc_id)}</code>{note}</td><td style=\"{td}\">{tasks}</td>"
                    f'<td style="{num}">{total_html(alloc.measured)}</td>'
                    f'<td style="{td}">{age}</td><td style="{td}">{logs}</td></tr>')
    if summary.more:
        rows.append(f'<tr><td colspan="5" style="{td};{dim}">… and {summary.more:,} more '
                    "allocations (index the root to reach them)</td></tr>")
    for name, reason in summary.strays:
        rows.append(f'<tr><td style="{td}"><code>{esc(name)}</code></td>'
                    f'<td colspan="4" style="{td};color:#8a6d00">{NOT_AN_ALLOCATION}: '
                    f"{esc(reason)}</td></tr>")
    if summary.more_strays:
        rows.append(f'<tr><td colspan="5" style="{td};{dim}">… and {summary.more_strays:,} '
                    "more directories that are not allocations (root.strays)</td></tr>")
    if summary.unexamined:
        rows.append(f'<tr><td colspan="5" style="{td};{dim}">… and {summary.unexamined:,} '
                    "more directories not looked into (root.refresh() looks at them all)"
                    "</td></tr>")
    for name, reason in summary.errors:
        rows.append(f'<tr><td style="{td}"><code>{esc(name)}</code></td>'
                    f'<td colspan="4" style="{td};color:#b22b31">{esc(reason)}</td></tr>')
    if not rows:
        rows.append(f'<tr><td colspan="5" style="{td};{dim}">(no allocations)</td></tr>')
    heads = "".join(f'<th style="{th}">{h}</th>' for h in
                    ("allocation", "tasks", "data + local", "last change", "live logs"))
    count = len(summary.allocs) + summary.more
    more = "+" if summary.unexamined else ""
    return (f'<div class="inspector-root" style="font-family:var(--jp-code-font-family,'
            f'monospace);font-size:12px"><div style="font-weight:600">{esc(summary.description)}'
            f' <span style="{dim};font-weight:normal">— {count}{more} '
            f'{"allocation" if count == 1 else "allocations"}</span></div>'
            f'<table style="border-collapse:collapse;margin:2px 0"><thead><tr>{heads}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def root_text(summary: RootSummary) -> str:
    """The root's table as text, for a terminal IPython."""
    now = summary.gathered
    lines = [visible(summary.description)]
    described = dict(summary.described)
    for alloc in summary.allocs:
        tasks = ", ".join(visible(t.name) for t in alloc.tasks) or "no tasks"
        live = [visible(i.name) for i in alloc.logs if is_live(i, now)]
        lines.append(f"  {visible(alloc.alloc_id)}  {tasks:<20} "
                     f"{total_words(alloc.measured):>10}  live: {', '.join(live) or 'none'}")
        if alloc.alloc_id in described:
            lines.append(f"    {visible(described[alloc.alloc_id])}")
        if alloc.error:
            lines.append(f"    {visible(alloc.error)}")
    if summary.more:
        lines.append(f"  … and {summary.more:,} more")
    for name, reason in summary.strays:
        lines.append(f"  {visible(name)}: {NOT_AN_ALLOCATION}: {visible(reason)}")
    if summary.more_strays:
        lines.append(f"  … and {summary.more_strays:,} more directories that are not allocations")
    if summary.unexamined:
        lines.append(f"  … and {summary.unexamined:,} more directories not looked into "
                     "(root.refresh() looks at them all)")
    for name, reason in summary.errors:
        lines.append(f"  {visible(name)}: {visible(reason)}")
    return "\n".join(lines)


__all__ = ["AllocLookupError", "NotebookRoot", "RootError", "RootSummary", "open_root",
           "root_html", "root_of", "root_text"]
