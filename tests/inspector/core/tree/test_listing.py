"""Listing a directory for the tree: the compact listing (entries made
again on demand keep what the library said about them, times out of range
included), rotation sets as one entry, the orders, the name filter, what
links lead to, failures as messages."""

from __future__ import annotations

from datetime import datetime, timezone

from allocdir import AllocFileInfo
from allocdir.fileinfo import MOD_TIME_MAX, MOD_TIME_MIN
from inspector.core.tree.filter import NameFilter
from inspector.core.tree.listing import Listing, list_dir, load_dir
from inspector.core.tree.order import MTIME, NAME, SIZE, following


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
    assert [listing.names[i] for i in listing.ordered(MTIME)] == \
        ["ahead.log", "plain.log", "behind.log"]


def _info(name: str, *, size: int = 0, mtime: float = 1_000_000.0, mode: str = "-rw-r--r--"):
    return AllocFileInfo(name, mode.startswith("d"), size, mode,
                         datetime.fromtimestamp(mtime, timezone.utc))


def test_rotated_logs_are_one_entry_in_natural_order():
    names = ["web.stdout.10", "web.stdout.2", "web.stdout.0", "web.stderr.0", "a.log", "sub"]
    listing = Listing([_info(n, mode="drwxr-xr-x" if n == "sub" else "-rw-r--r--")
                       for n in names])
    assert listing.sets == {"web.stdout": [listing.find(n) for n in
                                           ("web.stdout.0", "web.stdout.2", "web.stdout.10")]}
    shown = listing.ordered(NAME)
    # Directories first; one file alone is not a set; the set stands for its files.
    assert [listing.names[i] if isinstance(i, int) else i for i in shown] == \
        ["sub", "a.log", "web.stderr.0", "web.stdout"]
    assert listing.members("web.stdout") == [listing.find(f"web.stdout.{n}") for n in (0, 2, 10)]


def test_orders_by_time_and_by_size_and_the_next_order():
    listing = Listing([_info("old", size=5, mtime=1.0), _info("new", size=1, mtime=3.0),
                       _info("mid", size=9, mtime=2.0)])
    def names(order):
        return [listing.names[i] for i in listing.ordered(order)]

    assert names(NAME) == ["mid", "new", "old"]
    assert names(MTIME) == ["new", "mid", "old"]
    assert names(SIZE) == ["mid", "old", "new"]
    assert following(NAME) is MTIME and following(MTIME) is SIZE and following(SIZE) is NAME
    assert following(SIZE, (NAME, MTIME)) is NAME  # outside the cycle: back to its start


def test_the_filter_is_smart_case_and_keeps_a_set_by_a_members_name():
    listing = Listing([_info(n) for n in ("Web.log", "web.stdout.0", "web.stdout.1", "api.txt")])
    shown = listing.ordered(NAME)

    def kept(text):
        return [listing.names[i] if isinstance(i, int) else i
                for i in NameFilter(text).narrow(listing, shown)]

    assert kept("web") == ["Web.log", "web.stdout"]
    assert kept("Web") == ["Web.log"]
    assert kept("stdout.1") == ["web.stdout"]
    assert kept("") == ["Web.log", "api.txt", "web.stdout"]  # byte order, as ls in C


def test_what_a_link_leads_to_is_looked_up_through_the_alloc_dirs_rules(alloc_root):
    from allocdir import AllocDir

    from tests.inspector.conftest import ALLOC_A

    alloc = AllocDir.discover(alloc_root / ALLOC_A)
    local = alloc_root / ALLOC_A / "web" / "local"
    (local / "out").symlink_to("../../../" + ALLOC_A + "-elsewhere")
    (local / "gone").symlink_to("nothing-here")
    (local / "pipe").symlink_to("../../alloc/logs/.web.stdout.fifo")
    listing = list_dir(alloc, "web/local")
    targets = {listing.names[i]: target for i, target in listing.targets.items()}
    assert targets == {"link": "file", "out": "escapes", "gone": "broken", "pipe": "fifo"}
    # Inside a secrets dir nothing is followed: not even to say where a link goes.
    (alloc_root / ALLOC_A / "web" / "secrets" / "ln").symlink_to("token")
    assert list_dir(alloc, "web/secrets").targets == {}


def test_a_failed_listing_is_its_message():
    class Broken:
        alloc_dir = "/x"

        def list(self, rel):
            raise RuntimeError("the listing broke")

    assert load_dir(Broken(), "web") == "unexpected error: RuntimeError: the listing broke"
