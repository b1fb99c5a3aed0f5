"""File times as ``datetime`` objects that never fail, whatever time a task
gave its files: a tmpfs keeps any 64-bit mtime (``touch -d @1099511627776``
is year 36812), which ``datetime.fromtimestamp`` refuses. A time out of
range is clamped and recognised as such, so that every front-end says "out
of range" rather than a date or a traceback."""

from __future__ import annotations

import os
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
