"""The follow widget (``nb.follow``) with a writer thread appending,
truncating and rotating; its Stop button releasing everything."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

pytest.importorskip("ipywidgets")

from inspector import notebook as nb  # noqa: E402
from inspector.notebook.viewer import newest_rotation  # noqa: E402
from tests.process_resources import Resources  # noqa: E402

LOG = "alloc/logs/web.stdout.0"


def _path(alloc, rel: str) -> str:
    return os.path.join(alloc.alloc_dir, rel)


def _append(alloc, rel: str, data: str) -> None:
    with open(_path(alloc, rel), "a") as f:
        f.write(data)


def test_every_line_once_in_order_through_appends_truncation_and_rotation(alloc):
    """A writer thread appends, truncates and rotates; each batch is written
    once the widget shows the previous one (what was written before a
    truncation and never read is gone, for any follower)."""
    open(_path(alloc, LOG), "w").close()
    view = nb.follow(alloc, LOG, lines=1000)
    view.follower.wait_watching(5)
    expected: list[str] = []
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            n = 0
            for round_ in range(3):
                for _ in range(40):  # appends, some in pieces
                    n += 1
                    line = f"round {round_} line {n:04d} \x1b[32mok\x1b[0m"
                    _append(alloc, view.path, line[:7])
                    _append(alloc, view.path, line[7:] + "\n")
                    expected.append(f"round {round_} line {n:04d} ok")
                view.wait_for(expected[-1])
                # Truncate and write again: shown, and followed from offset 0.
                n += 1
                with open(_path(alloc, view.path), "w") as f:
                    f.write(f"after truncation {n:04d}\n")
                expected.append(f"after truncation {n:04d}")
                view.wait_for(expected[-1])
                # Rotate .N -> .N+1 with a line split across the two files.
                n += 1
                current = view.path
                _append(alloc, current, f"split across rotation {n:04d} fir")
                successor = current.rsplit(".", 1)[0] + f".{int(current.rsplit('.', 1)[1]) + 1}"
                with open(_path(alloc, successor), "w") as f:
                    f.write("st half\n")
                expected.append(f"split across rotation {n:04d} first half")
                view.wait_for(expected[-1])
        except BaseException as exc:  # reported by the test thread
            failures.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join(60)
    assert not thread.is_alive() and not failures, failures
    assert view.text() == expected
    assert view.path == "alloc/logs/web.stdout.3"
    assert "truncated" in view.notices
    assert any(n.startswith("continued in web.stdout.") for n in view.notices)
    assert '<span style="color:#00a250">ok</span>' in view.body.value
    view.stop()
    assert not view.running and view.stop_button.disabled


def test_stop_releases_the_watch_and_the_threads(alloc):
    resources = Resources()
    _append(alloc, LOG, "boot\n")
    warm = nb.follow(alloc, LOG)  # the first follow sets up the shared inotify machinery
    warm.wait_for("boot")
    warm.stop()
    baseline = resources.snapshot()
    for _ in range(5):
        view = nb.follow(alloc, LOG)
        view.wait_for("boot")
        _append(alloc, LOG, "more\n")
        view.wait_for("more")
        assert resources.inotify_watches() > baseline["inotify_watches"]
        view.stop_button.click()  # as in the notebook: returns at once
        view.stop()  # and joined here
        assert not view.running
    after = resources.settle(baseline, {})
    # Never more than before (a thread of an earlier test may end meanwhile).
    assert after["threads"] <= baseline["threads"]
    assert after["inotify_watches"] <= baseline["inotify_watches"]
    assert after["fds"] <= baseline["fds"]
    assert not [t.name for t in threading.enumerate() if t.name.startswith("inspector-nb-follow")]


def test_memory_stays_bounded_under_a_flood(alloc):
    view = nb.follow(alloc, LOG, lines=50)
    view.follower.wait_watching(5)
    with open(_path(alloc, LOG), "a") as f:
        for n in range(20_000):
            f.write(f"flood {n:05d} " + "x" * 200 + "\n")
    view.wait_for("flood 19999", timeout=20)
    assert len(view.text()) == 50
    assert len(view.body.value) < 50 * 400
    assert len(view.session.frame.rows) == 50
    view.stop()


def test_a_deleted_file_ends_the_follow(alloc):
    _append(alloc, "alloc/logs/app.log", "x\n")
    view = nb.follow(alloc, "alloc/logs/app.log")
    view.wait_for("x")
    os.unlink(_path(alloc, "alloc/logs/app.log"))
    deadline = time.monotonic() + 5
    while view.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not view.running
    assert "deleted" in view.notices
    assert "stopped" in view.title.value


def test_the_rotation_set_without_index_means_its_newest_file(alloc):
    for n in (0, 1, 2, 10):
        _append(alloc, f"alloc/logs/api.stderr.{n}", f"file {n}\n")
    assert newest_rotation(alloc, "alloc/logs/api.stderr") == "alloc/logs/api.stderr.10"
    assert newest_rotation(alloc, "alloc/logs/api.stderr.1") == "alloc/logs/api.stderr.1"
    with pytest.raises(FileNotFoundError):
        newest_rotation(alloc, "alloc/logs/nope.stdout")
    view = nb.follow(alloc, "alloc/logs/api.stderr")
    assert view.path == "alloc/logs/api.stderr.10"
    view.wait_for("file 10")
    view.stop()


def test_secrets_and_fifos_are_never_followed(alloc):
    for rel in ("web/secrets/token", "alloc/logs/.web.stdout.fifo"):
        view = nb.follow(alloc, rel)
        deadline = time.monotonic() + 5
        while view.running and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not view.running
        assert view.text() == []
        assert view.notices and view.notices[-1].startswith("follow stopped:")


async def test_on_the_kernel_loop_widgets_change_on_the_loop(alloc):
    """As in a kernel: a running loop in the creating thread. The widget only
    changes when the loop runs, and ``await view.until`` lets it."""
    _append(alloc, LOG, "first\n")
    view = nb.follow(alloc, LOG)
    changed_in: set[str] = set()
    view.body.observe(lambda _c: changed_in.add(threading.current_thread().name), "value")
    await view.until("first")
    _append(alloc, LOG, "second\n")
    await view.until("second")
    assert changed_in == {threading.main_thread().name}
    view.stop()
    await asyncio.sleep(0)


async def test_a_busy_kernel_does_not_pile_up_redraws(alloc):
    """While a long synchronous cell holds the loop, the follower keeps
    reading but only its newest drawing waits to be applied."""
    _append(alloc, LOG, "start\n")
    view = nb.follow(alloc, LOG)
    await view.until("start")
    with open(_path(alloc, LOG), "a") as log:  # the loop is blocked meanwhile
        for n in range(40):
            log.write(f"busy {n:02d}\n")
            log.flush()
            time.sleep(0.01)
    assert len(view._ui._pending) <= 2
    await view.until("busy 39")
    assert view.text()[-40:] == [f"busy {n:02d}" for n in range(40)]
    view.stop()


@pytest.mark.parametrize("planted", ["api.stderr.\u00b2", "api.stderr.\u0663"])
def test_a_member_named_with_other_digits_neither_raises_nor_joins_the_set(alloc, planted):
    """A task names a file ``api.stderr.²`` (``str.isdigit()`` says yes,
    ``int()`` raises) or ``api.stderr.٣`` (read as 3): tail and follow of the
    set still open its newest real member."""
    for n in (0, 1):
        _append(alloc, f"alloc/logs/api.stderr.{n}", f"file {n}\n")
    _append(alloc, f"alloc/logs/{planted}", "planted by the task\n")
    assert newest_rotation(alloc, "alloc/logs/api.stderr") == "alloc/logs/api.stderr.1"
    # The set is one log: its last lines, the newest file's and those before.
    assert nb.tail(alloc, "alloc/logs/api.stderr", 5) == "file 0\nfile 1"
    view = nb.follow(alloc, "alloc/logs/api.stderr")
    try:
        view.wait_for("file 1")
        assert view.path == "alloc/logs/api.stderr.1"
    finally:
        view.stop()


async def test_text_is_what_was_read_even_while_a_cell_holds_the_loop(alloc):
    """A cell that blocks (``time.sleep``, a writer waiting) gets what the
    follower read from ``text()``; the widget catches up once the loop runs."""
    _append(alloc, LOG, "start\n")
    view = nb.follow(alloc, LOG)
    await view.until("start")
    follower = view.follower
    version = follower.version
    _append(alloc, LOG, "read while the loop is busy\n")  # the loop is not run from here on
    deadline = time.monotonic() + 5
    while "read while the loop is busy" not in view.text() and time.monotonic() < deadline:
        version = follower.wait_changed(version, 0.5)
    assert view.text()[-1] == "read while the loop is busy"
    assert "read while the loop is busy" not in view.body.value  # not drawn yet
    await view.until("read while the loop is busy")
    view.stop()
