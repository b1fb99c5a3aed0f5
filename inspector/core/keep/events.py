"""What keeping tells the operator: one line per event worth knowing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from allocdir.plaintext import visible

ERROR, INFO, DETAIL = "error", "info", "detail"
"""Levels: shown always, unless ``--quiet``, only with ``--verbose``."""

_LEVELS = {"error": ERROR, "disk-full": ERROR, "new": INFO, "gone": INFO, "evicted": INFO,
           "resumed": INFO, "note": INFO, "started": INFO, "stopped": INFO, "detail": DETAIL}


@dataclass(frozen=True)
class KeepEvent:
    """One event: ``kind`` (new, gone, evicted, disk-full, resumed, note,
    error, detail, started, stopped), the allocation it is about ("" for
    the keeper itself) and what happened, in words."""

    kind: str
    alloc_id: str
    text: str
    at: float = field(default_factory=time.time)

    @property
    def level(self) -> str:
        """ERROR, INFO or DETAIL."""
        return _LEVELS.get(self.kind, INFO)

    def line(self) -> str:
        """The event as one line of plain text (control characters a task
        put in a name shown as escapes)."""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.at))
        subject = f"{self.alloc_id}: " if self.alloc_id else ""
        return visible(f"{stamp} {self.kind}: {subject}{self.text}")


def describe(error: BaseException) -> str:
    """An error in a few words: the file and the system's reason."""
    if isinstance(error, OSError):
        reason = error.strerror or str(error)
        return f"{error.filename}: {reason}" if error.filename else reason
    return str(error) or type(error).__name__
