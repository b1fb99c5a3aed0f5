"""The snapshot dialog before Enter: a default destination the rules accept
(and why it is not the current directory), the estimate on screen, the logs
option; and the guard that keeps an Enter typed ahead from confirming a
snapshot, a move or a destroy."""

from __future__ import annotations

import os
import shutil
import tarfile

import pytest
from textual.widgets import Button, Checkbox, Input

from allocdir import AllocDir
from allocdir.plaintext import size_words
from inspector.core.roots import Root
from inspector.tui.app import InspectorApp
from inspector.tui.destroy_screen import DestroyScreen
from inspector.tui.dialog import ActionDialog
from inspector.tui.move_screen import MoveScreen
from inspector.tui.snapshot_screen import SnapshotScreen

from ..conftest import ALLOC_A, ALLOC_B, disk_state, wait_for
from .test_screens import message_of, select_alloc, type_into, wait_message


async def open_snapshot(pilot, app: InspectorApp) -> SnapshotScreen:
    await select_alloc(pilot, app, ALLOC_A)
    await pilot.press("s")
    await wait_for(pilot, lambda: isinstance(app.screen, SnapshotScreen), message="dialog")
    return app.screen


async def default_of(pilot, screen: SnapshotScreen) -> str:
    field = screen.query_one("#path", Input)
    await wait_for(pilot, lambda: bool(field.value), message="the default destination")
    return field.value


def where_of(screen: SnapshotScreen) -> str:
    return str(screen.query_one("#where").content)


def estimate_of(screen: SnapshotScreen) -> str:
    return str(screen.query_one("#estimate").content)


# ------------------------------------------------------------------ the default


@pytest.mark.parametrize("cwd, said", [
    ("", "is in the client alloc root"),
    (f"{ALLOC_A}/alloc/data", "is inside the alloc dir"),
])
async def test_the_default_is_never_in_the_client_root(alloc_root, shared_tmp, monkeypatch,
                                                       cwd, said):
    """Run from the client root (or an alloc dir in it), the default file is
    in $HOME, and the dialog says why, before any Enter."""
    monkeypatch.chdir(alloc_root / cwd)
    monkeypatch.setenv("HOME", str(shared_tmp))
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_snapshot(pilot, app)
        assert await default_of(pilot, screen) == f"{shared_tmp}/{ALLOC_A}.tar"
        await wait_for(pilot, lambda: "not in the current directory" in where_of(screen),
                       message="why")
        assert said in where_of(screen)
        assert str(alloc_root / cwd).rstrip("/") in where_of(screen)


async def test_the_default_falls_back_to_var_tmp(alloc_root, monkeypatch):
    """$HOME inside an allocation too: /var/tmp."""
    monkeypatch.chdir(alloc_root)
    monkeypatch.setenv("HOME", str(alloc_root / ALLOC_A / "web" / "local"))
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_snapshot(pilot, app)
        assert await default_of(pilot, screen) == f"/var/tmp/{ALLOC_A}.tar"


async def test_the_default_is_the_current_directory_when_it_is_fine(alloc_root, shared_tmp,
                                                                    monkeypatch):
    monkeypatch.chdir(shared_tmp)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_snapshot(pilot, app)
        assert await default_of(pilot, screen) == f"{shared_tmp}/{ALLOC_A}.tar"
        assert "not in the current directory" not in where_of(screen)


# ------------------------------------------------------------------ estimate and logs


async def test_the_estimate_shows_before_enter_and_follows_the_logs_option(alloc_root,
                                                                           shared_tmp,
                                                                           monkeypatch):
    monkeypatch.chdir(shared_tmp)
    alloc = AllocDir.discover(alloc_root / ALLOC_A)
    without = alloc.snapshot_estimate()
    with_logs = alloc.snapshot_estimate(include_logs=True)
    assert with_logs.content_bytes > without.content_bytes
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_snapshot(pilot, app)
        await wait_for(pilot, lambda: estimate_of(screen).startswith("About"), message="estimate")
        assert estimate_of(screen) == (f"About {size_words(without.content_bytes)} in "
                                       f"{without.entries} entries; logs left out, as Nomad's "
                                       "snapshot does.")
        assert not screen.query_one("#logs", Checkbox).value
        screen.query_one("#logs", Checkbox).value = True
        await wait_for(pilot, lambda: "with the task logs" in estimate_of(screen),
                       message="estimate with logs")
        assert estimate_of(screen).startswith(
            f"About {size_words(with_logs.content_bytes)} in {with_logs.entries} entries")
        assert message_of(screen) == ""  # nothing was confirmed


