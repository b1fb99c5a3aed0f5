"""The HTML and text reprs of allocdir objects and of a notebook root:
escaped names, locked secrets, humanized sizes and ages with exact values
on hover, marked FIFOs, pure rendering, bounded gathering."""

from __future__ import annotations

import copy
import html
import os
import pickle
import re
from datetime import datetime, timedelta, timezone

import pytest

from allocdir import AllocDir, AllocFileInfo, FileList, display
from inspector.core.text import printable
from inspector.notebook import open_root
from inspector.notebook.roots import AllocLookupError

from .conftest import HOSTILE_NAMES, SECRET, _write

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def info(name: str, mode: str = "-rw-r--r--", size: int = 1234, ago: float = 90,
         content_type: str = "") -> AllocFileInfo:
    return AllocFileInfo(name, mode.startswith("d"), size, mode,
                         NOW - timedelta(seconds=ago), content_type)


def _text_of(markup: str) -> str:
    """What a browser shows of ``markup``: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", markup))


def _tags(markup: str) -> list[str]:
    return re.findall(r"<\s*([a-zA-Z]+)", markup)


# ------------------------------------------------------------------ escaping


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_are_escaped_in_every_rendering(name):
    rendered = [
        display.listing_html([info(name)], path="web/local", now=NOW),
        display.info_html(info(name), now=NOW),
        display.listing_text([info(name)], path="web/local", now=NOW),
        display.info_text(info(name), now=NOW),
    ]
    for out in rendered[:2]:
        # No markup came from the name: only the renderer's own tags.
        assert set(_tags(out)) <= {"table", "caption", "thead", "tbody", "tr", "th", "td",
                                   "span", "div"}
        assert "<script" not in out
        # Control characters show as escapes; what is shown is the name as printable.
        assert printable(name) in _text_of(out)
        assert not re.search("[\x00-\x1f\x7f-\x9f\u202e\udc80-\udcff]", out)
    for out in rendered[2:]:
        assert printable(name) in out
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e\udc80-\udcff]", out)


def test_quotes_in_names_cannot_leave_an_attribute():
    out = display.info_html(info('x" onmouseover="alert(1)'), path='a/x" onmouseover="alert(1)',
                            now=NOW)
    assert 'onmouseover="' not in out
    assert "&quot;" in out


@pytest.mark.parametrize("value", HOSTILE_NAMES + ["plain", "tab\there", "\x9bC1", "\u2028sep"])
def test_visible_is_the_same_rule_as_the_inspectors_printable(value):
    assert display.visible(value) == printable(value)


# ------------------------------------------------------------------ values


def test_sizes_are_humanized_with_the_exact_bytes_on_hover():
    out = display.listing_html([info("big.log", size=123_456_789)], now=NOW)
    assert "117.7 MiB" in out
    assert 'title="123,456,789 bytes"' in out
    assert 'title="1 byte"' in display.size_html(1)


def test_ages_are_humanized_with_the_iso_time_on_hover():
    out = display.listing_html([info("a.log", ago=3 * 3600)], now=NOW)
    assert "3 hours ago" in out
    assert 'title="2024-05-01T09:00:00+00:00"' in out


def test_fifos_sockets_and_devices_are_marked_never_opened():
    entries = [info(".web.stdout.fifo", "prw-r--r--", 0), info("consul.sock", "srwxr-xr-x", 0),
               info("null", "crw-rw-rw-", 0), info("dir", "drwxrwxrwx")]
    out = display.listing_html(entries, path="alloc/logs", now=NOW)
    text = _text_of(out)
    # said in words, not an ls -F mark glued to the name
    assert ".web.stdout.fifo" in text and "FIFO (never opened)" in text and "|" not in text
    assert "consul.sock" in text and "socket (never opened)" in text and "=" not in text
    assert "char device (never opened)" in text
    assert "dir/" in text
    plain = display.listing_text(entries, path="alloc/logs", now=NOW)
    assert "[FIFO]" in plain and "[socket]" in plain


def test_secrets_are_shown_locked_without_size_or_time():
    entries = [info("token", size=918_273, ago=5)]
    out = display.listing_html(entries, path="web/secrets", now=NOW)
    text = _text_of(out)
    assert "token" in text and "locked" in text and "secret: never read" in text
    assert "918" not in out and "seconds ago" not in out
    in_task = display.listing_html([info("secrets", "drwxrwxrwx"), info("local", "drwxrwxrwx")],
                                   path="web", now=NOW)
    assert "[locked] secrets/" in _text_of(in_task)
    # Case-insensitive, and newer Nomad's private/ too, as the library refuses them.
    for path in ("web/SECRETS", "web/private"):
        assert "locked" in _text_of(display.listing_html([info("x")], path=path, now=NOW))
    # alloc/ is the shared dir, not a task: nothing there is a secret.
    assert "locked" not in display.listing_html([info("x")], path="alloc/secrets", now=NOW)


def test_a_long_listing_is_cut_and_counted():
    entries = [info(f"f{i:06d}") for i in range(display.ROWS_SHOWN + 25)]
    out = display.listing_html(entries, path="many", now=NOW)
    assert out.count("<tr>") == display.ROWS_SHOWN + 2  # header, rows, the count
    assert "… and 25 more" in out
    assert f"{len(entries):,} entries" in out


def test_rendering_does_no_io(alloc, monkeypatch):  # alloc is torn down after the patch
    listing = alloc.list("web/local")
    stat = alloc.stat("web/local/config.json")
    summary = display.summarize_alloc(alloc)

    def forbidden(*args, **kwargs):
        raise AssertionError("rendering touched the disk")

    for name in ("open", "stat", "lstat", "scandir", "listdir", "fstat", "read"):
        monkeypatch.setattr(os, name, forbidden)
    assert "config.json" in listing._repr_html_()
    assert "config.json" in stat._repr_html_()
    assert "web" in display.alloc_html(summary)
    assert "web" in display.alloc_text(summary)


# ------------------------------------------------------------------ FileList


def test_list_returns_a_list_that_compares_equal_to_a_plain_one(alloc):
    listing = alloc.list("web/local")
    assert isinstance(listing, FileList) and isinstance(listing, list)
    plain = list(listing)
    assert listing == plain and plain == listing
    assert [i.name for i in listing] == ["blob.bin", "config.json"]
    assert listing.path == "web/local"
    assert alloc.list("/web/./local/").path == "web/local"
    assert repr(listing) == repr(plain)
    assert pickle.loads(pickle.dumps(listing)) == listing
    assert copy.copy(listing) == listing
    listing.append(listing[0])
    assert len(listing) == 3
    assert sorted(listing, key=lambda i: i.name)[0].name == "blob.bin"


def test_list_html_names_the_files(alloc):
    out = alloc.list("alloc/logs")._repr_html_()
    for name in ("web.stdout.0", "web.stderr.0", ".web.stdout.fifo"):
        assert name in out
    assert "alloc/logs/" in out


def test_stat_card_and_pretty(alloc):
    found = alloc.stat("web/local/config.json")
    out = found._repr_html_()
    assert "config.json" in out and "application/json" in out and "17 Bytes" in out

    class Printer:
        def __init__(self):
            self.out = ""

        def text(self, value):
            self.out += value

    printer = Printer()
    found._repr_pretty_(printer, False)
    assert printer.out.startswith("config.json  -rw") and "(17 bytes)" in printer.out


# ------------------------------------------------------------------ summaries


def test_alloc_summary_names_tasks_logs_fifos_and_mounts_but_never_reads_a_secret(alloc):
    out = alloc._repr_html_()
    text = _text_of(out)
    assert alloc.alloc_id in text
    assert "web" in text and "[locked] secrets/" in text
    assert "alloc/logs/web.stdout.0" in text and "live" in text
    assert ".web.stdout.fifo" in text and ".web.stdout.fifo|" not in text
    assert SECRET not in out
    if os.geteuid() == 0:
        assert "secrets" in display.summarize_alloc(alloc).tasks[0].mounts
    summary = display.summarize_alloc(alloc)
    web = summary.tasks[0]
    assert web.local.content_bytes == os.path.getsize(
        f"{alloc.alloc_dir}/web/local/config.json") + 256 * 64
    pretty = display.alloc_text(summary)
    assert "task web" in pretty and SECRET not in pretty


def test_alloc_summary_measures_each_directory_within_its_own_budget(alloc):
    for i in range(50):
        _write(f"{alloc.alloc_dir}/web/local/many/f{i}", "x")
    summary = display.summarize_alloc(alloc, budget=display.Budget(per_dir=10))
    local = summary.tasks[0].local
    assert local.partial and local.entries == 10
    out = _text_of(display.alloc_html(summary))
    assert "at least" in out and "counted the first 10 entries" in out
    assert "counted the first 10 entries" in display.alloc_text(summary)


def test_a_big_directory_does_not_leave_the_others_unmeasured(alloc):
    """The card of an allocation whose alloc/data is big still measures the
    three files of local/ (one shared budget used to be spent on data)."""
    data = f"{alloc.alloc_dir}/alloc/data"
    for i in range(300):
        _write(f"{data}/d{i // 100}/f{i}", "y" * 1000)
    summary = display.summarize_alloc(alloc, budget=display.Budget(per_dir=200))
    assert summary.data.partial
    local = summary.tasks[0].local
    assert local.status == display.MEASURED and not local.partial
    assert local.content_bytes == os.path.getsize(f"{alloc.alloc_dir}/web/local/config.json") \
        + 256 * 64
    whole = display.summarize_alloc(alloc, budget=display.UNBOUNDED)
    assert whole.data.status == display.MEASURED and whole.data.content_bytes == 300_000
    assert "300.0 KB" not in display.alloc_html(whole)  # binary units, as everywhere
    assert "293.0 KiB in " in _text_of(display.alloc_html(whole))


def test_a_card_can_be_shown_before_its_sizes_are_measured(alloc):
    summary = display.summarize_alloc(alloc, measure_sizes=False)
    assert {m.status for m in summary.measured} == {display.MEASURING}
    assert "measuring…" in _text_of(display.alloc_html(summary))
    assert "measuring…" in display.alloc_text(summary)


def test_a_table_out_of_time_says_what_it_did_not_measure(alloc):
    spent = display.Budget.for_seconds(0)
    summary = display.summarize_alloc(alloc, budget=spent)
    assert {m.status for m in summary.measured} == {display.NOT_MEASURED}
    assert "not measured" in _text_of(display.alloc_html(summary))


def test_alloc_summary_of_a_vanished_alloc_says_so():
    gone = AllocDir("/nonexistent/alloc/5fc98185-0000-4000-8000-000000000000")
    out = gone._repr_html_()
    assert "no longer exists" in out


def test_task_dir_repr(alloc):
    out = alloc.task_dirs["web"]._repr_html_()
    assert "web" in out and "[locked] secrets/" in _text_of(out) and SECRET not in out


def test_hostile_task_and_file_names_in_the_summary(tmp_path):
    alloc = AllocDir(tmp_path / "5fc98185-0000-4000-8000-000000000000")
    alloc.build()
    try:
        task = alloc.new_task_dir("<img src=x onerror=alert(1)>")
        task.build()
        _write(f"{alloc.alloc_dir}/alloc/logs/<b>x\x1b]0;t\x07.stdout.0", "hi\n")
        out = alloc._repr_html_()
        assert "<img" not in out and "<b>x" not in out and "\x1b" not in out
        assert "&lt;img src=x onerror=alert(1)&gt;" in out
        assert "&lt;b&gt;x\\x1b]0;t\\x07.stdout.0" in out
    finally:
        alloc.destroy()


# ------------------------------------------------------------------ the root


def test_root_table_and_prefix_lookup(alloc):
    root = open_root(os.path.dirname(alloc.alloc_dir))
    out = root._repr_html_()
    assert alloc.alloc_id in out and "web" in out and "web.stdout.0" in out
    assert root[alloc.alloc_id[:8]].alloc_dir == alloc.alloc_dir
    assert root[0].alloc_dir == alloc.alloc_dir
    assert alloc.alloc_id[:4] in root and "zzzz" not in root
    with pytest.raises(AllocLookupError, match="no allocation id starts with"):
        root["zzzz"]
    other = AllocDir(os.path.join(os.path.dirname(alloc.alloc_dir),
                                  alloc.alloc_id[:6] + "00-0000-4000-8000-000000000000"))
    other.build()
    try:
        assert root[alloc.alloc_id[:6]].alloc_dir == alloc.alloc_dir  # as discovered
        root.refresh()
        with pytest.raises(AllocLookupError, match="prefix of 2 allocations"):
            root[alloc.alloc_id[:6]]
        assert root[alloc.alloc_id].alloc_dir == alloc.alloc_dir  # an exact id always wins
    finally:
        other.destroy()


def test_root_of_one_alloc_dir(alloc):
    root = open_root(alloc.alloc_dir)
    assert len(root) == 1 and root.root.single
    assert "web" in root._repr_html_()


def test_every_reading_widget_carries_a_static_html_copy(alloc, tmp_path):
    """An exported notebook (or one opened without a kernel) shows what the
    widgets showed: their mime bundle has text/html, escaped as the live one."""
    from inspector import notebook as nb

    with open(os.path.join(alloc.alloc_dir, "alloc/logs/web.stderr.0"), "a") as log:
        log.write("<script>alert(1)</script> after\n")
    viewer = nb.view(alloc, "alloc/logs/web.stdout.0", lines=3).wait()
    html = viewer._repr_mimebundle_()["text/html"]
    assert "line 0001 of the web task" in html and "web.stdout.0" in html
    follow = nb.follow(alloc, "alloc/logs/web.stderr.0")
    follow.wait_for("after")
    html = follow._repr_mimebundle_()["text/html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; after" in html and "<script>" not in html
    follow.stop()
    job = nb.snapshot(alloc, tmp_path / "snap.tar")
    outcome = job.wait(30)
    html = job._repr_mimebundle_()["text/html"]
    assert "written to" in html and "100%" in html
    assert repr(outcome).startswith(f"Snapshot of {alloc.alloc_id} written to")
    assert "written to" in outcome._repr_html_() and outcome.ok


def test_the_root_lists_itself_again_when_displayed(alloc):
    """A destroyed allocation leaves the table and a moved-to one enters it,
    without a refresh."""
    parent = os.path.dirname(alloc.alloc_dir)
    gone = AllocDir(os.path.join(parent, "00000000-0000-4000-8000-00000000dead"))
    gone.build()
    root = open_root(parent)
    assert gone.alloc_id in root._repr_html_() and len(root) == 2
    gone.destroy()
    moved_to = AllocDir(os.path.join(parent, "ffffffff-0000-4000-8000-0000000000ff"))
    moved_to.build()
    try:
        out = root._repr_html_()
        assert gone.alloc_id not in out and moved_to.alloc_id in out
        assert root.ids == sorted([alloc.alloc_id, moved_to.alloc_id])
        from inspector.notebook.roots import root_text

        assert moved_to.alloc_id in root_text(root.summary())
    finally:
        moved_to.destroy()


def test_displaying_a_root_of_many_directories_looks_into_a_bounded_number(alloc, monkeypatch):
    from inspector.core import roots as core_roots
    from inspector.notebook import roots as nb_roots

    parent = os.path.dirname(alloc.alloc_dir)
    for n in range(60):
        os.mkdir(os.path.join(parent, f"junk{n:03d}"))
    root = open_root(parent)
    looked = []
    real = core_roots.why_not_alloc_dir
    monkeypatch.setattr(core_roots, "why_not_alloc_dir",
                        lambda path: looked.append(path) or real(path))
    monkeypatch.setattr(nb_roots, "DISCOVER_LIMIT", 20)
    out = _text_of(root._repr_html_())
    assert len(looked) == 20
    assert alloc.alloc_id in out
    assert "… and 41 more directories not looked into (root.refresh() looks at them all)" in out
    # Looking an allocation up, or counting, uses every directory.
    assert len(root.strays) == 60 and len(looked) == 81


def test_the_root_table_says_when_a_size_is_partial(alloc, monkeypatch):
    from inspector.notebook import roots as nb_roots

    monkeypatch.setattr(nb_roots, "MEASURE_SECONDS", 0)
    out = _text_of(open_root(os.path.dirname(alloc.alloc_dir))._repr_html_())
    assert "not measured" in out
