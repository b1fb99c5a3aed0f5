"""The app's own keys never wipe a node: each slip of the safety issue,
reproduced with keys, is refused with a reason and leaves the disk as it was.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from textual.widgets import Button, Input

from allocdir import AllocDir, PathKind
from inspector.tui.app import InspectorApp
from inspector.tui.destroy_screen import DestroyScreen
from inspector.tui.dialog import ActionDialog
from inspector.tui.move_screen import MoveScreen
from inspector.core.roots import Root
from inspector.tui.snapshot_screen import SnapshotScreen

from ..conftest import ALLOC_A, ALLOC_B, DATA_DIR_MARKERS, disk_state, find_node, wait_for
from .test_screens import message_of, select_alloc, type_into, wait_message

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounts need root")


def screen_text(app: InspectorApp) -> str:
    """The whole screen as text, one line per row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


@pytest.fixture
def mounted(tmp_path):
    """Mount a small tmpfs on a new directory; unmounted afterwards."""
    from tests.mounting import tmpfs, umount

    points = []

    def make(name: str, size: str = "1m") -> Path:
        point = tmp_path / name
        point.mkdir(parents=True)
        tmpfs(point, size)
        points.append(point)
        return point

    yield make
    for point in reversed(points):
        umount(point)


# ------------------------------------------------------------------ what PATH is


async def test_a_data_dir_opens_its_alloc_root_and_says_so(data_dir):
    root = Root.open(data_dir)
    assert root.kind is PathKind.DATA_DIR and root.path == str(data_dir / "alloc")
    app = InspectorApp(root)
    said = f"data_dir {data_dir} → client root {data_dir}/alloc"
    async with app.run_test(size=(len(said) + 60, 36)) as pilot:
        tree = app.alloc_tree
        await wait_for(pilot, lambda: len(tree.root.children) == 2, message="allocations")
        assert [str(n.label).split()[0] for n in tree.root.children] == [ALLOC_A[:8], ALLOC_B[:8]]
        assert app.sub_title == said
        await pilot.pause()
        assert said in screen_text(app)  # in the header


async def test_destroy_with_the_cursor_on_the_root_is_refused(data_dir, notified):
    before = disk_state(data_dir)
    app = InspectorApp(Root.open(data_dir))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        # a file is open: its allocation must not be what D picks
        alloc = AllocDir.discover(data_dir / "alloc" / ALLOC_A)
        app.open_file(alloc, "web/local/notes.txt")
        await wait_for(pilot, lambda: app.viewer.mode == "text", message="file open")
        await wait_for(pilot, lambda: len(tree.root.children) == 2, message="allocations")
        tree.focus()
        await pilot.pause()
        tree.move_cursor(tree.root)
        await pilot.pause()
        await pilot.press("D")
        await pilot.press(*"nomad", "enter")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, DestroyScreen)
        assert any(n.message == f"Cannot destroy {data_dir}/alloc: it is not an allocation. "
                   "Put the cursor on one." for n in notified)
        for key, verb in (("M", "move"), ("s", "snapshot")):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.screen is app.screen_stack[0]
            assert any(n.message.startswith(f"Cannot {verb} {data_dir}/alloc") for n in notified)
    assert disk_state(data_dir) == before


async def test_destroy_refuses_a_data_dir_taken_for_an_allocation(data_dir):
    """What PATH=/var/lib/nomad used to show: one "allocation" named nomad.
    Should anything hand it to the dialog, it refuses, even with the id typed."""
    before = disk_state(data_dir)
    app = InspectorApp(Root.open(data_dir))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = DestroyScreen(AllocDir(data_dir), app.alloc_root, app.busy)
        app.push_screen(screen)
        await wait_message(pilot, screen, f"Cannot destroy: {data_dir} is the Nomad data_dir, "
                           "not an allocation")
        await type_into(pilot, app, "#confirm", "nomad")
        assert screen.query_one("#destroy", Button).disabled
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert "Cannot destroy" in message_of(screen) and app.screen is screen
    assert disk_state(data_dir) == before
    assert all((data_dir / rel).exists() for rel in DATA_DIR_MARKERS)


