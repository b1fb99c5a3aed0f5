"""``browse``: a tree of allocations and their directories beside a file pane.

The tree is the terminal's: the core tree model
(:mod:`inspector.core.tree`) decides what is listed and when, rotation sets
as one entry (expandable to their files), natural order or newest first,
the name filter (smart case), secrets listed locked (names and sizes, never
content), FIFOs, sockets and devices marked and never opened, the
directories of a client root that are not allocations (with the reason,
browsed read-only), and whatever a listing raises as a message on its
entry. This widget draws its rows in a list box, indented: choosing a
directory expands or collapses it (listed in a worker the first time),
choosing a file or a set opens it in the pane (a
:class:`~inspector.notebook.viewer.Viewer`), choosing an allocation shows its
card (:class:`~inspector.notebook.alloc_card.AllocCard`: sizes measured in
the background). With "mark logs" ticked, choosing a log (a file or a
rotation set) marks it for merging, or unmarks it, as ``space`` does in the
terminal (its line says "[marked]"); "Merge marked" opens the marked logs
as one stream in the pane, in time order (with none marked: the logs of
the task or the allocation the last line chosen is in), as ``m`` does. A list box of 100,000 lines would freeze the page, so it
shows a window of :data:`WINDOW` rows of the model's virtual list, with a
line to show the next (or the previous) :data:`BATCH`.

Everything the tree does runs in the browser's worker queue
(:mod:`~inspector.notebook.tree_jobs`): clicks and the methods below queue
an operation, so ``expand()`` and ``open()`` right after ``browse()`` act in
order, and the list box gets the new lines when they are ready.
"""

from __future__ import annotations

from datetime import datetime, timezone

from allocdir import AllocDir
from allocdir.render import esc

from ..core.failure import failure_text
from ..core.roots import Root
from ..core.strays import NonAllocDir
from ..core.text import printable
from ..core.lognames import is_set_name
from ..core.tree import (
    ALLOC, ORDERS, Loaded, Marked, Node, Notice, Open, OpenMerged, Refused, TreeModel,
)
from ..core.tree.events import CursorMoved
from ..core.tree.nodes import MARKABLE, MERGED
from ._ui import SerialQueue, UiScheduler, Widget, await_until, widgets
from .alloc_card import AllocCard
from .roots import NotebookRoot
from .tree_jobs import QueueExecutor
from .viewer import Viewer

BATCH = 500
"""Rows a "more" line adds to what is shown (and a line above takes back)."""
WINDOW = 2 * BATCH
"""Rows of the tree in the list box at most."""
ROWS = 30
INDENT = "\u00a0\u00a0\u00a0"  # no-break spaces: a list box collapses plain ones
FIND_TRIES = 50
"""How many times marking a log looks for it again, after the listings
queued before it (a path several directories down)."""
UP, DOWN = -1, -2
"""The values of the lines that move the window."""


def _root_of(target) -> Root:
    """What the model browses: a notebook root's own, or one alloc dir."""
    if isinstance(target, NotebookRoot):
        return target.root
    return Root(target.alloc_dir, single=True)


