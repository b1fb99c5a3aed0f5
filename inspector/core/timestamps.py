"""Go to a time: the first line at or after a timestamp, by binary search on offsets.

Logs are written in time order, so the line for ``2026-11-28T10:00`` is
found by bisecting the byte range: read the first whole line after the
middle, compare its timestamp, keep one half. About 30 small reads find the
place in a file of any size; a short forward scan then picks the exact line.

A line's timestamp is the first ISO-8601-like date and time in its first
``STAMP_WINDOW`` bytes (``2026-11-28T10:00:00.123Z``, ``2026-11-28
10:00:00,123``, Go's ``2026/11/28 10:00:00``, bracketed or in a JSON
``"time"`` field that comes first). Time zones are not converted: times are
compared as written. Lines without one (stack traces, continuation lines)
are skipped over.
"""

from __future__ import annotations

import re
import threading
from datetime import date

from .search import Reader, SearchCancelled

STAMP_WINDOW = 64
"""A timestamp counts only when it starts within this many bytes of the line start."""
WINDOW = 64 * 1024
"""Below this range the bisection stops and the lines are scanned."""
SCAN = 1024 * 1024

_STAMP = re.compile(
    rb"(\d{4})[-/](\d\d)[-/](\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?"
)
_QUERY = re.compile(
    r"\s*(?:(\d{4})[-/](\d\d)[-/](\d\d))?[T ]?(?:(\d\d?):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?\s*$"
)


def _key(groups) -> bytes:
    year, month, day, hour, minute, second, frac = (
        (g.decode() if isinstance(g, bytes) else g) if g is not None else None for g in groups
    )
    return (
        f"{year}{month}{day}{int(hour or 0):02d}{minute or '00'}{second or '00'}"
        f"{(frac or '').ljust(9, '0')}"
    ).encode()


def line_stamp(line: bytes) -> bytes | None:
    """The sortable key of a line's leading timestamp, or None."""
    found = _STAMP.search(line, 0, STAMP_WINDOW + 32)
    if found is None or found.start() > STAMP_WINDOW:
        return None
    return _key(found.groups())


def parse_query(text: str, reference: bytes | None = None) -> bytes:
    """The key of a time the user typed: ``2026-11-28T10:00``, ``2026-11-28``,
    ``2026-11-28 10:00:05.5``, or just ``10:00`` (on the date of ``reference``,
    a key from :func:`line_stamp`). Raises ValueError for anything else,
    and for a date or time of day that does not exist (``T25:00``)."""
    found = _QUERY.fullmatch(text)
    if found is None or not text.strip():
        raise ValueError(f"not a timestamp: {text!r} (e.g. 2026-11-28T10:00)")
    year, month, day, hour, minute, second, frac = found.groups()
    if year is None:
        if hour is None:
            raise ValueError(f"not a timestamp: {text!r} (e.g. 2026-11-28T10:00)")
        _check_time(text, hour, minute, second)
        if reference is None:
            raise ValueError("a time alone needs a line with a date on screen")
        ref = reference.decode()
        year, month, day = ref[0:4], ref[4:6], ref[6:8]
    else:
        _check_date(text, year, month, day)
        if hour is not None:
            _check_time(text, hour, minute, second)
    return _key((year, month, day, hour, minute, second, frac))


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
    while pos < limit:
        if cancel is not None and cancel.is_set():
            raise SearchCancelled()
        data = read(pos, min(SCAN, limit - pos + STAMP_WINDOW * 4))
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


def find_time(read: Reader, size: int, key: bytes, *,
              cancel: threading.Event | None = None) -> int | None:
    """The offset of the first line whose timestamp is at or after ``key``
    (from :func:`parse_query`), or None when every timestamp is earlier or
    the file has none. Cancellable (SearchCancelled)."""
    lo, hi = 0, size
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
