"""Counting what a process holds (threads, file descriptors, inotify
watches), for the tests that check nothing leaks."""

from __future__ import annotations

import os
import time


class Resources:
    """Counts threads, fds and inotify watches of this process."""

    @staticmethod
    def threads() -> int:
        return len(os.listdir("/proc/self/task"))

    @staticmethod
    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    @staticmethod
    def inotify_watches() -> int:
        count = 0
        for fd in os.listdir("/proc/self/fdinfo"):
            try:
                with open(f"/proc/self/fdinfo/{fd}") as f:
                    count += sum(1 for line in f if line.startswith("inotify wd:"))
            except OSError:
                pass
        return count

    @staticmethod
    def inotify_instances() -> int:
        count = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                if os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:inotify":
                    count += 1
            except OSError:
                pass
        return count

    def snapshot(self) -> dict:
        return {
            "threads": self.threads(),
            "fds": self.fds(),
            "inotify_watches": self.inotify_watches(),
        }

    def settle(self, baseline: dict, slack: dict, timeout: float = 5.0) -> dict:
        """Wait until every count is within ``slack`` of ``baseline``; return the last counts."""
        deadline = time.monotonic() + timeout
        while True:
            now = self.snapshot()
            if all(now[k] <= baseline[k] + slack.get(k, 0) for k in baseline):
                return now
            if time.monotonic() > deadline:
                return now
            time.sleep(0.05)


def process_cpu() -> float:
    """CPU seconds this process has used, every thread (user + system)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mb() -> float:
    """This process's resident memory now (VmRSS), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0
