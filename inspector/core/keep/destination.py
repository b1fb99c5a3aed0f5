"""Where a keep directory may be: the snapshot destination's rule (never
inside an alloc dir, whose tasks could steer the writes), and never inside
the client root or the data_dir whatever its layout, nor holding them."""

from __future__ import annotations

import os

from allocdir import is_alloc_dir

from ..actions import _enclosing_alloc_dir, _read_only, _within
from ..roots import Root
from ..text import printable


def keep_refusal(path: str, root: Root, watched: str) -> str | None:
    """Why DIR ``path`` must not hold kept copies of ``root``'s allocations
    (``watched`` is the client root followed), or None. Nothing is created."""
    real = os.path.realpath(os.path.abspath(path))
    shown = printable(real)
    tops = dict.fromkeys(os.path.realpath(p)
                         for p in (watched, root.path, root.given, *root.protected))
    for top in tops:
        if _within(real, top):
            return (f"{shown} is inside {printable(top)}: a task there could steer the "
                    "writes; keep somewhere else")
    for top in tops:
        if _within(top, real):
            return f"{shown} holds {printable(top)}: name a directory of its own"
    enclosing = real if is_alloc_dir(real) else _enclosing_alloc_dir(real)
    if enclosing is not None:
        return (f"{shown} is inside the alloc dir {printable(enclosing)}: its tasks could "
                "steer the writes; keep somewhere else")
    existing = real
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        return f"{printable(existing)} is not a directory"
    if _read_only(existing):
        return f"{shown} is on a read-only file system"
    return None
