"""The compact listing the tree keeps: entries made again on demand keep
what the library said about them, times out of range included."""

from __future__ import annotations

from datetime import datetime, timezone

from allocdir import AllocFileInfo
from allocdir.fileinfo import MOD_TIME_MAX, MOD_TIME_MIN
from inspector.core.listing import MTIME, Listing


def test_times_out_of_range_stay_out_of_range_and_sort():
    """A task dated one file in year 36812 and one before year 1."""
    ordinary = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    infos = [AllocFileInfo("ahead.log", False, 1, "-rw-r--r--", MOD_TIME_MAX),
             AllocFileInfo("behind.log", False, 1, "-rw-r--r--", MOD_TIME_MIN),
             AllocFileInfo("plain.log", False, 1, "-rw-r--r--", ordinary)]
    listing = Listing(infos)
    made = [listing.info(i) for i in range(len(listing))]
    assert [info.mod_time for info in made] == [MOD_TIME_MAX, MOD_TIME_MIN, ordinary]
    assert [info.mod_time_in_range for info in made] == [False, False, True]
    assert [listing.names[i] for i in listing.order(MTIME)] == \
        ["ahead.log", "plain.log", "behind.log"]
