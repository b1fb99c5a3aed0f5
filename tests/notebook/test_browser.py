"""The browser (``nb.browse``): the terminal's tree model drawn in a list
box beside a pager. Rotation sets, natural order or newest first, the name
filter, secrets listed locked and never read, special files marked and
never opened, hostile names escaped, a window on a virtual list of 100k
rows, and an allocation's card measured in the background."""

from __future__ import annotations

import os
import stat
import threading
import time

import pytest

pytest.importorskip("ipywidgets")

from allocdir import summary  # noqa: E402
from inspector import notebook as nb  # noqa: E402
from inspector.notebook.browser import BATCH, WINDOW  # noqa: E402

from tests import mounting  # noqa: E402

from .conftest import SECRET, _write  # noqa: E402


def _choose(browser, text: str) -> None:
    """Click the first line of the tree holding ``text``."""
    key = next(key for label, key in browser.tree.options if text in label)
    browser.tree.value = key
    browser.wait()


def _lines(browser) -> list[str]:
    return [label.replace("\u00a0", " ").strip() for label in browser.labels()]


def _names(browser) -> list[str]:
    """The first word of each line (after the arrow)."""
    return [line.lstrip("▸▾ ").split()[0] for line in _lines(browser)]


def test_tree_expand_open_and_refuse(alloc, opened_reads):
    root = nb.open_root(os.path.dirname(alloc.alloc_dir))
    browser = nb.browse(root).wait()
    # One allocation: it is expanded at once, as in the terminal.
    assert _lines(browser)[0].startswith(f"▾ {alloc.alloc_id[:8]}  web")
    browser.expand("web/local", alloc.alloc_id[:8]).wait()
    lines = _lines(browser)
    assert [line.split("  ")[0] for line in lines[:4]] == [
        f"▾ {alloc.alloc_id[:8]}", "all logs", "▸ alloc/", "▾ web/"]
    assert any(line.startswith("config.json  17 Bytes · ") for line in lines)
    assert "▸ secrets/ [locked]" in lines
    _choose(browser, "config.json")
    assert browser.viewer.text() == ['{"listen": 8080}']
    # The secrets dir lists names and sizes, locked; choosing one shows the refusal.
    _choose(browser, "secrets/")
    assert "token  27 Bytes [locked]" in _lines(browser)
    _choose(browser, "token")
    assert "Reading secret file prohibited" in browser.viewer.body.value
    assert SECRET not in browser.viewer.body.value
    assert not any("secrets" in path for path in opened_reads), opened_reads
    # Choosing an expanded directory again collapses it.
    _choose(browser, "local/")
    assert not any("config.json" in line for line in _lines(browser))
    browser.expand("alloc/logs", alloc).wait()
    assert any(line.startswith(".web.stdout.fifo fifo  ") for line in _lines(browser))
    _choose(browser, ".web.stdout.fifo")
    assert "not a regular file" in browser.notice.value


def test_a_rotation_set_is_one_line_and_opens_as_one_log(alloc):
    for n in range(1, 11):
        _write(f"{alloc.alloc_dir}/alloc/logs/web.stdout.{n}", f"file {n}\n")
    browser = nb.browse(alloc).expand("alloc/logs").wait()
    lines = _lines(browser)
    assert [line for line in lines if line.startswith("▸ web.stdout.")] == \
        [next(line for line in lines if line.startswith("▸ web.stdout.[0–10]  11 files · "))]
    _choose(browser, "web.stdout.[0–10]")
    assert browser.viewer.text()[0] == "line 0001 of the web task"
    browser.expand("alloc/logs/web.stdout.*").wait()
    members = [n for n in _names(browser) if n.startswith("web.stdout.") and "[" not in n]
    assert members == [f"web.stdout.{n}" for n in range(11)]  # natural order


def test_newest_first_and_the_name_filter(alloc):
    data = f"{alloc.alloc_dir}/alloc/data"
    for i, name in enumerate(["api.out.10", "api.out.2", "api.out.1", "b"]):
        _write(f"{data}/{name}", "")
        os.utime(f"{data}/{name}", (1_000_000 + i, 1_000_000 + i))
    browser = nb.browse(alloc).expand("alloc/data").wait()

    def shown():
        # Not startswith("b"): the allocation's random id may start with it.
        return [n for n in _names(browser) if n.startswith("api.") or n == "b"]

    assert shown() == ["api.out.1", "api.out.2", "api.out.10", "b"]
    browser.set_order("mtime").wait()
    assert shown() == ["b", "api.out.1", "api.out.2", "api.out.10"]
    assert browser.order_buttons.value == "mtime"
    browser.set_filter("OUT").wait()  # a capital: case matters, nothing matches
    assert shown() == [] and "no name matches the filter" in _lines(browser)
    browser.filter_box.value = "out.1"  # typed into the box
    browser.wait()
    assert shown() == ["api.out.1", "api.out.10"]
    with pytest.raises(ValueError, match="no order 'weight'"):
        browser.set_order("weight")
    browser.set_order("size").wait()  # the third order, as in the terminal's `o`
    assert browser.order_buttons.value == "size"


