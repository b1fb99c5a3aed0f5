"""A keep directory opened read-only: kept copies, gone ones labelled, a
rotation set with its kept generations read as one log, removal of a kept
copy coordinated with a running keeper."""

from __future__ import annotations

import os
import shutil

import pytest

from allocdir import AllocDirError
from inspector.core.kept import KeptCopy, is_keep_dir
from inspector.core.roots import KEEP, Root
from inspector.core.viewing import read_first_screen
from tests.keeping import ALLOC, RunningKeeper, make_alloc, wait_for


def _kept_size(keep, name):
    try:
        return os.path.getsize(keep / ALLOC / "alloc" / "logs" / name)
    except OSError:
        return -1


@pytest.fixture
def kept(tmp_path):
    """A keep directory where web.stdout.0 was truncated once (two
    generations), and the allocation was then collected."""
    root, keep = tmp_path / "root", tmp_path / "keep"
    root.mkdir()
    alloc = make_alloc(root)
    log = os.path.join(alloc.alloc_dir, "alloc", "logs", "web.stdout.0")
    first, second = b"before the truncation\n" * 3, b"after the truncation\n" * 2
    with RunningKeeper(root, keep) as keeper:
        with open(log, "wb") as f:
            f.write(first)
        wait_for(lambda: _kept_size(keep, "web.stdout.0") == len(first), what="first copy")
        with open(log, "wb") as f:  # truncated, then written again
            f.write(second)
        wait_for(lambda: _kept_size(keep, "web.stdout.0.1") == len(second), what="generation 1")
        shutil.rmtree(alloc.alloc_dir)
        keeper.wait_event("gone", ALLOC)
        keeper.stop()
    return keep, first + second


def test_a_keep_directory_is_recognised_by_its_manifest(kept):
    keep, _ = kept
    assert is_keep_dir(str(keep))
    root = Root.open(keep)
    assert root.source == KEEP and root.read_only and not root.single
    assert "keep directory" in root.description
    (copy,) = root.discover().allocs
    assert isinstance(copy, KeptCopy) and copy.alloc_id == ALLOC
    assert copy.gone and copy.last_seen is not None
    assert copy.description.startswith("kept · gone, last seen")


def test_kept_generations_read_as_one_log_with_a_notice(kept):
    keep, written = kept
    copy = Root.open(keep).discover().allocs[0]
    first = read_first_screen(copy, "alloc/logs/web.stdout.0", 80, 20)
    assert first.pager is not None, first.message
    source = first.pager.source
    assert [s.name for s in source.segments()] == ["web.stdout.0", "web.stdout.0.1"]
    assert source.read(0, source.size()) == written
    change = source.refresh(force=True)
    assert any("truncation" in n and "web.stdout.0.1 at byte 66" in n for n in change.notices)
    # Named by its set, as everywhere: the same log.
    by_set = read_first_screen(copy, "alloc/logs/web.stdout", 80, 20)
    assert by_set.pager.source.read(0, len(written)) == written


def test_a_kept_copy_is_not_moved(kept):
    keep, _ = kept
    copy = Root.open(keep).discover().allocs[0]
    with pytest.raises(AllocDirError, match="read-only"):
        copy.move(None, [])


def test_removing_a_kept_copy_waits_for_no_keeper(tmp_path, kept):
    keep, _ = kept
    copy = Root.open(keep).discover().allocs[0]
    other_root = tmp_path / "other-root"
    other_root.mkdir()
    with RunningKeeper(other_root, keep):
        with pytest.raises(AllocDirError, match="keep process is running"):
            copy.destroy()
        assert (keep / ALLOC).is_dir()
    copy.destroy()
    assert not (keep / ALLOC).exists()
    assert is_keep_dir(str(keep))  # the rest of the keep directory stays


def test_the_tree_groups_kept_generations_into_their_rotation_set(kept):
    from inspector.core.tree import SET, Open

    from .tree.conftest import key, make_model

    keep, _ = kept
    logs = keep / ALLOC / "alloc" / "logs"
    (logs / "web.stdout.1").write_bytes(b"the next file\n")
    model, _ = make_model(keep)
    try:
        (copy,) = model.allocs
        top = model.top_node(copy.alloc_dir)
        assert "kept · gone, last seen" in str(top.label)
        model.reveal(copy, "alloc/logs", expand=True)
        listed = model.find(key(model, "alloc/logs"))
        web = next(c for c in listed.children if c.kind == SET)
        assert str(web.label).startswith("web.stdout.[0–1]  3 files · ")
        model.expand(web)
        assert [c.name for c in web.children] == ["web.stdout.0", "web.stdout.0.1",
                                                  "web.stdout.1"]
        assert model.activate(web) == Open(copy, "alloc/logs/web.stdout.0", None)
    finally:
        model.close()