class Browser(Widget):
    """Allocations and their directories on the left, the chosen file (or
    allocation card) on the right (see the module docstring)."""

    def __init__(self, target: NotebookRoot | AllocDir | NonAllocDir, *, rows: int = ROWS,
                 page_lines: int = 30) -> None:
        w = widgets()
        self.target = target
        self._ui = UiScheduler()
        self._queue = SerialQueue()
        jobs = QueueExecutor(self._queue, on_error=lambda exc: self._said_failure(exc, "the tree"))
        self.model = TreeModel(_root_of(target), jobs, watch=False, listener=self._on_model)
        self._top = 1
        self._shown: list = []  # the key (or, without one, the node) of each line
        self._publish_queued = False
        self._syncing = False
        self._file_shown = False

        self.header = w.HTML()
        self.refresh_button = w.Button(description="Refresh", icon="refresh",
                                       layout=w.Layout(width="auto"))
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.filter_box = w.Text(placeholder="& filter names", layout=w.Layout(width="14em"))
        self.filter_box.observe(lambda change: self._unless_syncing(
            lambda: self.set_filter(change["new"])), "value")
        self.order_buttons = w.ToggleButtons(options=[(o.words, o.name) for o in ORDERS],
                                             value=ORDERS[0].name)
        self.order_buttons.observe(lambda change: self._unless_syncing(
            lambda: self.set_order(change["new"])), "value")
        self.mark_box = w.Checkbox(value=False, description="mark logs", indent=False,
                                   tooltip="choosing a log marks or unmarks it for merging",
                                   layout=w.Layout(width="auto"))
        self.merge_button = w.Button(description="Merge marked", icon="random",
                                     tooltip="the marked logs as one stream, in time order "
                                     "(none marked: the logs of the task or allocation chosen)",
                                     layout=w.Layout(width="auto"))
        self.merge_button.on_click(lambda _b: self.merge_marked())
        self.tree = w.Select(options=[], rows=rows,
                             layout=w.Layout(width="36%", min_width="18em", height="auto"))
        self.tree.observe(self._chosen, "value")
        self.card = AllocCard(self._ui)
        self.viewer = Viewer(lines=page_lines)
        pane = w.VBox([self.card.widget, self.viewer.widget],
                      layout=w.Layout(width="64%", margin="0 0 0 8px"))
        self.notice = w.HTML()
        bar = w.HBox([self.refresh_button, self.filter_box, self.order_buttons, self.mark_box,
                      self.merge_button, self.header],
                     layout=w.Layout(align_items="center"))
        self.widget = w.VBox([bar, w.HBox([self.tree, pane]), self.notice],
                             layout=w.Layout(width="100%"))
        self._do(self.model.start, "listing the allocations")

    # -- the public contract ------------------------------------------------

    def refresh(self) -> None:
        """Look at the disk again: the allocations and the expanded directories."""
        self._do(self.model.reload, "listing the allocations")

    def labels(self) -> list[str]:
        """The tree's lines, as shown."""
        return [label for label, _ in self.tree.options]

    def expand(self, rel: str, alloc: AllocDir | str | None = None) -> Browser:
        """Expand the directory ``rel`` of ``alloc`` (an AllocDir or an id
        prefix; not needed when one allocation is browsed), and the ones on
        the way. ``""`` is the allocation itself. Queued: it acts once what
        was asked before is done."""
        target = self._alloc(alloc)
        self._do(lambda: self.model.reveal(target, rel, expand=True, say_missing=True),
                 f"expanding {rel or target.alloc_id}")
        return self

    def open(self, rel: str, alloc: AllocDir | str | None = None, **options) -> Viewer:
        """Open the file ``rel`` of ``alloc`` in the pane (as choosing it does)."""
        target = self._alloc(alloc)

        def op() -> None:
            self.model.reveal(target, rel)
            self._show_file(target, rel, **options)

        self._do(op, f"opening {rel}")
        return self.viewer

    def mark(self, rel: str, alloc: AllocDir | str | None = None) -> Browser:
        """Mark the log ``rel`` of ``alloc`` for merging, or unmark it: a
        file, or a rotation set by its name (``alloc/logs/web.stdout``).
        Queued, as a click with "mark logs" ticked; its directories are
        listed first."""
        target = self._alloc(alloc)
        rel = rel.strip("/")
        tries = [FIND_TRIES]

        def find() -> None:  # after the listings the reveal queued
            node = self._log_node(target, rel)
            if node is None and tries[0] > 0:
                tries[0] -= 1
                self._do(find, f"marking {rel}")
                return
            self._act_on_mark(self.model.toggle_mark(node) if node is not None else
                              Refused(f"{printable(rel)}: no such log"))

        def reveal() -> None:
            self.model.reveal(target, rel.rpartition("/")[0], expand=True, say_missing=True)
            self._do(find, f"marking {rel}")

        self._do(reveal, f"marking {rel}")
        return self

    def marked(self) -> int:
        """How many logs are marked for merging."""
        return len(self.model.marks)

    def merge_marked(self) -> Viewer:
        """Open the marked logs as one stream in the pane (then unmarked);
        with none marked, the logs of the task or the allocation the last
        line chosen is in (as ``m`` in the terminal). Queued."""
        def op() -> None:
            outcome = self.model.merge()
            if isinstance(outcome, OpenMerged):
                self._show_merged(outcome)
            else:
                self._say(esc(outcome.message))
            self._show_marked()

        self._do(op, "merging the marked logs")
        return self.viewer

    def set_filter(self, text: str) -> Browser:
        """Narrow every listed directory to the names containing ``text``
        (ignoring case unless it has a capital); ``""`` shows them all."""
        self._ui.call(self._sync, self.filter_box, text)
        self._do(lambda: self.model.set_filter(text), "filtering the names")
        return self

    def set_order(self, name: str) -> Browser:
        """Order the directories by ``"name"`` (natural) or ``"mtime"`` (newest first)."""
        order = next((o for o in ORDERS if o.name == name), None)
        if order is None:
            raise ValueError(f"no order {name!r}: {', '.join(o.name for o in ORDERS)}")
        self._ui.call(self._sync, self.order_buttons, name)
        self._do(lambda: self.model.set_order(order), "ordering")
        return self

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

    # -- the model (in the worker queue) ----------------------------------------

    def _do(self, op, doing: str) -> None:
        """Queue ``op``; whatever it raises is said below the tree, and the
        operations after it still run."""
        def guarded() -> None:
            try:
                op()
            except Exception as exc:
                self._said_failure(exc, doing)
        self._queue.submit(guarded)

    def _said_failure(self, exc: BaseException, doing: str) -> None:
        self._say(f"{esc(doing)} failed: {esc(failure_text(exc, doing))}")

    def _on_model(self, event: object) -> None:
        if isinstance(event, CursorMoved):
            self._keep_in_window(event.row)
        if isinstance(event, Loaded) and event.key is None:
            self._show_header()
        elif isinstance(event, Notice):
            self._say(esc(event.text))
        if not self._publish_queued:
            self._publish_queued = True
            self._queue.submit(self._draw_rows)

    def _show_header(self) -> None:
        model = self.model
        count, strays = len(model.allocs), len(model.strays)
        others = (f" · {strays:,} {'directory' if strays == 1 else 'directories'} "
                  "that are not allocations") if strays else ""
        description = (self.target.description if isinstance(self.target, NotebookRoot)
                       else f"alloc dir {printable(self.target.alloc_dir)}")
        header = (f'<span style="font-family:var(--jp-code-font-family,monospace);'
                  f'font-size:12px"><b>{esc(description)}</b> · {count} '
                  f'{"allocation" if count == 1 else "allocations"}{others}</span>')
        self._ui.call(setattr, self.header, "value", header)
        if count == 1 and not self._file_shown:
            self.card.show(model.allocs[0])

    def _keep_in_window(self, row: int) -> None:
        if not self._top <= row < self._top + WINDOW:
            self._top = max(1, row - WINDOW // 4)

    def _draw_rows(self) -> None:
        """Hand the lines of the window to the list box."""
        self._publish_queued = False
        model = self.model
        total = model.row_count
        self._top = max(1, min(self._top, total - WINDOW))
        end = min(total, self._top + WINDOW)
        now = datetime.now(timezone.utc)
        options: list[tuple[str, int]] = []
        if self._top > 1:
            options.append((f"▲ {self._top - 1:,} rows above (choose to show "
                            f"{min(BATCH, self._top - 1):,} of them)", UP))
        self._shown = []
        for row in range(self._top, end):
            node, depth = model.node_at(row)
            options.append((_line(node, depth, str(model.label_of(node, now))), len(self._shown)))
            self._shown.append(node.key or node)  # keys: no node held beyond the model's
        if end < total:
            more = total - end
            options.append((f"… {more:,} more {'row' if more == 1 else 'rows'} (choose to "
                            f"show the next {min(BATCH, more):,})", DOWN))
        self._ui.call(self._set_options, options, key="options")

    def _choose(self, value: int) -> None:
        if value in (UP, DOWN):
            self._top += BATCH if value == DOWN else -BATCH
            self._draw_rows()
            return
        if not 0 <= value < len(self._shown):
            return  # a line of options replaced meanwhile
        shown = self._shown[value]
        node = self.model.find(shown) if isinstance(shown, tuple) else shown
        if node is None:
            return  # gone since the line was drawn
        self.model.move_cursor(node)
        if self.mark_box.value and _marks_it(node):
            self._act_on_mark(self.model.toggle_mark(node))
            return
        outcome = self.model.activate(node)
        if isinstance(outcome, Open):
            self._show_file(outcome.alloc, outcome.rel)
            self._say("")
        elif isinstance(outcome, OpenMerged):  # "all logs", a task's stdout+stderr
            self._show_merged(outcome)
        elif isinstance(outcome, Refused):
            self._say(esc(outcome.message))
        else:
            self._say("")
            if node.expanded:  # what it holds starts on the next row: in the window
                self._keep_in_window(self.model.cursor.row + 1)
            if node.kind == ALLOC:
                self.card.show(node.alloc)

    def _show_merged(self, outcome: OpenMerged) -> None:
        self._file_shown = True
        self.card.clear()
        self.viewer.label = outcome.label
        self.viewer.session.open_merged(outcome.sources, label=outcome.label, fs=outcome.fs)
        self._say("")

    def _act_on_mark(self, outcome: Marked | Refused | None) -> None:
        if isinstance(outcome, Refused):
            self._say(esc(outcome.message))
        elif isinstance(outcome, Marked):
            count = outcome.count
            self._say(f"{count:,} {'log' if count == 1 else 'logs'} marked · Merge marked "
                      "merges them" if count else "no log marked")
        self._show_marked()

    def _show_marked(self) -> None:
        count = len(self.model.marks)
        self._ui.call(setattr, self.merge_button, "description",
                      f"Merge marked ({count:,})" if count else "Merge marked")

    def _log_node(self, alloc, rel: str) -> Node | None:
        """The tree's node of the log ``rel`` (a file, or a set by its name),
        if its directory is listed; the cursor put on it."""
        node = self.model.find((alloc.alloc_dir, rel))
        if node is None and is_set_name(rel.rpartition("/")[2]):
            node = self.model.find((alloc.alloc_dir, f"{rel}.*"))
        if node is not None:
            self.model.move_cursor(node)
        return node

    def _show_file(self, alloc, rel: str, **options) -> None:
        self._file_shown = True
        self.card.clear()
        self.viewer.open(alloc, rel, **options)

    # -- the widgets (kernel loop) --------------------------------------------

    def _chosen(self, change) -> None:
        value = change["new"]
        if self._syncing or value is None:
            return
        self._sync(self.tree, None)  # so that choosing the same line again acts again
        self._do(lambda: self._choose(value), "opening the line chosen")

    def _unless_syncing(self, act) -> None:
        if not self._syncing:
            act()

    def _sync(self, widget, value) -> None:
        """Set a widget's value without acting on it."""
        self._syncing = True
        try:
            widget.value = value
        finally:
            self._syncing = False

    def _set_options(self, options: list[tuple[str, int]]) -> None:
        self._syncing = True
        try:
            self.tree.options = options
            self.tree.value = None
        finally:
            self._syncing = False
        self._published()  # the static copy follows

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

    def _html(self) -> str:
        """The header, the tree's lines, the card or the file shown, as static HTML."""
        lines = "\n".join(esc(label) for label, _ in self.tree.options)
        tree = (f'<pre style="font-size:12px;max-height:32em;overflow:auto;margin:0">{lines}'
                "</pre>")
        pane = self.card.widget.value or self.viewer._html()
        return (f"<div>{self.header.value}</div><div style=\"display:flex;gap:8px\">"
                f'<div style="flex:0 0 36%">{tree}</div><div style="flex:1">{pane}</div></div>')


def _marks_it(node: Node) -> bool:
    """Whether a click with "mark logs" ticked marks ``node`` (a log), or
    says why not (a secret, a FIFO); directories still expand and the
    entries of logs as one stream still open."""
    return node.kind in MARKABLE or not (node.allow_expand or node.kind == MERGED)


def _line(node: Node, depth: int, label: str) -> str:
    """A row as a line of the list box: indented, an arrow for what expands."""
    indent = INDENT * max(0, depth - 1)
    if node.allow_expand:
        return f"{indent}{'▾' if node.expanded else '▸'} {label}"
    return f"{indent}\u00a0\u00a0{label}"


def browse(target: NotebookRoot | AllocDir, *, rows: int = ROWS) -> Browser:
    """A widget to browse ``target`` (a ``NotebookRoot`` from ``open_root``,
    or one ``AllocDir``): a tree of allocations and directories, listed as
    they are expanded, beside a pager on the chosen file."""
    return Browser(target, rows=rows)
