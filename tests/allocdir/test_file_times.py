"""Times a task gave its files that a ``datetime`` cannot hold: a tmpfs
keeps any 64-bit time, so ``touch -d @1099511627776 secrets`` dates a task's
own secrets dir in year 36812. Every stat → info conversion and every
rendering of it must still answer, and say "out of range"."""

from __future__ import annotations

import math
import os
from datetime import datetime, timedelta, timezone

import pytest

from allocdir import AllocFileInfo, display
from allocdir.fileinfo import (
    MOD_TIME_MAX, MOD_TIME_MIN, stat_mod_time, time_in_range, utc_from_timestamp,
)
from allocdir.plaintext import age_words, iso

YEAR_36812 = 2**40
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def stat_with_mtime(seconds: float, *, with_ns: bool = True) -> os.stat_result:
    """A regular file's stat result whose mtime is ``seconds`` (and, unless
    ``with_ns``, no ``st_mtime_ns``, as a hand-made result has)."""
    fields = (0o100644, 1, 1, 1, 0, 0, 10, 0, 0, 0)
    extra = {"st_mtime": float(seconds)}
    if with_ns:
        extra["st_mtime_ns"] = int(seconds) * 10**9
    return os.stat_result(fields, extra)


@pytest.mark.parametrize("seconds, clamped", [
    (YEAR_36812, MOD_TIME_MAX), (2**62, MOD_TIME_MAX), (-YEAR_36812, MOD_TIME_MIN),
    (-(2**62), MOD_TIME_MIN),
])
@pytest.mark.parametrize("with_ns", [True, False])
def test_a_time_out_of_range_is_clamped_and_said_so(seconds, clamped, with_ns):
    info = AllocFileInfo.from_stat("f", stat_with_mtime(seconds, with_ns=with_ns))
    assert info.mod_time == clamped
    assert info.mod_time.tzinfo is not None
    assert not info.mod_time_in_range


@pytest.mark.parametrize("seconds, clamped", [
    (math.nan, MOD_TIME_MIN), (math.inf, MOD_TIME_MAX), (-math.inf, MOD_TIME_MIN),
    (1e300, MOD_TIME_MAX),
])
def test_times_that_are_not_numbers_are_out_of_range(seconds, clamped):
    assert utc_from_timestamp(seconds) == clamped
    assert stat_mod_time(stat_with_mtime(seconds, with_ns=False)) == clamped


@pytest.mark.parametrize("seconds", [0, 1_600_000_000, -1_000_000_000, 253_402_300_000])
def test_times_in_range_are_kept_exactly(seconds):
    info = AllocFileInfo.from_stat("f", stat_with_mtime(seconds))
    assert info.mod_time == datetime.fromtimestamp(seconds, timezone.utc)
    assert info.mod_time_in_range


def test_the_clamped_times_survive_a_round_trip_through_a_timestamp():
    """The inspector keeps times as float seconds and makes infos again."""
    assert utc_from_timestamp(MOD_TIME_MAX.timestamp()) == MOD_TIME_MAX
    assert utc_from_timestamp(MOD_TIME_MIN.timestamp()) == MOD_TIME_MIN
    assert not time_in_range(utc_from_timestamp(MOD_TIME_MAX.timestamp()))


@pytest.mark.parametrize("when", [MOD_TIME_MAX, MOD_TIME_MIN])
def test_renderings_say_out_of_range(when):
    entry = AllocFileInfo("f.log", False, 10, "-rw-r--r--", when)
    assert age_words(when, NOW) == "out of range"
    assert iso(when).startswith("out of range")
    rendered = [
        display.listing_html([entry], path="web/local", now=NOW),
        display.info_html(entry, now=NOW),
        display.listing_text([entry], path="web/local", now=NOW),
        display.info_text(entry, now=NOW),
    ]
    for out in rendered:
        assert "out of range" in out
    assert not display.is_live(entry, when)


@pytest.mark.parametrize("when", [
    datetime(1, 1, 1, 3, tzinfo=timezone.utc), datetime(9999, 12, 31, 20, tzinfo=timezone.utc),
])
def test_ages_next_to_the_limits_never_raise(when):
    """humanize works on a naive local time: hours from year 1 or 9999 it
    overflows. The age is then the date itself."""
    assert time_in_range(when)
    for now in (NOW, datetime.now(timezone.utc)):
        assert age_words(when, now)
        assert display.age_html(when, now)


def test_a_time_ahead_is_not_live():
    entry = AllocFileInfo("web.stdout.0", False, 10, "-rw-r--r--", NOW + timedelta(days=365))
    assert not display.is_live(entry, NOW)
    assert display.is_live(AllocFileInfo("a", False, 1, "-rw-r--r--", NOW), NOW)


@pytest.mark.root
@pytest.mark.parametrize("seconds, clamped", [(YEAR_36812, MOD_TIME_MAX),
                                              (-YEAR_36812, MOD_TIME_MIN)])
def test_a_task_dating_its_secrets_tmpfs_in_year_36812(alloc_with_task, seconds, clamped):
    """The tmpfs on secrets/ keeps any time a task sets; list, stat and every
    rendering of them answer."""
    alloc = alloc_with_task
    os.utime(alloc.task_dirs["web"].secrets_dir, (seconds, seconds))
    listed = alloc.list("web")
    secrets = next(info for info in listed if info.name == "secrets")
    assert secrets.mod_time == clamped and not secrets.mod_time_in_range
    info = alloc.stat("web/secrets")
    assert info.mod_time == clamped and info.is_dir
    assert "out of range" in listed._repr_html_()
    assert "secrets/" in display.listing_text(listed, path="web")  # locked: no time shown
    assert "out of range" in display.info_text(info)
    assert "out of range" in info._repr_html_()


@pytest.mark.root
def test_a_summary_with_logs_dated_out_of_range(alloc_with_task, mounts):
    """alloc/logs on a tmpfs (the task's logs, any time it likes): the
    allocation's summary still renders, and such a log is not live."""
    alloc = alloc_with_task
    logs = os.path.join(alloc.shared_dir, "logs")
    mounts.tmpfs(logs, "1m")
    path = os.path.join(logs, "web.stdout.0")
    with open(path, "w") as f:
        f.write("hello\n")
    os.utime(path, (YEAR_36812, YEAR_36812))
    summary = display.summarize_alloc(alloc)
    assert not summary.error
    assert summary.newest_log.mod_time == MOD_TIME_MAX
    out_html, out_text = display.alloc_html(summary), display.alloc_text(summary)
    assert "out of range" in out_html and "out of range" in out_text
    assert "live" not in out_text
