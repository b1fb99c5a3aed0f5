"""The row math of the tree as a virtual list, and the cursor: every row's
node is found on its row again, a directory of 100,000 entries is rows
without a node each, the cursor stays on its node when rows come and go."""

from __future__ import annotations

import gc
from datetime import datetime, timezone

from allocdir import AllocDir, AllocFileInfo
from inspector.core.tree import Node

from ...conftest import ALLOC_A, ALLOC_B
from .conftest import key

BIG = 100_000
STAMP = datetime(2024, 5, 1, tzinfo=timezone.utc)


def _every_row_round_trips(model) -> None:
    for row in range(model.row_count):
        node, depth = model.node_at(row)
        assert model.row_of(node) == row, (row, node)
    assert model.node_at(model.row_count) is None and model.node_at(-1) is None


def test_every_row_is_found_again_as_directories_open_and_close(model, alloc_root):
    for n in range(1, 4):
        (alloc_root / ALLOC_A / f"alloc/logs/web.stdout.{n}").write_text("x\n")
    _every_row_round_trips(model)
    for rel in ("", "alloc", "alloc/logs", "web", "web/local", "web/secrets"):
        model.reveal(model.allocs[0], rel, expand=True)
        _every_row_round_trips(model)
    logs = model.find(key(model, "alloc/logs"))
    model.expand(logs.children[-1])  # the set
    _every_row_round_trips(model)
    model.set_filter("o")
    _every_row_round_trips(model)
    model.collapse(model.find(key(model, "alloc")))
    _every_row_round_trips(model)
    model.set_filter("")
    model.expand(model.root.children[1])
    _every_row_round_trips(model)


def _big(monkeypatch, alloc_root) -> None:
    """``alloc/data`` of the first allocation lists 100,000 entries."""
    real = AllocDir.list
    many = [AllocFileInfo(f"f{n:06d}", False, n, "-rw-r--r--", STAMP) for n in range(BIG)]

    def listing(self, path):
        return list(many) if str(path) == "alloc/data" else real(self, path)

    monkeypatch.setattr(AllocDir, "list", listing)


def test_100k_entries_are_rows_without_a_node_each(model, alloc_root, monkeypatch):
    _big(monkeypatch, alloc_root)
    model.reveal(model.allocs[0], "alloc/data", expand=True)
    data = model.find(key(model, "alloc/data"))
    assert len(data.items()) == BIG
    first = model.row_of(data) + 1
    assert model.node_at(first)[0].name == "f000000"
    last = model.node_at(first + BIG - 1)[0]
    assert last.name == "f099999" and model.row_of(last) == first + BIG - 1
    assert model.cursor.last() == model.row_count - 1
    assert model.cursor.node.name == ALLOC_B  # the last row: the other allocation
    for row in range(first, first + BIG, 997):  # rows asked for: nodes made, held weakly
        model.node_at(row)
    gc.collect()
    assert len(data._weak) < 1000
    assert sum(isinstance(o, Node) and o.model is model for o in gc.get_objects()) < 2000


def test_the_cursor_stays_on_its_node_when_rows_come_and_go(model, alloc_root):
    model.reveal(model.allocs[0], "web/local/notes.txt")
    notes_row = model.cursor.row
    assert model.cursor.node.rel == "web/local/notes.txt"
    model.expand(model.find(key(model, "alloc")))  # rows above it
    assert model.cursor.node.rel == "web/local/notes.txt" and model.cursor.row > notes_row
    model.set_filter("notes")
    assert model.cursor.node.rel == "web/local/notes.txt"
    model.set_filter("")
    (alloc_root / ALLOC_A / "web/local/aaa").write_text("")
    model.reload()
    assert model.cursor.node.rel == "web/local/notes.txt"


def test_cursor_moves(model):
    model.reveal(model.allocs[0], "web/local", expand=True)
    total = model.row_count
    assert model.cursor.first() == 0 and model.cursor.node is model.root
    assert model.cursor.by(3) == 3
    assert model.cursor.by(-10) == 0
    assert model.cursor.by(10 * total) == total - 1
    assert model.cursor.last() == total - 1
    model.cursor.to(model.find(key(model, "web/local/blob.bin")))
    assert model.cursor.to_parent() and model.cursor.node.rel == "web/local"
    model.cursor.first()
    assert not model.cursor.to_parent()  # the root has none

