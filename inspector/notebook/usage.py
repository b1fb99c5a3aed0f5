"""``nb.usage(root | alloc | (alloc, path))``: what fills the node, as a
table and a bar chart, in a notebook cell.

The measurement is the library's (:func:`allocdir.measure_usage`), run in a
worker thread: the cell returns at once with a :class:`UsageTable` whose
table fills in while the walk streams, then draws a bar chart of the
largest allocations, tasks or directories, with the data dir's file system
against Nomad's GC thresholds. ``await table`` or ``table.wait()`` gives the
finished table; ``table.frame()`` (alias ``to_pandas()``) a pandas
DataFrame. pandas and matplotlib come with the ``notebook`` extra and are
imported only here, never by the terminal app.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import threading
from concurrent.futures import Future

from allocdir import AllocDir, Usage, measure_usage
from allocdir.plaintext import size_words

from ..core.text import printable
from ..core.usage.config import read_config
from ..core.usage.model import ALLOC, DIR, ROOT, UsageRow, flatten, iso_time
from ..core.usage.target import Target, resolve
from ..core.usage.thresholds import GcSettings, GcStatus, fs_usage
from ._ui import UiScheduler, Widget, pool, widgets
from .html import name_html

REDRAW_EVERY = 0.2
"""Seconds between two redraws of the table while the walk streams."""
CHART_BARS = 12
"""Bars in the chart, at most."""

_CELL = "padding:1px 8px;text-align:right;font-family:var(--jp-code-font-family,monospace)"


class UsageTable(Widget):
    """A usage measurement shown as a table (and, once done, a chart).

    ``rows`` are the directories down to ``depth`` levels, largest first
    within their parent; ``usage`` the library's measurement; ``status`` the
    file system against the thresholds.
    """

    def __init__(self, target: Target, rel: str = "", *, depth: int = 2, top: int = 10,
                 allocated: bool = False) -> None:
        w = widgets()
        self.target = target
        self.rel = rel
        self.depth = depth
        self.top = top
        self.allocated = allocated
        self.usage: Usage | None = None
        self.status: GcStatus | None = None
        self.error = ""
        self.chart_png: bytes = b""
        self._future: Future = Future()
        self._ui = UiScheduler()
        self._cancel = threading.Event()
        self._table = w.HTML(self._table_html())
        self._chart = w.Image(format="png", layout=w.Layout(display="none", max_width="760px"))
        self.widget = w.VBox([self._table, self._chart])
        pool().submit(self._run)

    # -- the public contract ------------------------------------------------

    @property
    def done(self) -> bool:
        """True once measured (or failed)."""
        return self._future.done()

    def wait(self, timeout: float | None = None) -> UsageTable:
        """Block until measured; returns the table (raises what failed)."""
        self._future.result(timeout)
        if self._ui.on_loop_thread:
            self._ui.flush()
        return self

    def __await__(self):
        """``await nb.usage(...)`` in a cell: the loop keeps running meanwhile."""
        yield from asyncio.wrap_future(self._future).__await__()
        self._ui.flush()
        return self

    def cancel(self) -> None:
        """Stop measuring: the table keeps what was counted, marked partial."""
        self._cancel.set()

    @property
    def rows(self) -> list[tuple[int, UsageRow]]:
        """(level, row) for the directories down to ``depth``, largest first."""
        if self.usage is None:
            return []
        return flatten(self.usage, self.depth, allocated=self.allocated,
                       top_kind=self.target.kind if not self.rel else DIR)

    def frame(self):
        """The rows as a pandas DataFrame (one row per entry: path, kind,
        level, apparent and allocated bytes, inodes, files, newest write,
        share of the parent)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("frame() needs pandas: pip install "
                              "'allocdir-inspector[notebook]'") from exc
        records = [{
            "path": row.rel, "kind": row.kind, "level": level,
            "apparent_bytes": row.apparent, "allocated_bytes": row.allocated,
            "inodes": row.inodes, "files": row.files,
            "newest_write": iso_time(row.newest), "share": row.share,
        } for level, row in self.rows]
        return pd.DataFrame.from_records(records, columns=[
            "path", "kind", "level", "apparent_bytes", "allocated_bytes", "inodes", "files",
            "newest_write", "share"])

    to_pandas = frame

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """The live widget, with a static ``text/html`` copy for exports."""
        data = super()._repr_mimebundle_(include, exclude, **kwargs)
        data["text/html"] = self._repr_html_()
        return data

    def _repr_html_(self) -> str:
        html = self._table_html()
        if self.chart_png:
            html += (f'<img alt="usage chart" src="data:image/png;base64,'
                     f'{base64.b64encode(self.chart_png).decode()}"/>')
        return html

    # -- the work (a worker thread) ------------------------------------------------

    def _run(self) -> None:
        try:
            self.status = GcStatus(fs_usage(self.target.path), self.target.gc,
                                   len(self.target.alloc_dirs))
            usage = measure_usage(self.target.path, self.rel, top=self.top,
                                  cancel=self._cancel, on_progress=self._progress,
                                  progress_every=REDRAW_EVERY)
            self.usage = usage
            self.chart_png = self._draw_chart()
        except Exception as exc:  # shown in the cell and raised by wait()
            self.error = f"cannot measure: {printable(exc)}"
            self._ui.call(self._redraw)
            self._future.set_exception(exc)
            return
        self._ui.call(self._redraw)
        self._future.set_result(self)

    def _progress(self, usage: Usage) -> None:
        self.usage = usage
        self._ui.call(self._redraw, key="progress")

    def _redraw(self) -> None:
        self._table.value = self._table_html()
        if self.chart_png:
            self._chart.value = self.chart_png
            self._chart.layout.display = ""

    # -- drawing ----------------------------------------------------------------

    def _table_html(self) -> str:
        what = "allocated" if self.allocated else "apparent"
        where = name_html(os.path.join(self.target.path, self.rel) if self.rel
                          else self.target.path)
        head = f"<b>usage of {where}</b>"
        if self.error:
            return f'{head}<div style="color:#c00">{name_html(self.error)}</div>'
        usage = self.usage
        if usage is None:
            return f"{head}<div>measuring…</div>"
        state = (f"measured in {usage.elapsed:.1f} s" if usage.done
                 else f"measuring… {usage.inodes:,} inodes so far")
        if usage.done and not usage.complete:
            state += " — partial: " + "; ".join(name_html(p) for p in usage.partial[:3])
        lines = [head, f"<div>{size_words(usage.apparent_bytes)} apparent, "
                 f"{size_words(usage.allocated_bytes)} allocated, {usage.inodes:,} inodes, "
                 f"{usage.files:,} files · {state}</div>"]
        if self.status is not None:
            parts = " · ".join(
                f'<span style="color:#c00;font-weight:bold">{name_html(t)}</span>' if over
                else name_html(t) for t, over in self.status.parts())
            lines.append(f"<div>file system: {parts} ({name_html(self.status.settings.label)})"
                         "</div>")
        lines.append(self._rows_html(what))
        if usage.done and usage.skipped:
            skipped = ", ".join(f"{name_html(s.rel)} ({name_html(s.reason)})"
                                for s in usage.skipped[:8])
            lines.append(f"<div>not counted: {skipped}</div>")
        return "\n".join(lines)

    def _rows_html(self, what: str) -> str:
        header = "".join(f'<th style="{_CELL}">{h}</th>' for h in
                         ("path", "kind", what, "%", "inodes", "files", "newest write"))
        body = []
        for level, row in self.rows:
            indent = "&nbsp;" * 2 * (level - 1)
            body.append(
                "<tr>"
                f'<td style="{_CELL};text-align:left">{indent}{name_html(row.rel)}</td>'
                f'<td style="{_CELL};text-align:left">{row.kind}</td>'
                f'<td style="{_CELL}">{size_words(row.size(self.allocated))}</td>'
                f'<td style="{_CELL}">{row.share * 100:.1f}</td>'
                f'<td style="{_CELL}">{row.inodes:,}</td>'
                f'<td style="{_CELL}">{row.files:,}</td>'
                f'<td style="{_CELL}">{iso_time(row.newest) or ""}</td>'
                "</tr>")
        return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"

    def _draw_chart(self) -> bytes:
        """A PNG: the largest entries of the first level as bars, and the
        file system's use against the GC thresholds."""
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError:
            return b""  # the table is still there
        first = [row for level, row in self.rows if level == 1][:CHART_BARS]
        fig = Figure(figsize=(7.5, 1.2 + 0.3 * max(1, len(first))))
        FigureCanvasAgg(fig)
        grid = fig.add_gridspec(1, 2, width_ratios=(4, 1), wspace=0.5)
        bars = fig.add_subplot(grid[0])
        names = [printable(r.name)[:28] for r in first][::-1]
        sizes = [r.size(self.allocated) / 2**20 for r in first][::-1]
        bars.barh(names, sizes, color="#4c72b0")
        bars.set_xlabel(f"MiB ({'allocated' if self.allocated else 'apparent'})")
        bars.set_title("largest " + {ROOT: "allocations", ALLOC: "tasks and alloc/"}.get(
            self.target.kind if not self.rel else DIR, "directories"), fontsize=10)
        if self.status is not None:
            gauge = fig.add_subplot(grid[1])
            s = self.status
            values = [s.fs.used_percent, s.fs.inodes_percent]
            limits = [s.settings.disk_threshold, s.settings.inode_threshold]
            colors = ["#c44e52" if v > t else "#55a868" for v, t in zip(values, limits, strict=True)]
            gauge.bar(["disk", "inodes"], values, color=colors)
            for x, limit in enumerate(limits):
                gauge.hlines(limit, x - 0.4, x + 0.4, colors="black", linestyles="dashed")
            gauge.set_ylim(0, 100)
            gauge.set_ylabel("% used (-- gc at)")
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=80, bbox_inches="tight")
        return out.getvalue()

    def _plain(self) -> str:
        if self.usage is None:
            return f"UsageTable({printable(self.target.path)}: measuring)"
        u = self.usage
        return (f"UsageTable({printable(self.target.path)}: {size_words(u.apparent_bytes)} "
                f"apparent, {size_words(u.allocated_bytes)} allocated, {u.inodes:,} inodes"
                f"{'' if u.done else ', measuring'})")


