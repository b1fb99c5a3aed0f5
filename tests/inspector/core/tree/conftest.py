"""The tree model driven without an App: an executor that runs jobs at
once, or only when told (to see what happens while a listing runs), and a
model over the inspector tests' deterministic client root."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from inspector.core.roots import Root
from inspector.core.session.jobs import InlineExecutor, LaneExecutor
from inspector.core.tree import TreeModel


class HeldExecutor(LaneExecutor):
    """Keeps the lanes that have jobs; :meth:`run` runs them (and delivers)
    when told."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[tuple[str, Callable[[], None]]] = []

    def _spawn(self, runner: Callable[[], None], lane: str) -> None:
        self.jobs.append((lane, runner))

    def _post(self, callback: Callable[[], None]) -> None:
        callback()

    def run(self, count: int | None = None) -> int:
        """Run the lanes held first (``count`` of them, all by default)."""
        ran = 0
        while self.jobs and (count is None or ran < count):
            _, runner = self.jobs.pop(0)
            runner()
            ran += 1
        return ran


class Recorder(list):
    """The events a model told its listener."""

    def of(self, kind) -> list:
        return [event for event in self if isinstance(event, kind)]


def make_model(path, executor=None, **options) -> tuple[TreeModel, Recorder]:
    events = Recorder()
    model = TreeModel(Root.open(path), executor or InlineExecutor(), listener=events.append,
                      **{"watch": False, **options})
    model.start()
    return model, events


@pytest.fixture
def model(alloc_root):
    """A model of the two-allocation client root, listed at once, not watching."""
    built, _ = make_model(alloc_root)
    yield built
    built.close()


def labels(node) -> list[str]:
    """The plain labels of a node's children."""
    return [str(child.label) for child in node.children]


def shown(model) -> list[tuple[int, str]]:
    """Every row as (depth, plain label)."""
    out = []
    for row in range(model.row_count):
        node, depth = model.node_at(row)
        out.append((depth, str(node.label)))
    return out


def key(model, rel: str, index: int = 0) -> tuple[str, str]:
    """The key of ``rel`` in the ``index``-th allocation."""
    return (model.allocs[index].alloc_dir, rel)
