"""``AllocFileInfo``: what ``list`` and ``stat`` report about an entry, and
the conversion of a file's modification time into a ``datetime`` that never
fails, whatever time a task gave its file."""

from __future__ import annotations

import os
import stat as stat_module
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

MOD_TIME_MIN = datetime.min.replace(tzinfo=timezone.utc)
"""The ``mod_time`` of a file whose time is before year 1, or not a number:
the earliest time a ``datetime`` holds (0001-01-01, UTC)."""
MOD_TIME_MAX = datetime.max.replace(tzinfo=timezone.utc)
"""The ``mod_time`` of a file whose time is after year 9999: the latest time a
``datetime`` holds (9999-12-31 23:59:59.999999, UTC). A task can give its
own files any 64-bit time (``touch -d @1099511627776``), far beyond it."""

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MIN_MICROS = (MOD_TIME_MIN - _EPOCH) // timedelta(microseconds=1)
_MAX_MICROS = (MOD_TIME_MAX - _EPOCH) // timedelta(microseconds=1)


def utc_from_micros(micros: int) -> datetime:
    """The UTC time ``micros`` microseconds after the epoch, clamped to
    :data:`MOD_TIME_MIN` .. :data:`MOD_TIME_MAX` (never raises)."""
    if micros <= _MIN_MICROS:
        return MOD_TIME_MIN
    if micros >= _MAX_MICROS:
        return MOD_TIME_MAX
    return _EPOCH + timedelta(microseconds=micros)


def utc_from_timestamp(seconds: float) -> datetime:
    """``datetime.fromtimestamp(seconds, timezone.utc)`` made total: a time
    outside what a ``datetime`` holds is clamped to :data:`MOD_TIME_MIN` or
    :data:`MOD_TIME_MAX` (NaN to the former) instead of raising."""
    try:
        micros = round(seconds * 1_000_000)
    except (ValueError, OverflowError):  # NaN, infinities
        return MOD_TIME_MAX if seconds > 0 else MOD_TIME_MIN
    return utc_from_micros(micros)


def stat_mod_time(st: os.stat_result) -> datetime:
    """The modification time of a ``stat`` result, as :func:`utc_from_timestamp`."""
    ns = st.st_mtime_ns
    if isinstance(ns, int):
        return utc_from_micros(ns // 1000)
    return utc_from_timestamp(st.st_mtime)


def time_in_range(when: datetime) -> bool:
    """False for a time that stands for one out of range (:data:`MOD_TIME_MIN`
    or :data:`MOD_TIME_MAX`, or beyond them), which a front-end shows as
    "out of range" rather than as that date."""
    if when.tzinfo is None:
        return datetime.min < when < datetime.max
    return MOD_TIME_MIN < when < MOD_TIME_MAX


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
        """A one-row card for Jupyter (see ``allocdir.display``; no I/O)."""
        from . import display

        return display.info_html(self)

    def _repr_pretty_(self, p, cycle: bool) -> None:
        """One readable line for a terminal IPython."""
        from . import display

        p.text(display.info_text(self))


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
        from . import display

        return display.listing_html(self, path=self.path)

    def _repr_pretty_(self, p, cycle: bool) -> None:
        """An aligned listing for a terminal IPython."""
        from . import display

        p.text("[...]" if cycle else display.listing_text(self, path=self.path))


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

