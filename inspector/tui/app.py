"""InspectorApp: the tree of allocations beside the file viewer."""

from __future__ import annotations

from typing import Any

from textual import events, on
from textual.actions import SkipAction
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Header, Input

from allocdir import AllocDir

from ..core.busy import BusyRegistry
from ..core.roots import Root
from ..core.strays import NonAllocDir
from ..core.text import printable
from ..core.viewing import FirstScreen
from . import startup
from .first_screen import FirstScreenCard
from .status_bar import StatusBar
from .tree import ROOT, AllocTree
from .viewer import FileViewer

# The dialogs (and the actions behind them) are imported when first opened:
# the first screen does not need them, and every module costs start-up time.

# Actions that only make sense on the main screen (never behind a dialog).
_MAIN_ACTIONS = {
    "help", "snapshot", "move", "destroy", "refresh", "focus_switch", "focus_tree",
    "viewer_follow", "viewer_wrap", "viewer_search", "viewer_search_backward", "toggle_tree",
    "narrow_tree", "widen_tree", "usage",
}

TREE_SHARE = 0.3
"""The tree takes this share of the terminal's width…"""
TREE_MIN, TREE_MAX = 20, 48
"""…within these bounds (unless resized with < and >)."""
TREE_STEP = 4
VIEWER_MIN = 20


def tree_width(columns: int) -> int:
    """The tree's width on a terminal of ``columns`` (at 80 columns: 24)."""
    return max(TREE_MIN, min(TREE_MAX, round(columns * TREE_SHARE)))


def viewer_size(columns: int, lines: int) -> tuple[int, int]:
    """The viewer's rows on a terminal of that size, before any resizing:
    beside the tree, below the header, above the status line and footer."""
    return max(1, columns - tree_width(columns)), max(1, lines - 3)


class TreeFilter(Input):
    """`&` in the tree: narrows every listed directory to the names containing the text."""

    DEFAULT_CSS = """
    TreeFilter {
        display: none;
        dock: bottom;
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    TreeFilter:focus {
        border: none;  /* Input:focus draws a border: in one line, it hides the text */
    }
    TreeFilter.-open {
        display: block;
    }
    """

    BINDINGS = [Binding("escape", "clear", "Clear the filter", show=False)]

    def action_clear(self) -> None:
        """Show every name again and go back to the tree."""
        self.value = ""
        self.remove_class("-open")
        self.app.alloc_tree.focus()


