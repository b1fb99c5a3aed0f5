"""Go to a time: the first line at or after a timestamp, by binary search on offsets.

Logs are written in time order, so the line for ``2026-11-28T10:00`` is
found by bisecting the byte range: read the first whole line after the
middle, compare its timestamp, keep one half. About 30 small reads find the
place in a file of any size; a short forward scan then picks the exact line.

What a line's timestamp is, and how two compare (times with a zone as
instants, in UTC; times without one as written), is :mod:`inspector.core.stamps`'s
rule. Lines without one (stack traces, continuation lines) are skipped over.
"""

from __future__ import annotations

import re
import threading
from datetime import date

from .search import Reader, SearchCancelled
from .stamps import STAMP_WINDOW, Reference, to_utc, zone_minutes, line_stamp

__all__ = ["STAMP_WINDOW", "find_time", "has_stamps", "line_stamp", "parse_query"]

WINDOW = 64 * 1024
"""Below this range the bisection stops and the lines are scanned."""
SCAN = 1024 * 1024
FIRST_READ = 4096
"""The first read of a look for a timestamped line (reads grow to ``SCAN``):
a bisection step over lines that all have one costs a page, not a megabyte."""

_QUERY = re.compile(
    r"\s*(?:(\d{4})[-/](\d\d)[-/](\d\d))?[T ]?(?:(\d\d?):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?"
    r"\s*([Zz]|[+-]\d\d(?::?\d\d)?)?\s*$"
)


def parse_query(text: str, reference: Reference | bytes | None = None) -> bytes:
    """The key of a time the user typed: ``2026-11-28T10:00``, ``2026-11-28``,
    ``2026-11-28 10:00:05.5``, with a zone (``Z``, ``+02:00``) or not, or
    just ``10:00``. A time alone is read on the date of ``reference`` (the
    top line's, a :class:`~inspector.core.stamps.Reference`, or a key), and
    a time without a zone in the reference's zone (as the log writes it).
    Raises ValueError for anything else, and for a date or time of day that
    does not exist (``T25:00``)."""
    found = _QUERY.fullmatch(text)
    if found is None or not text.strip():
        raise ValueError(f"not a timestamp: {text!r} (e.g. 2026-11-28T10:00)")
    year, month, day, hour, minute, second, frac, zone = found.groups()
    if isinstance(reference, bytes):
        reference = Reference(reference[:8], None)
    if year is None:
        if hour is None:
            raise ValueError(f"not a timestamp: {text!r} (e.g. 2026-11-28T10:00)")
        _check_time(text, hour, minute, second)
        if reference is None:
            raise ValueError("a time alone needs a line with a date on screen")
        ref = reference.date.decode()
        year, month, day = ref[0:4], ref[4:6], ref[6:8]
    else:
        _check_date(text, year, month, day)
        if hour is not None:
            _check_time(text, hour, minute, second)
    digits = f"{year}{month}{day}"
    if hour is not None:
        digits += f"{int(hour):02d}{minute}{second or ''}{(frac or '') if second else ''}"
    offset = zone_minutes(zone.encode()) if zone else (
        reference.offset if reference is not None else None)
    return to_utc(digits.encode(), offset) if offset else digits.encode()


def _check_date(text: str, year: str, month: str, day: str) -> None:
    """ValueError unless the date exists (no month 13, no 30 February)."""
    try:
        date(int(year), int(month), int(day))
    except ValueError as exc:
        raise ValueError(f"not a valid date: {text.strip()!r} ({exc})") from None


def _check_time(text: str, hour: str, minute: str, second: str | None) -> None:
    """ValueError unless the time of day exists (a leap second :60 is allowed)."""
    if int(hour) > 23 or int(minute) > 59 or (second is not None and int(second) > 60):
        raise ValueError(f"not a valid time of day: {text.strip()!r} (00:00 to 23:59:60)")


def _first_stamp(read: Reader, offset: int, limit: int, *, aligned: bool,
                 cancel: threading.Event | None) -> tuple[int, bytes] | None:
    """The first line starting at or after ``offset`` (and before ``limit``)
    that has a timestamp: (its start, its key). ``aligned`` says ``offset``
    is a line start; otherwise the partial line is skipped."""
    pos = offset
    skip = not aligned and offset > 0
    chunk = FIRST_READ
    while pos < limit:
        if cancel is not None and cancel.is_set():
            raise SearchCancelled()
        data = read(pos, min(chunk, limit - pos + STAMP_WINDOW * 4))
        chunk = min(chunk * 4, SCAN)
        if not data:
            return None
        i = 0
        if skip:
            nl = data.find(b"\n")
            if nl < 0:
                pos += len(data)
                continue
            i, skip = nl + 1, False
        while i < len(data) and pos + i < limit:
            nl = data.find(b"\n", i)
            line = data[i : (nl if nl >= 0 else len(data))]
            if nl < 0 and pos + len(data) < limit and len(line) < STAMP_WINDOW + 32:
                break  # a line cut by the read: read again from its start
            stamp = line_stamp(line)
            if stamp is not None:
                return pos + i, stamp
            if nl < 0:
                i = len(data)
                break
            i = nl + 1
        if i == 0:
            return None
        pos += i
    return None


def find_time(read: Reader, size: int, key: bytes, *, low: int = 0,
              cancel: threading.Event | None = None) -> int | None:
    """The offset of the first line (starting at or after ``low``, a line
    start) whose timestamp is at or after ``key`` (from :func:`parse_query`),
    or None when every timestamp is earlier or the file has none.
    Cancellable (SearchCancelled)."""
    lo, hi = low, size
    lo_aligned = True
    while hi - lo > WINDOW:
        mid = (lo + hi) // 2
        found = _first_stamp(read, mid, hi, aligned=False, cancel=cancel)
        if found is None:
            hi = mid
            continue
        start, stamp = found
        if stamp < key:
            lo, lo_aligned = start, True
        else:
            hi = mid
    pos = lo
    aligned = lo_aligned
    while True:
        found = _first_stamp(read, pos, size, aligned=aligned, cancel=cancel)
        if found is None:
            return None
        start, stamp = found
        if stamp >= key:
            return start
        nl = read(start, 64 * 1024).find(b"\n")
        if nl < 0:
            pos, aligned = start + 64 * 1024, False
        else:
            pos, aligned = start + nl + 1, True


def has_stamps(read: Reader, size: int, probe: int = 64 * 1024) -> bool:
    """Whether the first lines of the file start with timestamps."""
    return _first_stamp(read, 0, min(size, probe), aligned=True, cancel=None) is not None
