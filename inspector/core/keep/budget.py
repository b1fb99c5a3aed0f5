"""The budget of a keep directory: sizes as the operator types them, what
the directory takes on disk, and which allocation's copy goes first when
the budget is reached."""

from __future__ import annotations

import re
from collections.abc import Callable

from allocdir.plaintext import size_words

BLOCK = 4096
"""What one more write may add on disk beyond its bytes (a block)."""
META_RESERVE = 256 << 10
META_PER_ALLOC = 64 << 10
"""Of the budget, room kept for records and directories: this, plus so much
per allocation followed."""

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_size(text: str) -> int:
    """Bytes of a size such as ``10G``, ``512M``, ``1.5GiB`` or ``4096``
    (binary units, as ``ls -h`` counts). Raises ``ValueError`` with a
    message for anything else."""
    found = _SIZE.fullmatch(text.strip())
    if found is None or (found.group(3) and not found.group(2) and found.group(3).lower() != "b"):
        raise ValueError(f"{text!r} is not a size (e.g. 10G, 512M, 1.5GiB)")
    number, unit = float(found.group(1)), found.group(2).lower()
    size = int(number * _UNITS[unit])
    if size <= 0:
        raise ValueError(f"{text!r}: a budget must be more than 0 bytes")
    return size


def needed(nbytes: int) -> int:
    """The room to ask for before writing ``nbytes``: rounded up to whole
    blocks, plus one for the file's next block of metadata."""
    return -(-nbytes // BLOCK) * BLOCK + BLOCK


def eviction_order(allocs: list) -> list:
    """The kept allocations in the order their copies are removed to make
    room: gone ones first, longest gone first (by when last seen); then the
    others, least recently written first."""
    def order(alloc) -> tuple:
        if alloc.gone:
            return (0, alloc.summary.get("last_seen") or 0.0)
        return (1, alloc.last_write)

    return sorted(allocs, key=order)


class Budget:
    """The bytes DIR takes on disk (``total``), against ``limit`` (None: no
    budget). ``evict(alloc)`` removes an allocation's copy and returns the
    bytes it freed."""

    def __init__(self, limit: int | None, evict: Callable[[object], int]) -> None:
        self.limit = limit
        self.total = 0
        self._evict = evict

    def room(self, writer, wanted: int, allocs: list) -> int:
        """How many of ``wanted`` bytes ``writer`` may write now: copies of
        the other ``allocs`` are removed first, oldest first, to make room;
        0 when even that is not enough (``writer`` gets a note)."""
        if self.limit is None:
            return wanted
        live = sum(1 for a in allocs if a.source is not None)
        limit = self.limit - min(self.limit // 8, META_RESERVE + live * META_PER_ALLOC)
        if self.total + needed(wanted) > limit:
            amount = self.total + needed(wanted) - limit
            for victim in eviction_order([a for a in allocs if a is not writer and a.usage > 0]):
                if amount <= 0:
                    break
                amount -= self._evict(victim)
        left = limit - self.total - BLOCK
        allowed = left - left % BLOCK
        if allowed <= 0:
            writer.note_once("budget", f"its copy fills the budget ({size_words(self.limit)}): "
                             "copying paused until there is room")
            return 0
        return min(wanted, allowed)

    def fit(self, allocs: list) -> None:
        """Remove the oldest copies until the directory is within the budget
        (it was started with a smaller one)."""
        if self.limit is not None and self.total > self.limit:
            amount = self.total - self.limit
            for victim in eviction_order([a for a in allocs if a.usage > 0]):
                if amount <= 0:
                    return
                amount -= self._evict(victim)
