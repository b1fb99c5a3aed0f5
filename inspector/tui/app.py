"""InspectorApp: the tree of allocations beside the file viewer."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Header

from allocdir import AllocDir

from ..core.actions import BusyRegistry
from .destroy_screen import DestroyScreen
from .help_screen import HelpScreen
from .move_screen import MoveScreen
from ..core.roots import Root
from .snapshot_screen import SnapshotScreen
from .status_bar import StatusBar
from ..core.text import printable
from .tree import ROOT, AllocTree
from .viewer import FileViewer

# Actions that only make sense on the main screen (never behind a dialog).
_MAIN_ACTIONS = {
    "help", "snapshot", "move", "destroy", "refresh", "focus_switch", "focus_tree",
    "viewer_follow", "viewer_wrap", "viewer_search",
}


class InspectorApp(App[None]):
    """Browse allocations, page through and follow their files, act on them.

    The sub-title (in the header) says what PATH was recognised as, e.g.
    "data_dir /var/lib/nomad → client root /var/lib/nomad/alloc". `busy`
    records the allocations a snapshot, move or destroy is running on.
    """

    TITLE = "allocdir-inspector"

    CSS = """
    #main { height: 1fr; }
    #viewer-pane { width: 1fr; }
    #viewer-pane > FileViewer { height: 1fr; }
    """

    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("f1", "help", "Help", key_display="F1"),
        Binding("s", "snapshot", "Snapshot"),
        Binding("m", "move", "Move"),
        Binding("D", "destroy", "Destroy"),
        Binding("r", "refresh", "Refresh"),
        Binding("tab", "focus_switch", "Tree/viewer", priority=True),
        Binding("escape", "focus_tree", "Back to the tree", show=False),
        Binding("f", "viewer_follow", "Follow", show=False),
        Binding("w", "viewer_wrap", "Wrap", show=False),
        Binding("slash", "viewer_search", "Search", show=False, key_display="/"),
    ]

    def __init__(
        self,
        root: Root,
        *,
        open_file: tuple[AllocDir, str] | None = None,
        follow: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.alloc_root = root
        self.sub_title = root.description
        self.busy = BusyRegistry()
        self._start = open_file
        self._start_follow = follow
        self.open_alloc: AllocDir | None = None

    def compose(self) -> ComposeResult:
        """The header, the tree beside the viewer and its status line, the footer."""
        yield Header()
        with Horizontal(id="main"):
            yield AllocTree(self.alloc_root, id="tree")
            with Vertical(id="viewer-pane"):
                yield FileViewer(id="viewer")
                yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        """Open the --open file if one was given, else focus the tree."""
        if self._start is not None:
            alloc, rel = self._start
            self.open_file(alloc, rel, follow=self._start_follow)
            self.alloc_tree.reveal(alloc, rel)
        else:
            self.alloc_tree.focus()

    # ----------------------------------------------------------- parts

    @property
    def alloc_tree(self) -> AllocTree:
        """The tree pane."""
        return self.query_one(AllocTree)

    @property
    def viewer(self) -> FileViewer:
        """The file viewer."""
        return self.query_one(FileViewer)

    def current_alloc(self) -> AllocDir | None:
        """The allocation under the tree's cursor, or else that of the open file."""
        return self.alloc_tree.current_alloc() or self.open_alloc

    def open_file(self, alloc: AllocDir, rel: str, *, follow: bool = False) -> None:
        """Show `rel` of `alloc` in the viewer and move the focus there."""
        self.open_alloc = alloc
        self.viewer.open_file(alloc, rel, label=f"{alloc.alloc_id}/{rel}", follow=follow)
        self.viewer.focus()

    # ----------------------------------------------------------- events

    @on(AllocTree.FileSelected)
    def _open_selected(self, event: AllocTree.FileSelected) -> None:
        self.open_file(event.alloc, event.rel)

    @on(FileViewer.StatusChanged)
    def _show_status(self, event: FileViewer.StatusChanged) -> None:
        self.query_one(StatusBar).show(event.status)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Main-screen actions are off while a dialog is open."""
        if action in _MAIN_ACTIONS and isinstance(self.screen, ModalScreen):
            return False
        return True

    # ----------------------------------------------------------- actions

    def action_help(self) -> None:
        """Show every key."""
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
        if self.alloc_tree.has_focus:
            self.viewer.focus()
        else:
            self.alloc_tree.focus()

    def action_focus_tree(self) -> None:
        """Back to the tree (escape in the viewer when there is nothing to cancel)."""
        self.alloc_tree.focus()

    def action_refresh(self) -> None:
        """Re-read the allocations and the open directories."""
        self.alloc_tree.reload()

    def _need_alloc(self, verb: str) -> AllocDir | None:
        """The allocation an action applies to, or None after saying why.

        With the cursor on the root node nothing is picked (not even the
        open file's allocation): the root is not an allocation.
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
        return alloc

    def action_snapshot(self) -> None:
        """Write a tar of the current allocation."""
        if (alloc := self._need_alloc("snapshot")) is not None:
            self.push_screen(SnapshotScreen(alloc, self.busy), self._after_change)

    def action_move(self) -> None:
        """Move the current allocation's data and task local dirs to another alloc dir."""
        if (alloc := self._need_alloc("move")) is not None:
            self.push_screen(MoveScreen(alloc, self.alloc_root, self.busy), self._after_change)

    def action_destroy(self) -> None:
        """Destroy the current allocation after the user types its id."""
        if (alloc := self._need_alloc("destroy")) is None:
            return

        def done(destroyed: bool | None) -> None:
            if not destroyed:
                return
            if self.open_alloc is not None and self.open_alloc.alloc_dir == alloc.alloc_dir:
                self.viewer.close_file()
                self.open_alloc = None
                self.query_one(StatusBar).show(None)
            self.alloc_tree.reload()

        self.push_screen(DestroyScreen(alloc, self.alloc_root, self.busy), done)

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
        self.viewer.action_search()