def usage(what, *, depth: int = 2, top: int = 10, allocated: bool = False,
          config: str | os.PathLike[str] | None = None) -> UsageTable:
    """Measure a client root (``nb.open_root(...)`` or a path), an
    allocation (an ``AllocDir``) or a directory in one (``(alloc, path)``)
    and show it as a table and a chart. ``config`` (a Nomad agent
    configuration file or directory) gives the GC thresholds; without it,
    Nomad's defaults, labelled as such. Returns at once; the table fills in
    while the walk streams."""
    gc = read_config(os.fspath(config)).gc if config is not None else GcSettings()
    rel = ""
    if isinstance(what, tuple):
        alloc, rel = what
        if not isinstance(alloc, AllocDir):
            raise TypeError("usage((alloc, path)) takes an AllocDir and a path inside it")
        rel = os.fspath(rel).strip("/")
        target = Target(alloc.alloc_dir, ALLOC, alloc.alloc_dir, (alloc.alloc_dir,), gc)
    elif isinstance(what, AllocDir):
        target = Target(what.alloc_dir, ALLOC, what.alloc_dir, (what.alloc_dir,), gc)
    elif hasattr(what, "root") and hasattr(what, "allocs"):  # a NotebookRoot
        root = what.root
        if root.single:
            target = Target(root.path, ALLOC, root.given, (root.path,), gc)
        else:
            target = Target(root.path, ROOT, root.given,
                            tuple(a.alloc_dir for a in what.allocs), gc)
    else:
        found = resolve(os.fspath(what))
        target = Target(found.path, found.kind, found.given, found.alloc_dirs, gc)
    return UsageTable(target, rel, depth=depth, top=top, allocated=allocated)
