"""The pager widget (``nb.view``) and ``nb.tail``, driven from Python: the
widget models are real ipywidgets, without a browser."""

from __future__ import annotations

import os
import re
import threading
import time

import pytest

pytest.importorskip("ipywidgets")

from inspector import notebook as nb  # noqa: E402
from inspector.core.viewing import NotViewable  # noqa: E402
from inspector.notebook.frames import CURRENT  # noqa: E402
from inspector.notebook.viewer import PAGE_LINES  # noqa: E402

from .conftest import SECRET, CountingFS, _write, make_sparse  # noqa: E402

GiB = 1 << 30
HEAD = b"first line of the file\n" + b"".join(b"early line %03d\n" % n for n in range(200))
TAIL = b"".join(b"late line %03d\n" % n for n in range(200)) + b"last line of the file\n"


@pytest.fixture
def huge(alloc):
    """An 8 GiB sparse log, and an fs that counts the bytes read from it."""
    rel = "alloc/logs/huge.stdout.0"
    make_sparse(os.path.join(alloc.alloc_dir, rel), 8 * GiB, HEAD, TAIL)
    return CountingFS(alloc), rel


def test_an_8_gib_file_is_paged_by_offset_without_reading_it(huge):
    fs, rel = huge
    started = time.monotonic()
    viewer = nb.view(fs, rel)
    assert time.monotonic() - started < 1.0  # returns at once: the read is in a worker
    viewer.wait()
    assert viewer.shown.mode == "text" and viewer.shown.size == 8 * GiB
    assert viewer.text()[0] == "first line of the file"
    assert len(viewer.text()) == PAGE_LINES

    viewer.tail()
    viewer.wait()
    assert viewer.text()[-1] == "last line of the file"
    assert viewer.shown.bottom == 8 * GiB and viewer.shown.percent == 100.0

    viewer.prev_page()
    viewer.wait()
    assert viewer.shown.bottom < 8 * GiB
    assert viewer.text()[-1].startswith("late line")
    viewer.next_page()
    viewer.wait()
    assert viewer.text()[-1] == "last line of the file"

    viewer.goto(4 * GiB)
    viewer.wait()
    assert abs(viewer.shown.top - 4 * GiB) <= 2048  # the line (a 2 KiB piece) holding it
    viewer.head()
    viewer.next_page()
    viewer.wait()
    assert viewer.text()[0] == f"early line {PAGE_LINES - 1:03d}"
    # A handful of 64 KiB blocks, never the file.
    assert fs.bytes_read < 4 * 1024 * 1024
    assert "8.0 GiB" in viewer.title.value and "8,589,934,592 bytes" in viewer.title.value
    assert "of 8,589,934,592" in viewer.status.value
    viewer.close()


def test_the_offset_box_and_buttons_drive_the_same_pager(huge):
    fs, rel = huge
    viewer = nb.view(fs, rel).wait()
    viewer.offset_box.value = "100%"
    viewer.wait()
    assert viewer.text()[-1] == "last line of the file"
    viewer.head_button.click()
    viewer.wait()
    assert viewer.text()[0] == "first line of the file"
    viewer.offset_box.value = "0x200000000"  # 8 GiB
    viewer.wait()
    assert viewer.text()[-1] == "last line of the file"
    viewer.offset_box.value = "nonsense"
    viewer.wait()
    assert "not a line number, N%, @time or byte offset" in viewer.status.value
    viewer.close()


def test_go_to_takes_what_the_terminal_takes(alloc):
    viewer = nb.view(alloc, "alloc/logs/web.stdout.0", lines=5).wait()
    viewer.goto("120")  # a line, as :120
    viewer.wait()
    assert viewer.text()[0] == "line 0120 of the web task"
    viewer.goto("b0")
    viewer.wait()
    assert viewer.text()[0] == "line 0001 of the web task"
    viewer.goto(26 * 50)  # an int: a byte offset
    viewer.wait()
    assert viewer.text()[0] == "line 0051 of the web task"
    viewer.goto("@T25:00")
    viewer.wait()
    assert "not a valid time of day" in viewer.status.value
    viewer.close()


def test_binary_files_are_a_hex_dump_and_hex_can_be_toggled(alloc):
    viewer = nb.view(alloc, "web/local/blob.bin").wait()
    assert viewer.shown.mode == "hex"
    assert viewer.text()[0].startswith("00000000  00 01 02 03")
    assert viewer.hex_toggle.value is True
    viewer.hex_toggle.value = False
    viewer.wait()
    assert viewer.shown.mode == "text"
    viewer.set_hex(True)
    viewer.wait()
    assert viewer.shown.mode == "hex" and viewer.hex_toggle.value is True
    viewer.close()


def test_search_forward_backward_and_highlight(alloc):
    viewer = nb.view(alloc, "alloc/logs/web.stdout.0", lines=10).wait()
    viewer.find("line 0150")
    viewer.wait()
    assert "line 0150 of the web task" in viewer.text()
    assert "/line 0150 at byte" in viewer.status.value
    # The current match is marked apart, as in the terminal.
    assert f'<span style="{CURRENT}">line 0150</span>' in viewer.body.value
    viewer.find("LINE 0150")  # a capital: exact case, no match
    viewer.wait()
    assert "no match" in viewer.status.value
    viewer.search_box.value = "of the web"
    viewer.wait()
    assert "background:#ffe066" in viewer.body.value  # the other matches are highlighted
    assert viewer.body.value.count(CURRENT) == 1
    first = viewer.shown.top
    viewer.find_next_button.click()
    viewer.wait()
    viewer.find_prev_button.click()
    viewer.wait()
    assert viewer.shown.top <= first + 200
    viewer.close()


