"""What is filling this node, with no UI: the data dir's file system against
Nomad's GC thresholds (:mod:`.thresholds`), the agent configuration they
come from (:mod:`.config`), the breakdown both front-ends draw
(:mod:`.model`), growth while a view is open (:mod:`.growth`), who uses each
allocation (:mod:`.procs`) and whether it looks live (:mod:`.liveness`).

The measuring itself is the library's (:func:`allocdir.measure_usage`).
"""

from __future__ import annotations

from .thresholds import FsUsage, GcSettings, GcStatus, fs_usage

__all__ = ["FsUsage", "GcSettings", "GcStatus", "fs_usage"]
