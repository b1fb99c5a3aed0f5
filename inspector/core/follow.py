"""Following a growing file, as ``tail -F`` and ``nomad alloc logs -f`` do.

A :class:`Follower` runs in one thread (``run`` blocks) and keeps a bounded
buffer of the last lines plus the pending partial line; another thread (the
viewer) reads it with :meth:`Follower.state`. It reacts to the events of
``fs.change_events``:

- MODIFIED: read the new bytes;
- TRUNCATED: say so, mark the place (``FollowState.marks``, which a viewer
  draws as a separator line) and continue from offset 0 of the new content;
- DELETED: say so and stop (unless the file was rotated, see below); with
  ``reopen=True`` wait instead for a file to be created again at the same
  path and follow that one from its start, as ``tail -F`` does (marked too).

On a Nomad log file ``<task>.<stdout|stderr>.<N>`` it waits for ``.<N+1>``
with ``fs.block_until_exists``; when that appears it reads the current file to
its end and continues into the new one from offset 0 *without* ending the
pending partial line, so a line split across the rotation stays one line
(Nomad's own follow breaks it: hashicorp/nomad#11653).

Memory stays bounded under any writer: at most ``max_lines`` lines and about
``max_bytes`` bytes are kept, a line is split every ``max_line_bytes`` bytes,
and when the writer is more than ``max_bytes`` ahead the follower skips to the
last ``max_bytes`` instead of reading everything.

Two hooks serve those that want more than the state: ``on_change`` is called
(in the follower's thread, briefly) whenever the state changed, so one
waiter can watch many followers; a ``sink`` (:class:`FollowSink`) gets every
byte read, in order, and a mark where a file was truncated or created again,
as they happen: with a sink nothing is ever skipped (the ``logs -f``
command writes what it gets, as ``tail -F`` does).
"""

from __future__ import annotations

import os
import posixpath
import threading
from collections import deque
from concurrent.futures import Future
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from inspector.core.lognames import ROTATED_LOG_RE, next_rotation
from inspector.core.pager import MAX_LINE_BYTES

__all__ = ["ROTATED_LOG_RE", "FollowSink", "FollowState", "Follower", "next_rotation"]


MAX_LINES = 10_000
MAX_BYTES = 8 * 1024 * 1024
READ_CHUNK = 1024 * 1024
BACKLOG_BYTES = 64 * 1024
TAIL_CHECK = 64
"""Bytes before the offset compared on every read, to notice a rewrite."""
ROTATION_GRACE = 0.5
"""Seconds to wait, after a rotated log is deleted, for its successor to show up."""


class FollowSink(Protocol):
    """What a follower hands every byte it reads to (in its own thread)."""

    def data(self, chunk: bytes) -> None:
        """The next bytes of the log, in order (a line may end in a later chunk)."""

    def mark(self, label: str) -> None:
        """The file was "truncated" or "recreated": what comes next starts it anew."""


@dataclass(frozen=True)
class FollowState:
    """What a follower has seen so far, as a copy safe to use in any thread."""

    path: str
    """The file currently followed (changes on rotation)."""
    offset: int
    """Bytes of ``path`` read so far."""
    lines: list[bytes]
    """The last complete lines (without newlines), oldest first."""
    partial: bytes
    """The bytes after the last newline."""
    notice: str
    """The last thing worth telling the user ("truncated", "deleted", …)."""
    running: bool
    version: int
    """Grows on every change, so a reader can tell whether to redraw."""
    marks: tuple[tuple[int, str], ...] = field(default=())
    """Separators to draw: (i, label) goes before ``lines[i]`` (``i ==
    len(lines)``: after the last line), e.g. (3, "truncated")."""
    marked: int = 0
    """Marks made since the follow started: the last ``marked - n`` of
    ``marks`` are the ones made since a reader saw ``n``."""


