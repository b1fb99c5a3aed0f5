"""A million empty files in a task's ``alloc/logs``, nothing expanded (case 5
of the second hostile-task issue). The tree labels each allocation with the
age of its newest log write; that comes from inotify and one bounded look,
so a tick of the ages costs nothing more with a million files than with
ten: no listing, no object per entry, memory flat."""

from __future__ import annotations

import asyncio
import os
import stat
import time

import pytest

from allocdir import AllocDir
from inspector.core.roots import Root
from inspector.tui import tree as tree_module
from inspector.tui.app import InspectorApp

from tests import mounting

from ..inspector.conftest import find_node, wait_for
from ..process_resources import process_cpu, rss_mb

TICK = 0.25
"""The age tick for the test (5 s in the app), so that a few seconds hold many ticks."""
CPU_PER_TICK_LIMIT = 0.06
"""CPU seconds the app may use per tick, everything included (drawing, timers).

Listing the 200,000 entries on each tick cost about 0.2 s; the bounded tick
costs 7 ms alone, up to 28 ms inside a full suite whose process holds
half a gigabyte for the garbage collector to walk. The limit sits between."""
RSS_GROWTH_LIMIT = 10.0
"""MB the app may grow by across the ticks."""

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a million files go on a tmpfs (root)")


@pytest.fixture
def crowded(tmp_path, soak):
    """An allocation whose ``alloc/logs`` (a tmpfs) holds a million empty
    files (200,000 in the short run)."""
    count = 1_000_000 if soak else 200_000
    alloc = AllocDir(tmp_path / "alloc" / "5fc98185-17ff-26bc-a802-0c74fa471c99")
    alloc.build()
    alloc.new_task_dir("web").build()
    logs = os.path.join(alloc.alloc_dir, "alloc", "logs")
    mounting.mount("tmpfs", logs, "tmpfs", 0, f"size=64m,nr_inodes={count + 1000}")
    try:
        fd = os.open(logs, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for n in range(count):
                os.mknod(f"web.stdout.{n}", 0o644 | stat.S_IFREG, dir_fd=fd)
        finally:
            os.close(fd)
        yield alloc, count
    finally:
        mounting.umount(logs)
        alloc.destroy()


async def test_a_million_log_files_cost_nothing_per_tick(crowded, figures, monkeypatch, soak):
    alloc, count = crowded
    monkeypatch.setattr(tree_module, "AGE_TICK", TICK)
    ticks = 40 if soak else 16
    app = InspectorApp(Root.open(os.path.dirname(alloc.alloc_dir)))
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.alloc_tree
        await wait_for(pilot, lambda: find_node(tree, "", alloc.alloc_id) is not None,
                       timeout=120, message="the allocation")
        node = find_node(tree, "", alloc.alloc_id)
        await pilot.pause(2 * TICK)
        rss_before, peak = rss_mb(), 0.0
        cpu_before, started = process_cpu(), time.monotonic()
        for _ in range(ticks):
            await asyncio.sleep(TICK)
            peak = max(peak, rss_mb())
        elapsed = time.monotonic() - started
        cpu_per_tick = (process_cpu() - cpu_before) / (elapsed / TICK)
        # A write to the live log shows as its age, from the event alone.
        with open(os.path.join(alloc.alloc_dir, "alloc", "logs", "web.stdout.0"), "a") as f:
            f.write("written now\n")
        await wait_for(pilot, lambda: "logs now" in str(node.label)
                       or "second" in str(node.label), timeout=5, message="the write seen")
        figures.update(files=count, ticks=round(elapsed / TICK),
                       cpu_ms_per_tick=round(cpu_per_tick * 1000, 1),
                       rss_mb=round(peak, 1), rss_growth_mb=round(peak - rss_before, 1))
    assert cpu_per_tick < CPU_PER_TICK_LIMIT, figures
    assert peak - rss_before < RSS_GROWTH_LIMIT, figures
