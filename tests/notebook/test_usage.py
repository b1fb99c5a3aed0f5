"""nb.usage: the table (HTML, DataFrame) and chart of a measurement; and
nb.destroy / nb.move saying an allocation looks live before acting."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from allocdir import AllocDir
from inspector import notebook as nb

from .conftest import HOSTILE_NAMES


def _du(path, *flags: str) -> int:
    out = subprocess.run(["du", "-sx", *flags, str(path)], check=True, capture_output=True,
                         text=True).stdout
    return int(out.split()[0])


def test_usage_of_an_alloc_as_a_table_and_a_frame(alloc):
    local = os.path.join(alloc.alloc_dir, "web", "local")
    with open(os.path.join(local, "big.bin"), "wb") as f:
        f.write(os.urandom(200_000))
    for name in HOSTILE_NAMES:
        with open(os.path.join(local, name), "wb") as f:
            f.write(b"h")
    table = nb.usage(alloc).wait(30)
    assert table.usage.apparent_bytes == _du(alloc.alloc_dir, "--apparent-size", "-B1")
    frame = table.frame()
    assert list(frame.columns[:5]) == ["path", "kind", "level", "apparent_bytes",
                                       "allocated_bytes"]
    web = frame[frame.path == "web"].iloc[0]
    assert web.kind == "task" and web.apparent_bytes == _du(f"{alloc.alloc_dir}/web",
                                                            "--apparent-size", "-B1")
    assert table.to_pandas().equals(frame)
    html = table._repr_html_()
    assert "<script" not in html and "\x1b" not in html
    assert "file system: disk" in html and "Nomad&#x27;s defaults" in html
    assert html.count("<img") == 1  # the chart
    assert table.chart_png.startswith(b"\x89PNG")


def test_usage_of_a_directory_in_an_alloc_and_of_a_root(alloc):
    table = nb.usage((alloc, "web/local")).wait(30)
    assert table.usage.apparent_bytes == _du(f"{alloc.alloc_dir}/web/local",
                                             "--apparent-size", "-B1")
    root = nb.open_root(os.path.dirname(alloc.alloc_dir))
    whole = nb.usage(root, allocated=True).wait(30)
    [(level, row)] = [(lv, r) for lv, r in whole.rows if lv == 1]
    assert row.kind == "alloc" and row.allocated == _du(alloc.alloc_dir, "-B1")
    assert "allocs 1 / 50" in whole._repr_html_()


def test_usage_with_a_config_uses_its_thresholds(alloc, tmp_path):
    conf = tmp_path / "client.hcl"
    conf.write_text("client {\n  gc_max_allocs = 0\n}\n")
    table = nb.usage(alloc, config=conf).wait(30)
    assert "allocs 1 / 0 ▲" in table._repr_html_() and "from client.hcl" in table._repr_html_()


def test_destroy_says_or_refuses_when_the_allocation_looks_live(alloc):
    task = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                            cwd=os.path.join(alloc.alloc_dir, "web", "local"),
                            stdin=subprocess.PIPE)
    try:
        job = nb.destroy(alloc, confirm=alloc.alloc_id, if_live="refuse")
        with pytest.raises(nb.ActionRefused, match="looks live"):
            job.wait(30)
        assert os.path.isdir(alloc.alloc_dir)
        assert f"{task.pid} " in job.message
    finally:
        task.stdin.close()
        task.wait(10)
    with pytest.raises(ValueError):
        nb.destroy(alloc, confirm=alloc.alloc_id, if_live="maybe")
    job = nb.destroy(alloc, confirm=alloc.alloc_id)  # a recent write: warned, destroyed
    job.wait(30)
    assert "written" in job.warning and "looks live" in job.message
    assert not os.path.exists(alloc.alloc_dir)


def test_move_says_the_source_looks_live(alloc):
    dest = os.path.join(os.path.dirname(alloc.alloc_dir), "new-alloc-for-move")
    job = nb.move(dest, alloc, ["web"])
    moved = job.wait(30)
    try:
        assert "looks live" in job.warning and "written" in job.warning
    finally:
        AllocDir.discover(moved.alloc_dir).destroy()


def test_usage_on_a_real_kernel(tmp_path):
    """A notebook executed with nbclient on ipykernel: the cell returns at
    once, ``await`` gives the finished table, its static HTML is saved in the
    notebook (an export keeps it) and the DataFrame is there."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    cells = [
        "from allocdir.testing import temp_alloc_dir\nfrom inspector import notebook as nb\n"
        "ctx = temp_alloc_dir(); alloc = ctx.__enter__()\n"
        "alloc.new_task_dir('web').build()\n"
        "open(alloc.alloc_dir + '/web/local/big.bin', 'wb').write(b'z' * 300000)",
        "table = await nb.usage(alloc)\ntable",
        "print(table.frame().loc[lambda f: f.path == 'web', 'apparent_bytes'].item())",
        "ctx.__exit__(None, None, None)",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = "".join(o.get("data", {}).get("text/html", "") for o in notebook.cells[1].outputs)
    assert "usage of " in shown and "file system: disk" in shown and "<img" in shown
    printed = "".join(o.get("text", "") for o in notebook.cells[2].outputs)
    assert int(printed.strip()) > 300_000