class Follower:
    """Follows one file (and its rotations) in the thread that calls :meth:`run`."""

    def __init__(
        self,
        fs,
        path: str,
        *,
        start: int | None = None,
        backlog_bytes: int = BACKLOG_BYTES,
        max_lines: int = MAX_LINES,
        max_bytes: int = MAX_BYTES,
        max_line_bytes: int = MAX_LINE_BYTES,
        read_chunk: int = READ_CHUNK,
        reopen: bool = False,
        on_change: Callable[[], None] | None = None,
        sink: FollowSink | None = None,
    ) -> None:
        self.fs = fs
        self.reopen = reopen
        self._on_change = on_change
        self._sink = sink
        self.reopened = 0
        """How many times a deleted file was found created again and reopened."""
        self._path = path
        self._start = start
        self._backlog = backlog_bytes
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.max_line_bytes = max_line_bytes
        self._read_chunk = read_chunk
        self._lines: deque[bytes] = deque()
        self._pushed = 0  # lines ever pushed (the deque holds the last ones)
        self._marked = 0  # marks ever made
        self._marks: deque[tuple[int, str]] = deque()  # (absolute line index, label)
        self._line_bytes = 0
        self._partial = b""
        self._offset = 0
        # The last bytes read, just before the offset, and the first bytes of
        # the file: if either changes, the file was truncated and written
        # again, however the events coalesced. Both, because a log's lines can
        # end alike (a run of the same character), but rarely begin alike.
        self._tail = b""
        self._head = b""
        self._notice = ""
        self._version = 0
        self._running = False
        self._stop = threading.Event()
        self._watching = threading.Event()
        self._cond = threading.Condition()
        self._fh: BinaryIO | None = None
        self._changes = None
        self._fallback = ""  # why the watch polls, as last said
        self._future: Future | None = None

    # -- reading the state (any thread) -----------------------------------

    @property
    def path(self) -> str:
        """The file currently followed."""
        with self._cond:
            return self._path

    @property
    def version(self) -> int:
        """A counter that grows on every change of the state."""
        with self._cond:
            return self._version

    @property
    def running(self) -> bool:
        """True while :meth:`run` is following."""
        with self._cond:
            return self._running

    def state(self, last: int | None = None) -> FollowState:
        """Return a copy of the state with at most ``last`` complete lines."""
        with self._cond:
            if last is None or last >= len(self._lines):
                lines = list(self._lines)
            else:
                lines = [self._lines[i] for i in range(len(self._lines) - last, len(self._lines))]
            first = self._pushed - len(lines)
            marks = tuple(
                (index - first, label) for index, label in self._marks if index >= first
            )
            return FollowState(
                self._path,
                self._offset,
                lines,
                self._partial,
                self._notice,
                self._running,
                self._version,
                marks,
                self._marked,
            )

    def wait_changed(self, version: int, timeout: float) -> int:
        """Block until the version differs from ``version`` (or timeout); return it."""
        with self._cond:
            self._cond.wait_for(lambda: self._version != version, timeout)
            return self._version

    def wait_watching(self, timeout: float) -> bool:
        """Block until the follower watches the file (or has ended); False on timeout."""
        return self._watching.wait(timeout)

    # -- control ----------------------------------------------------------

    def stop(self) -> None:
        """Ask :meth:`run` to return soon; safe from any thread, idempotent."""
        self._stop.set()
        changes, future = self._changes, self._future
        if future is not None:
            future.cancel()
        if changes is not None:
            changes.close()

    def run(self) -> None:
        """Follow until stopped or until the file is deleted. Blocks."""
        with self._cond:
            self._running = True
            self._bump()
        try:
            self._open_first()
            while not self._stop.is_set():
                if not self._watch_current():
                    break
        except Exception as error:  # shown to the user, never raised into the UI
            self._set_notice(f"follow stopped: {error}")
        finally:
            self._close()
            self._watching.set()
            with self._cond:
                self._running = False
                self._bump()

    # -- the follow loop (runner thread) ----------------------------------

    def _open_first(self) -> None:
        self._fh = self.fs.read_at(self._path, 0)
        size = self._size()
        start = size if self._start is None else min(self._start, size)
        low = max(0, start - self._backlog)
        self._offset = low
        if low < start:
            data = self._read(start - low)
            if low > 0:
                cut = data.find(b"\n")
                data = data[cut + 1 :] if cut >= 0 else b""
            self._ingest(data)
        self._offset = start
        self._tail = self._pread(max(0, start - TAIL_CHECK), start)
        self._head = self._pread(0, min(TAIL_CHECK, start))

    def _watch_current(self) -> bool:
        """Follow the current file; return True to go on with the next one."""
        from allocdir import ChangeEvent

        path = self._path
        successor = next_rotation(path)
        try:
            changes = self.fs.change_events(path, self._offset)
        except FileNotFoundError:  # removed between opening and watching
            changes = _Ended()
        self._changes = changes
        self._say_fallback(changes)
        if successor is not None:
            self._future = self.fs.block_until_exists(successor)
            # Appearance of the successor ends the iteration below.
            self._future.add_done_callback(lambda _f: changes.close())
        deleted = isinstance(changes, _Ended)
        try:
            if self._stop.is_set():
                return False
            self._drain()
            self._watching.set()
            for event in changes:
                if self._stop.is_set():
                    return False
                # TRUNCATED is a hint: _drain checks the file itself, so a
                # truncation it already handled is not handled twice.
                if event is ChangeEvent.DELETED:
                    deleted = True
                    break
                self._drain()
        finally:
            changes.close()
            self._changes = None
        if self._stop.is_set():
            return False
        if successor is not None and self._successor_ready(deleted):
            self._drain()
            self._rotate(successor)
            return True
        if deleted and self.reopen:
            return self._await_recreation(path)
        self._set_notice("deleted" if deleted else "follow ended")
        return False

    def _say_fallback(self, changes) -> None:
        """Tell the user once when the watch polls because inotify could not
        be had (its instances or watches used up): following goes on."""
        reason = getattr(changes, "fallback", "")
        if reason and reason != self._fallback:
            interval = getattr(changes, "poll_interval", None) or 0
            self._set_notice(f"inotify unavailable ({reason}): polling every "
                             f"{round(interval * 1000)} ms")
        self._fallback = reason

    def _await_recreation(self, path: str) -> bool:
        """Wait (until stopped) for ``path`` to exist again, then follow the
        new file from its start; True to go on watching."""
        self._set_notice("deleted: waiting for it to be created again")
        while not self._stop.is_set():
            future = self.fs.block_until_exists(path)
            self._future = future
            while not self._stop.is_set():
                try:
                    future.result(timeout=0.2)
                    break
                except TimeoutError:
                    continue
                except Exception:  # cancelled by stop(), or the watch failed
                    break
            self._future = None
            future.cancel()
            if self._stop.is_set():
                return False
            try:
                fh = self.fs.read_at(path, 0)
            except FileNotFoundError:
                continue  # gone again before we could open it
            old, self._fh = self._fh, fh
            if old is not None:
                old.close()
            with self._cond:
                if self._partial:
                    self._push_lines([self._partial])
                    self._partial = b""
                self._add_mark("recreated")
                self._offset = 0
                self._tail = self._head = b""
                self._notice = "recreated: following the new file"
                self.reopened += 1
                self._bump()
            if self._sink is not None:
                self._sink.mark("recreated")
            return True
        return False

    def _successor_ready(self, deleted: bool) -> bool:
        future = self._future
        self._future = None
        if future is None:
            return False
        try:
            future.result(timeout=ROTATION_GRACE if deleted else 0)
        except Exception:
            future.cancel()
            return False
        return True

    def _rotate(self, successor: str) -> None:
        """Continue in the successor at offset 0, keeping the partial line."""
        old = self._fh
        self._fh = self.fs.read_at(successor, 0)
        if old is not None:
            old.close()
        with self._cond:
            self._path = successor
            self._offset = 0
            self._tail = self._head = b""
            self._notice = f"continued in {posixpath.basename(successor)}"
            self._bump()

    def _add_mark(self, label: str) -> None:
        """A separator after the lines pushed so far (caller holds the condition)."""
        self._marks.append((self._pushed, label))
        self._marked += 1

    def _truncated(self) -> None:
        with self._cond:
            if self._partial:
                self._push_lines([self._partial])
                self._partial = b""
            self._add_mark("truncated")
            self._offset = 0
            self._tail = self._head = b""
            self._notice = "truncated"
            self._bump()
        if self._sink is not None:
            self._sink.mark("truncated")

    def _drain(self) -> None:
        """Read everything between the offset and the current end of the file."""
        while not self._stop.is_set():
            size = self._size()
            if size < self._offset or not self._intact():
                self._truncated()
            behind = size - self._offset
            if behind <= 0:
                return
            if behind > self.max_bytes and self._sink is None:
                self._skip_to(size - self.max_bytes)
                continue
            data = self._read(min(self._read_chunk, behind))
            if not data:
                return
            self._ingest(data)

    def _skip_to(self, offset: int) -> None:
        """Jump ahead of a writer too fast to show everything, dropping the cut line."""
        skipped = offset - self._offset
        self._offset = offset
        self._tail = b""
        self._fh.seek(offset)
        head = self._fh.readline(self.max_line_bytes)
        self._offset += len(head)
        with self._cond:
            self._partial = b""
            self._notice = f"skipped {skipped + len(head):,} bytes to keep up"
            self._bump()

    def _read(self, length: int) -> bytes:
        start = self._offset
        self._fh.seek(start)
        data = self._fh.read(length)
        with self._cond:
            self._offset += len(data)
        self._tail = (self._tail + data[-TAIL_CHECK:])[-TAIL_CHECK:]
        if start == len(self._head) < TAIL_CHECK:
            self._head += data[: TAIL_CHECK - start]
        return data

    def _pread(self, start: int, end: int) -> bytes:
        return os.pread(self._fh.fileno(), end - start, start) if end > start else b""

    def _intact(self) -> bool:
        """True unless the bytes before the offset, or the first bytes of the
        file, are not those read there."""
        if self._tail and (self._pread(self._offset - len(self._tail), self._offset)
                           != self._tail):
            return False
        return not self._head or self._pread(0, len(self._head)) == self._head

    def _size(self) -> int:
        try:
            return os.fstat(self._fh.fileno()).st_size
        except (AttributeError, OSError, ValueError):
            return self._fh.seek(0, os.SEEK_END)

    def _ingest(self, data: bytes) -> None:
        """Add bytes to the buffer: complete lines to the deque, the rest to the partial."""
        if self._sink is not None:
            self._sink.data(data)
        with self._cond:
            parts = (self._partial + data).split(b"\n")
            partial = parts.pop()
            cap = self.max_line_bytes
            if any(len(p) > cap for p in parts):
                parts = [p[i : i + cap] for p in parts for i in range(0, max(1, len(p)), cap)]
            while len(partial) > cap:
                parts.append(partial[:cap])
                partial = partial[cap:]
            self._partial = partial
            self._push_lines(parts)
            self._bump()

    def _push_lines(self, lines: list[bytes]) -> None:
        self._pushed += len(lines)
        if len(lines) > self.max_lines:
            lines = lines[-self.max_lines :]
        self._lines.extend(lines)
        self._line_bytes += sum(map(len, lines))
        while self._lines and (
            len(self._lines) > self.max_lines or self._line_bytes > self.max_bytes
        ):
            self._line_bytes -= len(self._lines.popleft())
        first = self._pushed - len(self._lines)
        while self._marks and self._marks[0][0] < first:
            self._marks.popleft()

    def _set_notice(self, notice: str) -> None:
        with self._cond:
            self._notice = notice
            self._bump()

    def _bump(self) -> None:
        self._version += 1
        self._cond.notify_all()
        if self._on_change is not None:
            self._on_change()

    def _close(self) -> None:
        if self._future is not None:
            self._future.cancel()
            self._future = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class _Ended:
    """Stands in for the change events of a file that is already gone."""

    def __iter__(self):
        """No events: the file is gone."""
        return iter(())

    def close(self) -> None:
        """Nothing to stop."""
