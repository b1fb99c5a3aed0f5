"""The budget of a keep directory: sizes as the operator types them, and
which allocation's copy goes first when the budget is reached."""

from __future__ import annotations

import re

BLOCK = 4096
"""What one more write may add on disk beyond its bytes (a block)."""

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
