"""What a row of the tree says, as data: parts of text, each with a role
("name", "dir", "detail", "locked"…) that a front-end styles as it can (the
terminal with colours, the notebook with CSS, a list box not at all). The
words are decided here, once: name, marks for links, FIFOs, sockets and
devices (the library's kinds), locked secrets, rotation sets with their
span, then size and age; the reason a directory is not an allocation; an
allocation's tasks and the age of its last log write.

Everything a task named goes through ``printable``; a time no date can
hold (a task may set any 64-bit mtime on its tmpfs) is said, never raised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from allocdir.kinds import file_kind
from allocdir.plaintext import age_words, size_words
from allocdir.times import utc_from_timestamp

from ..logtimes import LogTimes
from ..text import printable
from .listing import K_LINK
from .nodes import (
    ALLOC, DIR, FILE, MARKABLE, MERGED, NOTE, ROOT, SECRET, SECRET_FILE, SET, STRAY, Node,
)

# Roles of the parts of a label.
ROOT_NAME, ALLOC_NAME, SET_NAME, NAME, DIR_NAME = "root", "alloc", "set", "name", "dir"
LINK, LINK_TO_DIR, TARGET = "link", "link-dir", "target"
SPECIAL_NAME, SPECIAL_TAG = "special", "special-tag"
LOCKED_DIR, LOCKED_NAME, LOCKED_TAG, LOCKED_DETAIL = (
    "locked-dir", "locked-name", "locked-tag", "locked-detail")
DETAIL, REASON, ERROR, NOTE_TEXT = "detail", "reason", "error", "note"
MERGED_NAME, MARK = "merged", "mark"

MARKED = "[marked]"
"""How a log marked for merging is marked (words, as secrets are)."""

SHORT_ID = 8
"""Characters of an allocation id a row shows, as Nomad's commands print it."""

_ALLOC_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")

LOCKED = "[locked]"
"""How a secret is marked (words, not a glyph a font may lack)."""


@dataclass(frozen=True)
class Part:
    """Some text of a label and its role."""

    text: str
    role: str


@dataclass(frozen=True)
class Label:
    """A row's text in parts; ``str()`` is the plain text."""

    parts: tuple[Part, ...]

    def __str__(self) -> str:
        return "".join(part.text for part in self.parts)

    @property
    def plain(self) -> str:
        """The text without roles."""
        return str(self)


def _age(stamp: float, now: datetime) -> str:
    return age_words(utc_from_timestamp(stamp), now)


def label_of(node: Node, now: datetime, log_times: LogTimes | None) -> Label:
    """The label of ``node`` at ``now`` (ages), with the allocations' log
    times from ``log_times`` (None: not tracked)."""
    parts = _parts(node, now, log_times)
    if node.kind in MARKABLE and node.key in node.model.marks:
        parts.append((f"  {MARKED}", MARK))
    return Label(tuple(Part(text, role) for text, role in parts))


def _parts(node: Node, now: datetime, log_times: LogTimes | None) -> list[tuple[str, str]]:
    kind = node.kind
    if kind == NOTE:
        return [(printable(node.text), node.tone)]
    if kind == ROOT:
        return [(printable(node.name), ROOT_NAME)]
    if kind == MERGED:
        return [(printable(node.name), MERGED_NAME), ("  in time order", DETAIL)]
    if kind == ALLOC:
        return _alloc_parts(node, now, log_times)
    if kind == STRAY:
        return [(printable(node.name), ALLOC_NAME),
                (f"  {printable(node.alloc.description)}", REASON)]
    listing = node.owner_listing
    if kind == SET:
        return _set_parts(node, listing, now)
    if listing is None or node.entry is None or node.entry >= len(listing):
        return [(printable(node.name), NAME)]
    return _entry_parts(node, listing, now)


def short_id(name: str) -> str:
    """An allocation id cut to the 8 characters Nomad prints (``5fc98185``);
    a name that is not a Nomad id, whole."""
    return name[:SHORT_ID] if _ALLOC_ID.match(name) else name


def _alloc_parts(node: Node, now: datetime, log_times: LogTimes | None) -> list:
    """An allocation: its short id, tasks and the age of its last log write
    (the full id is on the status line and in the dialogs)."""
    parts = [(printable(short_id(node.name)), ALLOC_NAME)]
    details = []
    tasks = sorted(node.alloc.task_dirs)
    if tasks:
        details.append(printable(", ".join(tasks)))
    stamp = log_times.time_of(node.alloc.alloc_dir) if log_times is not None else None
    if stamp is not None:
        details.append(f"logs {_age(stamp, now)}")
    if details:
        parts.append(("  " + " · ".join(details), DETAIL))
    if getattr(node.alloc, "read_only", False):  # a kept copy or an archive: what it is
        parts.append((f"  {printable(node.alloc.description)}", REASON))
    error = log_times.error_of(node.alloc.alloc_dir) if log_times is not None else None
    if error is not None:
        parts.append((f"  logs: {printable(error)}", ERROR))
    return parts


def _set_parts(node: Node, listing, now: datetime) -> list:
    """A rotation set: ``name.[first–last]``, its files, size and age."""
    members = listing.sets.get(node.set_name, []) if listing is not None else []
    numbers = listing.set_numbers(node.set_name) if members else []
    span = f"{numbers[0]}–{numbers[-1]}" if numbers else ""
    parts = [(f"{printable(node.name)}.[{span}]", SET_NAME)]
    if members:
        parts.append((f"  {len(members)} files · {size_words(listing.set_size(node.set_name))}"
                      f" · {_age(listing.set_mtime(node.set_name), now)}", DETAIL))
    return parts


def _entry_parts(node: Node, listing, now: datetime) -> list:
    """A directory entry: its name marked by kind, then size and age."""
    name, kind, i = printable(node.name), node.kind, node.entry
    if kind == SECRET:
        return [(f"{name}/", LOCKED_DIR), (f" {LOCKED}", LOCKED_TAG)]
    if kind == SECRET_FILE:
        return [(name, LOCKED_NAME), (f"  {size_words(listing.sizes[i])} {LOCKED}", LOCKED_DETAIL)]
    target = listing.targets.get(i)
    entry_kind = file_kind(listing.modes[i])
    if target is not None:
        parts = [(f"{name}@", LINK_TO_DIR if target == "dir" else LINK),
                 (f" → {target}", TARGET)]
    elif kind == DIR:
        parts = [(f"{name}/", DIR_NAME)]
    elif entry_kind.special:  # said in a word ("fifo"), not an ls -F mark glued to the name
        parts = [(name, SPECIAL_NAME), (f" {entry_kind.tag}", SPECIAL_TAG)]
    else:
        parts = [(name, NAME)]
    details = []
    if kind == FILE and not target and listing.kinds[i] != K_LINK:
        details.append(size_words(listing.sizes[i]))
    elif kind == DIR and i in listing.dir_sizes:  # measured for the size order
        size, complete = listing.dir_sizes[i]
        details.append(size_words(size) if complete else f"≥ {size_words(size)}")
    details.append(_age(listing.mtimes[i], now))
    parts.append(("  " + " · ".join(details), DETAIL))
    return parts
