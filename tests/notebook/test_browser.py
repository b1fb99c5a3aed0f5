"""The browser (``nb.browse``): a tree listed lazily and in batches beside
a pager; secrets locked, special files marked, hostile names escaped."""

from __future__ import annotations

import os
import stat
import time

import pytest

pytest.importorskip("ipywidgets")

from inspector import notebook as nb  # noqa: E402
from inspector.notebook.browser import BATCH  # noqa: E402

from tests import mounting  # noqa: E402

from .conftest import SECRET, _write  # noqa: E402


def _choose(browser, text: str) -> None:
    """Click the first line of the tree holding ``text``."""
    key = next(key for label, key in browser.tree.options if text in label)
    browser.tree.value = key
    browser.wait()


def test_tree_expand_open_and_refuse(alloc):
    root = nb.open_root(os.path.dirname(alloc.alloc_dir))
    browser = nb.browse(root).wait()
    assert browser.labels() == [f"▸ {alloc.alloc_id}  (web)"]
    browser.expand("", alloc.alloc_id[:8]).expand("web", alloc).expand("web/local", alloc)
    browser.wait()
    labels = [label.replace("\u00a0", " ").strip() for label in browser.labels()]
    assert labels[:4] == [f"▾ {alloc.alloc_id}  (web)", "▸ alloc/", "▾ web/", "▾ local/"]
    assert any(label.startswith("config.json  17 Bytes") for label in labels)
    assert "\N{LOCK} secrets/  locked" in labels
    _choose(browser, "config.json")
    assert browser.viewer.text() == ['{"listen": 8080}']
    _choose(browser, "secrets/")
    assert "never listed or read" in browser.notice.value
    assert SECRET not in browser.viewer.body.value
    # Choosing an expanded directory again collapses it.
    _choose(browser, "local/")
    assert not any("config.json" in label for label in browser.labels())
    browser.expand("alloc", alloc).expand("alloc/logs", alloc).wait()
    _choose(browser, ".web.stdout.fifo")
    assert "never opened" in browser.notice.value
    assert any(".web.stdout.fifo|  FIFO" in label for label in browser.labels())


def test_a_100k_entry_directory_is_shown_in_batches_without_freezing(alloc):
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
        browser.expand("web").expand("web/local").expand("web/local/many")
        assert time.monotonic() - started < 0.2  # queued: the listing runs in a worker
        browser.wait(60)
        labels = browser.labels()
        assert sum("f0" in label for label in labels) == BATCH
        assert any(f"… {100_000 - BATCH:,} more" in label for label in labels)
        _choose(browser, "more (choose")
        assert sum("f0" in label for label in browser.labels()) == 2 * BATCH
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


def test_directories_that_are_not_allocations_are_listed_in_batches(alloc):
    root_dir = os.path.dirname(alloc.alloc_dir)
    for n in range(BATCH + 20):
        os.mkdir(f"{root_dir}/junk{n:04d}")
    root = nb.open_root(root_dir)
    assert len(root.strays) == BATCH + 20 and root.strays.reason(0) == "no alloc/ in it"
    browser = nb.browse(root).wait()
    labels = browser.labels()
    assert labels[0].startswith(f"▸ {alloc.alloc_id}")
    assert sum("not an allocation" in label for label in labels) == BATCH
    assert labels[-1].strip().startswith("… 20 more")
    assert "520 directories that are not allocations" in browser.header.value
    _choose(browser, "more (choose")
    assert sum("not an allocation" in label for label in browser.labels()) == BATCH + 20
    _choose(browser, "junk0519")
    assert any(label.strip() == "(empty)" for label in browser.labels())
