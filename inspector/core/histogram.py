"""When did it start? Lines per level over time, for a log of any size.

:func:`scan_histogram` reads the document once, in chunks of whole lines
(:meth:`~inspector.core.session.lines.Lines.chunks`), and counts per time
bucket the error lines, the warnings and all lines. It hands out a partial
picture after every chunk (the buckets seen so far), stops when cancelled,
and keeps a bounded number of buckets whatever the span: it starts at one
second a bucket and widens them (2 s, 10 s, 30 s, 1 min, … 1 day, 1 week)
whenever the lines seen span more than twice the buckets asked for, folding
the counts it has into the wider buckets. So memory is a few hundred
counters and an 8 MiB chunk, for 2 GB or 2 TB.

Time: a chunk's lines belong to one bucket when its first and last
timestamps (:func:`~inspector.core.timestamps.line_stamp`) do; otherwise
the line where each bucket starts is found by bisection inside the chunk
(logs are written in time order). A line without a timestamp (a stack
trace) belongs with the line above it. Times are taken as written (UTC
when they carry no zone).

Levels, at the speed of ``grep`` and not line by line: the first lines of
the log say how it writes its levels (its *forms*: `` ERROR `` after the
timestamp, hclog's ``[ERROR]``, ``"level":"error"``, ``level=error``, as
:func:`~inspector.core.levels.level_span` reads a line); each chunk is
then searched once per form for the error and warning words written that
way (every spelling: ``ERR``, ``FATAL``, ``WARNING``…), plus Go's
``panic:`` and ``fatal error:`` at the start of a line (and klog's
``E1128 10:00:00`` where the log is klog's). A line counts once
per form. A mention written exactly as the log writes its levels (an INFO
line quoting ``[ERROR]`` in hclog's form) counts as that level; a mention
written otherwise (``INFO retried after ERROR`` in a log whose levels are
bracketed) does not.
"""

from __future__ import annotations

import calendar
import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache
from typing import NamedTuple

from .levels import ERROR, WARN, level_span, spellings
from .search import _check
from .stamps import fixed_key
from .timestamps import line_stamp

WIDTHS = (1, 2, 10, 30, 60, 120, 600, 1800, 3600, 7200, 21600, 43200, 86400, 604800,
          2419200, 31449600)
"""Bucket widths in seconds, each a multiple of the one before (1 s … 52 weeks)."""
MAX_BUCKETS = 120
SAMPLE_LINES = 4000
"""Lines of the first chunk looked at to learn how the log writes its levels."""
PROBE = 64 * 1024
"""Bytes looked at from each end of a chunk for its first and last timestamps."""
SPARKS = " ▁▂▃▄▅▆▇█"
_FIELD_KEY = re.compile(r"""(["']?(?:level|lvl|severity)["']?\s*[:=]\s*["']?)$""", re.I)
_LINE_HEAD = re.compile(rb"\n(?:panic: |fatal error: )")
_KLOG_ERROR = re.compile(rb"\n[EF][0-9]{4} [0-9]{2}:")
_KLOG_WARN = re.compile(rb"\nW[0-9]{4} [0-9]{2}:")


class Histogram(NamedTuple):
    """Counts per time bucket: bucket ``i`` starts at ``(first + i) * width``
    seconds after the epoch; ``counts[i]`` is (errors, warnings, lines)."""

    width: int = 1
    first: int = 0
    counts: tuple[tuple[int, int, int], ...] = ()
    untimed: int = 0
    """Lines before the first timestamp (in no bucket)."""
    scanned: int = 0
    """Bytes read so far."""
    total: int = 0
    """Bytes to read."""
    done: bool = False
    forms: tuple[str, ...] = ()
    """How the log writes its levels, as counted (e.g. ``Z ERROR ``)."""

    def start(self, index: int) -> datetime:
        """When bucket ``index`` starts (UTC)."""
        return datetime.fromtimestamp((self.first + index) * self.width, timezone.utc)

    def label(self, index: int) -> str:
        """Bucket ``index``'s start as ``:@`` takes it (``2026-11-28T10:15:00``)."""
        return self.start(index).strftime("%Y-%m-%dT%H:%M:%S")

    @property
    def width_words(self) -> str:
        """The bucket width in words ("10 s", "30 min", "1 h", "7 d")."""
        for unit, seconds in (("d", 86400), ("h", 3600), ("min", 60)):
            if self.width >= seconds and self.width % seconds == 0:
                return f"{self.width // seconds} {unit}"
        return f"{self.width} s"

    def totals(self) -> tuple[int, int, int]:
        """(errors, warnings, lines) over every bucket."""
        return tuple(sum(c[i] for c in self.counts) for i in range(3))  # type: ignore[return-value]

    def first_with(self, level: str) -> int | None:
        """The first bucket holding a line at ``level`` ("error" or "warn")."""
        column = 0 if level == ERROR else 1
        return next((i for i, c in enumerate(self.counts) if c[column]), None)

    def sparkline(self, column: int) -> str:
        """One character per bucket, its height the count of ``column`` (0
        errors, 1 warnings, 2 lines) against the highest bucket."""
        values = [c[column] for c in self.counts]
        peak = max(values, default=0)
        if not peak:
            return " " * len(values)
        steps = len(SPARKS) - 1
        return "".join(SPARKS[0 if not v else max(1, round(v * steps / peak))] for v in values)


