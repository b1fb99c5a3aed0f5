"""Where a snapshot goes when the user names no other place.

A snapshot dialog opens with a destination filled in, so the default is
what Enter writes to: it must be a place the snapshot rules accept
(:func:`inspector.core.actions.snapshot_place_refusal`), never inside an
allocation or below a client alloc root. An operator often runs the tool
from ``/var/lib/nomad/alloc`` itself, so the current directory is only the
first candidate; then ``$HOME``, then ``/var/tmp`` (kept across reboots,
unlike ``/tmp``). The first existing, writable directory the rules accept
wins, and when it is not the current directory the default says why.

Blocking (it looks at the disk): call it from a worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from allocdir import AllocDir

from .actions import snapshot_place_refusal
from .destination import client_roots, enclosing_allocation, holding_client_root, read_only
from .roots import Root
from .text import printable

FALLBACK_DIRS = ("~", "/var/tmp")
"""The directories tried after the current one, in order (``~``: ``$HOME``)."""


@dataclass(frozen=True)
class SnapshotDefault:
    """The default file for a snapshot: ``path`` absolute ("" when no
    candidate is acceptable), ``why`` one line saying why it is not in the
    current directory ("" when it is)."""

    path: str
    why: str


def snapshot_file_name(alloc: AllocDir) -> str:
    """The default file name of a snapshot of ``alloc``: ``<alloc id>.tar``."""
    return f"{alloc.alloc_id}.tar"


def unfit_reason(alloc: AllocDir, directory: str, root: Root) -> str | None:
    """Why ``directory`` is no place for a default snapshot of ``alloc``,
    in a few words ("it is in the client alloc root /x"), or None."""
    try:
        real = os.path.realpath(directory)
        if not os.path.isdir(real):
            return "it is not a directory"
        enclosing = enclosing_allocation(real, itself=True)
        if enclosing is not None:
            return f"it is {enclosing}"
        top = holding_client_root(real, client_roots(alloc, root), direct_child_ok=False)
        if top is not None:
            return f"it is in the client alloc root {printable(top)}"
        if read_only(real):
            return "its file system is read-only"
        if not os.access(real, os.W_OK):
            return "it is not writable"
        if snapshot_place_refusal(alloc, os.path.join(real, snapshot_file_name(alloc)), root):
            return "the snapshot rules refuse it"
    except OSError as exc:
        return printable(exc.strerror or exc)
    return None


def default_snapshot_path(alloc: AllocDir, root: Root, cwd: str) -> SnapshotDefault:
    """The default destination of a snapshot of ``alloc`` for a user in
    ``cwd`` ("" when the current directory is gone): the current directory
    if the rules accept it, else ``$HOME``, else ``/var/tmp``."""
    name = snapshot_file_name(alloc)
    why = "the current directory is gone"
    if cwd:
        reason = unfit_reason(alloc, cwd, root)
        if reason is None:
            return SnapshotDefault(os.path.join(cwd, name), "")
        why = f"not in the current directory {printable(cwd)}: {reason}"
    for candidate in FALLBACK_DIRS:
        directory = os.path.expanduser(candidate)
        if not os.path.isabs(directory) or unfit_reason(alloc, directory, root) is not None:
            continue
        return SnapshotDefault(os.path.join(os.path.realpath(directory), name), why)
    return SnapshotDefault("", f"{why}, and neither $HOME nor /var/tmp can take it: "
                               "type a path")


__all__ = ["FALLBACK_DIRS", "SnapshotDefault", "default_snapshot_path", "snapshot_file_name",
           "unfit_reason"]
