"""Marking logs in the notebook browser and merging them, as ``space`` and
``m`` do in the terminal: by a click with "mark logs" ticked or by
``mark()``, the marked lines say so, "Merge marked" opens them as one
stream in the pane (in time order, each line with its source) and
unmarks them; with none marked it merges what the last line chosen is in."""

from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

from inspector import notebook as nb  # noqa: E402

from .conftest import SECRET, _write  # noqa: E402
from .test_browser import _choose, _lines  # noqa: E402

LOGS = "alloc/logs"


def _stamped(alloc) -> None:
    """web's stdout on even seconds (two files of its set), stderr on odd
    ones, and a file of another task that is not merged."""
    root = alloc.alloc_dir
    _write(f"{root}/{LOGS}/web.stdout.0", "".join(f"2024-01-01T10:00:0{s}Z out {s}\n"
                                                   for s in (0, 2)))
    _write(f"{root}/{LOGS}/web.stdout.1", "2024-01-01T10:00:04Z out 4\n")
    _write(f"{root}/{LOGS}/web.stderr.0", "".join(f"2024-01-01T10:00:0{s}Z err {s}\n"
                                                   for s in (1, 3)))
    _write(f"{root}/{LOGS}/api.stdout.0", "2024-01-01T10:00:00Z api 0\n")


def _marked_lines(browser) -> list[str]:
    return [line for line in _lines(browser) if line.endswith("[marked]")]


def test_marking_a_set_and_a_file_then_merging_them(alloc):
    _stamped(alloc)
    browser = nb.browse(alloc).wait()
    assert browser.merge_button.description == "Merge marked"
    browser.mark(f"{LOGS}/web.stdout").mark(f"{LOGS}/web.stderr.0").wait()
    assert browser.marked() == 2
    assert len(_marked_lines(browser)) == 2
    assert browser.merge_button.description == "Merge marked (2)"

    viewer = browser.merge_marked()
    browser.wait()
    assert viewer.shown.tags[:5] == ["web▸out", "web▸err", "web▸out", "web▸err", "web▸out"]
    assert viewer.text()[:5] == [f"2024-01-01T10:00:0{s}Z {'out' if s % 2 == 0 else 'err'} {s}"
                                 for s in range(5)]
    assert browser.marked() == 0 and not _marked_lines(browser)
    assert browser.merge_button.description == "Merge marked"


def test_with_mark_logs_ticked_a_click_marks_and_unmarks(alloc):
    _stamped(alloc)
    browser = nb.browse(alloc).expand(LOGS).wait()
    browser.mark_box.value = True
    _choose(browser, "web.stderr.0")
    assert [line.split()[0] for line in _marked_lines(browser)] == ["web.stderr.0"]
    assert browser.viewer.text() == []  # marked, not opened
    assert "1 log marked" in browser.notice.value
    _choose(browser, "api.stdout.0")
    assert browser.marked() == 2
    _choose(browser, "web.stderr.0")
    assert browser.marked() == 1 and "api.stdout.0" in _marked_lines(browser)[0]

    _choose(browser, "▸ web/")  # a directory still expands
    assert any(line.startswith("▾ web/") for line in _lines(browser))
    assert browser.marked() == 1
    browser.mark_box.value = False
    _choose(browser, "web.stderr.0")  # unticked: a click opens again
    assert browser.viewer.text() == ["2024-01-01T10:00:01Z err 1", "2024-01-01T10:00:03Z err 3"]


def test_what_is_not_a_log_is_not_marked_and_says_why(alloc):
    browser = nb.browse(alloc).expand("web/secrets").wait()
    browser.mark_box.value = True
    _choose(browser, "token")
    assert browser.marked() == 0
    assert "not marked" in browser.notice.value and "secret" in browser.notice.value
    browser.mark("alloc/logs/.web.stdout.fifo").wait()
    assert browser.marked() == 0 and "not marked" in browser.notice.value
    browser.mark("alloc/logs/nothing.stdout.0").wait()
    assert "no such log" in browser.notice.value
    assert SECRET not in browser._html()


def test_merging_with_nothing_marked_takes_the_task_chosen_last(alloc):
    _stamped(alloc)
    browser = nb.browse(alloc).expand("web").wait()
    _choose(browser, "▾ web/")  # the task's directory (collapsed by the click)
    browser.merge_marked()
    browser.wait()
    assert set(browser.viewer.shown.tags) == {"web▸out", "web▸err"}
    assert "api 0" not in "\n".join(browser.viewer.text())
