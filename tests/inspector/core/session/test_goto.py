"""What go-to accepts, in both front-ends."""

from __future__ import annotations

import pytest

from inspector.core.session.goto import (
    GotoError, GotoLine, GotoOffset, GotoPercent, GotoTime, parse_goto)


@pytest.mark.parametrize(("typed", "target"), [
    ("1200", GotoLine(1200)),
    (" 1,200 ", GotoLine(1200)),
    ("1_200", GotoLine(1200)),
    ("0", GotoLine(1)),
    ("50%", GotoPercent(50.0)),
    ("12.5 %", GotoPercent(12.5)),
    ("150%", GotoPercent(100.0)),
    ("@2026-11-28T10:15", GotoTime("2026-11-28T10:15")),
    ("@ 10:15", GotoTime("10:15")),
    ("@2026-11-28", GotoTime("2026-11-28")),
    ("@23:59:60", GotoTime("23:59:60")),
    ("0x1f00", GotoOffset(0x1F00)),
    ("0X1F_00", GotoOffset(0x1F00)),
    ("b1048576", GotoOffset(1048576)),
    ("b64K", GotoOffset(64 * 1024)),
    ("b2MiB", GotoOffset(2 << 20)),
    ("B1g", GotoOffset(1 << 30)),
])
def test_targets(typed, target):
    assert parse_goto(typed) == target


def test_a_bare_number_is_a_byte_offset_in_a_hex_dump():
    assert parse_goto("4096", hex_mode=True) == GotoOffset(4096)
    assert parse_goto("50%", hex_mode=True) == GotoPercent(50.0)


@pytest.mark.parametrize(("typed", "says"), [
    ("", "nothing to go to"),
    ("abc", "not a line number, N%, @time or byte offset: 'abc'"),
    ("-5%", "not a percentage"),
    ("12x", "not a line number"),
    ("@soon", "not a timestamp: 'soon'"),
    ("@T25:00", "not a valid time of day"),
    ("@2026-11-28T24:00", "not a valid time of day"),
    ("@10:61", "not a valid time of day"),
    ("@2026-02-30", "not a valid date"),
    ("@2026-13-01T10:00", "not a valid date"),
    ("0xzz", "not a line number"),
    ("\x1b]0;x\x07", "\\x1b]0;x\\x07"),
])
def test_errors_say_why(typed, says):
    with pytest.raises(GotoError, match=None) as error:
        parse_goto(typed)
    assert says in str(error.value)


def test_a_time_alone_is_read_in_the_zone_of_the_top_line(reader):
    reader.write("alloc/logs/web.stdout.0", b"".join(
        b"2026-11-28T%02d:%02d:00.000+02:00 tick\n" % (hour, minute)
        for hour in range(24) for minute in range(0, 60, 10)))
    reader.open(reader.alloc, "alloc/logs/web.stdout.0")
    reader.goto("@15:00")
    assert reader.lines[0].startswith("2026-11-28T15:00:00.000+02:00")
    reader.goto("@2026-11-28T15:00Z")
    assert reader.lines[0].startswith("2026-11-28T17:00:00.000+02:00")