async def test_destroy_while_a_snapshot_runs_is_refused(alloc_root, tmp_path, monkeypatch):
    release = threading.Event()
    started = threading.Event()
    real = AllocDir.snapshot

    def slow(self, w, *, progress=None, room=None, include_logs=False):
        started.set()
        release.wait(20)
        return real(self, w, progress=progress)

    monkeypatch.setattr(AllocDir, "snapshot", slow)
    before = disk_state(alloc_root / ALLOC_A)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await select_alloc(pilot, app, ALLOC_A)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SnapshotScreen), message="dialog")
        snapshot = app.screen
        await type_into(pilot, app, "#path", str(tmp_path / "out.tar"))
        await pilot.press("enter")
        await wait_for(pilot, started.is_set, message="snapshot running")
        assert app.busy.running(str(alloc_root / ALLOC_A)) == "a snapshot"
        # the dialogs are modal; a front-end without that (or a future key) gets here
        app.action_destroy()
        await wait_for(pilot, lambda: isinstance(app.screen, DestroyScreen), message="destroy")
        screen = app.screen
        await wait_message(pilot, screen, "a snapshot of")
        await type_into(pilot, app, "#confirm", ALLOC_A)
        assert screen.query_one("#destroy", Button).disabled
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert message_of(screen) == (
            f"Cannot destroy: a snapshot of {ALLOC_A} is running: wait for it to finish")
        assert disk_state(alloc_root / ALLOC_A) == before
        await pilot.press("escape")
        release.set()
        await wait_for(pilot, lambda: snapshot not in app.screen_stack, timeout=30,
                       message="snapshot done")
        assert app.busy.running(str(alloc_root / ALLOC_A)) is None
    assert disk_state(alloc_root / ALLOC_A) == before


@needs_root
async def test_destroy_of_a_mount_point_is_refused(alloc_root, mounted):
    point = mounted(f"alloc/{ALLOC_B}-on-tmpfs", "4m")
    AllocDir(point).build()
    before = disk_state(alloc_root), disk_state(point)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await select_alloc(pilot, app, point.name)
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, DestroyScreen), message="dialog")
        screen = app.screen
        await wait_message(pilot, screen, f"{point} is a mount point: unmount it first")
        await type_into(pilot, app, "#confirm", point.name)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.screen is screen
    assert (disk_state(alloc_root), disk_state(point)) == before


# ------------------------------------------------------------------ move


async def open_move(pilot, app: InspectorApp, alloc_id: str = ALLOC_A) -> MoveScreen:
    await select_alloc(pilot, app, alloc_id)
    await pilot.press("M")
    await wait_for(pilot, lambda: isinstance(app.screen, MoveScreen), message="dialog")
    return app.screen


async def test_move_m_enter_enter_does_nothing(data_dir):
    before = disk_state(data_dir)
    app = InspectorApp(Root.open(data_dir))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_move(pilot, app)
        field = screen.query_one("#dest", Input)
        assert field.value == "" and field.placeholder
        await pilot.press("enter", "enter")
        await wait_message(pilot, screen, "Name a destination")
        assert "error" in screen.query_one("#message").classes
        assert str(screen.query_one("#move", Button).label) == "Move"
    assert disk_state(data_dir) == before


async def test_move_refuses_each_bad_destination(data_dir, shared_tmp):
    full = shared_tmp / "full"
    full.mkdir()
    (full / "keep.txt").write_text("keep")
    source = data_dir / "alloc" / ALLOC_A
    cases = [
        (str(full), f"{full} is a non-empty directory that is not an alloc dir"),
        (str(source), f"{source} is the allocation being moved"),
        (str(source / "web"), f"{source}/web is inside the allocation being moved"),
        (str(source / "web/local/deeper"), "is inside the allocation being moved"),
        (str(data_dir / "alloc"), f"{data_dir}/alloc is the client alloc root"),
        (str(data_dir / "alloc") + "/", f"{data_dir}/alloc is the client alloc root"),
        (str(data_dir), f"{data_dir} is the Nomad data_dir"),
        (str(data_dir.parent), f"{data_dir.parent} holds the client alloc root {data_dir}/alloc"),
        (str(data_dir / "server"), f"{data_dir}/server is a non-empty directory"),
        (str(data_dir / "backups" / "new"), f"is inside the Nomad data_dir {data_dir}"),
        (str(data_dir / "alloc" / ALLOC_B / "api"), f"is inside the alloc dir {data_dir}/alloc/"),
    ]
    before = disk_state(data_dir), disk_state(shared_tmp)
    app = InspectorApp(Root.open(data_dir))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_move(pilot, app)
        for typed, reason in cases:
            field = screen.query_one("#dest", Input)
            field.value = ""
            await type_into(pilot, app, "#dest", typed)
            await pilot.press("enter")
            await wait_message(pilot, screen, reason)
            assert "error" in screen.query_one("#message").classes
            await pilot.press("enter")  # a second Enter is not a confirmation
            await wait_message(pilot, screen, reason)
            assert isinstance(app.screen, MoveScreen) and not screen.running
    assert (disk_state(data_dir), disk_state(shared_tmp)) == before


@needs_root
async def test_move_refuses_a_read_only_destination(alloc_root, tmp_path):
    from tests.mounting import mount, umount

    point = tmp_path / "ro"
    point.mkdir()
    mount("tmpfs", point, "tmpfs", 1, "size=1m")  # MS_RDONLY
    try:
        app = InspectorApp(Root.open(alloc_root))
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_move(pilot, app)
            await type_into(pilot, app, "#dest", str(point / "new"))
            await pilot.press("enter")
            await wait_message(pilot, screen, f"is on a read-only file system ({point})")
    finally:
        umount(point)


