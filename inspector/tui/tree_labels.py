"""How the rows of the allocation tree read: a node's label (name, then
size and age, dimmed; marks for links, FIFOs, sockets, devices, locked
secrets, rotation sets, and the reason a directory is not an allocation).

Everything a task named is shown through ``printable``; a time no date can
hold (a task may set any 64-bit mtime on its tmpfs) is said, never raised.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from allocdir.fileinfo import utc_from_timestamp
from allocdir.plaintext import age_words, size_words

from ..core.listing import K_LINK
from ..core.logtimes import LogTimes
from ..core.text import printable

# Node kinds (a STRAY is a directory of the client root that is not an allocation).
ROOT, ALLOC, STRAY, DIR, FILE, SPECIAL, SECRET, SECRET_FILE, SET, NOTE = (
    "root", "alloc", "stray", "dir", "file", "special", "secret", "secret-file", "set", "note"
)
CONTAINERS = (ROOT, ALLOC, STRAY, DIR, SECRET, SET)


def special_tag(file_mode: str) -> tuple[str, str]:
    """(suffix, tag) for FIFOs, sockets and devices; ("", "") otherwise."""
    return {
        "p": ("|", "fifo"),
        "s": ("=", "socket"),
        "c": ("", "char device"),
        "b": ("", "block device"),
    }.get(file_mode[:1], ("", ""))


def _age(stamp: float, now: datetime) -> str:
    """How long ago ``stamp`` was, in words; a time no date can hold (a task
    may set any 64-bit mtime on its tmpfs) is "out of range", never raised."""
    return age_words(utc_from_timestamp(stamp), now)


def node_label(node, now: datetime, log_times: LogTimes) -> Text:
    """The label of a tree node: name, then size and age, dimmed. Names are
    shown through `printable` (a task chooses them)."""
    kind = node.kind
    if kind == NOTE:
        return Text(printable(node.text), style=node.style, end="")
    if kind == ROOT:
        return Text(printable(node.name), style="bold", end="")
    if kind == ALLOC:
        return _alloc_label(node, now, log_times)
    if kind == STRAY:
        label = Text(printable(node.name), style="bold", end="")
        label.append(f"  {printable(node.alloc.description)}", style="yellow")
        return label
    listing = node.owner_listing
    if kind == SET:
        return _set_label(node, listing, now)
    if listing is None or node.entry is None or node.entry >= len(listing):
        return Text(printable(node.name), end="")
    return _entry_label(node, listing, now)


def _alloc_label(node, now: datetime, log_times: LogTimes) -> Text:
    """An allocation: its id, tasks and the age of its last log write."""
    label = Text(printable(node.name), style="bold", end="")
    details = []
    tasks = sorted(node.alloc.task_dirs)
    if tasks:
        details.append(printable(", ".join(tasks)))
    logs = log_times.time_of(node.alloc.alloc_dir)
    if logs is not None:
        details.append(f"logs {_age(logs, now)}")
    if details:
        label.append("  " + " · ".join(details), style="dim")
    error = log_times.error_of(node.alloc.alloc_dir)
    if error is not None:
        label.append(f"  logs: {printable(error)}", style="red")
    return label


def _set_label(node, listing, now: datetime) -> Text:
    """A rotation set: ``name.[first–last]``, its files, size and age."""
    members = listing.sets.get(node.set_name, []) if listing is not None else []
    numbers = sorted(int(listing.names[i].rsplit(".", 1)[1]) for i in members)
    span = f"{numbers[0]}–{numbers[-1]}" if numbers else ""
    label = Text(f"{printable(node.name)}.[{span}]", style="bold", end="")
    if members:
        label.append(f"  {len(members)} files · {size_words(listing.set_size(node.set_name))}"
                     f" · {_age(listing.set_mtime(node.set_name), now)}", style="dim")
    return label


def _entry_label(node, listing, now: datetime) -> Text:
    """A directory entry: its name marked by kind, then size and age."""
    name, kind, i = printable(node.name), node.kind, node.entry
    label = Text(end="")
    if kind == SECRET:
        label.append(f"{name}/", style="bold yellow")
        label.append(" [locked]", style="yellow")
        return label
    if kind == SECRET_FILE:
        label.append(name, style="yellow")
        label.append(f"  {size_words(listing.sizes[i])} [locked]", style="dim yellow")
        return label
    suffix, tag = special_tag(listing.modes[i])
    target = listing.targets.get(i)
    if target is not None:
        label.append(f"{name}@", style="bold cyan" if target == "dir" else "cyan")
        label.append(f" → {target}", style="dim cyan")
    elif kind == DIR:
        label.append(f"{name}/", style="bold blue")
    elif tag:
        label.append(f"{name}{suffix}", style="magenta")
        label.append(f" {tag}", style="dim magenta")
    else:
        label.append(name)
    details = []
    if kind == FILE and not target and listing.kinds[i] != K_LINK:
        details.append(size_words(listing.sizes[i]))
    details.append(_age(listing.mtimes[i], now))
    label.append("  " + " · ".join(details), style="dim")
    return label
