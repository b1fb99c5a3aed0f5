"""Which allocations an action (snapshot, move, destroy) is running on."""

from __future__ import annotations

import os
import threading

from .text import printable


class BusyRegistry:
    """The allocations an action is running on, so that no second action
    (a destroy during a snapshot, a move during a destroy…) starts on them.

    Thread-safe: claims are made and released from worker threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy: dict[str, str] = {}

    def running(self, path: str) -> str | None:
        """What runs on the alloc dir ``path`` (e.g. "a snapshot"), if anything."""
        with self._lock:
            return self._busy.get(os.path.abspath(path))

    def claim(self, what: str, *paths: str) -> str | None:
        """Mark every path busy with ``what``, or none of them: returns the
        refusal when one already is, else None."""
        keys = [os.path.abspath(p) for p in paths]
        with self._lock:
            for key in keys:
                if key in self._busy:
                    return busy_reason(key, self._busy[key])
            for key in keys:
                self._busy[key] = what
        return None

    def release(self, *paths: str) -> None:
        """Forget the claims on ``paths``."""
        with self._lock:
            for path in paths:
                self._busy.pop(os.path.abspath(path), None)


def busy_reason(path: str, what: str) -> str:
    """The refusal for an action on ``path`` while ``what`` runs on it."""
    return f"{what} of {printable(os.path.basename(path))} is running: wait for it to finish"
