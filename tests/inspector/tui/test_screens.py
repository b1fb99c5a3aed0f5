"""The s / m / D dialogs, driven with keys in the running app."""

from __future__ import annotations

import os
import tarfile

import pytest
from textual.widgets import Button, Input

from allocdir import AllocDir
from allocdir.plaintext import size_words
from inspector.core.roots import Root
from inspector.tui.app import InspectorApp
from inspector.tui.destroy_screen import DestroyScreen
from inspector.tui.move_screen import MoveScreen
from inspector.tui.snapshot_screen import SnapshotScreen

from ..conftest import ALLOC_A, ALLOC_B, find_node, wait_for
from .test_app import open_notes
from .test_tree import move_to


async def select_alloc(pilot, app: InspectorApp, alloc_id: str) -> None:
    tree = app.alloc_tree
    await wait_for(pilot, lambda: find_node(tree, "", alloc_id) is not None, message="allocs")
    await move_to(pilot, tree, find_node(tree, "", alloc_id))


async def type_into(pilot, app: InspectorApp, selector: str, text: str) -> None:
    """Fill an input: all but the last character set directly (long paths), the last typed."""
    await wait_for(pilot, lambda: bool(app.screen.query(selector)), message=selector)
    field = app.screen.query_one(selector, Input)
    field.focus()
    await pilot.pause()  # focusing selects the text: set the value after that
    field.value = text[:-1]
    field.cursor_position = len(field.value)
    await pilot.press(text[-1])
    assert field.value == text


def message_of(screen) -> str:
    """The dialog's message line, as shown ("" until the dialog is composed)."""
    from textual.css.query import NoMatches

    try:
        return str(screen.query_one("#message").content)
    except NoMatches:
        return ""


async def wait_message(pilot, screen, needle: str, timeout: float = 10.0) -> str:
    await wait_for(pilot, lambda: needle in message_of(screen), timeout=timeout,
                   message=f"message with {needle!r}")
    return message_of(screen)


# ------------------------------------------------------------------ snapshot


async def open_dialog(pilot, app: InspectorApp, alloc_id: str, key: str, kind):
    await select_alloc(pilot, app, alloc_id)
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, kind), message="dialog")
    return app.screen


async def test_snapshot_writes_a_tar_of_data_and_local(alloc_root, tmp_path, monkeypatch, notified):
    monkeypatch.chdir(tmp_path)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_dialog(pilot, app, ALLOC_A, "s", SnapshotScreen)
        field = screen.query_one("#path", Input)
        await wait_for(pilot, lambda: field.value == str(tmp_path / f"{ALLOC_A}.tar"),
                       message="the default destination, in the current directory")
        # the destination is shown absolute, with the directory it is relative to
        where = screen.query_one("#where")
        await wait_for(pilot, lambda: str(tmp_path / f"{ALLOC_A}.tar") in str(where.content),
                       message="absolute destination")
        assert f"relative paths start in {tmp_path}" in str(where.content)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, SnapshotScreen), timeout=30,
                       message="snapshot done")
        out = tmp_path / f"{ALLOC_A}.tar"
        size = size_words(out.stat().st_size)
        assert any(str(out) in n.message and size in n.message for n in notified)
    with tarfile.open(out) as tar:
        names = set(tar.getnames())
    assert {"alloc/data/state.json", "web/local/notes.txt", "web/local/blob.bin",
            "web/local/link"} <= names
    assert not any(n.startswith("web/secrets") or "logs" in n for n in names)
    assert sorted(os.listdir(tmp_path)) == sorted(["alloc", f"{ALLOC_A}.tar"])  # no leftovers


async def test_snapshot_read_error_keeps_a_tar_ending_with_the_marker(alloc_root, tmp_path):
    """A file that cannot be read: the tar is completed with Nomad's marker,
    checked, and kept; the dialog says so."""
    from allocdir import AllocDir as RealAllocDir

    out = tmp_path / "out.tar"
    real = RealAllocDir.snapshot

    def failing_read(self, w, *, progress=None, room=None, include_logs=False):
        def boom(done):
            raise OSError(5, "Input/output error")
        return real(self, w, progress=boom)

    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_dialog(pilot, app, ALLOC_A, "s", SnapshotScreen)
        await type_into(pilot, app, "#path", str(out))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(AllocDir, "snapshot", failing_read)
            await pilot.press("enter")
            await wait_for(pilot, lambda: screen.finished, message="failure shown")
        message = message_of(screen)
        assert "Input/output error" in message
        assert str(out) in message and f"NOMAD-{ALLOC_A}-ERROR.log" in message
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SnapshotScreen), message="closed")
    with tarfile.open(out) as tar:
        assert tar.getnames()[-1] == f"NOMAD-{ALLOC_A}-ERROR.log"
    assert sorted(os.listdir(tmp_path)) == ["alloc", "out.tar"]