async def test_move_shows_what_and_where_before_confirming(alloc_root, shared_tmp, monkeypatch):
    monkeypatch.chdir(shared_tmp)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_move(pilot, app)
        await wait_for(pilot, lambda: "web/local" in str(screen.query_one("#parts").content),
                       message="sizes")
        assert str(screen.query_one("#parts").content) == (
            "alloc/data  2 entries, 18 Bytes\nweb/local  5 entries, 2.0 KiB")
        await type_into(pilot, app, "#dest", "replacement")
        assert str(screen.query_one("#where").content) == f"→ {shared_tmp}/replacement"
        await pilot.press("enter")
        await wait_message(pilot, screen, f"A new alloc dir will be built at "
                           f"{shared_tmp}/replacement.\nPress Build and move to confirm.")
        assert not (shared_tmp / "replacement").exists()
        await pilot.press("escape")
    assert not (shared_tmp / "replacement").exists()


# ------------------------------------------------------------------ snapshot


@needs_root
async def test_snapshot_to_a_tiny_tmpfs_is_refused_with_numbers(alloc_root, mounted):
    small = mounted("small", "1m")
    (alloc_root / ALLOC_A / "web/local/big.bin").write_bytes(os.urandom(3 << 20))
    before = disk_state(alloc_root)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await select_alloc(pilot, app, ALLOC_A)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SnapshotScreen), message="dialog")
        screen = app.screen
        await type_into(pilot, app, "#path", str(small / "out.tar"))
        await pilot.press("enter")
        await wait_message(pilot, screen, f"Not enough space: the snapshot needs ~3.0 MiB, "
                           f"1.0 MiB free on {small}, 10.2 KiB of it kept free")
        assert not screen.running
    assert os.listdir(small) == []
    assert disk_state(alloc_root) == before


@needs_root
async def test_snapshot_stops_before_a_file_that_grew_and_is_removed(alloc_root, mounted, monkeypatch, notified):
    small = mounted("small", "1m")
    real = AllocDir.snapshot_estimate
    checking = threading.Event()  # set once the dialog's own estimate is shown

    def then_grow(self, **kwargs):
        estimate = real(self, **kwargs)
        if checking.is_set():
            # the task writes 2 MiB right after the check measured the allocation
            (alloc_root / ALLOC_A / "web/local/grown.bin").write_bytes(os.urandom(2 << 20))
        return estimate

    monkeypatch.setattr(AllocDir, "snapshot_estimate", then_grow)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await select_alloc(pilot, app, ALLOC_A)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SnapshotScreen), message="dialog")
        screen = app.screen
        await wait_for(pilot, lambda: str(screen.query_one("#estimate").content).startswith(
            "About"), message="the dialog's estimate")
        checking.set()
        await type_into(pilot, app, "#path", str(small / "out.tar"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.finished, timeout=30, message="failure shown")
        message = message_of(screen)
        # stopped before the file that grew, not when the file system was full
        assert message.startswith("Snapshot failed: web/local/grown.bin needs 2.0 MiB, more "
                                  "than there is room for: ")
        assert "stopped before writing it (the allocation grew after the snapshot was " \
               "estimated at ~" in message
        assert f"; the partial file {small}/.out.tar." in message
        assert message.endswith(".partial was removed")
        assert "ERROR.log" not in message
        assert any(n.message == message for n in notified)
    assert os.listdir(small) == []


async def test_snapshot_shows_the_cwd_and_the_absolute_destination(alloc_root, shared_tmp,
                                                                    monkeypatch):
    monkeypatch.chdir(shared_tmp)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await select_alloc(pilot, app, ALLOC_A)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SnapshotScreen), message="dialog")
        where = app.screen.query_one("#where")
        await wait_for(pilot, lambda: str(where.content) == (
            f"→ {shared_tmp}/{ALLOC_A}.tar\n  (relative paths start in {shared_tmp})"),
            message="where")
        await type_into(pilot, app, "#path", "../x.tar")
        assert str(where.content).startswith(f"→ {shared_tmp.parent}/x.tar\n")


# ------------------------------------------------------------------ dialogs fit


