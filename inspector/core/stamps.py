"""What time a log line says: the one rule that `:@time`, records and merging use.

A line's timestamp is the first one that starts within its first
:data:`STAMP_WINDOW` bytes, in any of these forms:

- ISO 8601 / RFC 3339 dates with an optional time: ``2026-11-28T10:15:00.123Z``,
  ``2026-11-28 10:15:00,123``, Go's ``2026/11/28 10:15:00``, with an
  optional zone (``Z``, ``+02:00``, ``-0700``), bracketed, or the value of
  a JSON ``"time"`` field or a logfmt ``ts=`` that comes first;
- epoch numbers in JSON and logfmt (``"ts":1732795200.123``, zap's
  default; ``"time":1732795200123`` in milliseconds, microseconds or
  nanoseconds, told apart by their digits; ``ts=1732795200``);
- the common log format of nginx and Apache access logs
  (``[28/Nov/2026:10:15:00 +0000]``).

The key of a timestamp is bytes of digits, ``YYYYMMDDhhmm`` then the
seconds and their fraction as written, compared as bytes: a time with a
zone (or an epoch) is converted to UTC, so times written with different
offsets compare as the instants they are; a time without a zone is
compared as written. A shorter key that is a prefix of a longer one is the
same instant written with less precision and sorts just before it.
:data:`LOWEST` (``b""``) is the key of "no time": it sorts before every
time. A date or zone that cannot exist (``2026-13-45``) is compared as
written, never raised.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import NamedTuple

STAMP_WINDOW = 64
"""A timestamp counts only when it starts within this many bytes of the line start."""
LOWEST = b""
"""The key of a line without a time of its own: before every time."""

# Fields in range only: "9999-99-99T99:99:99" is no time (as a key it would
# sort after every real one and hold its whole source at the end of a merge).
_ISO = (rb"(\d{4}[-/](?:0[1-9]|1[0-2])[-/](?:0[1-9]|[12]\d|3[01])"
        rb"(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::(?:[0-5]\d|60)(?:[.,]\d{1,9})?)?)?)"
        rb"((?:[Zz]|[+-]\d\d(?::?\d\d)?)(?![\w:]))?")
_EPOCH = rb"""(?:"(?:ts|time|timestamp)"\s*:\s*|\b(?:ts|time|timestamp)=)(\d{9,19}(?:\.\d{1,9})?)(?![\d.])"""
_CLF = rb"\[(\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\]"
_ANY = rb"(?:" + _ISO + rb"|" + _EPOCH + rb"|" + _CLF + rb")"

_IN_LINE = re.compile(rb"[^\n]{0,%d}?" % STAMP_WINDOW + _ANY)
_LINES = re.compile(rb"(?:[^\n]{0,%d}?" % STAMP_WINDOW + _ANY + rb")?[^\n]*\n")
_DROP = b"-/:T .,"
_ZULU = (b"", b"Z", b"z")
_MONTHS = {name.encode(): i + 1 for i, name in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}


class Reference(NamedTuple):
    """What a line's timestamp says besides its key: its date as written
    (``b"20261128"``) and its zone's offset in minutes (None: no zone), so
    that a time typed alone (``10:15``) is read on that date, in that zone."""

    date: bytes
    offset: int | None


def line_stamp(line: bytes) -> bytes | None:
    """The key of the line's timestamp, or None when it has none."""
    found = _IN_LINE.match(line)
    return None if found is None else _key(*found.groups())


def line_reference(line: bytes) -> Reference | None:
    """The date and zone of the line's timestamp (see :class:`Reference`), or None."""
    found = _IN_LINE.match(line)
    if found is None:
        return None
    iso, zone, epoch, clf = found.groups()
    if iso is not None:
        return Reference(iso[:10].translate(None, _DROP), zone_minutes(zone))
    if epoch is not None:
        return Reference(_epoch_key(epoch)[:8], 0)
    day, month, rest = clf.split(b"/", 2)
    return Reference(rest[:4] + b"%02d" % _MONTHS.get(month, 0) + day,
                     zone_minutes(rest[-5:]))