async def test_snapshot_garbage_is_removed_not_claimed(alloc_root, tmp_path, monkeypatch):
    """A failure that leaves no valid tar: the file is removed and the
    dialog never claims an error marker."""
    def broken(self, w, *, progress=None, room=None, include_logs=False):
        w.write(b"partial")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(AllocDir, "snapshot", broken)
    out = tmp_path / "out.tar"
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_dialog(pilot, app, ALLOC_A, "s", SnapshotScreen)
        await type_into(pilot, app, "#path", str(out))
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.finished, message="failure shown")
        message = message_of(screen)
        assert message.startswith("Snapshot failed: Input/output error; the partial file ")
        assert "was removed" in message and "ERROR.log" not in message
    assert os.listdir(tmp_path) == ["alloc"]


async def test_snapshot_asks_before_replacing(alloc_root, tmp_path):
    out = tmp_path / "exists.tar"
    out.write_bytes(b"keep me")
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_dialog(pilot, app, ALLOC_A, "s", SnapshotScreen)
        await type_into(pilot, app, "#path", str(out))
        await pilot.press("enter")
        await wait_message(pilot, screen, "exists")
        assert out.read_bytes() == b"keep me"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SnapshotScreen), message="closed")
        assert out.read_bytes() == b"keep me"
        screen = await open_dialog(pilot, app, ALLOC_A, "s", SnapshotScreen)
        await type_into(pilot, app, "#path", str(out))
        await pilot.press("enter")
        await wait_message(pilot, screen, "exists")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, SnapshotScreen), timeout=30,
                       message="replaced")
    with tarfile.open(out) as tar:
        assert "web/local/notes.txt" in tar.getnames()


async def test_snapshot_checks_the_path_off_the_event_loop(alloc_root, tmp_path, monkeypatch):
    import threading

    from inspector.core import actions

    threads = []
    real = actions.snapshot_target

    def spy(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(actions, "snapshot_target", spy)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_dialog(pilot, app, ALLOC_A, "s", SnapshotScreen)
        await type_into(pilot, app, "#path", str(tmp_path))
        await pilot.press("enter")
        await wait_message(pilot, screen, "is a directory")
    assert threads and threading.main_thread() not in threads


# ------------------------------------------------------------------ move


async def test_move_into_an_existing_alloc_dir(alloc_root, notified):
    dest = AllocDir(alloc_root / "dest-alloc")
    dest.build()
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_dialog(pilot, app, ALLOC_A, "M", MoveScreen)
        assert screen.query_one("#dest", Input).value == ""  # nothing to confirm blindly
        await wait_for(pilot, lambda: "web/local" in str(screen.query_one("#parts").content),
                       message="what moves")
        parts = str(screen.query_one("#parts").content)
        assert "alloc/data  2 entries, 18 Bytes" in parts and "KiB" in parts
        await type_into(pilot, app, "#dest", dest.alloc_dir)
        await pilot.press("enter")
        await wait_message(pilot, screen, f"Into the existing alloc dir {dest.alloc_dir}")
        assert (alloc_root / ALLOC_A / "web/local/notes.txt").exists()  # not yet
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, MoveScreen), timeout=30,
                       message="moved")
        assert any("Moved" in n.message for n in notified)
        # the tree refreshed: the destination appears as an allocation
        await wait_for(pilot, lambda: find_node(app.alloc_tree, "", "dest-alloc") is not None,
                       message="refreshed tree")
    assert (alloc_root / "dest-alloc/web/local/notes.txt").read_text() == (
        "hello from the web task\n"
    )
    assert (alloc_root / "dest-alloc/alloc/data/state.json").exists()
    assert not (alloc_root / ALLOC_A / "web/local/notes.txt").exists()


async def test_move_builds_a_new_destination_once_confirmed(alloc_root, shared_tmp):
    # (not under tmp_path: holding the client root as alloc/, it is a data_dir)
    dest = shared_tmp / "elsewhere" / "new-alloc"
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_dialog(pilot, app, ALLOC_A, "M", MoveScreen)
        await type_into(pilot, app, "#dest", str(dest))
        await pilot.press("enter")
        message = await wait_message(pilot, screen, "A new alloc dir will be built at")
        assert f"{dest}, creating {dest.parent}." in message
        assert str(screen.query_one("#move", Button).label) == "Build and move"
        assert not dest.parent.exists()  # nothing happens before the confirmation
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, MoveScreen), timeout=30,
                       message="moved")
    assert (dest / "alloc" / "logs").is_dir()
    assert (dest / "web/local/config.json").read_text() == '{"listen": 8080}\n'