DIALOGS = [("s", SnapshotScreen, ("start", "cancel")), ("M", MoveScreen, ("move", "cancel")),
           ("D", DestroyScreen, ("destroy", "cancel"))]


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
@pytest.mark.parametrize("key, kind, buttons", DIALOGS)
async def test_dialog_buttons_are_reachable(alloc_root, size, key, kind, buttons):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=size) as pilot:
        await select_alloc(pilot, app, ALLOC_A)
        await pilot.press(key)
        await wait_for(pilot, lambda: isinstance(app.screen, kind), message="dialog")
        screen = app.screen
        await pilot.pause(0.2)
        if kind is DestroyScreen:
            await type_into(pilot, app, "#confirm", ALLOC_A)  # enables Destroy
        chain = screen.focus_chain
        for name in buttons:
            button = screen.query_one(f"#{name}", Button)
            assert button in chain, name
            for _ in range(len(chain) + 1):  # Tab until it has the focus
                if app.focused is button:
                    break
                await pilot.press("tab")
            assert app.focused is button, name
            await pilot.pause()
            assert screen.region.contains_region(button.region), (name, button.region)
            assert button.region.area > 0
        assert screen.query_one("#box").region.right <= size[0]


async def test_destroy_warning_wraps_whole_words(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(160, 40)) as pilot:
        await select_alloc(pilot, app, ALLOC_A)
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, DestroyScreen), message="dialog")
        await pilot.pause(0.2)
        text = screen_text(app)
        words = ("everything in it: the allocation's data and logs and every task's "
                 "directory. It cannot be undone.").split()
        rows = [row.strip(" ▊▎▌▐█┃│") for row in text.splitlines()]
        shown = " ".join(" ".join(row.split()) for row in rows if row)
        for word in words:
            assert f" {word} " in f" {shown} ", word


async def test_destroy_refusal_is_shown_at_60x20(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(60, 20)) as pilot:
        await select_alloc(pilot, app, ALLOC_A)
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, DestroyScreen), message="dialog")
        screen = app.screen
        await pilot.press("enter")
        await wait_message(pilot, screen, "Type the alloc id to confirm")
        await pilot.pause(0.2)
        # scrolled into view, above the docked buttons
        message = screen.query_one("#message")
        box = screen.query_one("#box")
        buttons = screen.query_one("#buttons")
        assert box.region.y < message.region.y and message.region.bottom <= buttons.region.y
        assert find_node(app.alloc_tree, "", ALLOC_A) is not None


# ------------------------------------------------------------------ a real terminal

tmux_required = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def tmux(tmp_path):
    from .test_tmux import Tmux

    session = Tmux(tmp_path)
    yield session
    session.close()


@tmux_required
@pytest.mark.enter_guard
def test_tmux_data_dir_root_destroy_and_move_slips(data_dir, tmux):
    """`allocdir-inspector /var/lib/nomad`, then D and the old move defaults,
    at 80x24: refused, said, and nothing on disk changed."""
    from .test_tmux import command

    before = disk_state(data_dir)
    tmux.start([*command(), str(data_dir)], size=(80, 24))
    tmux.wait_for(lambda s: ALLOC_B[:8] in s, what="the allocations")  # short ids
    # the cursor starts on the root node: D there is refused (the "m" of
    # "nomad" is not a key: move is M); Enter does nothing
    tmux.keys("D", *"nomad", "Enter")
    text = tmux.wait_for(lambda s: "Cannot destroy" in s, what="the refusal")
    assert "Type the allocation id" not in text  # no dialog
    # the old move slip: M, Enter, Enter on an allocation; at once, Enter is
    # not taken (it could be typed ahead); once the dialog was seen, it is refused
    tmux.keys("Down", "M")
    tmux.wait_for(lambda s: "What moves:" in s, what="move dialog")
    tmux.keys("Enter", "Enter")
    # Typed within the guard the Enter is ignored (a slow machine may show
    # the dialog longer than the guard first: then it is refused at once;
    # the guard itself is tested with typed-ahead keys in test_snapshot_dialog).
    text = tmux.wait_for(lambda s: "Enter ignored" in s or "Name a destination" in s,
                         what="the Enter guard or the refusal")
    if "Name a destination" not in text:
        time.sleep(ActionDialog.ENTER_GUARD)  # the guard is a duration: no event to wait on
        tmux.keys("Enter")
        tmux.wait_for(lambda s: "Name a destination" in s, what="move refusal")
    tmux.keys("Escape", "q")
    assert tmux.exit_status() == 0
    assert disk_state(data_dir) == before


@tmux_required
def test_tmux_tmp_like_path_exits_2(tmp_path, tmux):
    from .test_tmux import command

    tmp = tmp_path / "tmp"
    (tmp / "session" / "alloc").mkdir(parents=True)
    tmux.start([*command(), str(tmp)], hold=True)
    assert tmux.exit_status() == 2
    text = tmux.wait_for(lambda s: "allocdir-inspector:" in s, what="the error")
    # The line is wrapped at the pane's width, anywhere in a word: compare
    # without whitespace.
    squeezed = "".join(text.split())
    want = f"{tmp}: not an alloc dir, a client alloc root nor a Nomad data_dir"
    assert "".join(want.split()) in squeezed
