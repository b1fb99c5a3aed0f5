"""A rename storm in a watched directory (case 4 of the second hostile-task
issue): a task renames files in its ``alloc/logs`` as fast as it can while
the tree has it expanded. The tree's watcher keeps no queue of events, so
the app is idle again within a second of the storm's end and its memory
does not grow with the storm."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

from allocdir.testing import temp_alloc_dir
from inspector.core.roots import Root
from inspector.tui.app import InspectorApp

from ..inspector.conftest import find_node, wait_for
from ..process_resources import process_cpu, rss_mb

CPU_AFTER_LIMIT = 0.25
"""CPU seconds the app may use in the second after the storm (a quarter of a core)."""
RSS_GROWTH_LIMIT = 5.0
"""MB the app may grow by during the storm (it grew 4-7 MB a second with a
queue of events)."""

STORM = r"""
import os, sys, time
directory, seconds = sys.argv[1], float(sys.argv[2])
fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
names = [f"web.stdout.{n}" for n in range(64)]
for name in names:
    os.close(os.open(name, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd))
renames, end = 0, time.monotonic() + seconds
while time.monotonic() < end:
    for name in names:
        os.rename(name, name + ".tmp", src_dir_fd=fd, dst_dir_fd=fd)
        os.rename(name + ".tmp", name, src_dir_fd=fd, dst_dir_fd=fd)
    renames += 2 * len(names)
print(renames)
"""


def start_storm(directory: str, seconds: float) -> subprocess.Popen:
    """A process renaming files in ``directory`` as fast as it can."""
    return subprocess.Popen([sys.executable, "-c", STORM, directory, str(seconds)],
                            stdout=subprocess.PIPE, text=True)


async def test_a_rename_storm_in_an_expanded_log_dir_leaves_the_app_idle(figures, soak):
    seconds = 8.0 if soak else 3.0
    with temp_alloc_dir() as alloc:
        app = InspectorApp(Root.open(alloc.alloc_dir))
        async with app.run_test(size=(120, 36)) as pilot:
            tree = app.alloc_tree
            await wait_for(pilot, lambda: find_node(tree, "alloc", alloc.alloc_id) is not None,
                           message="the allocation")
            for rel in ("alloc", "alloc/logs"):
                node = find_node(tree, rel, alloc.alloc_id)
                node.expand()
                await wait_for(pilot, lambda node=node: node.loaded, message=rel)
            await wait_for(pilot, lambda: (alloc.alloc_dir, "alloc/logs") in tree.watched,
                           message="alloc/logs watched")
            logs = find_node(tree, "alloc/logs", alloc.alloc_id)
            await pilot.pause(0.5)
            rss_before, peak = rss_mb(), 0.0
            cpu_storm, storm_started = process_cpu(), time.monotonic()
            storm = start_storm(f"{alloc.alloc_dir}/alloc/logs", seconds)
            while storm.poll() is None:
                peak = max(peak, rss_mb())
                await asyncio.sleep(0.1)
            renames = int(storm.stdout.read())
            storm.stdout.close()
            cpu_storm = (process_cpu() - cpu_storm) / (time.monotonic() - storm_started)
            cpu_before, started = process_cpu(), time.monotonic()
            await asyncio.sleep(1.0)
            cpu_after = (process_cpu() - cpu_before) / (time.monotonic() - started)
            # The tree saw the storm: the set of 64 files it left is listed.
            await wait_for(pilot, lambda: "web.stdout.[0–63]" in
                           " ".join(str(c.label) for c in logs.children), message="the set")
            figures.update(renames=renames, seconds=seconds,
                           cpu_share_during=round(cpu_storm, 3),
                           cpu_share_in_the_second_after=round(cpu_after, 3),
                           rss_growth_mb=round(peak - rss_before, 1))
    assert renames > 10_000 * seconds, "the storm was too slow to test anything"
    assert cpu_after < CPU_AFTER_LIMIT, figures
    assert peak - rss_before < RSS_GROWTH_LIMIT, figures