async def test_move_error_is_reported(alloc_root, monkeypatch, notified):
    from allocdir import AllocDirError

    def refuse(self, other, tasks):
        raise AllocDirError("disk full")

    monkeypatch.setattr(AllocDir, "move", refuse)
    dest = AllocDir(alloc_root / "dest-alloc")
    dest.build()
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_dialog(pilot, app, ALLOC_A, "M", MoveScreen)
        await type_into(pilot, app, "#dest", dest.alloc_dir)
        await pilot.press("enter")
        await wait_message(pilot, screen, "Press Move to confirm")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.finished, message="error shown")
        assert "disk full" in message_of(screen)
        assert any("disk full" in n.message for n in notified)


# ------------------------------------------------------------------ destroy


async def open_destroy(pilot, app: InspectorApp, alloc_id: str) -> DestroyScreen:
    return await open_dialog(pilot, app, alloc_id, "D", DestroyScreen)


async def test_destroy_focuses_the_id_and_wrong_id_says_so(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_destroy(pilot, app, ALLOC_B)
        field = screen.query_one("#confirm", Input)
        assert app.focused is field
        destroy = screen.query_one("#destroy", Button)
        assert destroy.disabled
        await pilot.press(*"99999999")  # typed characters land in the field
        assert field.value == "99999999"
        await type_into(pilot, app, "#confirm", ALLOC_A)  # another allocation's id
        assert destroy.disabled
        await pilot.press("enter")
        await wait_message(pilot, screen, f"Type the alloc id to confirm: {ALLOC_B}")
        assert isinstance(app.screen, DestroyScreen) and "error" in screen.query_one(
            "#message").classes
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DestroyScreen), message="closed")
        # Cancel closes without destroying too
        screen = await open_destroy(pilot, app, ALLOC_B)
        await pilot.click("#cancel")
        await wait_for(pilot, lambda: not isinstance(app.screen, DestroyScreen), message="closed")
    assert (alloc_root / ALLOC_B / "api/local/app.conf").exists()


async def test_destroy_with_the_right_id_removes_it_and_closes_its_file(alloc_root, notified):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await open_notes(pilot, app)
        screen = await open_destroy(pilot, app, ALLOC_A)
        await type_into(pilot, app, "#confirm", ALLOC_A)
        assert not screen.query_one("#destroy", Button).disabled
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, DestroyScreen), timeout=30,
                       message="destroyed")
        assert not (alloc_root / ALLOC_A).exists()
        assert app.viewer.path is None
        await wait_for(pilot, lambda: find_node(app.alloc_tree, "", ALLOC_A) is None,
                       message="tree refreshed")
        assert find_node(app.alloc_tree, "", ALLOC_B) is not None
        assert any("destroyed" in n.message for n in notified)


async def test_destroy_errors_are_listed(alloc_root, monkeypatch):
    from allocdir import AllocDirError

    def fail(self):
        err = AllocDirError("failed to destroy")
        err.errors = [OSError(16, "Device or resource busy: web/secrets")]
        raise err

    monkeypatch.setattr(AllocDir, "destroy", fail)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_destroy(pilot, app, ALLOC_B)
        await type_into(pilot, app, "#confirm", ALLOC_B)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.finished, message="error shown")
        message = message_of(screen)
        assert "failed to destroy" in message and "resource busy" in message
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DestroyScreen), message="closed")
    monkeypatch.undo()
    assert os.path.isdir(alloc_root / ALLOC_B)


async def test_dialog_keys_do_not_trigger_main_actions(alloc_root):
    """Inside a dialog, s / M / D / r / ? are text and F1 nothing, never a second dialog."""
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_destroy(pilot, app, ALLOC_B)
        await pilot.press("s", "M", "question_mark", "r", "D", "q", "f1")
        await pilot.pause()
        assert app.screen is screen and app.is_running
        assert screen.query_one("#confirm", Input).value == "sM?rDq"
        await pilot.press("tab")  # moves inside the dialog (to its buttons)
        assert app.focused in list(screen.query(Button))
        await pilot.press("s", "M", "r", "D")
        assert app.screen is screen and app.is_running
