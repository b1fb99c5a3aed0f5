"""What time a line says: zones compared as instants, epochs in JSON and
logfmt, the common log format, garbage never raised, and one rule for a
line and for a chunk."""

from __future__ import annotations

import random

import pytest

from inspector.core.stamps import (
    LOWEST, Reference, key_seconds, line_reference, line_stamp, seconds_key, stamp_keys,
)
from inspector.core.timestamps import find_time, parse_query


def reader(data: bytes):
    return lambda offset, length: data[offset:offset + length]


def test_times_with_offsets_compare_as_instants():
    utc = line_stamp(b"2026-11-28T10:15:00.500Z web")
    paris = line_stamp(b"2026-11-28T11:15:00.250+01:00 api")
    new_york = line_stamp(b"2026-11-28T05:15:00.750-05:00 db")
    assert paris < utc < new_york  # 10:15:00.25, 10:15:00.5, 10:15:00.75 UTC
    assert line_stamp(b"2026-11-28T00:30:00+01:00 x") == parse_query("2026-11-27T23:30:00")
    assert line_stamp(b"2026-11-28T10:15:00 naive") == parse_query("2026-11-28T10:15:00")


@pytest.mark.parametrize("line", [
    b'{"level":"info","ts":1795860900.25,"msg":"zap"}',
    b'{"time":1795860900250,"msg":"milliseconds"}',
    b'{"timestamp":1795860900250000,"msg":"microseconds"}',
    b'{"ts": 1795860900250000000, "msg":"nanoseconds"}',
    b"ts=1795860900.25 level=info msg=logfmt",
])
def test_epoch_times_in_json_and_logfmt(line):
    assert line_stamp(line).startswith(b"2026112810150025")
    assert key_seconds(line_stamp(line)) == pytest.approx(1795860900.25)


def test_the_common_log_format_of_access_logs():
    line = b'10.0.0.7 - - [28/Nov/2026:11:15:00 +0100] "GET /health HTTP/1.1" 200 2'
    assert line_stamp(line) == parse_query("2026-11-28T10:15:00")
    assert line_reference(line) == Reference(b"20261128", 60)


def test_a_time_typed_alone_is_read_in_the_zone_of_the_top_line():
    reference = line_reference(b"2026-11-28T10:00:00.000+02:00 INFO up")
    assert parse_query("10:15", reference) == line_stamp(b"2026-11-28T10:15:00+02:00 x")[:12]
    assert parse_query("10:15Z", reference) == b"202611281015"
    assert parse_query("2026-11-28T10:15+02:00") == b"202611280815"


@pytest.mark.parametrize("line", [
    b"9999-99-99T99:99:99+05:00 garbage", b"2026-13-45T10:00:00-07:00 no such day",
    b'{"ts":99999999999999999999}', b'{"ts":1e10}', b"[99/Foo/2026:99:99:99 +9999] x",
    b"0000-00-00 00:00:00.000000000Z", b"\xff\xfe2026-11-28T10:00:00Z",
])
def test_garbage_times_are_compared_as_written_never_raised(line):
    key = line_stamp(line)
    assert key is None or isinstance(key, bytes)
    assert stamp_keys(line + b"\n") == [key if key is not None else LOWEST]


def test_a_chunk_gets_the_keys_a_line_by_line_look_gives():
    rnd = random.Random(3)
    shapes = [b"2026-11-28T10:%02d:%02d.%dZ INFO x", b"2026-11-28 10:%02d:%02d,%d WARN y",
              b'{"ts":17958609%02d.%02d%d,"level":"error"}', b"   at frame(%d:%d:%d)",
              b"2026-11-28T10:%02d:%02d.%d-03:00 z", b"x - - [28/Nov/2026:10:%02d:%02d +0000] %d",
              b"no time %d %d %d", b"[2026-11-28 10:%02d:%02d.%03d][1][error][main] envoy"]
    lines = [rnd.choice(shapes) % (rnd.randrange(60), rnd.randrange(60), rnd.randrange(999))
             for _ in range(2000)]
    keys = stamp_keys(b"\n".join(lines) + b"\n")
    assert keys == [line_stamp(line) or LOWEST for line in lines]


def test_a_stamp_starts_within_the_window():
    assert line_stamp(b"x" * 64 + b"2026-11-28T10:00:00Z") is not None
    assert line_stamp(b"x" * 65 + b"2026-11-28T10:00:00Z") is None


def test_seconds_and_keys_round_trip():
    key = seconds_key(1795860900.123456)
    assert key == b"20261128101500123456" and key_seconds(key) == pytest.approx(1795860900.123456)
    assert key_seconds(LOWEST) is None


def test_go_to_a_time_across_zones_and_from_a_lower_bound():
    lines = [b"2026-11-28T%02d:00:00+02:00 tick %d\n" % (hour, hour) for hour in range(24)]
    data = b"".join(lines)
    offset = find_time(reader(data), len(data), parse_query("2026-11-28T10:00Z"))
    assert data[offset:].startswith(b"2026-11-28T12:00:00+02:00")
    later = find_time(reader(data), len(data), parse_query("2026-11-28T00:00Z"),
                      low=data.index(b"2026-11-28T15"))
    assert data[later:].startswith(b"2026-11-28T15")
