"""Whether an allocation looks live: processes using it, mounts inside it,
a write in the last minutes. Destroy and move say so before the typed id or
the destination is accepted; the usage view marks an allocation idle when
it has none of these for a long time."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from allocdir.mounts import mounts_under
from allocdir.usage import measure

from ..text import printable
from .procs import ProcessMap, ProcessUse, scan_processes

RECENT_WRITE = 300.0
"""A write this recent (seconds) makes an allocation look live."""
IDLE_AFTER = 3600.0
"""No process, no mount and no write for this long (seconds): idle."""
MEASURE_LIMIT = 2.0
"""Seconds spent at most looking for the newest write."""


@dataclass(frozen=True)
class Liveness:
    """What makes an allocation look live, looked at once."""

    alloc_dir: str
    processes: tuple[ProcessUse, ...]
    mounts: tuple[str, ...]
    newest_write: float | None
    checked_at: float
    note: str = ""

    @property
    def recent_write(self) -> bool:
        """Written in the last :data:`RECENT_WRITE` seconds."""
        return self.newest_write is not None and \
            self.checked_at - self.newest_write < RECENT_WRITE

    @property
    def live(self) -> bool:
        """Processes, mounts or a recent write."""
        return bool(self.processes or self.mounts or self.recent_write)

    def idle(self, after: float = IDLE_AFTER) -> bool:
        """No process, no mount, and no write for ``after`` seconds."""
        return not self.processes and not self.mounts and (
            self.newest_write is None or self.checked_at - self.newest_write >= after)

    def reasons(self) -> list[str]:
        """Each sign of life in words, plain and escaped."""
        out = []
        if self.processes:
            shown = "; ".join(p.describe() for p in self.processes[:3])
            more = f"; +{len(self.processes) - 3} more" if len(self.processes) > 3 else ""
            out.append(f"{len(self.processes)} process(es) use it: {shown}{more}")
        if self.mounts:
            shown = ", ".join(printable(m) for m in self.mounts[:4])
            more = f", +{len(self.mounts) - 4} more" if len(self.mounts) > 4 else ""
            out.append(f"{len(self.mounts)} mount(s) inside: {shown}{more}")
        if self.recent_write:
            ago = max(0, int(self.checked_at - (self.newest_write or 0)))
            out.append(f"written {ago} s ago")
        return out

    def warning(self) -> str:
        """"" when it does not look live; else one paragraph saying why."""
        reasons = self.reasons()
        if not reasons:
            return ""
        note = f" ({self.note})" if self.note else ""
        return "This allocation looks live: " + "; ".join(reasons) + note + "."


def check_liveness(alloc_dir: str, *, processes: ProcessMap | None = None,
                   now: float | None = None, time_limit: float = MEASURE_LIMIT) -> Liveness:
    """Look at ``alloc_dir`` (blocking, bounded by ``time_limit`` for the
    newest write): processes using it, mounts inside it, its newest write."""
    alloc_dir = os.fspath(alloc_dir)
    procs = processes if processes is not None else scan_processes([alloc_dir])
    real = os.path.realpath(alloc_dir)
    mounts = tuple(os.path.relpath(m, real) for m in mounts_under(real) if m != real)
    notes = []
    newest = None
    try:
        usage = measure(alloc_dir, time_limit=time_limit, workers=0)
        newest = usage.newest_write
        if not usage.complete:
            notes.append("not every file was looked at")
    except OSError as exc:
        notes.append(f"could not look for writes: {printable(exc)}")
    if procs.unreadable and os.geteuid() != 0:  # as root: only the odd zombie or namespace
        notes.append(f"{procs.unreadable} processes of other users could not be looked at")
    return Liveness(alloc_dir, tuple(procs.using(alloc_dir)), mounts, newest,
                    time.time() if now is None else now, "; ".join(notes))
