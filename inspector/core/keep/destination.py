"""Where a keep directory may be: by the rule of every destination
(:mod:`inspector.core.destination`), never inside an allocation or below
the client root, whatever a task made of their layout; nor holding the
client root or the data_dir. Symlinks on the way count only where no one
but the operator could have made them (``trusted_realpath``)."""

from __future__ import annotations

import os

from allocdir.destination import UnsafeDestinationError, trusted_realpath

from ..destination import enclosing_allocation, read_only, within
from ..roots import Root
from ..text import printable


def keep_refusal(path: str, root: Root, watched: str) -> str | None:
    """Why DIR ``path`` must not hold kept copies of ``root``'s allocations
    (``watched`` is the client root followed), or None. Nothing is created."""
    try:
        real = trusted_realpath(os.path.abspath(path))
    except UnsafeDestinationError as e:
        return str(e)
    except OSError as e:
        return f"cannot be looked at: {e.strerror}"
    shown = printable(real)
    tops = dict.fromkeys(os.path.realpath(p)
                         for p in (watched, root.path, root.given, *root.protected))
    for top in tops:
        if within(real, top):
            return (f"{shown} is inside {printable(top)}: a task there could steer the "
                    "writes; keep somewhere else")
    for top in tops:
        if within(top, real):
            return f"{shown} holds {printable(top)}: name a directory of its own"
    enclosing = enclosing_allocation(real, itself=True)
    if enclosing is not None:
        return f"{shown} is {enclosing}: its tasks could steer the writes; keep somewhere else"
    existing = real
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        return f"{printable(existing)} is not a directory"
    if read_only(existing):
        return f"{shown} is on a read-only file system"
    return None
