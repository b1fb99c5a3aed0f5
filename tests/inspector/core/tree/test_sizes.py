"""The size order (issue 19): `o` cycles name → newest → size; directories
are measured (bounded) and ordered and labelled as the sizes come in."""

from __future__ import annotations

from allocdir import AllocDir
from allocdir.plaintext import size_words
from inspector.core.tree import MTIME, NAME, SIZE
from inspector.core.tree import sizes as sizes_module

from .conftest import HeldExecutor, make_model


def _alloc(tmp_path) -> AllocDir:
    alloc = AllocDir(tmp_path / "cccccccc-0000-4000-8000-000000000001")
    alloc.build()
    data = tmp_path / alloc.alloc_id / "alloc" / "data"
    for name, size in [("a-small", 10), ("b-big", 300_000), ("c-medium", 20_000)]:
        (data / name).mkdir()
        (data / name / "blob").write_bytes(b"x" * size)
    (data / "zzz.bin").write_bytes(b"y" * 50_000)
    (data / "aaa.txt").write_bytes(b"z" * 5)
    return alloc


def test_o_cycles_to_the_size_order_and_directories_are_measured(tmp_path):
    alloc = _alloc(tmp_path)
    executor = HeldExecutor()
    model, _ = make_model(alloc.alloc_dir, executor)
    executor.run()
    model.reveal(model.allocs[0], "alloc/data", expand=True)
    executor.run()
    node = model.find((alloc.alloc_dir, "alloc/data"))
    assert [c.name for c in node.children][:3] == ["a-small", "b-big", "c-medium"]
    assert model.next_order() is MTIME
    assert model.next_order() is SIZE
    # until measured, the directories stay by name, the files by size
    assert [c.name for c in node.children] == ["a-small", "b-big", "c-medium", "zzz.bin",
                                               "aaa.txt"]
    executor.run()  # the measuring job
    assert [c.name for c in node.children] == ["b-big", "c-medium", "a-small", "zzz.bin",
                                               "aaa.txt"]
    big = next(c for c in node.children if c.name == "b-big")
    measured = node.listing.dir_sizes[big.entry]
    assert measured.complete and 300_000 <= measured.bytes < 310_000
    assert str(model.label_of(big)).startswith(f"b-big/  {size_words(measured.bytes)} · ")
    assert model.next_order() is NAME


def test_a_walk_cut_short_is_a_lower_bound(tmp_path, monkeypatch):
    alloc = _alloc(tmp_path)
    monkeypatch.setattr(sizes_module, "LISTING_SECONDS", 0.0)
    assert sizes_module.measure_dirs(alloc.alloc_dir, "alloc/data", ["b-big"]) == {}
    monkeypatch.setattr(sizes_module, "LISTING_SECONDS", 10.0)
    measured = sizes_module.measure_dirs(alloc.alloc_dir, "alloc/data", ["b-big", "gone"])
    assert list(measured) == ["b-big"] and measured["b-big"].complete
    assert 300_000 <= measured["b-big"].bytes < 310_000  # the file and its directory


def test_a_secrets_dir_is_never_walked(tmp_path):
    alloc = _alloc(tmp_path)
    task = alloc.new_task_dir("web")
    task.build()
    model, _ = make_model(alloc.alloc_dir)
    model.reveal(model.allocs[0], "web", expand=True)
    node = model.find((alloc.alloc_dir, "web"))
    assert "secrets" not in sizes_module.subdirectories(node.listing, "web")
    assert "local" in sizes_module.subdirectories(node.listing, "web")
