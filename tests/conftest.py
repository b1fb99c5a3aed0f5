"""Session-wide safety net: tests mount tmpfs and bind mounts as root. Every
temporary directory of the session lives in one directory of its own (open
to every user like /tmp, as the tests that drop to nobody need), and whatever a
failing test left mounted there is unmounted at the end, so the machine's
mount table (and pytest's temp-dir cleanup) is not polluted, and a second
session running at the same time is left alone."""

from __future__ import annotations

import os
import subprocess
import tempfile
from typing import NamedTuple

import pytest

from allocdir import mounts


def pytest_configure(config):
    """Point ``tempfile`` (and so pytest's ``tmp_path``) at a directory of this session."""
    if getattr(config, "workerinput", None) is not None or hasattr(config, "_session_tmp"):
        return
    path = tempfile.mkdtemp(prefix=f"allocdir-tests-{os.getpid()}-", dir="/tmp")
    os.chmod(path, 0o1777)  # like /tmp: tests that drop to nobody make temp dirs too
    config._session_tmp = path
    tempfile.tempdir = path


def _mounts_below(prefix: str) -> list[str]:
    below = [m for m in mounts.mount_points() if m.startswith(prefix.rstrip("/") + "/")]
    return sorted(set(below), key=lambda p: p.count("/"), reverse=True)


def pytest_unconfigure(config):
    """Unmount what was left mounted in the session's directory, then remove it."""
    path = getattr(config, "_session_tmp", None)
    if path is None:
        return
    tempfile.tempdir = None
    if mounts.is_root():
        for _ in range(3):
            for point in _mounts_below(path):
                try:
                    mounts.unmount(point, lazy=True)
                except OSError:
                    pass
    subprocess.run(["rm", "-rf", "--one-file-system", path], check=False)


@pytest.fixture
def opened_reads(monkeypatch):
    """The paths ``AllocDir.read_at`` opened (a refusal raises before
    anything is opened, and is not counted)."""
    from allocdir import AllocDir

    opened: list[str] = []
    real = AllocDir.read_at

    def spy(self, path, offset):
        handle = real(self, path, offset)
        opened.append(str(path))
        return handle

    monkeypatch.setattr(AllocDir, "read_at", spy)
    return opened


class Notice(NamedTuple):
    """One notification the app gave: its text, whether it was markup, its severity."""

    message: str
    markup: bool
    severity: str


@pytest.fixture
def notified(monkeypatch) -> list[Notice]:
    """Every notification any inspector app gives during the test, in order,
    recorded as it is given: one that has already left the screen (they
    expire) is still here."""
    from inspector.tui.app import InspectorApp

    said: list[Notice] = []
    notify = InspectorApp.notify

    def recording(self, message, *args, **kwargs):
        said.append(Notice(message, kwargs.get("markup", True),
                           kwargs.get("severity", "information")))
        return notify(self, message, *args, **kwargs)

    monkeypatch.setattr(InspectorApp, "notify", recording)
    return said


@pytest.fixture(autouse=True)
def dialogs_take_enter_at_once(request):
    """Pilot tests press Enter as soon as a dialog is up: the guard against
    an Enter typed ahead (``ActionDialog.ENTER_GUARD``) is off for them.
    Tests marked ``enter_guard`` keep it (and drive its clock). Not through
    ``monkeypatch``: a test's own patches must be undone in its own order."""
    if request.node.get_closest_marker("enter_guard") is not None:
        yield
        return
    from inspector.tui.dialog import ActionDialog

    saved = ActionDialog.ENTER_GUARD
    ActionDialog.ENTER_GUARD = 0.0
    yield
    ActionDialog.ENTER_GUARD = saved
