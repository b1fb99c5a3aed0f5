"""The name filter: every listed directory narrowed to the names that
contain a text, with smart case (ignoring case unless the text has a
capital, as the viewer's search does). A rotation set stays when its name
or one of its files' does. The model keeps the directories that are
expanded visible whatever their names, so that a match below them shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .listing import Listing
    from .order import Item


@dataclass(frozen=True)
class NameFilter:
    """The filter's text; an empty text keeps everything."""

    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.text)

    @property
    def folds_case(self) -> bool:
        """True when case is ignored (the text has no capital)."""
        return self.text == self.text.lower()

    def matches(self, name: str) -> bool:
        """Whether ``name`` contains the text (smart case)."""
        if not self.text:
            return True
        return self.text in (name.lower() if self.folds_case else name)

    def narrow(self, listing: Listing, items: Iterable[Item]) -> list[Item]:
        """The ``items`` of ``listing`` whose name matches, in their order."""
        items = list(items)
        if not self.text:
            return items
        names = listing.names
        matches = self.matches
        out: list[Item] = []
        for item in items:
            if isinstance(item, str):
                if matches(item) or any(matches(names[i]) for i in listing.sets[item]):
                    out.append(item)
            elif matches(names[item]):
                out.append(item)
        return out
