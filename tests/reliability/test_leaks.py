"""Resource leaks: thousands of change_events / block_until_exists
open-close cycles leave no threads, file descriptors or inotify watches."""

from __future__ import annotations

import os

from allocdir.testing import temp_alloc_dir
from tests.process_resources import Resources


def _resources() -> dict[str, int]:
    return Resources().snapshot()


def _settle(baseline: dict[str, int], timeout: float = 5.0) -> dict[str, int]:
    return Resources().settle(baseline, {k: 0 for k in baseline}, timeout)


def test_watch_cycles_leak_nothing(soak, figures):
    cycles = 10_000
    with temp_alloc_dir() as alloc:
        log = os.path.join(alloc.shared_dir, "logs", "web.stdout.0")
        open(log, "wb").close()
        # One warm-up of each: watchdog's shared inotify reader starts once per process.
        alloc.change_events("alloc/logs/web.stdout.0", 0).close()
        alloc.block_until_exists("alloc/logs/missing").cancel()
        baseline = _settle(_resources())
        for i in range(cycles):
            if i % 2:
                with alloc.change_events("alloc/logs/web.stdout.0", 0):
                    pass
            else:
                alloc.block_until_exists(f"alloc/logs/missing-{i}").cancel()
        after = _settle(baseline)
    leaked = {k: after[k] - baseline[k] for k in after if after[k] > baseline[k]}
    figures.update(attempts=cycles, failures=len(leaked), baseline=baseline, after=after)
    assert not leaked, leaked