def stamp_keys(data: bytes) -> list[bytes]:
    """The key of each line of ``data`` (whole lines, ending with a newline),
    :data:`LOWEST` for a line without a timestamp: the rule of
    :func:`line_stamp`, applied to a chunk at once."""
    keys = []
    append = keys.append
    for iso, zone, epoch, clf in _LINES.findall(data):
        if iso and zone in _ZULU:
            append(iso.translate(None, _DROP))
        elif iso or epoch or clf:
            append(_key(iso or None, zone or None, epoch or None, clf or None))
        else:
            append(LOWEST)
    return keys


def _key(iso: bytes | None, zone: bytes | None, epoch: bytes | None,
         clf: bytes | None) -> bytes:
    if iso is not None:
        digits = iso.translate(None, _DROP)
        minutes = zone_minutes(zone)
        return digits if not minutes else to_utc(digits, minutes)
    if epoch is not None:
        return _epoch_key(epoch)
    return _clf_key(clf)


def zone_minutes(zone: bytes | None) -> int | None:
    """The offset of a zone in minutes east of UTC (``Z``: 0), None for none."""
    if not zone:
        return None
    if zone in (b"Z", b"z"):
        return 0
    sign = -1 if zone[:1] == b"-" else 1
    digits = zone[1:].replace(b":", b"")
    hours, minutes = int(digits[:2]), int(digits[2:4] or b"0")
    return sign * (hours * 60 + minutes)


def to_utc(digits: bytes, minutes: int) -> bytes:
    """``digits`` (a key as written) moved to UTC from a zone ``minutes`` east."""
    if len(digits) < 12:  # a date alone: no time of day to move
        return digits
    try:
        written = datetime.strptime(digits[:12].decode(), "%Y%m%d%H%M")
    except ValueError:  # a date that cannot exist: compared as written
        return digits
    utc = written - timedelta(minutes=minutes)
    return utc.strftime("%Y%m%d%H%M").encode() + digits[12:]


def _epoch_key(number: bytes) -> bytes:
    """The key of an epoch time: seconds, or milli-, micro- or nanoseconds by
    how many digits it has."""
    whole, _, fraction = number.partition(b".")
    scale = 0 if len(whole) <= 11 else 3 if len(whole) <= 14 else 6 if len(whole) <= 17 else 9
    if scale:
        fraction = whole[-scale:] + fraction
        whole = whole[:-scale]
    try:
        when = time.gmtime(int(whole))
    except (OverflowError, OSError, ValueError):
        return whole + fraction
    return time.strftime("%Y%m%d%H%M%S", when).encode() + fraction


def _clf_key(stamp: bytes) -> bytes:
    """The key of a common log format time, ``28/Nov/2026:10:15:00 +0000``."""
    day, month, rest = stamp.split(b"/", 2)
    digits = rest[:4] + b"%02d" % _MONTHS.get(month, 0) + day + rest[5:13].replace(b":", b"")
    return to_utc(digits, zone_minutes(rest[-5:]) or 0)


def key_seconds(key: bytes) -> float | None:
    """The key as seconds since the epoch (for spans and percentages), or None."""
    if len(key) < 8:
        return None
    padded = (key[:14] + b"0" * 14)[:14]
    if not padded.isdigit():
        return None
    try:  # not strptime: its first call costs milliseconds, and a screen asks for a percentage
        when = datetime(int(padded[:4]), int(padded[4:6]), int(padded[6:8]), int(padded[8:10]),
                        int(padded[10:12]), int(padded[12:14]))
    except ValueError:
        return None
    fraction = key[14:]
    seconds = (when - datetime(1970, 1, 1)).total_seconds()
    return seconds + (int(fraction) / 10 ** len(fraction) if fraction.isdigit() else 0.0)


def fixed_key(key: bytes) -> bytes:
    """The key padded to one width, ``YYYYMMDDhhmmss`` and nine digits of
    fraction (a table column a parser reads with one format)."""
    return key[:14].ljust(14, b"0") + key[14:23].ljust(9, b"0")


def seconds_key(seconds: float) -> bytes:
    """The key of a time given as seconds since the epoch (to the microsecond)."""
    whole = int(seconds // 1)
    micros = int(round((seconds - whole) * 1_000_000))
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(whole)).encode() + b"%06d" % micros
