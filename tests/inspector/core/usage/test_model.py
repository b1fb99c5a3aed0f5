"""The breakdown both front-ends draw, the header's GC figures, and growth
from the hot directories."""

from __future__ import annotations

import os

from allocdir import measure_usage
from allocdir.usage import files_in
from inspector.core.usage.growth import GrowthTracker
from inspector.core.usage.model import ALLOC, FILE, OTHER, ROOT, SHARED, TASK, breakdown, kind_of
from inspector.core.usage.thresholds import FsUsage, GcSettings, GcStatus

from .conftest import ALLOC_IDS


def test_kinds_below_a_root_and_an_alloc():
    assert kind_of(ROOT, "abc") == ALLOC
    assert kind_of(ROOT, "abc/alloc") == SHARED and kind_of(ROOT, "abc/web") == TASK
    assert kind_of(ROOT, "abc/web/local") == "dir"
    assert kind_of(ALLOC, "alloc") == SHARED and kind_of(ALLOC, "web") == TASK


def test_rows_are_sorted_with_shares_and_the_other_files(data_dir):
    root = str(data_dir / "alloc")
    usage = measure_usage(root)
    rows = breakdown(usage, usage.tree, top_kind=ROOT)
    assert [r.name for r in rows] == [ALLOC_IDS[1], ALLOC_IDS[0]]
    top_dir = os.lstat(root).st_size  # the root directory itself: in no row
    assert abs(sum(r.share for r in rows) - (1 - top_dir / usage.apparent_bytes)) < 1e-9
    local = usage.tree.find(f"{ALLOC_IDS[1]}/web/local")
    listed = files_in(root, local.rel, top=3)
    rows = breakdown(usage, local, files=listed)
    assert [r.kind for r in rows] == [FILE, FILE, FILE, OTHER]
    assert rows[0].apparent == 10_000 and rows[-1].name == "7 other files"
    assert sum(r.apparent for r in rows) == local.own_apparent
    by_blocks = breakdown(usage, usage.tree.find(ALLOC_IDS[0]), allocated=True, top_kind=ALLOC)
    assert by_blocks == sorted(by_blocks, key=lambda r: -r.allocated)


def test_the_header_parts_against_the_thresholds():
    fs = FsUsage("/x", 100 << 30, 83 << 30, 17 << 30, 1000, 120)
    status = GcStatus(fs, GcSettings(), 51)
    texts = [t for t, _ in status.parts()]
    assert texts == ["disk 83 % ▲ gc at 80 %", "inodes 12 %", "allocs 51 / 50 ▲"]
    assert status.disk_over and not status.inodes_over and status.allocs_over
    assert status.summary().endswith("(Nomad's defaults)")
    at_threshold = GcStatus(FsUsage("/x", 100, 80, 20, 10, 7), GcSettings(), 50)
    assert not (at_threshold.disk_over or at_threshold.inodes_over or at_threshold.allocs_over)


def test_growth_of_an_allocation_and_its_logs(data_dir):
    root = str(data_dir / "alloc")
    usage = measure_usage(root)
    allocs = {c.name: c for c in usage.tree.children}
    tracker = GrowthTracker(root, usage, allocs)
    first = tracker.sample(now=1000.0)
    assert first[ALLOC_IDS[0]].bytes_per_minute is None
    log = os.path.join(root, ALLOC_IDS[0], "alloc", "logs", "web.stdout.0")
    with open(log, "ab") as f:
        f.write(b"x" * (1 << 20))
        os.fsync(f.fileno())
    later = tracker.sample(now=1030.0)
    grown = later[ALLOC_IDS[0]]
    assert grown.logs_per_minute >= 2 * (1 << 20) * 0.99
    assert grown.bytes_per_minute >= grown.logs_per_minute
    assert later[ALLOC_IDS[1]].bytes_per_minute == 0
