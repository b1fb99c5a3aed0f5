"""The histogram of levels over time: counts per bucket against a plain
line-by-line count, bucket widths chosen from the span, partial pictures
while scanning, cancel, and the forms a log writes its levels in."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from inspector.core.histogram import WIDTHS, scan_histogram
from inspector.core.levels import ERROR, WARN, level_of
from inspector.core.search import SearchCancelled
from inspector.core.session.loglines import _chunks

START = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


class _Doc:
    """Lines of bytes in memory, read in small chunks."""

    def __init__(self, data: bytes, chunk: int = 4096) -> None:
        self.data, self.chunk = data, chunk

    @property
    def size(self) -> int:
        return len(self.data)

    def size_(self) -> int:
        return len(self.data)

    def read(self, offset: int, length: int) -> bytes:
        return self.data[offset:offset + length]

    def chunks(self, start=None, end=None, cancel=None, size=None):
        source = type("S", (), {"size": self.size_, "read": self.read})()
        return _chunks(source, start, end, cancel, self.chunk)


def _text_log(seconds: int, every: float, form: str = "hclog") -> tuple[bytes, list]:
    lines, stamps = [], []
    t = 0.0
    i = 0
    while t < seconds:
        when = START + timedelta(seconds=t)
        level = "ERROR" if t > seconds * 0.7 and i % 3 == 0 else "WARN" if i % 7 == 0 else "INFO"
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        if form == "hclog":
            line = f"{stamp} [{level}] web: request {i} said ERROR once"
        elif form == "json":
            line = json.dumps({"ts": stamp, "level": level.lower(), "msg": f"r {i}"})
        else:
            line = f"time={stamp} level={level.lower()} msg=\"r {i}\""
        lines.append(line)
        stamps.append(when)
        if i % 50 == 0:
            lines.append("    at com.example.Trace(Trace.java:42)")  # a continuation
            stamps.append(when)
        t += every
        i += 1
    return ("\n".join(lines) + "\n").encode(), list(zip(lines, stamps, strict=True))


def _expected(pairs, width: int) -> dict[int, list[int]]:
    counts: dict[int, list[int]] = {}
    last = None
    for line, when in pairs:
        if not line.startswith(" "):
            last = when
        index = int(last.timestamp()) // width
        entry = counts.setdefault(index, [0, 0, 0])
        level = level_of(line)
        entry[0] += level == ERROR
        entry[1] += level == WARN
        entry[2] += 1
    return counts


@pytest.mark.parametrize("form", ["hclog", "json", "logfmt"])
def test_counts_per_bucket_match_the_lines(form):
    data, pairs = _text_log(3 * 3600, 2.5, form)
    seen = []
    histogram = scan_histogram(_Doc(data), max_buckets=60, progress=seen.append)
    assert histogram.done and histogram.width == 600  # 3 h in at most 60 buckets: 10 min
    assert len(histogram.counts) == 18
    expected = _expected(pairs, histogram.width)
    got = {histogram.first + i: list(c) for i, c in enumerate(histogram.counts)}
    assert got == expected
    assert histogram.first_with(ERROR) == 12  # errors start after 70 % of the 3 hours
    assert histogram.label(12) == "2026-11-28T11:00:00"
    assert len(seen) > 5 and not seen[0].done and seen[0].scanned < seen[-1].scanned
    assert seen[0].counts and len(seen[0].counts) <= 60


def test_bucket_width_follows_the_span():
    for seconds, width in ((50, 1), (300, 10), (2 * 86400, 3600)):
        data, _ = _text_log(seconds, max(0.5, seconds / 2000))
        assert scan_histogram(_Doc(data), max_buckets=60).width == width
    assert all(b % a == 0 for a, b in zip(WIDTHS, WIDTHS[1:], strict=False))


def test_a_panic_and_lines_before_any_time():
    data = (b"starting up\nno time here\n2026-11-28T10:00:00Z [INFO] up\n"
            b"panic: runtime error: index out of range\n\ngoroutine 1 [running]:\n"
            b"2026-11-28T10:00:05Z [WARN] again\n")
    histogram = scan_histogram(_Doc(data))
    assert histogram.untimed == 2
    assert histogram.totals() == (1, 1, 5)
    klog = b"I1128 10:00:00.000 1 a.go:1] ok\nE1128 10:00:01.000 1 a.go:2] bad\n" \
        b"W1128 10:00:02.000 1 a.go:3] hmm\n"
    assert scan_histogram(_Doc(b"2026-11-28T10:00:00Z x\n" + klog)).totals() == (1, 1, 4)


def test_cancel_stops_the_scan():
    data, _ = _text_log(3600, 0.5)
    cancel = threading.Event()
    seen = []

    def progress(picture):
        seen.append(picture)
        cancel.set()

    with pytest.raises(SearchCancelled):
        scan_histogram(_Doc(data), cancel=cancel, progress=progress)
    assert len(seen) == 1


def test_memory_stays_bounded_whatever_the_span():
    # A year of lines, one every 6 hours: widened to weeks, never a bucket per second.
    data = "".join(f"{(START + timedelta(hours=6 * i)).isoformat()} INFO x\n"
                   for i in range(1460)).encode()
    histogram = scan_histogram(_Doc(data, chunk=1 << 20), max_buckets=60)
    assert histogram.width == 604800 and len(histogram.counts) <= 60
    assert sum(c[2] for c in histogram.counts) == 1460


def test_sparkline():
    from inspector.core.histogram import Histogram

    picture = Histogram(60, 0, ((0, 0, 1), (5, 0, 9), (10, 1, 20)), done=True)
    assert picture.sparkline(0) == " ▄█"
    assert picture.width_words == "1 min"
    assert Counter(picture.sparkline(2))["█"] == 1


def _tricky_log() -> tuple[bytes, list[tuple[bytes, datetime | None]]]:
    """hclog lines with what chunking can get wrong: days without a line
    (empty buckets), CRLF, a 1 MiB line, continuation lines, hostile bytes,
    and no newline at the end. (line, its time or None) for each line."""
    pairs: list[tuple[bytes, datetime | None]] = []
    when = START
    for i in range(3000):
        when += timedelta(days=3) if i % 700 == 699 else timedelta(seconds=7)
        level = "ERROR" if i % 11 == 0 else "WARN" if i % 13 == 0 else "INFO"
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S.000Z").encode()
        line = stamp + f" [{level}] web: request {i}".encode()
        if i % 17 == 0:
            line += b" \x1b]0;owned\x07 \xff\xfe\x00"
        if i % 5 == 0:
            line += b"\r"
        if i == 1500:
            line += b" " + b"x" * (1 << 20)
        pairs.append((line, when))
        if i % 23 == 0:
            pairs.append((b"    at Trace.java:42 ERROR said here", None))
    data = b"\n".join(line for line, _ in pairs)  # no newline after the last line
    return data, pairs


def _expected_lines(pairs, width: int) -> dict[int, list[int]]:
    counts: dict[int, list[int]] = {}
    last = None
    for line, when in pairs:
        last = when or last
        entry = counts.setdefault(int(last.timestamp()) // width, [0, 0, 0])
        level = level_of(line.decode("utf-8", "replace")[:2048])
        entry[0] += level == ERROR
        entry[1] += level == WARN
        entry[2] += 1
    return counts


@pytest.mark.parametrize("chunk", [4096, 65536, 1 << 20])
def test_chunked_counts_match_the_lines_on_tricky_input(chunk):
    data, pairs = _tricky_log()
    histogram = scan_histogram(_Doc(data, chunk=chunk), max_buckets=60)
    got = {histogram.first + i: list(c) for i, c in enumerate(histogram.counts) if c[2]}
    assert histogram.totals()[2] == len(pairs)
    assert got == _expected_lines(pairs, histogram.width)


def test_a_date_alone_and_a_date_no_calendar_has_do_not_stop_the_scan():
    # A date alone is its midnight; "Foo" is no month: that line goes with the one above.
    data = (b"2026-11-28 nightly job started\n2026-11-28T10:00:00Z [ERROR] x\n"
            b"[28/Foo/2026:10:00:01 +0000] GET /\n")
    histogram = scan_histogram(_Doc(data))
    assert histogram.done and histogram.totals() == (1, 0, 3)
    assert histogram.counts[0][2] == 1 and histogram.counts[-1] == (1, 0, 2)
    assert histogram.start(0) == datetime(2026, 11, 28, tzinfo=timezone.utc)