def test_a_100k_entry_directory_is_a_window_of_the_rows_without_freezing(alloc):
    many = f"{alloc.alloc_dir}/web/local/many"
    os.mkdir(many)
    # As root, on a tmpfs: 100k entries are made in half a second rather than
    # seconds of journal on a busy disk.
    mounted = os.geteuid() == 0
    if mounted:
        mounting.tmpfs(many, "16m")
    try:
        fd = os.open(many, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for n in range(100_000):  # mknod: one system call per empty file
                os.mknod(f"f{n:06d}", 0o644 | stat.S_IFREG, dir_fd=fd)
        finally:
            os.close(fd)
        browser = nb.browse(alloc)
        started = time.monotonic()
        browser.expand("web/local/many")
        assert time.monotonic() - started < 0.2  # queued: the listing runs in a worker
        browser.wait(60)
        lines = _lines(browser)
        assert len(lines) == WINDOW + 1  # the window, and a line for the rest
        shown = [line for line in lines if line.startswith("f0")]
        assert shown[0].startswith("f000000  0 Bytes") and len(shown) == WINDOW - 7  # 7: alloc, its
        # "all logs", alloc/, web/, web's "stdout+stderr", local/, many/
        rest = browser.model.row_count - 1 - WINDOW
        assert lines[-1] == f"… {rest:,} more rows (choose to show the next 500)"
        _choose(browser, "more rows")
        lines = _lines(browser)
        assert lines[0] == f"▲ {BATCH:,} rows above (choose to show 500 of them)"
        assert lines[1] == shown[BATCH - 7]  # the second half of the window comes first
        assert lines[WINDOW].startswith(f"f{WINDOW + BATCH - 8:06d}")
        _choose(browser, "rows above")
        assert _lines(browser)[0].startswith(f"▾ {alloc.alloc_id[:8]}")
    finally:
        if mounted:
            mounting.umount(many)


def test_hostile_names_in_the_tree(alloc):
    name = "<b>x</b>\x1b]0;t\x07\nline"
    _write(f"{alloc.alloc_dir}/web/local/{name.replace('/', '_')}", "hi\n")
    browser = nb.browse(alloc).expand("web").expand("web/local").wait()
    label = next(label for label in browser.labels() if "<b>x<_b>" in label)
    assert "\x1b" not in label and "\n" not in label
    assert "\\x1b]0;t\\x07\\nline" in label


def test_refresh_keeps_what_was_expanded(alloc):
    browser = nb.browse(alloc).expand("web").expand("web/local").wait()
    _write(f"{alloc.alloc_dir}/web/local/new.txt", "new\n")
    browser.refresh()
    browser.wait()
    assert any("new.txt" in label for label in browser.labels())


def test_expanding_what_is_not_there_says_so(alloc):
    browser = nb.browse(alloc).expand("web/nope").wait()
    assert "web/nope: no such entry" in browser.notice.value


def test_directories_that_are_not_allocations_are_rows_after_the_allocations(alloc):
    root_dir = os.path.dirname(alloc.alloc_dir)
    for n in range(WINDOW + 20):
        os.mkdir(f"{root_dir}/junk{n:04d}")
    root = nb.open_root(root_dir)
    assert len(root.strays) == WINDOW + 20 and root.strays.reason(0) == "no alloc/ in it"
    browser = nb.browse(root).wait()
    lines = _lines(browser)
    assert lines[0].startswith(f"▾ {alloc.alloc_id[:8]}")
    assert lines[-1] == "… 24 more rows (choose to show the next 24)"  # with "all logs"
    assert f"{WINDOW + 20:,} directories that are not allocations" in browser.header.value
    _choose(browser, "more rows")
    assert _lines(browser)[-1].startswith(f"▸ junk{WINDOW + 19:04d}  not an allocation: "
                                          "no alloc/ in it")
    _choose(browser, f"junk{WINDOW + 19:04d}")
    assert _lines(browser)[-1] == "empty"


def test_the_card_of_an_allocation_shows_measured_sizes_filled_in_later(alloc, monkeypatch):
    for i in range(30):
        _write(f"{alloc.alloc_dir}/alloc/data/d/f{i}", "z" * 100)
    held, release = threading.Event(), threading.Event()
    real = summary.measure_at

    def slow(*args, **kwargs):
        held.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(summary, "measure_at", slow)
    browser = nb.browse(alloc).wait()
    assert held.wait(10)
    assert "measuring…" in browser.card.widget.value
    release.set()
    assert browser.card.wait(10)
    card = browser.card.widget.value
    assert "measuring…" not in card and "at least" not in card
    assert "2.9 KiB" in card and "32 entries" in card  # 30 files, d/, data/
    # Opening a file puts it in the pane instead.
    _choose(browser, "web/")
    assert browser.card.widget.value  # still the allocation's until a file is opened
    browser.open("alloc/logs/web.stdout.0")
    browser.wait()
    assert browser.card.widget.value == ""


def test_the_browser_carries_a_static_copy_of_what_it_shows(alloc):
    """An exported notebook keeps the tree's lines and the card or the file."""
    browser = nb.browse(alloc).expand("web/local").wait()
    assert browser.card.wait(10)
    html = browser._repr_mimebundle_()["text/html"]
    assert "config.json" in html and "allocation <code>" in html
    browser.open("web/local/config.json")
    browser.wait()
    html = browser._repr_mimebundle_()["text/html"]
    assert "&quot;listen&quot;: 8080" in html or '"listen": 8080' in html


def test_choosing_all_logs_shows_the_allocation_merged(alloc):
    logs = os.path.join(alloc.alloc_dir, "alloc/logs")
    for name, seconds in (("web.stdout.0", (0, 2)), ("web.stderr.0", (1, 3))):
        with open(os.path.join(logs, name), "w") as fh:
            fh.write("".join(f"2024-01-01T10:00:0{s}Z {name[4:10]} {s}\n" for s in seconds))
    browser = nb.browse(alloc).expand("").wait()
    _choose(browser, "all logs")
    assert browser.viewer.text()[:4] == [
        "2024-01-01T10:00:00Z stdout 0", "2024-01-01T10:00:01Z stderr 1",
        "2024-01-01T10:00:02Z stdout 2", "2024-01-01T10:00:03Z stderr 3"]
