"""What a usage command or view measures: PATH recognised by its layout, and
the file system and allocations it is judged against.

A client root (or a data_dir, measured as its ``alloc/``) is broken down
per allocation; an alloc dir per task; any other directory per
subdirectory. The GC thresholds come from ``--config`` when given, else
Nomad's defaults (labelled as such).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from allocdir import PathKind, is_alloc_dir, recognize

from ..text import printable
from .config import AgentConfig
from .model import ALLOC, DIR, ROOT
from .thresholds import GcSettings, GcStatus, fs_usage


class TargetError(Exception):
    """PATH cannot be measured: the one-line reason."""


@dataclass(frozen=True)
class Target:
    """A measured directory: ``path`` (absolute), what it is (``ROOT``,
    ``ALLOC`` or ``DIR``), the alloc dirs in it (for the process map and
    ``gc_max_allocs``) and the GC settings to judge its file system by."""

    path: str
    kind: str
    given: str
    alloc_dirs: tuple[str, ...] = ()
    gc: GcSettings = field(default_factory=GcSettings)

    def status(self) -> GcStatus:
        """The file system holding ``path`` against the thresholds (blocking)."""
        return GcStatus(fs_usage(self.path), self.gc, len(self.alloc_dirs))

    @property
    def description(self) -> str:
        """What is measured, in words."""
        what = {ROOT: "client root", ALLOC: "alloc dir"}.get(self.kind, "directory")
        if self.given != self.path:
            return f"data_dir {printable(self.given)} → {what} {printable(self.path)}"
        return f"{what} {printable(self.path)}"


def resolve(path: str | None, config: AgentConfig | None = None) -> Target:
    """The target for PATH (or, without it, the configuration's client root).
    Blocking: it lists PATH."""
    gc = config.gc if config is not None else GcSettings()
    if path is None:
        path = config.alloc_root if config is not None else None
        if path is None:
            raise TargetError("no PATH, and no data_dir or alloc_dir in the configuration")
    given = os.path.abspath(path)
    try:
        found = recognize(given)
    except FileNotFoundError:
        raise TargetError("no such file or directory") from None
    except NotADirectoryError:
        raise TargetError("not a directory") from None
    except OSError as exc:
        raise TargetError(os.strerror(exc.errno or 0).lower()) from None
    if found.kind is PathKind.ALLOC_DIR:
        return Target(given, ALLOC, given, (given,), gc)
    root = found.alloc_root
    if root is None:
        return Target(given, DIR, given, (), gc)
    return Target(root, ROOT, given, tuple(alloc_dirs_in(root)), gc)


def alloc_dirs_in(root: str) -> list[str]:
    """The alloc dirs directly in the client root ``root`` (no link followed)."""
    try:
        with os.scandir(root) as entries:
            names = sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))
    except OSError:
        return []
    return [p for p in (os.path.join(root, n) for n in names) if is_alloc_dir(p)]
