"""The data dir's file system against Nomad's client GC thresholds.

Nomad's client garbage-collects terminal allocations while the file system
of its alloc dir is over ``gc_disk_usage_threshold`` percent used (80 by
default) or over ``gc_inode_usage_threshold`` percent of its inodes (70),
or while it runs more than ``gc_max_allocs`` allocations (50): each test is
"greater than", on the figures its disk-stats collector computes (gopsutil's
``disk.Usage``): used = (blocks - free blocks) x fragment size, percent =
used / (used + blocks available to users); inodes used = files - free
files, percent = used / files. The same arithmetic here, from ``statvfs``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DISK_THRESHOLD = 80.0
DEFAULT_INODE_THRESHOLD = 70.0
DEFAULT_MAX_ALLOCS = 50


@dataclass(frozen=True)
class GcSettings:
    """The client's GC thresholds; ``source`` names the configuration they
    were read from, "" for Nomad's defaults."""

    disk_threshold: float = DEFAULT_DISK_THRESHOLD
    inode_threshold: float = DEFAULT_INODE_THRESHOLD
    max_allocs: int = DEFAULT_MAX_ALLOCS
    source: str = ""

    @property
    def label(self) -> str:
        """Where the thresholds come from, in words."""
        return f"from {self.source}" if self.source else "Nomad's defaults"


@dataclass(frozen=True)
class FsUsage:
    """Use of one file system, as Nomad's GC computes it."""

    path: str
    total_bytes: int
    used_bytes: int
    available_bytes: int
    inodes_total: int
    inodes_used: int

    @property
    def used_percent(self) -> float:
        """Bytes used, in percent of what users may use (as ``df``, and Nomad)."""
        room = self.used_bytes + self.available_bytes
        return 100.0 * self.used_bytes / room if room else 0.0

    @property
    def inodes_percent(self) -> float:
        """Inodes used, in percent of all (0 where the file system has no limit)."""
        return 100.0 * self.inodes_used / self.inodes_total if self.inodes_total else 0.0


def fs_usage(path: str) -> FsUsage:
    """``statvfs`` of the file system holding ``path`` (the operator's data
    dir or client root; blocking)."""
    st = os.statvfs(path)
    return FsUsage(path, st.f_blocks * st.f_frsize, (st.f_blocks - st.f_bfree) * st.f_frsize,
                   st.f_bavail * st.f_frsize, st.f_files, st.f_files - st.f_ffree)


@dataclass(frozen=True)
class GcStatus:
    """The file system and the allocation count against the thresholds."""

    fs: FsUsage
    settings: GcSettings
    allocs: int

    @property
    def disk_over(self) -> bool:
        """Nomad would collect terminal allocations for disk space now."""
        return self.fs.used_percent > self.settings.disk_threshold

    @property
    def inodes_over(self) -> bool:
        """…for inodes."""
        return self.fs.inodes_percent > self.settings.inode_threshold

    @property
    def allocs_over(self) -> bool:
        """…for the number of allocations."""
        return self.allocs > self.settings.max_allocs

    def parts(self) -> list[tuple[str, bool]]:
        """The header's pieces, each with whether it is over its threshold:
        ``disk 83 % ▲ gc at 80 %``, ``inodes 12 %``, ``allocs 7 / 50``."""
        s = self.settings
        return [
            (_part("disk", self.fs.used_percent, s.disk_threshold, self.disk_over), self.disk_over),
            (_part("inodes", self.fs.inodes_percent, s.inode_threshold, self.inodes_over),
             self.inodes_over),
            (f"allocs {self.allocs} / {s.max_allocs}" + (" ▲" if self.allocs_over else ""),
             self.allocs_over),
        ]

    def summary(self) -> str:
        """One line: the parts, and where the thresholds come from."""
        return " · ".join(text for text, _ in self.parts()) + f" ({self.settings.label})"


def _part(what: str, percent: float, threshold: float, over: bool) -> str:
    shown = f"{what} {percent:.0f} %"
    if over:
        return f"{shown} ▲ gc at {threshold:g} %"
    return shown
