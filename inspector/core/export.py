"""Taking evidence out: the lines of a log, a rotation set or a merged stream
written to a file of the operator's.

What is written (:class:`ExportPlan`): the current view (the lines the
``&`` filter shows, with their context lines when a context is set), the
lines between two marks, the whole set or stream, or the lines of a time
range; as the bytes are (*raw*), as the viewer shows them (*plain*: UTF-8,
colours and every other escape sequence and control character dropped),
or with every control and invisible character written as a visible escape
(*escaped*: ``\\x1b[31m`` shows as text). Plain and escaped exports begin
with a header saying what they hold, and carry the marks: a line
``# ── mark 'a ──`` above each marked line. A raw export is the bytes only.

Where it may go (:func:`export_target`) follows the snapshot's rule: never
inside an allocation (or what looks like one, or a task dir), never below
a client root, never through a symbolic link someone else controls
(:mod:`inspector.core.destination`). The file is written as the snapshot
is (:func:`write_export`): a temporary file (mode 0600: it holds a task's
output) made in the directory opened from ``/`` without following a
symbolic link, synced, then renamed into place, so the destination is
either the whole export or untouched; the free space is looked at every
64 MiB and the export stops, its temporary file removed, before the file
system drops below its reserve.

The lines are read in chunks of a few MiB through the document's
:class:`~inspector.core.session.lines.Lines` and scanned with the
filter's own chunk methods: about ``grep``'s pace, whatever the size.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from allocdir.destination import create_partial_at, open_dir_nofollow, trusted_realpath
from allocdir.errors import AllocDirError
from allocdir.plaintext import size_words
from allocdir.room import Allowance, NoRoomError, RoomCheck

from .actions import Refused
from .destination import (client_roots, enclosing_allocation, holding_client_root, mount_point,
                          read_only)
from .search import SearchCancelled
from .text import ansi_text, printable

RAW, PLAIN, ESCAPED = "raw", "plain", "escaped"
FORMATS = (RAW, PLAIN, ESCAPED)
VIEW, MARKS, ALL, TIME = "view", "marks", "all", "time"
SCOPES = (VIEW, MARKS, ALL, TIME)
CHUNK = 8 << 20
"""Bytes read per chunk (whole lines)."""
_UNSAFE = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")
"""Bytes a plain export cannot pass on as they are (controls, ESC, C1 in UTF-8)."""


@dataclass(frozen=True)
class ExportPlan:
    """What to write: the range of the document, the filter and context
    (the view), the format, the marks to carry, and what the header says."""

    scope: str = ALL
    fmt: str = PLAIN
    start: Any = None
    """The position of the first line (None: the first of the document)."""
    end: Any = None
    """The position of the last line (None: the last)."""
    pattern: Any = None
    """Only the lines matching this (a filter's pattern), or None."""
    context: int = 0
    marks: dict = field(default_factory=dict)
    """Mark letter → position of its line."""
    label: str = ""
    """What is exported, for the header ("<alloc>/alloc/logs/web.stdout")."""
    description: str = ""
    """The scope in words, for the header ("lines matching &ERROR")."""


@dataclass
class ExportOutcome:
    """How an export ended."""

    path: str
    written: bool = False
    lines: int = 0
    bytes: int = 0
    error: str = ""
    cancelled: bool = False
    removed: bool = True
    """The temporary file is gone (always, unless removing it failed)."""

    def message(self) -> str:
        """One sentence saying what happened."""
        where = printable(self.path)
        if self.written:
            return f"Wrote {self.lines:,} lines ({size_words(self.bytes)}) to {where}"
        left = "" if self.removed else " (its temporary file could not be removed)"
        if self.cancelled:
            return f"Export to {where} cancelled: nothing written{left}"
        return f"Export to {where} failed: {printable(self.error)}; nothing written{left}"


@dataclass(frozen=True)
class ExportTarget:
    """A checked destination: its absolute path (directory resolved) and
    whether a file is there already (it is replaced only when asked)."""

    path: str
    exists: bool


avoided_roots = client_roots
"""The client alloc roots an export must stay out of: those a snapshot or
a move stays out of (the one holding the allocation read, and the root opened)."""


def place_refusal(path: str, roots: list[str]) -> str | None:
    """Why the file ``path`` (absolute, its directory real) is no place for
    an export; None if it is one."""
    directory, shown = os.path.dirname(path), printable(path)
    enclosing = enclosing_allocation(directory, itself=True)
    if enclosing is not None:
        return (f"{shown} is {enclosing}: its tasks could redirect the write; write the "
                "export elsewhere")
    top = holding_client_root(directory, roots, direct_child_ok=False)
    if top is not None:
        return (f"{shown} is in the client alloc root {printable(top)}, where tasks can "
                "change what is on the way; write the export elsewhere")
    return None


def export_target(typed: str, cwd: str, roots: list[str]) -> ExportTarget | Refused:
    """Check the file a user typed (``~`` and relative paths from ``cwd``).
    Blocking (looks at the file system)."""
    if not typed.strip():
        return Refused("Name the file to write")
    path = os.path.normpath(os.path.join(cwd, os.path.expanduser(typed.strip())))
    if not os.path.isabs(path):
        return Refused("The current directory no longer exists: type an absolute path")
    if typed.strip().endswith("/"):
        return Refused(f"{printable(path)} names a directory: name a file")
    try:
        parent = trusted_realpath(os.path.dirname(path))
    except (OSError, AllocDirError) as exc:
        return Refused(printable(exc))
    path = os.path.join(parent, os.path.basename(path))
    shown = printable(path)
    if not os.path.isdir(parent):
        what = "is not a directory" if os.path.lexists(parent) else "does not exist"
        return Refused(f"the directory {printable(parent)} {what}")
    refusal = place_refusal(path, roots)
    if refusal:
        return Refused(refusal)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        kind = ("a directory" if stat.S_ISDIR(st.st_mode) else "a symbolic link"
                if stat.S_ISLNK(st.st_mode) else "not a regular file")
        return Refused(f"{shown} is {kind}: name a file")
    if read_only(parent):
        return Refused(f"{shown} is on a read-only file system "
                       f"({printable(mount_point(parent))})")
    return ExportTarget(path, st is not None)


# -- what goes into the file ------------------------------------------------


def header(plan: ExportPlan, now: datetime | None = None) -> bytes:
    """The comment lines a plain or escaped export starts with."""
    now = now or datetime.now(timezone.utc)
    lines = [f"# allocdir-inspector export of {printable(plan.label)}",
             f"# {printable(plan.description or plan.scope)}, {plan.fmt}",
             f"# written {now:%Y-%m-%dT%H:%M:%SZ}"]
    if plan.marks:
        lines.append("# marks: " + " ".join(f"'{letter}" for letter in sorted(plan.marks)))
    return ("\n".join(lines) + "\n").encode()


def convert(data: bytes, fmt: str) -> bytes:
    """Whole lines ``data`` in the export's format (raw: as they are)."""
    if fmt == RAW:
        return data
    if fmt == PLAIN and _UNSAFE.search(data) is None:
        try:
            data.decode("utf-8")
            return data
        except UnicodeDecodeError:
            pass
    elif fmt == ESCAPED and data.isascii() and _UNSAFE.search(data) is None:
        return data
    lines = data.split(b"\n")
    last = lines.pop() if not data.endswith(b"\n") else None
    if data.endswith(b"\n"):
        lines.pop()
    out = [_line(line, fmt) for line in lines]
    text = "".join(line + "\n" for line in out) + (_line(last, fmt) if last else "")
    return text.encode("utf-8", "surrogateescape")


def _line(line: bytes, fmt: str) -> str:
    if line.endswith(b"\r"):
        line = line[:-1]
    text = line.decode("utf-8", "replace" if fmt == PLAIN else "surrogateescape")
    return ansi_text(text).plain if fmt == PLAIN else printable(text)


def matching_spans(pattern, data: bytes, end: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each line of ``data[:end]`` holding a match of
    ``pattern``, the end past its newline."""
    spans_in = getattr(pattern, "spans_in", None)
    if spans_in is not None:
        for start, stop in spans_in(data, end):
            yield start, min(end, stop + 1)
        return
    if pattern.is_literal and b"\n" not in pattern.prefilter:
        yield from _literal_spans(pattern, data, end)
        return
    if pattern.is_literal:
        hay = pattern.hay(data)
        needle, find, rfind, nl = pattern.prefilter, hay.find, data.rfind, data.find
        pos = 0
        while (hit := find(needle, pos, end)) >= 0:
            start = rfind(b"\n", pos, hit) + 1 or pos
            stop = nl(b"\n", hit, end)
            stop = end if stop < 0 else stop + 1
            yield start, stop
            pos = stop
        return
    hay = pattern.hay(data) if pattern.needles is not None or pattern.ignore_case else None
    pos = 0
    while pos < end and (found := pattern.first_in(data, pos, end, end, hay=hay)) is not None:
        start = data.rfind(b"\n", pos, found[0]) + 1 or pos
        stop = data.find(b"\n", found[0], end)
        stop = end if stop < 0 else stop + 1
        yield start, stop
        pos = stop


def _literal_spans(pattern, data: bytes, end: int) -> list[tuple[int, int]]:
    """The spans of the lines of ``data[:end]`` holding a literal: one
    regex pass finds the needle and the rest of its line (so a line is hit
    once, and its end comes with it), then each line's start is looked
    back for."""
    rfind = data.rfind
    hits = [found.span() for found in _to_line_end(pattern.prefilter).finditer(
        pattern.hay(data), 0, end)]
    return [(rfind(b"\n", 0, hit) + 1, stop) for hit, stop in hits]


@lru_cache(maxsize=16)
def _to_line_end(needle: bytes) -> re.Pattern[bytes]:
    """The needle and the rest of its line, its newline included."""
    return re.compile(re.escape(needle) + b"[^\n]*\n?")


class _Context:
    """Context lines around the matches, carried from one chunk to the next
    (``grep -C``)."""

    def __init__(self, lines: int) -> None:
        self.lines = lines
        self.after = 0  # lines still owed after the last chunk's last match
        self.tail: list[bytes] = []  # the last lines of the last chunk, not written

    def spans(self, data: bytes, matches: Iterator[tuple[int, int]],
              end: int) -> tuple[bytes, list[tuple[int, int]]]:
        """The lines owed from the chunk before, and the spans of this chunk
        to write (matches with their context, merged)."""
        owed, spans = b"", []
        if self.after:
            stop, left = _lines_after(data, 0, end, self.after)
            spans.append((0, stop))
            self.after = left
        for start, stop in matches:
            first, missing = _lines_before(data, start, self.lines)
            if missing and first == 0 and self.tail and not spans:
                owed = b"".join(self.tail[-missing:])
            after, self.after = _lines_after(data, stop, end, self.lines)
            if spans and first <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], after))
            else:
                spans.append((first, after))
        unwritten = _last_lines(data, spans[-1][1] if spans else 0, end, self.lines)
        self.tail = unwritten if spans else (self.tail + unwritten)[-self.lines:]
        return owed, spans


def _lines_before(data: bytes, start: int, count: int) -> tuple[int, int]:
    """Where the ``count`` lines before ``start`` begin, and how many of them
    are missing (before the chunk's start)."""
    pos = start
    for done in range(count):
        if pos == 0:
            return 0, count - done
        pos = data.rfind(b"\n", 0, pos - 1) + 1
    return pos, 0


def _lines_after(data: bytes, stop: int, end: int, count: int) -> tuple[int, int]:
    """Where the ``count`` lines from ``stop`` end, and how many are owed by
    the next chunk."""
    pos = stop
    for done in range(count):
        if pos >= end:
            return end, count - done
        newline = data.find(b"\n", pos, end)
        pos = end if newline < 0 else newline + 1
    return pos, 0


def _last_lines(data: bytes, low: int, end: int, count: int) -> list[bytes]:
    """The last ``count`` lines of ``data[low:end]``."""
    out: list[bytes] = []
    pos = end
    while len(out) < count and pos > low:
        start = max(low, data.rfind(b"\n", low, pos - 1) + 1)
        out.append(data[start:pos])
        pos = start
    return out[::-1]


def _pieces(chunk, plan: ExportPlan, context: _Context | None,
            joined: bool = False) -> Iterator[tuple[int, bytes]]:
    """(chunk offset, bytes) of what the chunk contributes, in order; the
    offset of bytes owed from the chunk before is -1. ``joined``: the
    matching lines of a chunk as one piece (offset 0), for an export
    without marks to place between them."""
    data, end = chunk.data, len(chunk.data)
    if plan.pattern is None:
        yield 0, data
        return
    matches = matching_spans(plan.pattern, data, end)
    if context is None and joined:
        yield 0, b"".join([data[start:stop] for start, stop in matches])
        return
    if context is None:
        spans = list(matches)
    else:
        owed, spans = context.spans(data, matches, end)
        if owed:
            yield -1, owed
    for start, stop in spans:
        yield start, data[start:stop]


def _with_marks(pieces, chunk, marks: list[tuple[Any, str]]) -> Iterator[tuple[bytes, bool]]:
    """(bytes, is a mark line) of the pieces, a mark line above each marked line."""
    if not marks:
        for _offset, data in pieces:
            yield data, False
        return
    base, size = chunk.start, len(chunk.data)
    inside = [(at - base, letter) for at, letter in marks
              if isinstance(at, int) and base <= at < base + size]
    for offset, data in pieces:
        cuts = sorted((at - offset, letter) for at, letter in inside
                      if 0 <= offset <= at < offset + len(data)
                      and (at == offset or data[at - offset - 1:at - offset] == b"\n"))
        pos = 0
        for cut, letter in cuts:
            yield data[pos:cut], False
            yield f"# ── mark '{letter} ──\n".encode(), True
            pos = cut
        yield data[pos:], False


def write_export(lines, plan: ExportPlan, target: ExportTarget, roots: list[str], *,
                 cancel: threading.Event | None = None,
                 progress: Callable[[int, int], None] | None = None) -> ExportOutcome:
    """Write ``plan`` of the document ``lines`` (a
    :class:`~inspector.core.session.lines.Lines`) to ``target``: checked
    again, then a temporary file renamed into place. ``progress(done,
    total)`` gets the bytes read; ``cancel`` stops it (nothing is left)."""
    outcome = ExportOutcome(target.path)
    refusal = place_refusal(target.path, roots)
    if refusal:
        outcome.error = refusal
        return outcome
    directory, name = os.path.split(target.path)
    try:
        dir_fd = open_dir_nofollow(directory)
    except (OSError, AllocDirError) as exc:
        outcome.error = _reason(exc)
        return outcome
    try:
        _write(lines, plan, outcome, dir_fd, name, cancel, progress)
    finally:
        os.close(dir_fd)
    return outcome


def _write(lines, plan: ExportPlan, outcome: ExportOutcome, dir_fd: int, name: str,
           cancel, progress) -> None:
    try:
        fd, partial = create_partial_at(dir_fd, name)
    except OSError as exc:
        outcome.error = _reason(exc)
        return
    try:
        outcome.lines, outcome.bytes = _fill(fd, lines, plan, cancel, progress, outcome.path)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.rename(partial, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        outcome.written = True
    except (OSError, AllocDirError, SearchCancelled, ValueError) as exc:
        outcome.cancelled = isinstance(exc, SearchCancelled)
        outcome.error = "" if outcome.cancelled else _reason(exc)
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(partial, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        except OSError:
            outcome.removed = False


def _fill(fd: int, lines, plan: ExportPlan, cancel, progress, path: str) -> tuple[int, int]:
    """Write the export's bytes to ``fd``: (lines of the log, bytes) written."""
    allowance = Allowance(RoomCheck(fd, mount_point(os.path.dirname(path))))
    marks = sorted(((at, letter) for letter, at in plan.marks.items()),
                   key=lambda item: item[0]) if plan.fmt != RAW else []
    context = _Context(plan.context) if plan.pattern is not None and plan.context else None
    count = written = 0
    first, total = None, 1
    out = [header(plan)] if plan.fmt != RAW else []
    for chunk in lines.chunks(plan.start, plan.end, cancel, size=CHUNK):
        if first is None:
            first = chunk.start if isinstance(chunk.start, int) else 0
            end = plan.end if isinstance(plan.end, int) else lines.size
            total = max(1, end - first)
        pieces = _pieces(chunk, plan, context, joined=not marks)
        for data, mark_line in _with_marks(pieces, chunk, marks):
            if data and not mark_line:
                data = convert(data, plan.fmt)
                count += data.count(b"\n")
            out.append(data)
        data = b"".join(out)
        out = []
        if data:
            allowance.take(os.path.basename(path), len(data))
            _write_all(fd, data)
            written += len(data)
        if progress is not None and isinstance(chunk.start, int):
            progress(chunk.start + len(chunk.data) - first, total)
    if out:  # the header of an export of nothing
        data = b"".join(out)
        _write_all(fd, data)
        written += len(data)
    return count, written


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        done = os.write(fd, view)
        view = view[done:]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, NoRoomError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__