@pytest.mark.parametrize("include_logs", [False, True])
async def test_the_snapshot_holds_the_logs_only_when_asked(alloc_root, shared_tmp, monkeypatch,
                                                           include_logs):
    monkeypatch.chdir(shared_tmp)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_snapshot(pilot, app)
        await default_of(pilot, screen)
        screen.query_one("#logs", Checkbox).value = include_logs
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is not screen, timeout=30, message="written")
    with tarfile.open(shared_tmp / f"{ALLOC_A}.tar") as tar:
        names = set(tar.getnames())
    assert "web/local/notes.txt" in names
    assert ("alloc/logs/web.stdout.0" in names) is include_logs
    assert ("alloc/logs/.web.stdout.fifo" in names) is include_logs


# ------------------------------------------------------------------ the Enter guard


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(ActionDialog, "clock", staticmethod(fake))
    return fake


@pytest.mark.enter_guard
async def test_a_command_typed_ahead_does_not_confirm_a_snapshot(alloc_root, shared_tmp,
                                                                 monkeypatch, clock):
    """`s` then `ls -la⏎` typed at once: nothing is written; once the dialog
    has been shown for a moment, Enter confirms."""
    monkeypatch.chdir(shared_tmp)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_snapshot(pilot, app)
        field = screen.query_one("#path", Input)
        await default_of(pilot, screen)
        await pilot.press(*"ls -la", "enter")
        await wait_message(pilot, screen, "Enter ignored")
        clock.now += 0.4  # the ignored Enter started the wait again
        await pilot.press("enter")
        assert not screen.running and not screen.checking
        assert os.listdir(shared_tmp) == []
        clock.now += ActionDialog.ENTER_GUARD
        field.value = str(shared_tmp / "out.tar")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is not screen, timeout=30, message="written")
    assert os.listdir(shared_tmp) == ["out.tar"]


@pytest.mark.enter_guard
async def test_the_button_confirms_at_once(alloc_root, shared_tmp, monkeypatch, clock):
    monkeypatch.chdir(shared_tmp)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_snapshot(pilot, app)
        await default_of(pilot, screen)
        screen.query_one("#start", Button).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is not screen, timeout=30, message="written")
    assert os.listdir(shared_tmp) == [f"{ALLOC_A}.tar"]


@pytest.mark.enter_guard
async def test_enter_at_once_in_move_and_destroy_does_nothing(alloc_root, shared_tmp, clock):
    before_b = disk_state(alloc_root / ALLOC_B)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await select_alloc(pilot, app, ALLOC_A)
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(app.screen, MoveScreen), message="move")
        move = app.screen
        move.query_one("#dest", Input).value = str(shared_tmp / "new")
        await pilot.press("enter")
        await wait_message(pilot, move, "Enter ignored")
        assert not move.checking
        await pilot.press("escape")
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, DestroyScreen), message="destroy")
        destroy = app.screen
        destroy.query_one("#confirm", Input).value = ALLOC_A
        await pilot.press("enter")
        await wait_message(pilot, destroy, "Enter ignored")
        assert not destroy.running
        clock.now += ActionDialog.ENTER_GUARD
        await type_into(pilot, app, "#confirm", ALLOC_A)
        await wait_for(pilot, lambda: destroy.query_one("#liveness").known, message="liveness")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is not destroy, timeout=30, message="destroyed")
    assert not (alloc_root / ALLOC_A).exists()
    assert not (shared_tmp / "new").exists()
    assert disk_state(alloc_root / ALLOC_B) == before_b


@pytest.mark.enter_guard
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_tmux_a_shell_line_typed_into_the_app_confirms_nothing(alloc_root, shared_tmp,
                                                               monkeypatch, tmp_path):
    """The dialog has just opened when `ls -la⏎` arrives (a shell line typed
    into the wrong window): the Enter is ignored, said, and nothing is written."""
    from .test_tmux import Tmux, command

    monkeypatch.chdir(shared_tmp)
    tmux = Tmux(tmp_path)
    try:
        tmux.start([*command(), str(alloc_root)], size=(80, 24))
        tmux.wait_for(lambda s: ALLOC_A[:8] in s, what="the allocations")
        tmux.keys("Down", "s")
        tmux.wait_for(lambda s: "Write a tar" in s, what="the dialog")
        tmux.tmux("send-keys", "-t", "t", "ls -la", "Enter")  # one burst
        text = tmux.wait_for(lambda s: "Enter ignored" in s, what="the Enter guard")
        assert "ls -la" in text  # the line went into the field, and is shown
        assert os.listdir(shared_tmp) == []
        tmux.keys("Escape", "q")
        assert tmux.exit_status() == 0
    finally:
        tmux.close()
    assert os.listdir(shared_tmp) == []
