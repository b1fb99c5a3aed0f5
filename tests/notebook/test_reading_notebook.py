"""tests/notebooks/reading.ipynb executed with nbclient on a real ipykernel:
the notebook reads a log as the terminal does (a rotation set as one log,
level colours, search wrapping with the current match marked, the &
filter with its count, go-to by line, percent, time and byte offset, line
numbers), and what the widgets show survives in the saved notebook and in
its export to HTML."""

from __future__ import annotations

import copy
import os
import shutil
import tempfile

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from tools import screenshots  # noqa: E402

NOTEBOOK = os.path.join(os.path.dirname(os.path.dirname(__file__)), "notebooks",
                        "reading.ipynb")


@pytest.fixture(scope="module")
def executed():
    work = tempfile.mkdtemp(prefix="reading-test-")
    try:
        yield screenshots.execute_tour(work, timeout=120, path=NOTEBOOK)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _cell(notebook, needle: str):
    return next(c for c in notebook.cells if c.cell_type == "code" and needle in c.source)


def _printed(notebook, needle: str) -> str:
    return "".join(o.get("text", "") for o in _cell(notebook, needle).outputs
                   if o.output_type == "stream")


def _data(notebook, needle: str, mime: str) -> str:
    return "".join(o.get("data", {}).get(mime, "") for o in _cell(notebook, needle).outputs)


def test_every_cell_ran(executed):
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, errors


def test_a_rotation_set_is_one_log_with_moves_between_its_files(executed):
    printed = _printed(executed, "viewer.next_file()").splitlines()
    assert printed[0].startswith("web.stdout.0 [1/3]") and "bytes 0–" in printed[0]
    assert printed[1].startswith("web.stdout.1 [2/3]")


def test_search_wraps_around_says_so_and_marks_the_current_match(executed):
    printed = _printed(executed, 'viewer.find("needle")').splitlines()
    assert "/needle at byte 17,935 of web.stdout.0  (wrapped to the top)" in printed[0]
    assert printed[1].endswith("request 400 needle")
    assert printed[2].endswith("request 2600 needle")
    assert printed[3] == "marked apart: ['needle']"


def test_the_filter_shows_the_matching_lines_and_their_count(executed):
    printed = _printed(executed, 'viewer.filter("ERROR")').splitlines()
    assert "&ERROR: 60 lines" in printed[0]
    assert [line.split("Z ", 1)[1] for line in printed[1:]] == [
        "ERROR [web] request 7", "ERROR [web] request 57", "ERROR [web] request 107"]
    assert _printed(executed, "viewer.next_error()").startswith(
        "error line at byte 322 of web.stdout.0 | 2026-11-28T10:00:07Z ERROR")


def test_go_to_a_line_a_percentage_a_time_and_an_offset(executed):
    rows = dict((typed.strip(), shown) for typed, shown in (
        line.split(" -> ") for line in _printed(executed, "viewer.set_numbers(True)").splitlines()))
    assert rows["1200"].strip().startswith("2026-11-28T10:19:59Z INFO  [web] request 1199")
    assert "request 1512" in rows["50%"]
    assert rows["@2026-11-28T10:30"].startswith("2026-11-28T10:30:00Z")
    assert "request 5 " in rows["0x100"] + " "
    assert "not a valid time of day" in rows["@T25:00"]


def test_numbers_and_level_colours_in_the_static_copy(executed):
    shown = _data(executed, 'viewer.goto("1200")', "text/html")
    assert "L1,200/3,000" in shown and ">  1200 </span>" in shown
    assert '<span style="color:#00a250">INFO</span>' in shown


def test_the_static_copy_of_a_follow_is_kept_current(executed):
    # Displayed before the line was written: the copy followed the widget.
    assert "written while following" in _data(executed, "follow = nb.follow", "text/html")
    assert "written while following" in _data(executed, "follow.text()", "text/plain")
    assert "written while following" in _data(executed, "nb.tail(", "text/plain")


def test_an_action_outcome_reads_as_words(executed):
    plain = _data(executed, "outcome = await nb.snapshot", "text/plain")
    assert plain.startswith("Snapshot of ") and "written to" in plain and "reading-snap.tar" in plain
    assert "✔" in _data(executed, "outcome = await nb.snapshot", "text/html")


def test_an_export_without_widget_state_keeps_the_evidence(executed):
    from nbconvert import HTMLExporter

    notebook = copy.deepcopy(executed)
    notebook.metadata.pop("widgets", None)  # as a notebook saved without widget state
    page, _ = HTMLExporter().from_notebook_node(notebook)
    assert "written while following" in page
    assert "L1,200/3,000" in page
