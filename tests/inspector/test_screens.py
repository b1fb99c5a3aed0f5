"""The s / m / D dialogs, driven with keys in the running app."""

from __future__ import annotations

import os
import tarfile

import humanize

from textual.widgets import Button, Input

from allocdir import AllocDir
from inspector.app import InspectorApp
from inspector.destroy_screen import DestroyScreen
from inspector.move_screen import MoveScreen
from inspector.roots import Root
from inspector.snapshot_screen import SnapshotScreen

from .conftest import ALLOC_A, ALLOC_B, find_node, wait_for
from .test_app import open_notes
from .test_tree import move_to


async def select_alloc(pilot, app: InspectorApp, alloc_id: str) -> None:
    tree = app.alloc_tree
    await wait_for(pilot, lambda: find_node(tree, "", alloc_id) is not None, message="allocs")
    await move_to(pilot, tree, find_node(tree, "", alloc_id))


async def type_into(pilot, app: InspectorApp, selector: str, text: str) -> None:
    """Fill an input: all but the last character set directly (long paths), the last typed."""
    field = app.screen.query_one(selector, Input)
    field.focus()
    await pilot.pause()  # focusing selects the text: set the value after that
    field.value = text[:-1]
    field.cursor_position = len(field.value)
    await pilot.press(text[-1])
    assert field.value == text


def notifications(app: InspectorApp) -> list[str]:
    return [n.message for n in app._notifications]


# ------------------------------------------------------------------ snapshot


async def test_snapshot_writes_a_tar_of_data_and_local(alloc_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await select_alloc(pilot, app, ALLOC_A)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SnapshotScreen), message="dialog")
        assert app.screen.query_one("#path", Input).value == f"{ALLOC_A}.tar"
        app.screen.query_one("#path", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, SnapshotScreen), timeout=30,
                       message="snapshot done")
        out = tmp_path / f"{ALLOC_A}.tar"
        size = humanize.naturalsize(out.stat().st_size)
        assert any(str(out) in m and size in m for m in notifications(app))
    with tarfile.open(out) as tar:
        names = set(tar.getnames())
    assert {"alloc/data/state.json", "web/local/notes.txt", "web/local/blob.bin",
            "web/local/link"} <= names
    assert not any(n.startswith("web/secrets") or "logs" in n for n in names)


async def test_snapshot_error_keeps_the_tar_and_says_where(alloc_root, tmp_path, monkeypatch):
    def broken(self, w, *, progress=None):
        w.write(b"partial")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(AllocDir, "snapshot", broken)
    out = tmp_path / "out.tar"
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await select_alloc(pilot, app, ALLOC_A)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SnapshotScreen), message="dialog")
        await type_into(pilot, app, "#path", str(out))
        await pilot.press("enter")
        screen = app.screen
        await wait_for(pilot, lambda: screen._finished, message="failure shown")
        message = str(screen.query_one("#message").content)
        assert "Input/output error" in message
        assert str(out) in message and f"NOMAD-{ALLOC_A}-ERROR.log" in message
        assert out.exists()
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SnapshotScreen), message="closed")


async def test_snapshot_asks_before_overwriting(alloc_root, tmp_path):
    out = tmp_path / "exists.tar"
    out.write_bytes(b"keep me")
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await select_alloc(pilot, app, ALLOC_A)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SnapshotScreen), message="dialog")
        await type_into(pilot, app, "#path", str(out))
        await pilot.press("enter")
        message = app.screen.query_one("#message")
        await wait_for(pilot, lambda: "exists" in str(message.content), message="question")
        assert out.read_bytes() == b"keep me"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SnapshotScreen), message="closed")
        assert out.read_bytes() == b"keep me"


async def test_snapshot_checks_the_path_off_the_event_loop(alloc_root, tmp_path, monkeypatch):
    import threading

    from inspector import dialog

    threads = []

    def spy(raw):
        threads.append(threading.current_thread())
        return real(raw)

    real = dialog.inspect_path
    monkeypatch.setattr(dialog, "inspect_path", spy)
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await select_alloc(pilot, app, ALLOC_A)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SnapshotScreen), message="dialog")
        await type_into(pilot, app, "#path", str(tmp_path))
        await pilot.press("enter")
        message = app.screen.query_one("#message")
        await wait_for(pilot, lambda: "is a directory" in str(message.content), message="refusal")
    assert threads and threading.main_thread() not in threads


# ------------------------------------------------------------------ move


