"""Resource leaks: thousands of change_events / block_until_exists
open-close cycles leave no threads, file descriptors or inotify watches."""

from __future__ import annotations

import os
import threading
import time

from allocdir.testing import temp_alloc_dir


def _inotify_watches() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fdinfo"):
        try:
            with open(f"/proc/self/fdinfo/{fd}") as f:
                count += sum(1 for line in f if line.startswith("inotify wd:"))
        except OSError:
            continue
    return count


def _resources() -> dict[str, int]:
    return {"threads": threading.active_count(), "fds": len(os.listdir("/proc/self/fd")),
            "inotify_watches": _inotify_watches()}


def _settle(baseline: dict[str, int], timeout: float = 5.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        now = _resources()
        if all(now[k] <= baseline[k] for k in now) or time.monotonic() > deadline:
            return now
        time.sleep(0.05)


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