def test_wrap_is_the_browsers(alloc):
    _write(f"{alloc.alloc_dir}/web/local/long.txt", "x" * 5000 + "\n")
    viewer = nb.view(alloc, "web/local/long.txt").wait()
    assert "white-space:pre;" in viewer.body.value
    viewer.wrap_toggle.value = True
    viewer.wait()
    assert "white-space:pre-wrap" in viewer.body.value
    assert viewer.text()[0] == "x" * 2048  # pieces of 2 KiB, as in the terminal
    viewer.close()


def test_a_secret_shows_the_refusal_and_is_never_read(alloc):
    viewer = nb.view(alloc, "web/secrets/token").wait()
    assert viewer.shown.mode == "message"
    assert "Reading secret file prohibited" in viewer.body.value
    assert SECRET not in viewer.body.value + viewer.title.value + viewer.status.value
    with pytest.raises(NotViewable, match="secret"):
        nb.tail(alloc, "web/secrets/token")


def test_a_fifo_is_never_opened(alloc):
    # Opening a FIFO for reading would block until a writer comes: none will.
    done = threading.Event()
    viewer = nb.view(alloc, "alloc/logs/.web.stdout.fifo")

    def wait() -> None:
        viewer.wait(5)
        done.set()

    threading.Thread(target=wait, daemon=True).start()
    assert done.wait(5)
    assert "is a FIFO: it is not opened" in viewer.body.value
    with pytest.raises(NotViewable, match="FIFO"):
        nb.tail(alloc, "alloc/logs/.web.stdout.fifo")


def test_directories_and_missing_files(alloc):
    assert "is a directory" in nb.view(alloc, "web/local").wait().body.value
    assert "does not exist" in nb.view(alloc, "web/local/nope").wait().body.value


def test_content_keeps_colours_and_nothing_else(alloc):
    _write(f"{alloc.alloc_dir}/alloc/logs/evil.stdout.0",
           "\x1b]8;;http://example.com/\x07click\x1b]8;;\x07 <script>alert(1)</script> "
           "\x1b]0;title\x07\x1b[31mred\x1b[0m \x1b]52;c;aGk=\x07 \u202eevil\n")
    viewer = nb.view(alloc, "alloc/logs/evil.stdout.0").wait()
    body = viewer.body.value
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "<a" not in body and "http://example.com" not in body
    assert "aGk=" not in body and "title" not in body
    assert '<span style="color:#e75c58">red</span>' in body
    assert "\u202e" not in body and "\\u202e" in body
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", body)


def test_hostile_path_in_the_title(alloc):
    name = "<img src=x>\x1b]0;t\x07.log"
    _write(f"{alloc.alloc_dir}/web/local/{name}", "hello\n")
    viewer = nb.view(alloc, f"web/local/{name}").wait()
    assert "<img" not in viewer.title.value and "\x1b" not in viewer.title.value
    assert "&lt;img src=x&gt;\\x1b]0;t\\x07.log" in viewer.title.value
    assert "\x1b" not in repr(viewer)


def test_a_root_and_an_id_prefix_reach_the_file(alloc):
    root = nb.open_root(os.path.dirname(alloc.alloc_dir))
    viewer = nb.view(root, f"{alloc.alloc_id[:8]}/alloc/logs/web.stdout.0", start="tail").wait()
    assert viewer.text()[-1] == "line 0300 of the web task"
    assert viewer.label == f"{alloc.alloc_id}/alloc/logs/web.stdout.0"


def test_opening_another_file_drops_what_the_first_one_queued(alloc, huge):
    fs, rel = huge
    viewer = nb.view(fs, rel)
    for _ in range(20):
        viewer.next_page()
    viewer.open(alloc, "alloc/logs/web.stdout.0")
    viewer.wait()
    assert viewer.text()[0] == "line 0001 of the web task"


def test_tail_is_plain_text_of_the_last_lines(alloc, huge):
    text = nb.tail(alloc, "alloc/logs/web.stdout.0", 3)
    assert str(text) == "\n".join(f"line {n:04d} of the web task" for n in (298, 299, 300))
    assert text.lines == [f"line {n:04d} of the web task" for n in (298, 299, 300)]
    assert nb.tail(alloc, "alloc/logs/web.stderr.0", 1) == "red warning"  # colours dropped
    fs, rel = huge
    assert nb.tail(fs, rel, 2).lines == ["late line 199", "last line of the file"]
    assert fs.bytes_read < 1024 * 1024
    assert nb.tail(alloc, "alloc/logs/web.stdout", 1) == "line 0300 of the web task"
    assert nb.tail(alloc, "alloc/logs/web.stdout.0", 0) == ""


def test_the_status_says_where_line_numbers_count_from():
    """Nomad deleted .0-.2 of the set: the notebook's status says line 1 is
    the first line of .3, as the terminal's does."""
    from inspector.core.session.frame import Frame
    from inspector.core.session.status import Status
    from inspector.notebook.frames import status_html

    status = Status("abc/alloc/logs/web.stdout.3", 100, None, "text/plain", 0, 10.0, False,
                    "text", True, line=1, lines=30, numbers=True, first_index=3)
    html = status_html(Frame(mode="text", status=status), True)
    assert "L1/30 · <span" in html and "from .3 (.0–.2 deleted)</span>" in html
    plain = status._replace(first_index=0)
    assert "deleted" not in status_html(Frame(mode="text", status=plain), True)
