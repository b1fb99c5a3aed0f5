"""The hostile-task suite: a task owns its task dir and the shared ``alloc/``
and races the operator; the library runs as root. Every test asserts on a
canary outside the alloc dir (content, mode, owner, still mounted) that must
come out unchanged (helpers in ``tests/hostile.py``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from allocdir import AllocDir
from tests import mounting
from tests.hostile import Canary, work_dir

_HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    """The suite plays root against a task: without root there is nothing to test."""
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="the hostile-task suite runs as root (CI does)")
    for item in items:
        if str(item.fspath).startswith(_HERE + os.sep):
            item.add_marker(skip)


@pytest.fixture
def base():
    """A work dir every user can traverse (nobody plays the task in it)."""
    with work_dir() as path:
        yield path


@pytest.fixture
def canary(base) -> Canary:
    """The host directory every test checks afterwards (``canary.state()``)."""
    return Canary.make(base)


@pytest.fixture
def client_root(base) -> Path:
    """``<data_dir>/alloc``, as root owns it."""
    root = base / "data" / "alloc"
    root.mkdir(parents=True)
    return root


@pytest.fixture
def alloc(client_root):
    """A built alloc dir with a built task ``web`` (secrets tmpfs mounted)."""
    a = AllocDir(client_root / "5fc98185-17ff-26bc-a802-0c74fa471c99")
    a.build()
    a.new_task_dir("web").build()
    yield a
    try:
        a.destroy()
    except Exception:
        pass


@pytest.fixture
def python_recursion_limit():
    """Python's default recursion limit for the test (an imported IPython
    raises it for the whole process): a walk that recursed would fail on
    trees deeper than this."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield 1000
    sys.setrecursionlimit(before)


@pytest.fixture
def other_fs(base):
    """A directory on another file system (a tmpfs) for moves across them."""
    path = base / "otherfs"
    path.mkdir()
    mounting.tmpfs(path, "256m")
    os.chmod(path, 0o755)
    yield path
    try:
        mounting.umount(path)
    except OSError:
        pass
