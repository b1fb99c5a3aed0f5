"""tests/notebooks/merging.ipynb executed with nbclient on a real ipykernel:
``nb.merge`` reads a task's, an allocation's or several allocations' logs
as one stream in time order, each line with its source, and every move of
one log works on it."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from tools import screenshots  # noqa: E402

NOTEBOOK = os.path.join(os.path.dirname(os.path.dirname(__file__)), "notebooks",
                        "merging.ipynb")


@pytest.fixture(scope="module")
def executed():
    work = tempfile.mkdtemp(prefix="merging-test-")
    try:
        yield screenshots.execute_tour(work, timeout=120, path=NOTEBOOK)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def printed(notebook, needle: str) -> list[str]:
    cell = next(c for c in notebook.cells if c.cell_type == "code" and needle in c.source)
    return "".join(o.get("text", "") for o in cell.outputs
                   if o.output_type == "stream").splitlines()


def test_every_cell_ran(executed):
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, errors


def test_a_task_is_its_stdout_and_stderr_in_time_order(executed):
    assert printed(executed, 'tasks=["web"]')[:3] == [
        "web▸out  2026-11-28T10:00:00Z INFO  served 0",
        "web▸err  2026-11-28T10:00:01Z ERROR slow 1",
        "web▸err    at handler.py:12"]


def test_go_to_a_time_and_the_next_error_with_its_trace(executed):
    lines = printed(executed, 'viewer.goto("@10:05:00")')
    assert lines[0] == "web▸out  2026-11-28T10:05:00Z INFO  served 300"
    after = lines[lines.index("--") + 1:]
    assert after[:2] == ["web▸err  2026-11-28T10:05:01Z ERROR slow 301",
                         "web▸err    at handler.py:12"]


def test_the_filter_keeps_the_trace_with_its_error(executed):
    lines = printed(executed, 'viewer.filter("ERROR|api")')
    assert "web▸err    at handler.py:12" in lines


def test_one_source_alone_keeps_the_place(executed):
    lines = printed(executed, 'show_sources(["web▸err"])')
    assert lines[0] == "web▸err  2026-11-28T10:02:01Z WARN  slow 121"
    assert all(line.startswith("web▸err") for line in lines)


def test_every_task_and_two_allocations(executed):
    lines = printed(executed, "everything = nb.merge(alloc")
    assert lines[0].startswith("api▸out  2026-11-28T10:00:00Z")
    replacement = [line for line in lines if "the replacement started" in line]
    assert len(replacement) == 1 and replacement[0].split(":", 1)[1].startswith(
        "web▸out 2026-11-28T10:00:05Z")  # tagged with its allocation's short id, in time
    before = lines[lines.index(replacement[0]) - 1]  # the same time: listed first, goes first
    assert before.split(":", 1)[1] == "web▸err 2026-11-28T10:00:05Z WARN  slow 5"
