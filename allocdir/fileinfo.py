"""``AllocFileInfo``: what ``list`` and ``stat`` report about an entry (its
modification time converted by :mod:`allocdir.times`, which never fails),
and ``FileList``, what ``list`` returns. Both show themselves in Jupyter
through :mod:`allocdir.render` (pure rendering, no I/O)."""

from __future__ import annotations

import os
import stat as stat_module
from dataclasses import dataclass
from datetime import datetime

from . import render
from .times import (  # noqa: F401 (the time helpers are part of this module's API)
    MOD_TIME_MAX, MOD_TIME_MIN, stat_mod_time, time_in_range, utc_from_micros,
    utc_from_timestamp,
)


@dataclass(frozen=True)
class AllocFileInfo:
    """One entry of an alloc dir, as Nomad's ``cstructs.AllocFileInfo``.

    ``file_mode`` is ls style (``drwxrwxrwt``); ``content_type`` is only
    filled in by ``stat``. ``mod_time`` is timezone-aware (UTC); a time a
    ``datetime`` cannot hold is clamped to :data:`MOD_TIME_MIN` or
    :data:`MOD_TIME_MAX`, and :attr:`mod_time_in_range` is then False.
    """

    name: str
    is_dir: bool
    size: int
    file_mode: str
    mod_time: datetime
    content_type: str = ""

    @classmethod
    def from_stat(cls, name: str, st: os.stat_result, content_type: str = "") -> "AllocFileInfo":
        """Build the info of ``name`` from its ``stat``/``lstat`` result.
        Never raises, whatever the times in ``st``."""
        return cls(
            name=name,
            is_dir=stat_module.S_ISDIR(st.st_mode),
            size=st.st_size,
            file_mode=stat_module.filemode(st.st_mode),
            mod_time=stat_mod_time(st),
            content_type=content_type,
        )

    @property
    def mod_time_in_range(self) -> bool:
        """False when the file's time was beyond what ``mod_time`` can hold
        (it then holds :data:`MOD_TIME_MIN` or :data:`MOD_TIME_MAX`)."""
        return time_in_range(self.mod_time)

    @property
    def is_symlink(self) -> bool:
        """True when the entry is a symbolic link (as ``list`` sees it)."""
        return self.file_mode.startswith("l")

    @property
    def is_regular(self) -> bool:
        """True when the entry is a regular file."""
        return self.file_mode.startswith("-")

    def _repr_html_(self) -> str:
        """A one-row card for Jupyter (``allocdir.render``; no I/O)."""
        return render.info_html(self)

    def _repr_pretty_(self, p, cycle: bool) -> None:
        """One readable line for a terminal IPython."""
        p.text(render.info_text(self))


class FileList(list):
    """What ``AllocDir.list`` returns: a plain ``list`` of ``AllocFileInfo``
    (it compares equal to one and behaves as one) that remembers the
    directory it lists (``path``, relative to the alloc dir), so that Jupyter
    shows it as a table and secrets in it as locked."""

    def __init__(self, infos=(), path: str = "") -> None:
        super().__init__(infos)
        self.path = path

    def _repr_html_(self) -> str:
        """A table (name, mode, size, modified, type) for Jupyter; no I/O."""
        return render.listing_html(self, path=self.path)

    def _repr_pretty_(self, p, cycle: bool) -> None:
        """An aligned listing for a terminal IPython."""
        p.text("[...]" if cycle else render.listing_text(self, path=self.path))


def scan_dir(fd: int, limit: int | None = None) -> tuple[list[AllocFileInfo], bool]:
    """The entries of the directory open as ``fd`` as ``lstat`` sees them,
    sorted by name: at most ``limit`` (all without one), and whether there
    were more. An entry removed while being listed is left out."""
    infos: list[AllocFileInfo] = []
    more = False
    with os.scandir(fd) as entries:
        for entry in entries:
            if limit is not None and len(infos) >= limit:
                more = True
                break
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            infos.append(AllocFileInfo.from_stat(entry.name, st))
    infos.sort(key=lambda info: info.name)
    return infos, more

