"""The first screen of a file, read before a UI shows it (core.viewing), and
the app's first frame when the command line has read it already."""

from __future__ import annotations

import pytest

from allocdir import AllocDir
from inspector.core.roots import Root
from inspector.core.viewing import read_first_screen
from inspector.tui.app import InspectorApp, viewer_size

from ..conftest import ALLOC_A, LOG_LINES


@pytest.fixture
def web(alloc_root) -> AllocDir:
    return AllocDir(alloc_root / ALLOC_A)


def _plain(first) -> list[str]:
    return [row.text.plain for row in first.rows]


def test_the_top_of_a_log_or_its_tail_when_following(web):
    first = read_first_screen(web, "alloc/logs/web.stdout.0", 80, 10)
    try:
        assert first.message == "" and first.size == len("".join(LOG_LINES))
        assert _plain(first)[:10] == [line.rstrip("\n") for line in LOG_LINES[:10]]
    finally:
        first.pager.source.close()
    tail = read_first_screen(web, "alloc/logs/web.stdout.0", 80, 10, follow=True)
    try:
        assert LOG_LINES[-1].rstrip("\n") in _plain(tail)
        assert LOG_LINES[0].rstrip("\n") not in _plain(tail)
    finally:
        tail.pager.source.close()


def test_a_rotated_file_opens_inside_its_set_at_its_own_first_byte(web):
    logs = web.alloc_dir + "/alloc/logs/"
    with open(logs + "api.stdout.0", "w") as f:
        f.write("zero a\nzero b\n")
    with open(logs + "api.stdout.1", "w") as f:
        f.write("".join(f"one {i}\n" for i in range(20)))
    first = read_first_screen(web, "alloc/logs/api.stdout.1", 80, 10)
    try:
        assert _plain(first)[0] == "one 0"
        assert first.pager.source.is_set
    finally:
        first.pager.source.close()


@pytest.mark.parametrize("rel, says", [
    ("web/local", "is a directory"),
    ("alloc/logs/.web.stdout.fifo", "is a FIFO: it is not opened"),
    ("alloc/tmp/consul_grpc.sock", "is a socket"),
    ("web/local/missing.txt", "does not exist"),
    ("web/secrets/token", "secret"),
])
def test_what_is_not_shown_is_a_message_never_an_exception(web, rel, says):
    first = read_first_screen(web, rel, 80, 10)
    assert first.pager is None and first.rows == []
    assert says in first.message
    assert "s.very-secret" not in first.message


async def test_the_first_frame_shows_a_screen_read_before_the_app_started(alloc_root):
    root = Root.open(str(alloc_root))
    alloc, rel = root.locate(f"{ALLOC_A}/alloc/logs/web.stdout.0")
    width, height = viewer_size(100, 30)
    first = read_first_screen(alloc, rel, width, height)
    app = InspectorApp(root, open_file=(alloc, rel), first_screen=first)
    async with app.run_test(size=(100, 30)) as pilot:
        # No worker has run yet: the rows are there from the first frame.
        assert app.viewer.body.plain_lines()[0] == LOG_LINES[0].rstrip("\n")
        await pilot.pause(0.2)
        assert app.viewer.body.plain_lines()[0] == LOG_LINES[0].rstrip("\n")
        assert len(app.viewer.body.plain_lines()) == app.viewer.body.size.height
