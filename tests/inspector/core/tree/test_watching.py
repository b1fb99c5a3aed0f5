"""The tree model watching what it shows: an expanded directory is listed
again when it changes, a collapsed one is no longer watched, a log write is
its allocation's age, a failed look at the logs is said on the allocation,
and nothing outlives the model."""

from __future__ import annotations

import os
import time

from inspector.core import logtimes
from inspector.core.tree import Redraw

from ....process_resources import Resources
from ...conftest import ALLOC_A
from .conftest import key, labels, make_model


def poll_until(model, predicate, timeout: float = 5.0, what: str = "") -> None:
    """Call the model's timer until ``predicate()`` (the watcher's events
    arrive on its own thread)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        model.poll()
        time.sleep(0.02)


def test_an_expanded_directory_is_listed_again_when_it_changes(alloc_root):
    model, _ = make_model(alloc_root, watch=True)
    try:
        model.reveal(model.allocs[0], "alloc/logs", expand=True)
        logs = model.find(key(model, "alloc/logs"))
        assert key(model, "alloc/logs") in model.watched
        (alloc_root / ALLOC_A / "alloc/logs/web.stdout.1").write_text("rotated\n")
        os.unlink(alloc_root / ALLOC_A / "alloc/logs/web.stderr.0")
        poll_until(model, lambda: any(label.startswith("web.stdout.[0–1]")
                                      for label in labels(logs)), what="the new file")
        assert not any(label.startswith("web.stderr.0") for label in labels(logs))
        model.collapse(logs)
        assert key(model, "alloc/logs") not in model.watched
    finally:
        model.close()


def test_a_log_write_is_the_allocations_age(alloc_root):
    model, events = make_model(alloc_root, watch=True)
    try:
        alloc = model.root.children[0]
        assert str(alloc.label).endswith("logs 10 minutes ago")
        with open(alloc_root / ALLOC_A / "alloc/logs/web.stdout.0", "a") as f:
            f.write("a new line\n")
        poll_until(model, lambda: str(alloc.label).endswith("logs now"), what="the write")
        assert events.of(Redraw)
    finally:
        model.close()


def test_a_failed_look_at_the_logs_is_said_on_the_allocation(alloc_root, monkeypatch):
    def broken(fd, cap):
        raise RuntimeError("logs look broke")

    monkeypatch.setattr(logtimes, "_newest_entry", broken)
    model, _ = make_model(alloc_root, watch=True)
    try:
        assert "logs: unexpected error: RuntimeError: logs look broke" in \
            str(model.root.children[0].label)
    finally:
        model.close()


def test_no_watch_or_thread_outlives_the_model(alloc_root):
    resources = Resources()
    before = resources.snapshot()
    model, _ = make_model(alloc_root, watch=True)
    model.reveal(model.allocs[0], "web/local", expand=True)
    assert len(model.watched) >= 3 and resources.inotify_watches() >= 3
    model.close()
    after = resources.settle(before, {})
    assert after["inotify_watches"] <= before["inotify_watches"]
    assert after["threads"] <= before["threads"]
    assert after["fds"] <= before["fds"]