def stamp_seconds(key: bytes) -> int:
    """Seconds since the epoch of a :func:`line_stamp` key (UTC as written;
    a key of a date alone is its midnight). Raises ValueError for a date no
    calendar has (the key of a date written that way)."""
    key = fixed_key(key)
    return (_day_seconds(key[0:8]) + int(key[8:10]) * 3600 + int(key[10:12]) * 60
            + int(key[12:14]))


@lru_cache(maxsize=64)
def _day_seconds(day: bytes) -> int:
    """Seconds since the epoch of midnight (UTC) of ``day`` (``b"20261128"``)."""
    return calendar.timegm((int(day[0:4]), int(day[4:6]), int(day[6:8]), 0, 0, 0, 0, 0, 0))


def _line_seconds(data: bytes, pos: int, end: int) -> int | None:
    """Seconds since the epoch of the timestamp of the line ``data[pos:end]``
    (:func:`line_stamp`'s rule), or None for a line without one (or with
    a date no calendar has: it goes with the line above)."""
    key = line_stamp(data[pos:min(end, pos + 128)])
    if key is None:
        return None
    try:
        return stamp_seconds(key)
    except ValueError:
        return None


class LevelForms:
    """How a log writes its levels, as regexes that find the error and
    warning lines of a chunk at C speed."""

    def __init__(self) -> None:
        self.forms: dict[tuple[str, str, str], re.Pattern[bytes]] = {}
        self.klog = False
        """Lines start with klog's ``E1128 10:00:00`` (looked for when seen)."""
        self._words = {word: ERROR for word in spellings(ERROR)} | \
            {word: WARN for word in spellings(WARN)}

    def learn(self, data: bytes, limit: int = SAMPLE_LINES) -> None:
        """Learn the forms of the level tokens of the first ``limit`` lines of ``data``."""
        for line in data.split(b"\n", limit)[:limit]:
            text = line[:2048].decode("utf-8", "replace")
            span = level_span(text)
            if span is not None and text[span[0]:span[1]].isascii():
                self._add(text, span[0], span[1])

    def _add(self, text: str, start: int, end: int) -> None:
        token, before = text[start:end], text[:start]
        if not before and (len(token) == 1 or text.startswith(("panic:", "fatal error:"))):
            self.klog = self.klog or len(token) == 1  # Go's crashes are always looked for
            return
        found = _FIELD_KEY.search(before)
        if found is not None:
            left = before[max(0, found.start() - 1):]
        elif len(before) < 2:
            left = "\n" + before
        else:
            left = before[-2:]
        right = text[end:end + 1]
        case = "upper" if token.isupper() else "lower" if token.islower() else "title"
        key = (left, right, case)
        if key in self.forms or len(self.forms) >= 8 or not (left + right).isascii():
            return
        words = sorted(self._words, key=len, reverse=True)
        spelled = [getattr(word, case)() if case != "upper" else word for word in words]
        tail = re.escape(right.encode()) if right else rb"(?=[\s\"',}]|$)"
        self.forms[key] = re.compile(re.escape(left.encode()) + b"(" + b"|".join(
            w.encode() for w in spelled) + b")" + tail, re.MULTILINE)

    def describe(self) -> tuple[str, ...]:
        """The forms in words (the error token written each way)."""
        out = []
        for left, right, case in self.forms:
            word = "ERROR" if case == "upper" else "error" if case == "lower" else "Error"
            out.append((left.lstrip("\n") + word + right).strip() or word)
        return tuple(out)

    def count(self, data: bytes, start: int, stop: int) -> tuple[int, int]:
        """(error lines, warning lines) of ``data[start:stop]`` (whole lines)."""
        errors = warns = 0
        for (left, _right, _case), regex in self.forms.items():
            low = start - 1 if left.startswith("\n") and start > 0 else start
            hits = Counter(regex.findall(data, low, stop))
            if left.startswith("\n") and start == 0:
                first = regex.match(b"\n" + data[:2048])
                if first is not None:
                    hits[first.group(1)] += 1
            for word, count in hits.items():
                if self._words.get(word.decode().upper()) == ERROR:
                    errors += count
                else:
                    warns += count
        low = start - 1 if start > 0 else 0
        head = b"\n" + data[:16] if start == 0 else b""
        errors += len(_LINE_HEAD.findall(data, low, stop)) + bool(_LINE_HEAD.match(head))
        if self.klog:
            for level, regex in ((ERROR, _KLOG_ERROR), (WARN, _KLOG_WARN)):
                count = len(regex.findall(data, low, stop)) + bool(regex.match(head))
                errors, warns = (errors + count, warns) if level == ERROR else \
                    (errors, warns + count)
        return errors, warns


