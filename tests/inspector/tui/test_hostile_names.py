"""Names and content a task controls reach the screen as plain text.

A task can name its files after terminal control sequences (retitle the
window, write the clipboard, clear the screen) or after Textual markup (run
an action), and can write them into its logs. The app must show names
escaped, keep only the colours of content, never crash, and never let any
of it reach the terminal.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from rich.style import Style

from allocdir import AllocDir
from inspector.tui.app import InspectorApp
from inspector.core.roots import Root
from inspector.tui.status_bar import short_path
from inspector.core.text import printable
from inspector.tui.tree import ALLOC, DIR, FILE, SECRET, SPECIAL

from ..conftest import ALLOC_A, destroy_fixture, wait_for

TITLE = "\x1b]0;pwned\x07"
CLIPBOARD = "\x1b]52;c;aGk=\x07"
CLEAR = "\x1b[2J"
CLICK = "[@click='app.quit']x"
BOLD_DIR, BOLD_FILE = "[bold]x[", "]"  # the path reads "[bold]x[/]"
NEWLINE = "two\nlines"
TAB = "tab\there"
C1 = "c1\x9d0;c1-title\x9c"
BIDI = "bidi\u202etxt.exe"
NOT_UTF8 = os.fsdecode(b"bad-\xff-utf8")
FILE_NAMES = [TITLE, CLIPBOARD, CLEAR, CLICK, NEWLINE, TAB, C1, BIDI, NOT_UTF8]
FIFO_NAMES = [CLICK + ".fifo", CLIPBOARD + ".fifo", "[red]fifo"]
HOSTILE_ALLOC = "\x1b]0;alloc-title\x07"
HOSTILE_TASK = "\x1b]2;task-title\x07"
HOSTILE_DIR = "\x1b]0;dir-title\x07"

LOG = (
    b"\x1b]8;;http://example.com/\x1b]52;c;aGk=\x07\x1b\\click here\x1b]8;;\x1b\\ end\n"
    b"\x1b]0;pwned-by-content\x07title line\n"
    b"\x1b[31mred\x1b[0m and \x1b[1;32mbold green\x1b[0m\n"
    b"\x1b]8;;https://example.com\x07plain link\x1b]8;;\x07 text\n"
    b"[bold]not markup[/] [@click='app.quit']x \x1bPdcs\x1b\\\x1b_apc\x1b\\done\n"
)
FOLLOWED = b"\x1b]52;c;Zm9sbG93\x07\x1b[35mfollowed\x1b[0m \x1b]0;followed-title\x07tail\n"

# What the app itself may send: SGR colours, cursor positioning.
_ALLOWED = re.compile(r"\x1b\[[0-9;]*[mH]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def build_hostile_root(root: Path) -> Path:
    """A client root whose allocation names, task names, file names and log
    content are hostile."""
    root.mkdir(parents=True)
    alloc = AllocDir(root / ALLOC_A)
    alloc.build()
    alloc.new_task_dir("web").build()
    local = root / ALLOC_A / "web" / "local"
    for name in FILE_NAMES:
        (local / name).write_text("hi\n")
    (local / BOLD_DIR).mkdir()
    (local / BOLD_DIR / BOLD_FILE).write_text("bold\n")
    (local / HOSTILE_DIR).mkdir()
    (local / HOSTILE_DIR / "inner.txt").write_text("inner\n")
    for name in FIFO_NAMES:
        os.mkfifo(local / name)
    (local / "hostile.log").write_bytes(LOG)
    (local / "notes.txt").write_text("notes\n")
    (root / ALLOC_A / "alloc/logs/web.stdout.0").write_bytes(LOG)
    os.mkfifo(root / ALLOC_A / "alloc/logs" / (CLICK + ".fifo"))
    os.makedirs(root / ALLOC_A / HOSTILE_TASK / "local")
    (root / ALLOC_A / HOSTILE_TASK / "local" / TITLE).write_text("task file\n")
    AllocDir(root / HOSTILE_ALLOC).build()
    return root


HOSTILE_PARENT = "\x1b]2;root-title\x07[b]"


@pytest.fixture
def hostile_root(tmp_path: Path):
    root = tmp_path / HOSTILE_PARENT / "alloc"  # shown in the header and the tree
    try:
        yield build_hostile_root(root)
    finally:
        destroy_fixture(root)


def terminal_output(app: InspectorApp) -> str:
    """Exactly what the app would write to the terminal for its whole screen."""
    return app.screen._compositor.render_full_update().render_segments(app.console)


def assert_terminal_safe(app: InspectorApp) -> str:
    """Nothing but SGR and cursor moves, and no raw control character."""
    output = terminal_output(app)
    rest = _ALLOWED.sub("", output).replace("\r\n", "").replace("\n", "")
    found = _CONTROL.findall(rest)
    assert not found, f"raw control characters reach the terminal: {sorted(set(found))!r}"
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            style = segment.style
            assert style is None or not style.link, f"a link reaches the terminal: {segment!r}"
    return output


def walk(node):
    for child in node.children:
        yield child
        yield from walk(child)


async def expand_everything(pilot, app: InspectorApp) -> None:
    tree = app.alloc_tree
    await wait_for(pilot, lambda: len(tree.root.children) >= 2, message="allocations")
    for _ in range(10):
        closed = [n for n in walk(tree.root)
                  if n.allow_expand and n.data.kind in (ALLOC, DIR) and not n.is_expanded]
        loading = [n for n in walk(tree.root) if str(n.label) == "loading…"]
        if not closed and not loading:
            return
        for node in closed:
            node.expand()
        await pilot.pause(0.1)
    raise AssertionError("the tree did not finish expanding")


def labels(app: InspectorApp) -> list[str]:
    return [str(node.label) for node in walk(app.alloc_tree.root)]


async def test_names_are_escaped_everywhere_and_nothing_crashes(hostile_root, notified):
    app = InspectorApp(Root.open(hostile_root))
    async with app.run_test(size=(120, 40)) as pilot:
        tree = app.alloc_tree
        await expand_everything(pilot, app)
        shown = labels(app) + [str(tree.root.label)]
        for label in shown:
            assert not _CONTROL.search(label), label
        for name in FILE_NAMES + [HOSTILE_ALLOC, HOSTILE_TASK, HOSTILE_DIR, BOLD_DIR]:
            assert any(label.startswith(printable(name)) for label in shown), printable(name)
        for name in FIFO_NAMES:
            assert any(label.startswith(printable(name) + " fifo") for label in shown), name
        assert any(label.startswith("\\x1b]0;pwned\\x07") for label in shown)

        nodes = [n for n in walk(tree.root) if n.data.kind in (FILE, SPECIAL, SECRET)]
        assert len(nodes) >= len(FILE_NAMES) + len(FIFO_NAMES) + 3
        tree.focus()
        for node in nodes:
            tree.move_cursor(node)
            await pilot.press("enter")
            data = node.data
            if data.kind == FILE:
                label = f"{data.alloc.alloc_id}/{data.rel}"
                expected = printable(label)
                await wait_for(pilot, lambda label=label: app.viewer.status is not None
                               and app.viewer.status.path == label
                               and app.viewer.mode in ("text", "hex"),
                               message=f"open {expected}")
                status = str(app.query_one("#status").content)
                # The full alloc id where it fits, else its first 8 characters;
                # the rest is escaped.
                assert status.startswith((expected, short_path(expected)))
            elif data.kind == SECRET:  # listed (names and sizes), each locked
                await wait_for(pilot, lambda node=node: node.is_expanded and node.loaded
                               and all(c.data.kind in ("secret-file", "note")
                                       for c in node.children),
                               message="secrets listed")
            else:
                needle = f"{printable(data.rel)}: not a regular file"
                await wait_for(pilot, lambda needle=needle: any(n.message == needle
                                                                for n in notified),
                               message=f"notification {needle}")
            assert app.is_running, "the app exited"
            output = assert_terminal_safe(app)
            tree.focus()  # opening a file moved the focus to the viewer
        assert "\\x1b]" in output  # the escaped forms are what is on screen
        # every notification was shown as text, never as markup
        assert notified and all(not n.markup for n in notified)
        assert any(CLICK in n.message for n in notified)
    assert app.return_code in (None, 0)


def screen_text(app: InspectorApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_header_and_dialogs_show_hostile_names_as_text(hostile_root, monkeypatch):
    from inspector.tui.destroy_screen import DestroyScreen
    from inspector.tui.move_screen import MoveScreen
    from inspector.tui.snapshot_screen import SnapshotScreen

    from .test_screens import message_of, type_into, wait_message

    app = InspectorApp(Root.open(hostile_root))
    async with app.run_test(size=(200, 40)) as pilot:
        tree = app.alloc_tree
        await wait_for(pilot, lambda: len(tree.root.children) == 2, message="allocations")
        assert printable(hostile_root) in screen_text(app)  # header and tree root
        assert_terminal_safe(app)
        node = next(n for n in tree.root.children if n.data.alloc.alloc_id == HOSTILE_ALLOC)
        tree.move_cursor(node)
        await pilot.pause()
        shown_alloc = printable(hostile_root / HOSTILE_ALLOC)

        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, DestroyScreen), message="destroy")
        await pilot.pause(0.2)
        assert f"Destroy {printable(HOSTILE_ALLOC)}" in screen_text(app)
        assert shown_alloc in " ".join(screen_text(app).split()) or shown_alloc[:60] in \
            screen_text(app)
        await pilot.press("enter")
        await wait_message(pilot, app.screen, f"Type the alloc id to confirm: "
                           f"{printable(HOSTILE_ALLOC)}")
        assert_terminal_safe(app)
        await pilot.press("escape")

        # the paths are reached through the cwd: what is typed has no control characters
        monkeypatch.chdir(hostile_root.parent)
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(app.screen, MoveScreen), message="move")
        await type_into(pilot, app, "#dest", "alloc")
        await pilot.press("enter")
        await wait_message(pilot, app.screen, f"{printable(hostile_root)} is the client alloc root")
        assert_terminal_safe(app)
        await pilot.press("escape")

        monkeypatch.chdir(hostile_root / HOSTILE_ALLOC)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SnapshotScreen), message="snapshot")
        await type_into(pilot, app, "#path", "x.tar")
        where = app.screen.query_one("#where")
        await wait_for(pilot, lambda: str(where.content) == (
            f"→ {shown_alloc}/x.tar\n  (relative paths start in {shown_alloc})\n"
            f"  (not in the current directory {shown_alloc}: it is inside the "
            f"alloc dir {shown_alloc})"), message="where, and why not the current directory")
        await pilot.press("enter")
        await wait_message(pilot, app.screen, f"is inside the alloc dir {shown_alloc}")
        assert "\x1b" not in message_of(app.screen)
        assert_terminal_safe(app)
        await pilot.press("escape")
        assert app.is_running


async def test_paths_in_viewer_messages_are_escaped(hostile_root):
    """A directory or FIFO opened with --open: the viewer's message quotes
    its path, escaped."""
    alloc = AllocDir.discover(hostile_root / ALLOC_A)
    app = InspectorApp(Root.open(hostile_root), open_file=(alloc, f"web/local/{HOSTILE_DIR}"))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: any("is a directory" in line
                                          for line in app.viewer.body.plain_lines()),
                       message="message")
        assert printable(f"web/local/{HOSTILE_DIR}") in app.viewer.body.plain_lines()[0]
        assert_terminal_safe(app)


async def test_content_keeps_colours_and_loses_links_and_hidden_sequences(hostile_root):
    alloc = AllocDir.discover(hostile_root / ALLOC_A)
    app = InspectorApp(Root.open(hostile_root), open_file=(alloc, "alloc/logs/web.stdout.0"))
    async with app.run_test(size=(120, 36)) as pilot:
        viewer = app.viewer
        await wait_for(pilot, lambda: viewer.mode == "text", message="log shown")
        await pilot.pause(0.2)
        lines = viewer.body.plain_lines()
        assert lines[:5] == [
            "click here end", "title line", "red and bold green", "plain link text",
            "[bold]not markup[/] [@click='app.quit']x done",
        ]
        texts = viewer.body._texts
        assert not any(isinstance(s.style, Style) and s.style.link
                       for text in texts for s in text.spans)
        red = next(s for s in texts[2].spans if texts[2].plain[s.start:s.end] == "red")
        assert red.style.color.name == "color(1)"
        assert_terminal_safe(app)
        # the colours reach the terminal (as the theme renders ANSI colours)
        segments = {segment.text: segment.style
                    for strip in app.screen._compositor.render_strips() for segment in strip}
        assert segments["red"].color != segments[" and "].color
        assert segments["bold green"].bold

        # the follow view renders appended content the same way
        await pilot.press("f")
        await wait_for(pilot, lambda: viewer.following, message="following")
        await pilot.pause(0.3)
        with open(hostile_root / ALLOC_A / "alloc/logs/web.stdout.0", "ab") as out:
            out.write(FOLLOWED)
        await wait_for(pilot, lambda: "followed tail" in viewer.body.plain_lines(),
                       message="followed line")
        texts = viewer.body._texts
        followed = next(t for t in texts if t.plain == "followed tail")
        assert any(followed.plain[s.start:s.end] == "followed" for s in followed.spans)
        assert_terminal_safe(app)


# ------------------------------------------------------------------ a real terminal

tmux_required = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def clipboard_tmux(tmp_path):
    from .test_tmux import Tmux

    session = Tmux(tmp_path, config=["set -g set-clipboard on", "set -g allow-rename on"])
    yield session
    session.close()


@tmux_required
def test_tmux_sees_osc_52_and_titles(clipboard_tmux, tmp_path):
    """The checks below can fail: a command that does print these sequences
    changes the pane title and fills a paste buffer."""
    script = tmp_path / "leak.sh"
    script.write_text(f"printf '{TITLE}{CLIPBOARD}leaked\\n'; sleep 30\n".replace(
        "\x1b", "\\033").replace("\x07", "\\007"))
    clipboard_tmux.start(["sh", str(script)])
    clipboard_tmux.wait_for(lambda s: "leaked" in s, what="the leak")
    deadline = time.monotonic() + 5
    while clipboard_tmux.pane_title() != "pwned" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert clipboard_tmux.pane_title() == "pwned"
    assert clipboard_tmux.buffers().strip()


@tmux_required
def test_tmux_title_and_clipboard_untouched(hostile_root, clipboard_tmux):
    from .test_tmux import command

    fifo = FIFO_NAMES[0]
    tmux = clipboard_tmux
    tmux.start([*command(), str(hostile_root), "--open", f"{ALLOC_A}/web/local/hostile.log"],
               hold=True)
    text = tmux.wait_for(lambda s: "click here end" in s, what="the log")
    tmux.keys(*[">"] * 5)  # a wider tree: the escaped names are long
    title = tmux.pane_title()
    assert title != "pwned"
    tmux.wait_for(lambda s: printable(TITLE) in s and printable(CLIPBOARD) in s,
                  what="the escaped names in the tree")
    # go to the FIFO named like markup and select it: a notification, no crash
    local = sorted([(False, n) for n in FILE_NAMES + FIFO_NAMES + ["hostile.log", "notes.txt"]]
                   + [(True, n) for n in (BOLD_DIR, HOSTILE_DIR)],
                   key=lambda e: (not e[0], e[1]))
    names = [n for _, n in local]
    steps = names.index(fifo) - names.index("hostile.log")
    tmux.keys("Tab")  # the tree (the viewer has the focus after --open)
    tmux.keys(*(["Down"] * steps if steps > 0 else ["Up"] * -steps))
    tmux.keys("Enter")
    text = tmux.wait_for(lambda s: "not a regular file" in s, what="the FIFO notification")
    assert printable(fifo) in text
    time.sleep(0.5)
    attributes = tmux.screen_with_attributes()
    assert "\x07" not in attributes and "\x1b]" not in attributes
    assert "click here end" in tmux.screen()  # not cleared by a name's \x1b[2J
    assert tmux.pane_title() == title
    assert tmux.buffers().strip() == ""
    tmux.keys("q")
    assert tmux.exit_status() == 0
    assert tmux.pane_title() == title
    assert tmux.buffers().strip() == ""
