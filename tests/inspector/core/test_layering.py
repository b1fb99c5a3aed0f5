"""The arrows of the architecture point one way: allocdir below everything,
inspector.core below both front-ends, and neither the library nor the core
pulling in a UI toolkit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

_CORE_DIR = Path(__file__).parents[3] / "inspector" / "core"
CORE = sorted(
    ".".join(path.relative_to(_CORE_DIR).with_suffix("").parts)
    for path in [*_CORE_DIR.glob("*.py"), *_CORE_DIR.glob("*/*.py")]
    if path.stem != "__init__"
) + ["session"]


def _loaded_after(imports: str) -> set[str]:
    """Every module a fresh interpreter has loaded after ``imports``, as
    top-level package names and ``inspector.<part>``."""
    code = f"import sys\n{imports}\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    loaded = set()
    for name in out.split():
        parts = name.split(".")
        loaded.add(parts[0])
        if parts[0] == "inspector" and len(parts) > 1:
            loaded.add(".".join(parts[:2]))
    return loaded


def test_allocdir_imports_no_inspector_and_no_ui():
    loaded = _loaded_after("import allocdir, allocdir.testing")
    assert not {"inspector", "textual", "ipywidgets", "rich"} & loaded


@pytest.mark.parametrize("module", CORE)
def test_core_imports_no_front_end(module):
    loaded = _loaded_after(f"import inspector.core.{module}")
    assert not {"textual", "ipywidgets", "inspector.tui", "inspector.notebook"} & loaded
    assert not {"pandas", "matplotlib"} & loaded