class _Buckets:
    """The counts so far, by bucket index, at the current width."""

    def __init__(self, max_buckets: int) -> None:
        self.max = max(4, max_buckets)
        self.width_at = 0
        self.counts: dict[int, list[int]] = {}
        self.low: int | None = None
        self.high: int | None = None

    @property
    def width(self) -> int:
        return WIDTHS[self.width_at]

    def fit(self, first: int, last: int) -> None:
        """Widen the buckets until the seconds ``first``..``last`` (and what
        was seen) take at most twice the buckets asked for."""
        low = min(first, last) if self.low is None else min(self.low * self.width, first, last)
        high = max(first, last) if self.high is None else max(self.high * self.width, first,
                                                              last)
        while (high // self.width - low // self.width + 1 > 2 * self.max
               and self.width_at < len(WIDTHS) - 1):
            self.width_at += 1
            self._fold()

    def _fold(self) -> None:
        width, folded = self.width, {}
        old = WIDTHS[self.width_at - 1]
        for index, counts in self.counts.items():
            into = folded.setdefault(index * old // width, [0, 0, 0])
            for i in range(3):
                into[i] += counts[i]
        self.counts = folded
        if self.low is not None:
            self.low, self.high = self.low * old // width, self.high * old // width

    def add(self, seconds: int, errors: int, warns: int, lines: int) -> None:
        index = seconds // self.width
        counts = self.counts.setdefault(index, [0, 0, 0])
        counts[0] += errors
        counts[1] += warns
        counts[2] += lines
        self.low = index if self.low is None else min(self.low, index)
        self.high = index if self.high is None else max(self.high, index)

    def picture(self, max_buckets: int) -> tuple[int, int, tuple]:
        """(width, first index, counts) widened to at most ``max_buckets``."""
        if self.low is None:
            return self.width, 0, ()
        width_at, counts, low, high = self.width_at, self.counts, self.low, self.high
        while high - low + 1 > max_buckets and width_at < len(WIDTHS) - 1:
            old, width_at = WIDTHS[width_at], width_at + 1
            width = WIDTHS[width_at]
            folded: dict[int, list[int]] = {}
            for index, values in counts.items():
                into = folded.setdefault(index * old // width, [0, 0, 0])
                for i in range(3):
                    into[i] += values[i]
            counts, low, high = folded, low * old // width, high * old // width
        row = tuple(tuple(counts.get(i, (0, 0, 0))) for i in range(low, high + 1))
        return WIDTHS[width_at], low, row


def _stamp_at(data: bytes, pos: int, stop: int, lines: int = 64) -> tuple[int, int] | None:
    """(line start, seconds) of the first of the next ``lines`` lines from
    ``pos`` (a line start) that has a timestamp."""
    for _ in range(lines):
        if pos >= stop:
            return None
        end = data.find(b"\n", pos, stop)
        end = stop if end < 0 else end
        seconds = _line_seconds(data, pos, end)
        if seconds is not None:
            return pos, seconds
        pos = end + 1
    return None


def _last_stamp(data: bytes, stop: int, low: int) -> int | None:
    """The seconds of the last line of ``data[low:stop]`` with a timestamp."""
    pos = stop
    for _ in range(256):
        if pos <= low:
            return None
        start = max(low, data.rfind(b"\n", low, pos - 1) + 1)
        seconds = _line_seconds(data, start, pos)
        if seconds is not None:
            return seconds
        pos = start
    return None


def _split(data: bytes, low: int, high: int, seconds: int) -> int:
    """The start of the first line in ``[low, high)`` whose timestamp is at
    or after ``seconds``, else ``high`` (both line starts; lines in time
    order, a line without a timestamp going with the one above)."""
    while high - low > 512:
        mid = data.find(b"\n", (low + high) // 2, high) + 1
        found = _stamp_at(data, mid, high) if mid > 0 else None
        if found is None:  # no timestamp close after the middle: look line by line
            break
        if found[1] < seconds:
            low = found[0]
        else:
            high = found[0]
    pos = low
    while pos < high:
        end = data.find(b"\n", pos, high)
        end = high if end < 0 else end
        at = _line_seconds(data, pos, end)
        if at is not None and at >= seconds:
            return pos
        pos = end + 1
    return high


def scan_histogram(lines, *, max_buckets: int = MAX_BUCKETS,
                   cancel: threading.Event | None = None,
                   progress: Callable[[Histogram], None] | None = None) -> Histogram:
    """The histogram of the document ``lines`` (a
    :class:`~inspector.core.session.lines.Lines`), as it is now. Blocking;
    ``progress`` gets the partial picture after each chunk; ``cancel``
    stops it (SearchCancelled)."""
    total = lines.size
    buckets = _Buckets(max_buckets)
    forms = LevelForms()
    carry: int | None = None  # the seconds of the last timestamped line so far
    untimed = scanned = 0
    for chunk in lines.chunks(None, None, cancel):
        _check(cancel)
        data = chunk.data
        if not forms.forms:
            forms.learn(data)
        stop = len(data)
        found = _stamp_at(data, 0, min(stop, PROBE))
        last = _last_stamp(data, stop, max(0, stop - PROBE))
        if found is None or last is None:
            lines_in = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            if carry is None:
                untimed += lines_in
            else:
                buckets.add(carry, *forms.count(data, 0, stop), lines_in)
        else:
            if carry is None:
                untimed += data.count(b"\n", 0, found[0])
            carry = _count_chunk(data, found, last, carry, buckets, forms)
        scanned += stop
        if progress is not None:
            progress(_picture(buckets, max_buckets, untimed, scanned, total, forms, False))
    return _picture(buckets, max_buckets, untimed, scanned, max(total, scanned), forms, True)


def _count_chunk(data: bytes, found: tuple[int, int], last: int, carry: int | None,
                 buckets: _Buckets, forms: LevelForms) -> int | None:
    """Count a chunk with timestamps, split where its buckets change; the
    seconds of its last timestamp."""
    start, first = found
    stop = len(data)
    if start and carry is not None:  # lines before the first timestamp: with the line above
        buckets.add(carry, *forms.count(data, 0, start), data.count(b"\n", 0, start))
    buckets.fit(first, last)
    width = buckets.width
    cuts = [(start, first)]
    # Only the buckets that hold lines are looked for: after each cut, the
    # next is where the bucket of the line at the cut ends (a chunk that
    # jumps over days costs one bisection, not one per empty bucket).
    while (boundary := (cuts[-1][1] // width + 1) * width) <= last:
        at = _split(data, cuts[-1][0], stop, boundary)
        found = _stamp_at(data, at, stop, 1) if at < stop else None
        if found is None:
            break
        cuts.append((at, max(boundary, found[1])))
    cuts.append((stop, None))
    for (low, seconds), (high, _next) in zip(cuts, cuts[1:], strict=False):
        if high > low:
            lines_in = data.count(b"\n", low, high)
            if high == stop and not data.endswith(b"\n"):
                lines_in += 1
            buckets.add(seconds, *forms.count(data, low, high), lines_in)
    return last


def _picture(buckets: _Buckets, max_buckets: int, untimed: int, scanned: int, total: int,
             forms: LevelForms, done: bool) -> Histogram:
    width, first, counts = buckets.picture(max_buckets)
    return Histogram(width, first, counts, untimed, scanned, total, done, forms.describe())
