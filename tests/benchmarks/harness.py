"""What every benchmark shares: timing, a row of the results table, printing."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Row:
    """One metric: our figure beside the tool a user would otherwise use."""

    metric: str
    ours: float
    theirs: float
    baseline: str          # what "theirs" is
    unit: str = "s"
    goal: str = ""         # e.g. "<= 1.5"
    limit: float | None = None  # the ratio must be at most this (None: no ratio goal)
    ceiling: float | None = None  # or: our figure itself must be at most this
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.ours / self.theirs if self.theirs else float("inf")

    @property
    def met(self) -> bool | None:
        if self.ceiling is not None:
            return self.ours <= self.ceiling
        return None if self.limit is None else self.ratio <= self.limit


PEAK_RSS_SOURCE = r"""
def peak_rss():
    # VmHWM, not ru_maxrss: after fork and exec ru_maxrss still counts the
    # parent's pages (the benchmark process), VmHWM is this process's own.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0
"""
"""Source of ``peak_rss()`` (MB) for the probe scripts a benchmark runs in a
fresh interpreter."""


def timed(func: Callable[[], object]) -> float:
    """Wall time of one call, in seconds."""
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def median_time(func: Callable[[], object], runs: int,
                setup: Callable[[], object] | None = None) -> float:
    """Median wall time of ``runs`` calls, each after an untimed ``setup``."""
    samples = []
    for _ in range(runs):
        if setup is not None:
            setup()
        samples.append(timed(func))
    return statistics.median(samples)


def run_quiet(*argv: str, cwd: str | None = None) -> None:
    """Run a command, its output discarded, failing loudly."""
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``samples``, nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def format_value(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.2f} ms"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:g} {unit}"


def machine() -> str:
    """One line describing where the numbers were taken."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    lines = ["| metric | ours | theirs | compared with | ratio | goal | met |",
             "|---|---:|---:|---|---:|---|---|"]
    for r in rows:
        met = {True: "yes", False: "**no**", None: "—"}[r.met]
        note = f" ({r.note})" if r.note else ""
        lines.append(f"| {r.metric}{note} | {format_value(r.ours, r.unit)} | "
                     f"{format_value(r.theirs, r.unit)} | {r.baseline} | {r.ratio:.2f} | "
                     f"{r.goal} | {met} |")
    return "\n".join(lines)
