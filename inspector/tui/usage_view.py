"""The `u` view: what fills the node, in the manner of `ncdu`.

Opened on the root, an allocation or a directory: its entries sorted by
size with a proportional bar and the share of the parent, inode and file
counts, the newest write; `enter` goes into a directory, `backspace` (or
`left`, `h`) back out, `a` switches apparent and allocated bytes, `r`
measures again, `escape` leaves. The numbers fill in while the walk streams
(:func:`allocdir.measure_usage` in a thread worker). The header shows the
data dir's file system against Nomad's GC thresholds and the allocation
count against ``gc_max_allocs``; an allocation's row says which processes
use it, or that it is idle, and grows by how much per minute while the view
is open. Nothing here touches the disk on the event loop.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import humanize
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from allocdir import DirUsage, Usage, files_in, measure_usage
from allocdir.mounts import mounts_under
from allocdir.plaintext import size_words

from ..core.text import plain, printable
from ..core.usage.growth import Growth, GrowthTracker
from ..core.usage.liveness import IDLE_AFTER
from ..core.usage.model import ALLOC, DIR, FILE, OTHER, ROOT, SKIPPED, UsageRow, breakdown
from ..core.usage.procs import ProcessMap, scan_processes
from ..core.usage.target import alloc_dirs_in
from ..core.usage.thresholds import GcSettings, GcStatus, fs_usage

BAR_WIDTH = 16
REDRAW_EVERY = 0.25
"""Seconds between redraws while the walk streams."""
GROWTH_EVERY = 5.0
"""Seconds between two looks at the hot directories."""
FILES_SHOWN = 50
"""Largest files listed per directory; the rest is one row."""
_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(share: float, width: int = BAR_WIDTH) -> str:
    """A proportional bar of ``width`` cells, in eighths of a cell."""
    eighths = round(max(0.0, min(1.0, share)) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (_EIGHTHS[part] if part else "")).ljust(width)


def rate_words(per_minute: float | None) -> str:
    """``+1.2 MiB/min`` ("" when unknown or nothing changed)."""
    if per_minute is None or abs(per_minute) < 1:
        return ""
    sign = "+" if per_minute > 0 else "-"
    return f"{sign}{size_words(abs(per_minute))}/min"


@dataclass(frozen=True)
class UsageTarget:
    """Where the view measures: ``rel`` below the directory ``path``, what
    that top is (``ROOT``, ``ALLOC`` or ``DIR``), the alloc dirs the
    process map looks at, and the data dir whose file system is judged."""

    path: str
    rel: str
    kind: str
    alloc_dirs: tuple[str, ...] | None
    """None for a client root: its alloc dirs are listed by the view's worker."""
    gc: GcSettings

    @property
    def top(self) -> str:
        """The measured directory, absolute."""
        return os.path.join(self.path, self.rel) if self.rel else self.path


