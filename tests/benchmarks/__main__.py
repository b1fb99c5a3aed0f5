"""Run the benchmark suite and print its table:

    python -m tests.benchmarks            # the full suite (about 10 minutes)
    python -m tests.benchmarks --quick    # small sizes, a smoke run
    python -m tests.benchmarks --only snapshot,latency
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time

from allocdir.testing import temp_alloc_dir

from . import (bench_allocdir, bench_archives, bench_follow, bench_keep, bench_merge,
               bench_reading, bench_structured, bench_usage, bench_viewer, bench_watch)
from .harness import Row, machine, table


def _suite(work: str, scale: float, quick: bool):
    """(name, callable returning rows) for every metric, in table order."""
    def watch_rows():
        with temp_alloc_dir(prefix="bench-watch-") as alloc:
            return bench_watch.change_latency(alloc, 40 if quick else 600)

    def follower_rows():
        with temp_alloc_dir(prefix="bench-follow-") as alloc:
            return [bench_watch.follower_throughput(alloc, 2 if quick else 10)]

    return [
        ("snapshot", lambda: [bench_allocdir.snapshot_small_files(work, scale),
                              bench_allocdir.snapshot_large_files(work, scale)[0]]),
        ("list", lambda: [bench_allocdir.list_directory(work, scale)]),
        ("destroy", lambda: [bench_allocdir.destroy_tree(work, scale)]),
        ("hardlink", lambda: bench_allocdir.hard_link_open(work, scale)),
        ("move", lambda: [bench_allocdir.move_same_filesystem(work, scale),
                          bench_allocdir.move_across_filesystems(work, scale)]),
        ("latency", watch_rows),
        ("follower", follower_rows),
        ("viewer", lambda: bench_viewer.viewer_open_and_tail(
            work, (64 << 20) if quick else (8 << 30))),
        ("follow-screen", lambda: bench_viewer.follow_on_screen(work, 30 if quick else 100)),
        ("follow-session", lambda: bench_follow.session_frame_latency(
            work, 30 if quick else 300)),
        ("follow-tmux", lambda: bench_follow.tmux_screen_latency(work, 30 if quick else 200)),
        ("keys", lambda: bench_follow.key_latency(work, 10 if quick else 100)),
        ("startup", lambda: [bench_viewer.app_first_paint(work)]),
        ("search", lambda: bench_reading.search_and_filter(
            work, (64 << 20) if quick else 2_000_000_000)),
        ("errors", lambda: bench_reading.error_lines(
            work, (64 << 20) if quick else 2_000_000_000)),
        ("tree", lambda: bench_reading.big_directory(work, 10_000 if quick else 100_000)),
        ("rotation", lambda: bench_reading.rotation_set(
            work, (64 << 20) if quick else (8 << 30))),
        ("keep", lambda: bench_keep.keep_rows(work, quick)),
        ("archives", lambda: bench_archives.archive_rows(work, quick)),
        ("usage", lambda: bench_usage.usage_rows(work, scale)),
        ("processes", lambda: bench_usage.process_rows(work, 50 if quick else 500)),
        ("structured-text", lambda: bench_structured.text_log_rows(
            work, (64 << 20) if quick else 2_000_000_000)),
        ("structured-json", lambda: bench_structured.json_log_rows(
            work, (64 << 20) if quick else (1 << 30))),
        ("merge", lambda: bench_merge.merged_sets(work, (16 << 20) if quick else (1 << 30))),
        ("merge-pass", lambda: bench_merge.four_logs(work, (16 << 20) if quick else (256 << 20))),
        ("merge-follow", lambda: bench_merge.followed_logs(work, 30 if quick else 300)),
        ("notebook", lambda: __import__(f"{__package__}.bench_notebook", fromlist=["_"])
         .notebook_rows(work, quick)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", default="", help="comma-separated metric groups")
    parser.add_argument("--work", default="/var/tmp", help="where to build the data (disk)")
    args = parser.parse_args(argv)
    only = {name for name in args.only.split(",") if name}
    work = tempfile.mkdtemp(prefix="allocdir-bench-", dir=args.work)
    rows: list[Row] = []
    failed: list[str] = []
    try:
        for name, run in _suite(work, 0.05 if args.quick else 1.0, args.quick):
            if only and name not in only:
                continue
            started = time.monotonic()
            try:
                rows.extend(run())
            except Exception as e:  # one broken metric must not lose the others
                failed.append(name)
                print(f"  {name}: FAILED: {e}", file=sys.stderr, flush=True)
                continue
            print(f"  {name}: {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"Machine: {machine()}\n")
    print(table(rows))
    if failed:
        print(f"\nCould not measure: {', '.join(failed)}")
    return 0 if not failed and all(r.met is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
