"""One logic, two front-ends, arrows pointing down: the library and the
terminal app never load ipywidgets; the notebook front-end never loads
Textual; importing ``inspector.notebook`` stays cheap (ipywidgets comes
with the first widget)."""

from __future__ import annotations

import subprocess
import sys

import pytest

NOTEBOOK = ["roots", "viewer", "follower", "browser", "actions", "tail", "usage", "dataframe",
            "viewer_tools"]


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"import sys\n{code}\nprint('\\n'.join(sys.modules))"],
                         check=True, capture_output=True, text=True).stdout
    loaded = set()
    for name in out.split():
        parts = name.split(".")
        loaded.add(parts[0])
        if parts[0] == "inspector" and len(parts) > 1:
            loaded.add(".".join(parts[:2]))
    return loaded


def test_the_library_and_the_tui_never_load_ipywidgets():
    loaded = _loaded_after("import allocdir, allocdir.display, allocdir.testing\n"
                           "import inspector.tui.app, inspector.tui.cli, inspector.demo")
    assert "ipywidgets" not in loaded and "inspector.notebook" not in loaded
    assert "ipykernel" not in loaded
    assert "pandas" not in loaded and "matplotlib" not in loaded


def test_the_usage_view_and_command_never_load_pandas_or_matplotlib():
    loaded = _loaded_after("import inspector.tui.usage_view, inspector.commands.usage\n"
                           "import inspector.tui.liveness_note")
    assert not {"pandas", "matplotlib", "ipywidgets", "inspector.notebook"} & loaded


def test_the_viewer_tools_histogram_and_export_never_load_pandas_or_matplotlib():
    loaded = _loaded_after("import inspector.tui.viewer_tools, inspector.tui.field_screen\n"
                           "import inspector.tui.histogram_screen, inspector.tui.export_screen\n"
                           "import inspector.core.linetable, inspector.core.histogram")
    assert not {"pandas", "matplotlib", "ipywidgets", "inspector.notebook"} & loaded


def test_the_notebook_viewer_loads_pandas_only_when_a_frame_is_asked_for():
    loaded = _loaded_after("import inspector.notebook.viewer, inspector.notebook.dataframe")
    assert not {"pandas", "matplotlib"} & loaded


def test_the_library_display_needs_no_ui_toolkit():
    loaded = _loaded_after("import allocdir.display")
    assert not {"inspector", "rich", "textual", "ipywidgets"} & loaded


@pytest.mark.parametrize("module", ["viewing", "pager", "rotation"])
def test_new_core_modules_load_no_front_end(module):
    loaded = _loaded_after(f"import inspector.core.{module}")
    assert not {"textual", "ipywidgets", "inspector.tui", "inspector.notebook"} & loaded


@pytest.mark.parametrize("module", NOTEBOOK)
def test_the_notebook_never_loads_textual(module):
    loaded = _loaded_after(f"import inspector.notebook.{module}")
    assert "textual" not in loaded and "inspector.tui" not in loaded


def test_importing_the_notebook_package_is_cheap():
    loaded = _loaded_after("from inspector import notebook as nb\nnb.open_root, nb.tail")
    assert "ipywidgets" not in loaded and "textual" not in loaded


def test_making_a_widget_loads_ipywidgets_but_not_textual(tmp_path):
    pytest.importorskip("ipywidgets")
    (tmp_path / "x").mkdir()
    loaded = _loaded_after(
        "from allocdir.testing import temp_alloc_dir\nfrom inspector import notebook as nb\n"
        "with temp_alloc_dir() as a:\n"
        "    nb.browse(a).wait(); nb.view(a, 'alloc').wait()\n"
        "    f = nb.follow(a, 'alloc/logs/x.stdout') if False else None")
    assert "ipywidgets" in loaded and "textual" not in loaded