class UsageScreen(Screen[None]):
    """The usage breakdown of one target, drilled into and out of."""

    MAIN_ACTIONS_OFF = True
    """The app's tree and viewer keys (snapshot, move, destroy…) do nothing here."""

    DEFAULT_CSS = """
    UsageScreen #usage-head { height: auto; padding: 0 1; background: $boost; }
    UsageScreen #usage-gc { height: auto; padding: 0 1; }
    UsageScreen #usage-gc.-over { color: $error; text-style: bold; }
    UsageScreen #usage-where { height: 1; padding: 0 1; color: $text-muted; }
    UsageScreen DataTable { height: 1fr; }
    UsageScreen #usage-detail { height: auto; max-height: 4; padding: 0 1;
                                background: $boost; }
    """

    BINDINGS = [
        Binding("escape,q", "leave", "Leave"),
        Binding("enter", "enter", "Open", show=False),
        Binding("backspace,left,h", "up", "Up"),
        Binding("a", "toggle_size", "Apparent/allocated"),
        Binding("r", "remeasure", "Measure again"),
    ]

    def __init__(self, target: UsageTarget) -> None:
        super().__init__()
        self.target = target
        self.allocated = False
        self.usage: Usage | None = None
        self.here = ""  # rel of the shown directory below the measured top
        self.rows: list[UsageRow] = []
        self.files: dict[tuple[str, bool], object] = {}
        self.procs: ProcessMap | None = None
        self.mounts: dict[str, int] = {}
        self.growth: dict[str, Growth] = {}
        self.status: GcStatus | None = None
        self._cancel = threading.Event()
        self._drawn_at = 0.0
        self._tracker: GrowthTracker | None = None

    def compose(self) -> ComposeResult:
        """The target, the GC line, where we are, the table, the detail line."""
        yield Static(plain(f"usage of {self.target.top}"), id="usage-head")
        yield Static("file system: …", id="usage-gc", markup=False)
        yield Static("measuring…", id="usage-where", markup=False)
        table: DataTable = DataTable(id="usage-table", cursor_type="row", zebra_stripes=False)
        table.add_columns("size", "", "%", "inodes", "files", "written", "growth", "name")
        yield table
        yield Static("", id="usage-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Start measuring, looking at the file system and at the processes."""
        self.query_one(DataTable).focus()
        self._start()
        self.set_interval(REDRAW_EVERY, self._redraw_while_measuring)
        self.set_interval(GROWTH_EVERY, self._sample_growth)

    def on_unmount(self) -> None:
        """Stop a walk still running."""
        self._cancel.set()

    # -- workers ---------------------------------------------------------------

    def _start(self) -> None:
        self._cancel.set()
        self._cancel = threading.Event()
        self.usage = None
        self.files.clear()
        self._tracker = None
        self.growth = {}
        self._measure(self._cancel)
        self._look_around()

    @work(thread=True, exclusive=True, group="usage-measure")
    def _measure(self, cancel: threading.Event) -> None:
        try:
            usage = measure_usage(self.target.path, self.target.rel, cancel=cancel,
                                  top=FILES_SHOWN, on_progress=self._progress)
        except Exception as exc:  # a link swapped in, gone, unreadable: said, never a crash
            self._deliver(self._failed, f"cannot measure: {printable(exc)}")
            return
        if not cancel.is_set():
            self._deliver(self._measured, usage)

    def _progress(self, usage: Usage) -> None:
        if self.usage is None and not self._cancel.is_set():
            self._deliver(self._first_numbers, usage)

    @work(thread=True, exclusive=True, group="usage-around")
    def _look_around(self) -> None:
        """The file system against the thresholds, processes and mounts."""
        alloc_dirs = self.target.alloc_dirs
        if alloc_dirs is None:
            alloc_dirs = tuple(alloc_dirs_in(self.target.path))
        try:
            status = GcStatus(fs_usage(self.target.path), self.target.gc, len(alloc_dirs))
        except OSError as exc:
            self._deliver(self._failed, f"file system: {printable(exc)}")
            status = None
        try:
            procs = scan_processes(alloc_dirs)
        except OSError as exc:  # no /proc: said, the rest still shown
            self._deliver(self._failed, f"processes: {printable(exc)}")
            procs = ProcessMap()
        mounts = {}
        for alloc in alloc_dirs:
            real = os.path.realpath(alloc)
            mounts[alloc] = len([m for m in mounts_under(real) if m != real])
        self._deliver(self._looked_around, status, procs, mounts)

    @work(thread=True, exclusive=True, group="usage-files")
    def _list_files(self, rel: str, allocated: bool) -> None:
        try:
            listed = files_in(self.target.path, _join(self.target.rel, rel), top=FILES_SHOWN,
                              allocated=allocated)
        except Exception as exc:  # said on the line above the table, never a crash
            listed = f"cannot list: {printable(exc)}"
        self._deliver(self._files_listed, rel, allocated, listed)

    @work(thread=True, exclusive=True, group="usage-growth")
    def _growth_worker(self, tracker: GrowthTracker) -> None:
        try:
            self._deliver(self._grown, tracker.sample())
        except Exception as exc:  # said, never a crash
            self._deliver(self._failed, f"growth: {printable(exc)}")

    def _deliver(self, callback, *args) -> None:
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:
            pass  # the app is gone

    # -- results, on the event loop -----------------------------------------------

    def _first_numbers(self, usage: Usage) -> None:
        if self.usage is None:
            self.usage = usage
            self._redraw()

    def _measured(self, usage: Usage) -> None:
        self.usage = usage
        if self.target.kind == ROOT:
            allocs = {c.name: c for c in usage.tree.children}
        else:
            allocs = {"": usage.tree}
        self._tracker = GrowthTracker(self.target.path, usage, allocs, self.target.rel)
        self._redraw()

    def _failed(self, message: str) -> None:
        self.query_one("#usage-where", Static).update(plain(message, "bold red"))

    def _looked_around(self, status: GcStatus | None, procs: ProcessMap,
                       mounts: dict[str, int]) -> None:
        self.status, self.procs, self.mounts = status, procs, mounts
        gc = self.query_one("#usage-gc", Static)
        if status is not None:
            gc.update(plain(f"file system: {status.summary()}"))
            gc.set_class(status.disk_over or status.inodes_over or status.allocs_over, "-over")
        self._redraw()

    def _files_listed(self, rel: str, allocated: bool, listed) -> None:
        self.files[(rel, allocated)] = listed
        if rel == self.here and allocated == self.allocated:
            self._redraw()

    def _grown(self, growth: dict[str, Growth]) -> None:
        self.growth = growth
        self._redraw()

    def _redraw_while_measuring(self) -> None:
        if self.usage is not None and not self.usage.done:
            self._redraw()

    def _sample_growth(self) -> None:
        if self._tracker is not None:
            self._growth_worker(self._tracker)

    # -- drawing -----------------------------------------------------------------

    @property
    def node(self) -> DirUsage | None:
        """The record of the directory shown."""
        if self.usage is None:
            return None
        return self.usage.tree.find(self.here) or self.usage.tree

    def _redraw(self) -> None:
        usage, node = self.usage, self.node
        if usage is None or node is None:
            return
        listed = self.files.get((self.here, self.allocated))
        if listed is None and usage.done:
            self.files[(self.here, self.allocated)] = "listing…"
            self._list_files(self.here, self.allocated)
        files = listed if listed is not None and not isinstance(listed, str) else None
        self.rows = breakdown(usage, node, allocated=self.allocated, top_kind=self.target.kind,
                              files=files)
        self._fill_table()
        self._show_where(usage, node, listed if isinstance(listed, str) else "")
        self._show_detail()

    def _fill_table(self) -> None:
        table = self.query_one(DataTable)
        current = self.rows[table.cursor_row].rel if 0 <= table.cursor_row < len(self.rows) \
            and table.row_count else None
        table.clear()
        now = time.time()
        for index, row in enumerate(self.rows):
            table.add_row(*self._cells(row, now), key=str(index))
        if current is not None:
            for index, row in enumerate(self.rows):
                if row.rel == current:
                    table.move_cursor(row=index)
                    break

    def _cells(self, row: UsageRow, now: float) -> list[Text]:
        size = row.size(self.allocated)
        name = plain(row.name + ("/" if row.is_dir else ""),
                     "bold" if row.is_dir else ("dim" if row.kind in (OTHER, SKIPPED) else ""))
        note = self._note(row, now)
        if note:
            name.append(f"  {note}", style="dim")
        growth = self.growth.get(row.name if self.target.kind == ROOT and row.kind == ALLOC
                                 and not self.here else "\0")
        return [
            Text(size_words(size) if row.kind != SKIPPED else "-", justify="right"),
            Text(bar(row.share), style="green" if row.kind != OTHER else "dim green"),
            Text(f"{row.share * 100:5.1f}" if row.kind != SKIPPED else "", justify="right"),
            Text(f"{row.inodes:,}", justify="right"),
            Text(f"{row.files:,}", justify="right"),
            Text(_age(row.newest, now)),
            Text(rate_words(growth.bytes_per_minute) if growth else ""),
            name,
        ]

    def _note(self, row: UsageRow, now: float) -> str:
        if row.kind == SKIPPED:
            return printable(row.note)
        if row.note:
            return printable(row.note)
        alloc = self._alloc_path(row)
        if alloc is None or self.procs is None:
            return ""
        users = self.procs.using(alloc)
        if users:
            return f"{len(users)} process{'es' if len(users) > 1 else ''}"
        if not self.mounts.get(alloc) and row.newest is not None and now - row.newest >= \
                IDLE_AFTER:
            return "idle"
        return ""

    def _alloc_path(self, row: UsageRow) -> str | None:
        """The alloc dir a row of kind ALLOC stands for."""
        if row.kind != ALLOC:
            return None
        if self.target.kind == ROOT:
            return os.path.join(self.target.top, row.rel.split("/")[0])
        return self.target.path

    def _show_where(self, usage: Usage, node: DirUsage, listing: str) -> None:
        size = node.bytes(self.allocated)
        what = "allocated" if self.allocated else "apparent"
        state = f"measuring… {usage.inodes:,} inodes" if not usage.done else \
            f"measured in {usage.elapsed:.1f} s"
        if usage.done and not usage.complete:
            state += " — partial: " + "; ".join(printable(p) for p in usage.partial[:2])
        where = f"/{self.here}" if self.here else "/"
        text = (f"{where}  {size_words(size)} {what}, {node.inodes:,} inodes, "
                f"{node.files:,} files · {state}")
        if listing and listing != "listing…":
            text += f" · {listing}"
        growth = self.growth.get("") if self.target.kind == ALLOC and not self.here else None
        if growth is not None and growth.bytes_per_minute is not None:
            text += (f" · growing {rate_words(growth.bytes_per_minute) or '0/min'} "
                     f"(logs {rate_words(growth.logs_per_minute) or '0/min'})")
        self.query_one("#usage-where", Static).update(plain(text))

    def _show_detail(self) -> None:
        detail = self.query_one("#usage-detail", Static)
        row = self.highlighted
        if row is None:
            detail.update("")
            return
        lines: list[str] = []
        alloc = self._alloc_path(row)
        if alloc is not None and self.procs is not None:
            users = self.procs.using(alloc)
            lines += [f"used by {u.describe()}" for u in users[:3]]
            if not users:
                lines.append("no process uses it")
            lines.append(f"{self.mounts[alloc]} mount(s) inside" if self.mounts.get(alloc)
                         else "nothing mounted inside")
            if self.procs.unreadable and os.geteuid() != 0:
                lines.append(f"{self.procs.unreadable} processes of other users could not "
                             "be looked at")
        elif row.kind == FILE and self.procs is not None:
            holders = self.procs.holders(os.path.join(self.target.top, row.rel))
            lines += [f"held open by {h.describe()}" for h in holders[:3]]
        if row.kind in (FILE, OTHER) and row.allocated != row.apparent:
            lines.append(f"apparent {size_words(row.apparent)}, "
                         f"allocated {size_words(row.allocated)}")
        growth = self.growth.get(row.name if row.kind == ALLOC and self.target.kind == ROOT
                                 else "" if row.kind == ALLOC else "\0")
        if growth and growth.bytes_per_minute is not None:
            lines.append(f"growing {rate_words(growth.bytes_per_minute) or '0/min'} "
                         f"(logs {rate_words(growth.logs_per_minute) or '0/min'})")
        detail.update(Text("\n".join(lines[:4]), end=""))

    @property
    def highlighted(self) -> UsageRow | None:
        """The row under the cursor."""
        table = self.query_one(DataTable)
        if 0 <= table.cursor_row < len(self.rows):
            return self.rows[table.cursor_row]
        return None

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_detail()

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_enter()

    # -- keys --------------------------------------------------------------------

    def action_enter(self) -> None:
        """Go into the directory under the cursor."""
        row = self.highlighted
        if row is None or not row.is_dir or self.usage is None:
            return
        if self.usage.tree.find(row.rel) is None:
            return
        self.here = row.rel
        self.query_one(DataTable).move_cursor(row=0)
        self._redraw()
        self.query_one(DataTable).move_cursor(row=0)

    def action_up(self) -> None:
        """Back to the parent directory, the cursor on where we were."""
        if not self.here:
            return
        came_from = self.here
        self.here = self.here.rpartition("/")[0]
        self._redraw()
        for index, row in enumerate(self.rows):
            if row.rel == came_from:
                self.query_one(DataTable).move_cursor(row=index)
                break

    def action_toggle_size(self) -> None:
        """Sort and show by allocated or apparent bytes."""
        self.allocated = not self.allocated
        self._redraw()

    def action_remeasure(self) -> None:
        """Walk again (the files listed are forgotten)."""
        self._start()
        self.query_one("#usage-where", Static).update("measuring…")

    def action_leave(self) -> None:
        """Back to the tree."""
        self._cancel.set()
        self.dismiss()


def _join(rel: str, name: str) -> str:
    return f"{rel}/{name}" if rel and name else rel or name


def _age(stamp: float | None, now: float) -> str:
    if not stamp:
        return ""
    try:
        return humanize.naturaltime(datetime.fromtimestamp(now, timezone.utc)
                                    - datetime.fromtimestamp(stamp, timezone.utc))
    except (OverflowError, OSError, ValueError):
        return "out of range"


def target_for(root, node, gc: GcSettings | None) -> UsageTarget:
    """The target of `u` with the tree's cursor on ``node`` (None or the root
    node: the whole root): an allocation, or the directory of a node inside
    one (a file's: its directory)."""
    from .tree import ALLOC as TREE_ALLOC, DIR as TREE_DIR, SECRET, SET

    gc = gc if gc is not None else GcSettings()
    alloc = None
    while node is not None and node.alloc is None:
        node = node.parent
    if node is not None:
        alloc = node.alloc
    if alloc is None:
        if root.single:
            return UsageTarget(root.path, "", ALLOC, (root.path,), gc)
        return UsageTarget(root.path, "", ROOT, None, gc)
    rel = node.rel
    if node.kind not in (TREE_ALLOC, TREE_DIR, SECRET, SET):
        rel = rel.rpartition("/")[0]  # a file: its directory
    elif node.kind == SET:
        rel = node.parent.rel if node.parent is not None else ""
    if not rel:
        return UsageTarget(alloc.alloc_dir, "", ALLOC, (alloc.alloc_dir,), gc)
    return UsageTarget(alloc.alloc_dir, rel, DIR, (alloc.alloc_dir,), gc)
