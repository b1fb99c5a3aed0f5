"""Where a snapshot or a move may write, judged without trusting a layout
a task owns.

A task can make its allocation look like anything (rename ``alloc/data``
and ``alloc/tmp`` and it is no longer recognised as an alloc dir), so
recognition alone cannot say where root may write. The rules:

- Nothing below a client alloc root: the client root of the root opened,
  and the one holding the allocation acted on. For a move, a directory
  directly in it (an existing alloc dir, or a new one to build) is the
  one exception: that is where Nomad keeps allocations, and no task can
  write in the client root itself.
- Nothing inside a directory that is recognisably an alloc dir or a task
  dir (a ``local/`` beside a ``secrets/``, or a secrets mount marker),
  wherever it is.

These are checks of the path; the write itself then goes through
directory fds opened ``O_NOFOLLOW`` (:mod:`allocdir.destination`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from allocdir import (
    SHARED_ALLOC_DIRS, SHARED_ALLOC_NAME, TASK_LOCAL, TASK_SECRETS, AllocDir, is_alloc_dir,
)

from .roots import Root
from .text import printable

SECRETS_MARKER = ".nomad-mount"
"""The file a secrets tmpfs holds (``allocdir.task_dir``)."""


def within(path: str, top: str) -> bool:
    """True when ``path`` is ``top`` or below it (both absolute, normalised)."""
    return path == top or path.startswith(top.rstrip("/") + "/")


def parents(path: str) -> Iterable[str]:
    """The proper ancestors of ``path``, nearest first, up to ``/``."""
    while True:
        parent = os.path.dirname(path)
        if parent == path:
            return
        yield parent
        path = parent


def client_roots(alloc: AllocDir | None = None, root: Root | None = None) -> list[str]:
    """The client alloc roots (real paths) a destination must stay out of:
    the one holding ``alloc`` (an ``AllocDir``; a file system without an
    alloc dir, such as an archive, holds none) and the one of the root
    opened (``root``, a :class:`~inspector.core.roots.Root`)."""
    found = []
    alloc_dir = getattr(alloc, "alloc_dir", None)
    if alloc_dir:
        found.append(os.path.dirname(os.path.realpath(alloc_dir)))
    if root is not None and not root.single:
        found.append(os.path.realpath(root.path))
    return list(dict.fromkeys(found))


def _is_dir(path: str) -> bool:
    try:
        return os.path.isdir(path) and not os.path.islink(path)
    except OSError:
        return False


def _looks_like(path: str) -> str | None:
    """What ``path`` looks like by the signs a task cannot hide without
    breaking its own task ("the task dir", "what looks like an alloc
    dir"), or None."""
    shared = os.path.join(path, SHARED_ALLOC_NAME)
    if os.path.basename(path) != SHARED_ALLOC_NAME and _is_dir(shared) \
            and any(_is_dir(os.path.join(shared, d)) for d in SHARED_ALLOC_DIRS):
        return "what looks like an alloc dir"
    secrets = os.path.join(path, TASK_SECRETS)
    if _is_dir(secrets) and (_is_dir(os.path.join(path, TASK_LOCAL))
                             or os.path.lexists(os.path.join(secrets, SECRETS_MARKER))):
        return "the task dir"
    return None


def enclosing_allocation(path: str, *, itself: bool) -> str | None:
    """Why ``path`` (absolute, real) lies in an allocation: "inside the
    alloc dir X" for the nearest ancestor (or ``path`` itself, with
    ``itself``) recognised as an alloc dir, else for the nearest that looks
    like an alloc or task dir; None otherwise."""
    candidates = [path, *parents(path)] if itself else list(parents(path))
    for candidate in candidates:
        if is_alloc_dir(candidate):
            return f"inside the alloc dir {printable(candidate)}"
    for candidate in candidates:
        what = _looks_like(candidate)
        if what is not None:
            return f"inside {what} {printable(candidate)}"
    return None


def holding_client_root(path: str, roots: list[str], *, direct_child_ok: bool) -> str | None:
    """The client root of ``roots`` that ``path`` (absolute, real) is or
    is inside (a direct child of it allowed with ``direct_child_ok``), where
    a task can change what is on the way; None when there is none."""
    for top in roots:
        if within(path, top) and not (direct_child_ok and os.path.dirname(path) == top):
            return top
    return None


def read_only(path: str) -> bool:
    """True when the file system ``path`` is on is mounted read-only."""
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def mount_point(path: str) -> str:
    """The mount point of the file system ``path`` (an existing directory) is on."""
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        path = os.path.dirname(path)
    return path
