"""The reliability suite: each test counts attempts and failures and reports
them. The default run is short; ``--soak`` (or ``RELIABILITY_SOAK=1``) runs
the long version with the counts the README quotes."""

from __future__ import annotations

import json
import os

import pytest

_FIGURES: dict[str, dict] = {}


def pytest_addoption(parser):
    parser.addoption("--soak", action="store_true", default=False,
                     help="run the long reliability soak")


@pytest.fixture(scope="session")
def soak(request) -> bool:
    """True for the long run."""
    return request.config.getoption("--soak") or os.environ.get("RELIABILITY_SOAK") == "1"


@pytest.fixture
def figures(request):
    """Record ``attempts``/``failures`` (and any other numbers) for the report."""
    entry: dict = {}
    _FIGURES[request.node.name] = entry
    return entry


def pytest_terminal_summary(terminalreporter):
    if not _FIGURES:
        return
    terminalreporter.section("reliability figures")
    for name, entry in _FIGURES.items():
        terminalreporter.write_line(f"{name}: {json.dumps(entry, sort_keys=True)}")
    out = os.environ.get("RELIABILITY_FIGURES")
    if out:
        with open(out, "w") as f:
            json.dump(_FIGURES, f, indent=2, sort_keys=True)
