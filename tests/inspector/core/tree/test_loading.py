"""The tree model's jobs: what a job of an older generation brings is
dropped, a directory is listed by one job at a time, and listings of
different directories run side by side, a bounded number at once."""

from __future__ import annotations

from inspector.core.tree.jobs import LIST_LANES, list_lane

from .conftest import HeldExecutor, labels, make_model


def test_a_listing_delivered_after_a_reload_is_dropped(alloc_root):
    held = HeldExecutor()
    model, _ = make_model(alloc_root, held)
    held.run()  # the discovery
    alloc = model.root.children[0]
    model.expand(alloc)
    assert labels(alloc) == ["loading…"]
    model.reload()  # a new generation: the listing still held is stale
    held.run(1)
    assert not alloc.loaded, "a stale listing landed"
    held.run()  # the new discovery, then the listing of what was expanded
    fresh = model.root.children[0]
    assert fresh is not alloc and fresh.expanded and fresh.loaded
    assert labels(fresh) == ["all logs  in time order", "alloc/  10 minutes ago",
                             "web/  10 minutes ago"]


def test_a_directory_is_listed_once_at_a_time(model, alloc_root):
    held = HeldExecutor()
    model.executor = held
    alloc = model.root.children[1]
    model.expand(alloc)
    model.collapse(alloc)
    model.expand(alloc)
    assert len(held.jobs) == 1
    held.run()
    assert alloc.loaded and labels(alloc)[1].startswith("alloc/")


def test_listings_of_different_directories_can_run_side_by_side():
    lanes = {list_lane(("/a", f"dir{n}")) for n in range(50)}
    assert len(lanes) == LIST_LANES  # spread, and bounded
    assert list_lane(("/a", "dir7")) == list_lane(("/a", "dir7"))
