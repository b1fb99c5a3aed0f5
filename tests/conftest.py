"""Session-wide safety net: tests mount tmpfs and bind mounts as root; any
left behind by a failing test is unmounted at the end so the machine's mount
table (and pytest's temp-dir cleanup) is not polluted."""

from __future__ import annotations

import os
import tempfile

import pytest

from allocdir import mounts


def _mounts_below(prefix: str) -> set[str]:
    return {m for m in mounts.mount_points() if m.startswith(prefix.rstrip("/") + "/")}


@pytest.fixture(scope="session", autouse=True)
def _unmount_leftovers():
    tmp = os.path.realpath(tempfile.gettempdir())
    before = _mounts_below(tmp)
    yield
    if not mounts.is_root():
        return
    for point in sorted(_mounts_below(tmp) - before, key=lambda p: p.count("/"), reverse=True):
        try:
            mounts.unmount(point, lazy=True)
        except OSError:
            pass
