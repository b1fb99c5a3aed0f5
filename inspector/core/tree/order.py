"""The orders a directory is shown in: directories first, then files and
rotation sets, by name (natural: ``web.stdout.2`` before ``web.stdout.10``),
newest first, or largest first.

An :class:`Order` is a name, the words for it and a key: adding an order
(issue 19's sizes of directories, measured by a usage walk) is adding one
more. :data:`ORDERS` is what ``o`` cycles through.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .listing import Listing

Item = int | str
"""An entry of a listing (its index) or a rotation set (its name)."""

_DIGITS = re.compile(r"([0-9]+)")
"""Runs of ASCII digits (``\\d`` would take any script's digits as a number too)."""


def _pad(match: re.Match[str]) -> str:
    digits = match.group().lstrip("0") or "0"
    return chr(0x30 + len(digits)) + digits  # longer numbers sort after shorter ones


def natural_key(name: str) -> str:
    """A sort key that orders digit runs by value: ``a2`` before ``a10``."""
    return _DIGITS.sub(_pad, name)


def natural_keys(names: list[str]) -> list[str]:
    """:func:`natural_key` of every name, in one pass (names hold no "/")."""
    return _DIGITS.sub(_pad, "/".join(names)).split("/") if names else []


KeyMaker = Callable[["Listing"], Callable[[Item], Any]]


@dataclass(frozen=True)
class Order:
    """One way to order a directory: ``key(listing)`` gives the sort key of
    an item; ``dir_key`` that of a directory (``key``'s when None)."""

    name: str
    words: str
    """How a front-end names it: "ordered by <words>"."""
    key: KeyMaker
    dir_key: KeyMaker | None = None

    def sort(self, listing: Listing, dirs: list[int], files: list[Item]) -> list[Item]:
        """``dirs`` then ``files``, each sorted (in place)."""
        dirs.sort(key=(self.dir_key or self.key)(listing))
        files.sort(key=self.key(listing))
        return dirs + files


def _by_name(listing: Listing) -> Callable[[Item], Any]:
    keys = listing.natural_keys()
    return lambda item: natural_key(item) if isinstance(item, str) else keys[item]


def _newest(listing: Listing) -> Callable[[Item], Any]:
    return lambda item: -listing.mtime_of(item)


def _largest(listing: Listing) -> Callable[[Item], Any]:
    return lambda item: -listing.size_of(item)


def _largest_dir(listing: Listing) -> Callable[[Item], Any]:
    sizes, by_name = listing.dir_sizes, _by_name(listing)
    return lambda item: ((0, -sizes[item][0], by_name(item)) if item in sizes
                         else (1, 0, by_name(item)))


NAME = Order("name", "name", _by_name)
MTIME = Order("mtime", "time, newest first", _newest)
SIZE = Order("size", "size, largest first", _largest, dir_key=_largest_dir)
"""Files and sets by their bytes; directories by their measured size
(:mod:`.sizes`, filled in as measured; those not measured yet after, by name)."""

ORDERS = (NAME, MTIME, SIZE)
"""The orders ``o`` cycles through."""


def following(order: Order, orders: tuple[Order, ...] = ORDERS) -> Order:
    """The order after ``order`` in ``orders`` (the first after the last)."""
    at = orders.index(order) if order in orders else -1
    return orders[(at + 1) % len(orders)]