async def test_move_into_an_existing_alloc_dir(alloc_root):
    dest = AllocDir(alloc_root / "dest-alloc")
    dest.build()
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await select_alloc(pilot, app, ALLOC_A)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MoveScreen), message="dialog")
        await type_into(pilot, app, "#dest", dest.alloc_dir)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, MoveScreen), timeout=30,
                       message="moved")
        assert any("Moved" in m for m in notifications(app))
        # the tree refreshed: the destination appears as an allocation
        await wait_for(pilot, lambda: find_node(app.alloc_tree, "", "dest-alloc") is not None,
                       message="refreshed tree")
    assert (alloc_root / "dest-alloc/web/local/notes.txt").read_text() == (
        "hello from the web task\n"
    )
    assert (alloc_root / "dest-alloc/alloc/data/state.json").exists()
    assert not (alloc_root / ALLOC_A / "web/local/notes.txt").exists()


async def test_move_offers_to_build_the_destination(alloc_root, tmp_path):
    dest = tmp_path / "new-alloc"
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await select_alloc(pilot, app, ALLOC_A)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MoveScreen), message="dialog")
        await type_into(pilot, app, "#dest", str(dest))
        await pilot.press("enter")
        screen = app.screen
        await wait_for(pilot, lambda: "not an alloc dir" in str(screen.query_one("#message").content),
                       message="question")
        assert str(screen.query_one("#move", Button).label) == "Build and move"
        assert not dest.exists()  # nothing happens before the confirmation
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, MoveScreen), timeout=30,
                       message="moved")
    assert (dest / "alloc" / "logs").is_dir()
    assert (dest / "web/local/config.json").read_text() == '{"listen": 8080}\n'


async def test_move_error_is_reported(alloc_root, monkeypatch):
    from allocdir import AllocDirError

    def refuse(self, other, tasks):
        raise AllocDirError("disk full")

    monkeypatch.setattr(AllocDir, "move", refuse)
    dest = AllocDir(alloc_root / "dest-alloc")
    dest.build()
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        await select_alloc(pilot, app, ALLOC_A)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MoveScreen), message="dialog")
        await type_into(pilot, app, "#dest", dest.alloc_dir)
        await pilot.press("enter")
        screen = app.screen
        await wait_for(pilot, lambda: screen._finished, message="error shown")
        assert "disk full" in str(screen.query_one("#message").content)
        assert any("disk full" in m for m in notifications(app))


# ------------------------------------------------------------------ destroy


async def open_destroy(pilot, app: InspectorApp, alloc_id: str) -> DestroyScreen:
    await select_alloc(pilot, app, alloc_id)
    await pilot.press("D")
    await wait_for(pilot, lambda: isinstance(app.screen, DestroyScreen), message="dialog")
    return app.screen


async def test_destroy_cancel_is_focused_and_wrong_id_keeps_it(alloc_root):
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_destroy(pilot, app, ALLOC_B)
        assert app.focused is screen.query_one("#cancel", Button)
        destroy = screen.query_one("#destroy", Button)
        assert destroy.disabled
        await type_into(pilot, app, "#confirm", ALLOC_A)  # another allocation's id
        assert destroy.disabled
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DestroyScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DestroyScreen), message="closed")
        # enter on the focused Cancel button closes without destroying too
        screen = await open_destroy(pilot, app, ALLOC_B)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, DestroyScreen), message="closed")
    assert (alloc_root / ALLOC_B / "api/local/app.conf").exists()


async def test_destroy_with_the_right_id_removes_it_and_closes_its_file(alloc_root):
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
        assert any("destroyed" in m for m in notifications(app))


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
        await wait_for(pilot, lambda: screen._finished, message="error shown")
        message = str(screen.query_one("#message").content)
        assert "failed to destroy" in message and "resource busy" in message
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DestroyScreen), message="closed")
    monkeypatch.undo()
    assert os.path.isdir(alloc_root / ALLOC_B)


async def test_dialog_keys_do_not_trigger_main_actions(alloc_root):
    """Inside a dialog, s / m / D / r / ? are text or nothing, never a second dialog."""
    app = InspectorApp(Root.open(alloc_root))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_destroy(pilot, app, ALLOC_B)
        await pilot.press("s", "m", "question_mark", "r", "D")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("tab")  # moves inside the dialog (Cancel -> the id field)
        assert app.focused is screen.query_one("#confirm", Input)
        await pilot.press("s", "m", "r", "q")
        assert screen.query_one("#confirm", Input).value == "smrq"
        assert app.screen is screen and app.is_running