class InspectorApp(App[None]):
    """Browse allocations, page through and follow their files, act on them.

    The sub-title (in the header) says what PATH was recognised as, e.g.
    "data_dir /var/lib/nomad → client root /var/lib/nomad/alloc". `busy`
    records the allocations a snapshot, move or destroy is running on.
    """

    TITLE = "allocdir-inspector"

    CSS = """
    #main { height: 1fr; }
    #tree-pane {
        width: 30%;
        min-width: 20;
        max-width: 48;
        border-right: vkey $foreground 20%;
    }
    #tree-pane.-hidden { display: none; }
    #viewer-pane { width: 1fr; }
    #viewer-pane > FileViewer { height: 1fr; }
    """

    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("f1", "help", "Help", key_display="F1"),
        Binding("s", "snapshot", "Snapshot"),
        Binding("M", "move", "Move"),
        Binding("D", "destroy", "Destroy"),
        Binding("r", "refresh", "Refresh"),
        Binding("u", "usage", "Usage"),
        Binding("tab", "focus_switch", "Tree/viewer", priority=True),
        Binding("escape", "focus_tree", "Back to the tree", show=False),
        Binding("f", "viewer_follow", "Follow", show=False),
        Binding("w", "viewer_wrap", "Wrap", show=False),
        # Priority, as the viewer's own: the keys typed right after go to the prompt.
        Binding("slash", "viewer_search", "Search", show=False, key_display="/", priority=True),
        Binding("question_mark", "viewer_search_backward", "Search backward", show=False,
                key_display="?", priority=True),
        Binding("ctrl+b", "toggle_tree", "Tree on/off", key_display="^b"),
        Binding("less_than_sign", "narrow_tree", "Narrower tree", key_display="<", show=False),
        Binding("greater_than_sign", "widen_tree", "Wider tree", key_display=">", show=False),
    ]

    def __init__(
        self,
        root: Root,
        *,
        open_file: tuple[AllocDir, str] | None = None,
        follow: bool = False,
        first_screen: FirstScreen | None = None,
        open_logs: list | None = None,
        gc_settings: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.gc_settings = gc_settings
        """The client's GC thresholds (``--config``), None for Nomad's defaults."""
        self.alloc_root = root
        self.sub_title = root.description
        self.busy = BusyRegistry()
        self._start = open_file
        self._start_follow = follow
        self._start_screen = first_screen
        self._start_logs = open_logs  # --open naming a task: its logs merged
        self.open_alloc: AllocDir | None = None
        self._tree_width: int | None = None  # set by < and >; else it follows the terminal

    def compose(self) -> ComposeResult:
        """The header, the tree beside the viewer and its status line, the footer."""
        # The parts are kept by reference: a query looks at the active
        # screen, which is a dialog's while one is open.
        self._tree = AllocTree(self.alloc_root, id="tree")
        self._tree_filter = TreeFilter(placeholder="& filter names", id="tree-filter")
        self.status_bar = StatusBar(id="status")
        self._viewer = FileViewer(id="viewer", status_bar=self.status_bar)
        self._card = FirstScreenCard(self.alloc_root, id="first-screen")
        self._viewer.display = self._start is not None  # else the card, until a file opens
        self._card.display = self._start is None
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="tree-pane") as self._tree_pane:
                yield self._tree
                yield self._tree_filter
            with Vertical(id="viewer-pane"):
                yield self._card
                yield self._viewer
        yield self.status_bar
        yield Footer()

    def on_ready(self) -> None:
        """The first frame is on screen: start-up is over."""
        startup.resume_collector()

    def on_mount(self) -> None:
        """Open the --open file if one was given, else focus the tree."""
        self._layout_tree()
        if self._start is not None and self._start_logs:
            alloc, rel = self._start
            self.open_merged(self._start_logs, f"{alloc.alloc_id}/{rel}",
                             follow=self._start_follow)
        elif self._start is not None:
            alloc, rel = self._start
            self.open_file(alloc, rel, follow=self._start_follow, first=self._start_screen)
            self._start_screen = None
            self.alloc_tree.reveal(alloc, rel)
        else:
            self.alloc_tree.focus()

    # ----------------------------------------------------------- parts

    @property
    def alloc_tree(self) -> AllocTree:
        """The tree pane."""
        return self._tree

    @property
    def viewer(self) -> FileViewer:
        """The file viewer."""
        return self._viewer

    def current_alloc(self) -> AllocDir | None:
        """The allocation under the tree's cursor, or else that of the open file."""
        return self.alloc_tree.current_alloc() or self.open_alloc

    def open_file(
        self, alloc: AllocDir, rel: str, *, follow: bool = False, first: FirstScreen | None = None
    ) -> None:
        """Show `rel` of `alloc` in the viewer and move the focus there
        (`first`: its first screen, already read)."""
        self.open_alloc = alloc
        self._card.display = False
        self.viewer.display = True
        self.viewer.open_file(alloc, rel, label=f"{alloc.alloc_id}/{rel}", follow=follow,
                              first=first)
        self.viewer.focus()

    def open_merged(self, specs, label: str, *, follow: bool = False, fs=None) -> None:
        """Show the logs of ``specs`` (or of a function giving them, run in
        a worker) merged in time order in the viewer and move the focus
        there; ``fs``: their allocation, if one."""
        if fs is None and not callable(specs) and specs:
            fs = specs[0].fs
        self.open_alloc = fs
        self._card.display = False
        self.viewer.display = True
        self.viewer.open_merged(specs, label=label, follow=follow, fs=fs)
        self.viewer.focus()

    @property
    def first_screen(self) -> FirstScreenCard:
        """The card the file pane shows while no file is open."""
        return self._card

    def _show_first_screen(self) -> None:
        """No file is open: the card of the row under the cursor."""
        self.viewer.display = False
        self._card.display = True
        self._card_follows_cursor()

    @on(AllocTree.CursorMoved)
    @on(AllocTree.Loaded)
    def _card_follows_cursor(self) -> None:
        if not self._card.display:
            return
        tree = self.alloc_tree
        node = tree.cursor_node
        alloc = None if node is None or node.kind == ROOT else tree.current_alloc()
        self._card.show_for(alloc, tree.allocs)

    # ----------------------------------------------------------- events

    @on(AllocTree.FileSelected)
    def _open_selected(self, event: AllocTree.FileSelected) -> None:
        self.open_file(event.alloc, event.rel)

    @on(AllocTree.MergeSelected)
    def _open_merge_selected(self, event: AllocTree.MergeSelected) -> None:
        merged = event.merged
        self.open_merged(merged.sources, merged.label, fs=merged.fs)

    @on(FileViewer.StatusChanged)
    def _show_status(self, event: FileViewer.StatusChanged) -> None:
        # The viewer showed it already, with its rows; a later status may
        # have come since (this message waited in the queues).
        if event.status is self.viewer.status:
            self.status_bar.show(event.status)

    @on(AllocTree.FilterRequested)
    def _filter_names(self, event: AllocTree.FilterRequested) -> None:
        field = self._tree_filter
        field.add_class("-open")
        field.focus()

    @on(Input.Changed, "#tree-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.alloc_tree.filter_text = event.value

    @on(Input.Submitted, "#tree-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            self._tree_filter.remove_class("-open")
        self.alloc_tree.focus()

    # ----------------------------------------------------------- layout

    def on_resize(self, event: events.Resize) -> None:
        """Keep a tree resized with < and > narrower than the terminal."""
        if self._tree_width is not None:
            self._layout_tree()

    def _layout_tree(self) -> None:
        """Without < and >, the CSS makes the tree 30% of the width, 20 to 48
        columns (at 80 columns: 24); after them, the width asked for."""
        if self._tree_width is None:
            return
        width = max(10, min(self._tree_width, self.size.width - VIEWER_MIN))
        styles = self._tree_pane.styles
        styles.min_width = None
        styles.max_width = None
        styles.width = width

    @property
    def tree_shown(self) -> bool:
        """Whether the tree pane is shown (ctrl+b hides it)."""
        return not self._tree_pane.has_class("-hidden")

    def action_toggle_tree(self) -> None:
        """Hide the tree (the viewer takes the whole width) or show it again."""
        pane = self._tree_pane
        if self.tree_shown:
            pane.add_class("-hidden")
            self.viewer.focus()
        else:
            pane.remove_class("-hidden")

    def action_narrow_tree(self) -> None:
        """Make the tree narrower."""
        self._resize_tree(-TREE_STEP)

    def action_widen_tree(self) -> None:
        """Make the tree wider."""
        self._resize_tree(TREE_STEP)

    def _resize_tree(self, step: int) -> None:
        if not self.tree_shown:
            self._tree_pane.remove_class("-hidden")
        now = self._tree_pane.outer_size.width or tree_width(self.size.width)
        self._tree_width = max(10, min(now + step, self.size.width - VIEWER_MIN))
        self._layout_tree()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Main-screen actions are off while a dialog or the usage view is open."""
        if action in _MAIN_ACTIONS and (isinstance(self.screen, ModalScreen)
                                        or getattr(self.screen, "MAIN_ACTIONS_OFF", False)):
            return False
        return True

    # ----------------------------------------------------------- actions

    def action_help(self) -> None:
        """Show every key."""
        from .help_screen import HelpScreen

        self.push_screen(
            HelpScreen(
                [
                    ("Global", self.BINDINGS),
                    ("Tree", AllocTree.BINDINGS),
                    ("Viewer", FileViewer.BINDINGS),
                ]
            )
        )

    def action_focus_switch(self) -> None:
        """Move the focus between the tree and the viewer."""
        if self.alloc_tree.has_focus or not self.tree_shown:
            self.viewer.focus()
        else:
            self.alloc_tree.focus()

    def action_focus_tree(self) -> None:
        """Back to the tree (escape in the viewer when there is nothing to cancel)."""
        if not self.tree_shown:
            self._tree_pane.remove_class("-hidden")
        self.alloc_tree.focus()

    def action_refresh(self) -> None:
        """Re-read the allocations and the open directories."""
        self.alloc_tree.reload()

    def _need_alloc(self, verb: str) -> AllocDir | None:
        """The allocation an action applies to, or None after saying why.

        With the cursor on the root node nothing is picked (not even the
        open file's allocation): the root is not an allocation. Nor is a
        directory of the root that lacks an alloc dir's layout: every
        action on it is refused with the reason.
        """
        cursor = self.alloc_tree.cursor_node
        if cursor is not None and cursor.data is not None and cursor.data.kind == ROOT:
            self.notify(
                f"Cannot {verb} {printable(self.alloc_root.path)}: it is not an allocation. "
                "Put the cursor on one.",
                severity="warning", markup=False,
            )
            return None
        alloc = self.current_alloc()
        if alloc is None:
            self.notify("Select an allocation first", severity="warning", markup=False)
        elif isinstance(alloc, NonAllocDir) or (
                getattr(alloc, "read_only", False) and verb not in alloc.allowed_actions):
            # not an allocation, or a kept copy or an archive (read-only)
            self.notify(alloc.refusal(verb), severity="warning", markup=False)
            return None
        return alloc

    def action_snapshot(self) -> None:
        """Write a tar of the current allocation."""
        if (alloc := self._need_alloc("snapshot")) is not None:
            from .snapshot_screen import SnapshotScreen

            self.push_screen(SnapshotScreen(alloc, self.alloc_root, self.busy), self._after_change)

    def action_move(self) -> None:
        """Move the current allocation's data and task local dirs to another alloc dir."""
        if (alloc := self._need_alloc("move")) is not None:
            from .move_screen import MoveScreen

            self.push_screen(MoveScreen(alloc, self.alloc_root, self.busy), self._after_change)

    def action_destroy(self) -> None:
        """Destroy the current allocation after the user types its id."""
        if (alloc := self._need_alloc("destroy")) is None:
            return
        from .destroy_screen import DestroyScreen

        def done(destroyed: bool | None) -> None:
            if not destroyed:
                return
            if self.open_alloc is not None and self.open_alloc.alloc_dir == alloc.alloc_dir:
                self.viewer.close_file()
                self.open_alloc = None
                self.status_bar.show(None)
                self._show_first_screen()
            self.alloc_tree.reload()

        self.push_screen(DestroyScreen(alloc, self.alloc_root, self.busy), done)

    def action_usage(self) -> None:
        """What fills the node: the usage view of the root, the allocation or
        the directory under the cursor."""
        from .usage_view import UsageScreen, target_for

        self.push_screen(UsageScreen(target_for(self.alloc_root, self.alloc_tree.cursor_node,
                                                self.gc_settings)))

    def _after_change(self, changed: bool | None) -> None:
        if changed:
            self.alloc_tree.reload()

    def action_viewer_follow(self) -> None:
        """Follow on/off (works with the tree focused too)."""
        self.viewer.action_toggle_follow()

    def action_viewer_wrap(self) -> None:
        """Wrap on/off (works with the tree focused too)."""
        self.viewer.action_toggle_wrap()

    def action_viewer_search(self) -> None:
        """Open the search bar (works with the tree focused too)."""
        self._typing_elsewhere()
        self.viewer.action_search()

    def action_viewer_search_backward(self) -> None:
        """Open the search bar to search backward (works with the tree focused too)."""
        self._typing_elsewhere()
        self.viewer.action_search_backward()

    def _typing_elsewhere(self) -> None:
        """A field has the focus (the tree's filter, the viewer's prompt): the key is typed."""
        if isinstance(self.focused, Input):
            raise SkipAction()
