"""Opening one file of an allocation for a pager, for any front-end.

:func:`open_for_viewing` stats the file, refuses what must not be read
(directories; FIFOs, sockets and devices, which could block; secrets, which
``read_at`` refuses) with a message for the user, and otherwise opens a
source (the file alone, or a Nomad log with its whole rotation set) and says
whether the content is shown as text or as a hex dump (:func:`is_text`).
:func:`read_first_screen` goes on to read the screen shown first. Both block:
call them from a worker thread, or before a UI starts.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from datetime import datetime

from allocdir import AllocDirError, AllocFileInfo
from allocdir.kinds import DIR, file_kind

from .lognames import is_set_name, members_of, parse_rotated
from .pager import FsSource, Pager, Row
from .rotation import LogSource
from .text import printable

TEXT_SUFFIXES = re.compile(r"(\.log|\.txt|\.json)\Z")
"""Names shown as text whatever their first bytes look like (with Nomad's
rotated logs, :func:`~inspector.core.lognames.parse_rotated`)."""


def set_member(fs, path: str, *, newest: bool = False) -> str:
    """The file to open for ``path``: ``path`` itself, or for a rotation set
    named without an index (``alloc/logs/web.stdout``, as Nomad deletes
    ``.0`` of a long-running task) its first file, or with ``newest`` its
    last. Raises FileNotFoundError for a set name with no file. Blocking:
    it lists the directory when ``path`` looks like a set name."""
    name = posixpath.basename(path)
    if parse_rotated(name) is not None or not is_set_name(name):
        return path
    directory = posixpath.dirname(path)
    listed = fs.list(directory)
    if any(info.name == name for info in listed):  # a file of that very name: not a set
        return path
    members = members_of(name, [info.name for info in listed if info.is_regular])
    if not members:
        raise FileNotFoundError(f"no {printable(name)}.N in {printable(directory) or '.'}")
    chosen = members[-1 if newest else 0][1]
    return posixpath.join(directory, chosen) if directory else chosen


def is_text(path: str, content_type: str) -> bool:
    """Whether a file is shown as text (else as a hex dump)."""
    return (
        content_type.startswith("text/")
        or content_type.startswith("application/json")
        or TEXT_SUFFIXES.search(path) is not None
        or parse_rotated(posixpath.basename(path)) is not None
    )


class NotViewable(Exception):
    """The file cannot be shown; ``str()`` is the message for the user
    (names in it already went through ``printable``). ``info`` is what stat
    said, when it got that far."""

    def __init__(self, message: str, info: AllocFileInfo | None = None) -> None:
        super().__init__(message)
        self.info = info


@dataclass
class Viewable:
    """A file opened for paging: what stat said, the open source (the caller
    closes it) and whether it is shown as a hex dump."""

    info: AllocFileInfo
    source: LogSource
    hex_mode: bool


def open_for_viewing(fs, path: str, *, as_set: bool = False) -> Viewable:
    """Stat and open ``path`` of ``fs`` (an ``AllocDirFS``) for a pager; with
    ``as_set``, a rotated log ``<task>.<stream>.<N>`` opens with its whole set.

    Raises :class:`NotViewable` with a one-line reason for a directory, a
    FIFO, socket or device (never opened), a secret (``read_at``'s refusal),
    a missing or unreadable file.
    """
    shown = printable(path)
    info = None
    try:
        info = fs.stat(path)
        kind = file_kind(info.file_mode)
        if info.is_dir or kind is DIR:
            raise NotViewable(f"{shown} is a directory: pick a file.", info)
        if kind.special:
            raise NotViewable(
                f"{shown} is {kind.phrase}: it is not opened (reading could block).", info)
        source = LogSource(fs, path) if as_set else FsSource(fs, path)
    except NotViewable:
        raise
    except FileNotFoundError:
        raise NotViewable(f"{shown} does not exist (it may have been removed).", info) from None
    except PermissionError as exc:
        raise NotViewable(f"Permission denied: {shown} ({printable(exc.strerror or exc)})",
                          info) from None
    except AllocDirError as exc:
        raise NotViewable(printable(exc), info) from None
    except OSError as exc:
        raise NotViewable(f"Cannot open {shown}: {printable(exc.strerror or exc)}", info) from None
    except Exception as exc:  # any other backend failure is shown, not raised
        raise NotViewable(f"Cannot open {shown}: {printable(exc)}", info) from None
    return Viewable(info, source, hex_mode=not is_text(path, info.content_type))


@dataclass
class FirstScreen:
    """A file opened with its first screen read, or, with ``pager`` None,
    the ``message`` saying why it is not shown. The caller closes the pager's
    source."""

    pager: Pager | None
    rows: list[Row]
    size: int
    mod_time: datetime | None
    content_type: str
    message: str = ""
    path: str = ""
    """The file opened (for a set named without an index: the member chosen)."""


def read_first_screen(
    fs, path: str, width: int, height: int, *, wrap: bool = False, follow: bool = False
) -> FirstScreen:
    """Open ``path`` with its rotation set and read the screen shown first:
    the top of ``path`` (inside its set), or with ``follow`` the end of the
    set. A set named without an index opens at its first file (with
    ``follow``: its end). Failures become the message, never an exception."""
    try:
        try:
            path = set_member(fs, path, newest=follow)
        except FileNotFoundError as missing:
            raise NotViewable(f"{printable(path)} does not exist ({missing}).") from None
        except Exception:  # not listable: opening it as given says why, below
            pass
        opened = open_for_viewing(fs, path, as_set=True)
    except NotViewable as refusal:
        info = refusal.info
        return FirstScreen(None, [], getattr(info, "size", 0), getattr(info, "mod_time", None),
                           getattr(info, "content_type", ""), str(refusal))
    source, info = opened.source, opened.info
    try:
        pager = Pager(source, hex_mode=opened.hex_mode, width=width, height=height, wrap=wrap,
                      levels=not opened.hex_mode)
        if follow:
            pager.tail()
        elif source.is_set:
            start = source.start_of(path)
            if start:
                pager.goto_exact(start)
        rows = pager.screen()
    except Exception as exc:  # shown in the viewer, never raised into the UI
        source.close()
        reason = printable(getattr(exc, "strerror", None) or exc)
        return FirstScreen(None, [], info.size, info.mod_time, info.content_type,
                           f"Cannot read {printable(path)}: {reason}")
    return FirstScreen(pager, rows, pager.size, info.mod_time, info.content_type, path=path)
