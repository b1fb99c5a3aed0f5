"""The example notebook, tests/notebooks/tour.ipynb, executed with nbclient on
a real ipykernel; the assertions are on its saved outputs (cell outputs and
the widget state a notebook keeps), as a reader of the notebook sees them."""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import tempfile
import time
from datetime import datetime, timezone

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from tools import screenshots  # noqa: E402
from inspector.demo import ALLOCS  # noqa: E402

DEMO_SECRET = "s.demo-secret-token"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z")


@pytest.fixture(scope="module")
def executed():
    """(executed notebook, when its execution started)."""
    work = tempfile.mkdtemp(prefix="tour-test-")
    started = datetime.now(timezone.utc)
    try:
        notebook = screenshots.execute_tour(work, timeout=120)
        yield notebook, started
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _cell(notebook, needle: str):
    return next(c for c in notebook.cells if c.cell_type == "code" and needle in c.source)


def _html(cell) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def _streams(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _state(notebook) -> dict:
    return notebook.metadata["widgets"][WIDGET_STATE]["state"]


def _widget_html(notebook, cell) -> str:
    """Every HTML value of the widgets a cell displayed, as the notebook saved them."""
    state = _state(notebook)
    out = []

    def walk(model_id: str) -> None:
        model = state[model_id]
        if model["model_name"] == "HTMLModel":
            out.append(model["state"].get("value", ""))
        for child in model["state"].get("children", []):
            walk(child.removeprefix("IPY_MODEL_"))

    for output in cell.outputs:
        view = output.get("data", {}).get(WIDGET_VIEW)
        if view:
            walk(view["model_id"])
    return "\n".join(out)


def test_every_cell_ran_without_error(executed):
    notebook, _ = executed
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, errors
    assert all(c.execution_count for c in notebook.cells if c.cell_type == "code")


def test_the_tables_name_the_demos_allocations_and_files(executed):
    notebook, _ = executed
    root = _html(_cell(notebook, "root = nb.open_root"))
    for alloc_id in ALLOCS:
        assert alloc_id in root
    assert "redis" in root and "batch" in root and "live" in root
    summary = _html(_cell(notebook, 'alloc = root["5f0c"]'))
    assert "5f0c3b2e-8d1a-4c7e-9b6a-2e4f1d7c9a01" in summary
    assert "secrets/" in summary and ".web.stdout.fifo" in summary
    logs = _html(_cell(notebook, 'alloc.list("alloc/logs")'))
    assert "web.stdout.0" in logs and "FIFO" in logs
    card = _html(_cell(notebook, "alloc.stat("))
    assert "config.json" in card and "application/json" in card
    secrets = _html(_cell(notebook, 'alloc.list("web/secrets")'))
    assert "vault_token" in secrets and "locked" in secrets


def test_the_widgets_show_the_files(executed):
    notebook, _ = executed
    browser = _cell(notebook, "nb.browse(root)")
    labels = [m["state"].get("_options_labels", []) for m in _state(notebook).values()
              if m["model_name"] == "SelectModel"]
    assert any(any("nginx.conf" in label for label in options) for options in labels)
    assert "worker_processes auto;" in _widget_html(notebook, browser)
    viewer = _widget_html(notebook, _cell(notebook, "web.stderr.0\", lines=12"))
    assert "ERROR" in viewer and "background:#ffe066" in viewer  # the match, highlighted
    hexdump = _widget_html(notebook, _cell(notebook, "dump.rdb"))
    assert "52 45 44 49 53 30 30 30" in hexdump  # REDIS000, as hex
    refused = _widget_html(notebook, _cell(notebook, "vault_token"))
    assert "Reading secret file prohibited" in refused


def test_follow_shows_lines_written_during_execution(executed):
    notebook, started = executed
    shown = _widget_html(notebook, _cell(notebook, "follow = nb.follow"))
    assert "a line written by the tour" in shown
    stamps = [datetime.fromisoformat(s).replace(tzinfo=timezone.utc)
              for s in STAMP.findall(html.unescape(re.sub("<[^>]+>", "", shown)))]
    assert any(stamp > started for stamp in stamps), (started, stamps[-3:])
    text = "".join(o.get("data", {}).get("text/plain", "")
                   for o in _cell(notebook, "await follow.until").outputs)
    assert "a line written by the tour" in text


def test_tail_snapshot_move_destroy(executed):
    notebook, _ = executed
    tail = _cell(notebook, "nb.tail(").outputs[0]["data"]["text/plain"]
    assert len(tail.splitlines()) == 5 and "[web]" in tail
    snapshot = _widget_html(notebook, _cell(notebook, "nb.snapshot("))
    assert "written to" in snapshot and "snap.tar" in snapshot
    move = _cell(notebook, "nb.move(")
    assert "moved to" in _widget_html(notebook, move)
    assert "dataset.txt" in _html(move)
    destroy = _cell(notebook, "nb.destroy(")
    assert "destroy refused: confirm='c81b'" in _streams(destroy)
    assert "destroyed" in _widget_html(notebook, destroy)
    progress = [m["state"] for m in _state(notebook).values()
                if m["model_name"] == "IntProgressModel"]
    assert len(progress) == 3 and all(p["bar_style"] == "success" for p in progress)


def test_the_secret_never_appears_anywhere(executed):
    notebook, _ = executed
    assert DEMO_SECRET not in json.dumps(notebook)
    assert DEMO_SECRET not in screenshots.tour_html(notebook)


def test_the_static_rendering_shows_tables_and_followed_lines(executed):
    notebook, _ = executed
    page = screenshots.tour_html(notebook)
    assert WIDGET_VIEW not in page  # every widget drawn from its saved state
    assert "a line written by the tour" in page and "worker_processes auto;" in page
    assert "5f0c3b2e-8d1a-4c7e-9b6a-2e4f1d7c9a01" in page
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page


@pytest.mark.skipif(screenshots.chromium() is None, reason="Chromium is not installed")
def test_render_png_takes_the_whole_page(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<html><body style="margin:0"><div style="height:3000px;'
                    'background:#36c"></div></body></html>')
    png = tmp_path / "page.png"
    started = time.monotonic()
    screenshots.render_png(str(page), str(png), width=400)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (400, 3001)
    assert time.monotonic() - started < 30
