"""The metadata of one kept allocation: a snapshot and a journal of updates,
so that what is written per change is proportional to the change.

``.keep/state.json`` holds every record as of journal number J;
``.keep/journal.J`` holds the records updated since, one JSON object per
line, appended. A record is a dict with a key ``"k"``; a later record with
the same key replaces the earlier. Loading reads the snapshot, then the
journal up to its last complete line (a line cut by a crash is dropped).
When the journal outgrows the snapshot, the snapshot is rewritten (whole,
to a temporary file, synced, renamed) and a new journal started.

The caller writes and syncs the data a record describes *before*
:meth:`Journal.flush` writes the record, so a record never claims bytes
that are not on disk.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from .copying import is_disk_full
from .layout import FILE_MODE, FORMAT_VERSION
from .store import read_file, write_atomically

STATE_FILE = "state.json"
JOURNAL_PREFIX = "journal."
COMPACT_MIN = 256 << 10
"""The journal is folded into the snapshot once it is this long and longer than the snapshot."""
MAX_LOAD = 256 << 20
"""A snapshot or journal longer than this is not read (not one this program wrote)."""

Record = dict[str, Any]


class JournalError(Exception):
    """The metadata cannot be read; the message says which file and why."""


class Journal:
    """The records of one kept allocation, in its ``.keep`` directory
    (``state_fd``, owned by the journal from then on)."""

    def __init__(self, state_fd: int) -> None:
        self._dir = state_fd
        # What is on disk (loaded, or flushed), by key, as compact JSON: a
        # few hundred bytes a record, where a dict would take kilobytes.
        self._stored: dict[str, bytes] = {}
        self._pending: dict[str, Record] = {}
        self._number = 0
        self._fd = -1
        self._size = 0
        self._state_size = 0
        self.bytes_written = 0
        """Metadata bytes written so far (journal lines and snapshots)."""

    # -- loading ---------------------------------------------------------

    def load(self, *, repair: bool = True) -> list[str]:
        """Read the records from disk; return what was wrong (a cut last
        line, a stale journal). With ``repair`` (the keeper, not a reader)
        the journal is cut after its last whole line and stale files go."""
        problems: list[str] = []
        state = _read_json(self._dir, STATE_FILE)
        if state is not None:
            if not isinstance(state, dict) or not isinstance(state.get("records"), dict):
                raise JournalError(f"{STATE_FILE}: not a keep state")
            self._stored = {k: _encode(r) for k, r in state["records"].items()}
            self._number = int(state.get("journal", 0))
            self._state_size = _size(self._dir, STATE_FILE)
        name = f"{JOURNAL_PREFIX}{self._number}"
        data = _read_bytes(self._dir, name)
        good = 0
        if data:
            for line in data.splitlines(keepends=True):
                try:
                    record = json.loads(line) if line.endswith(b"\n") else None
                except ValueError:
                    record = None
                if not isinstance(record, dict) or "k" not in record:
                    problems.append(f"{name}: dropped an incomplete record at byte {good}")
                    break
                self._stored[record["k"]] = line.rstrip(b"\n")
                good += len(line)
        if repair:
            self._open_journal(name, good)
            problems += self._remove_stale(name)
        return problems

    def _open_journal(self, name: str, size: int) -> None:
        fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                     FILE_MODE, dir_fd=self._dir)
        if os.fstat(fd).st_size != size:
            os.ftruncate(fd, size)
        self._fd, self._size = fd, size

    def _remove_stale(self, current: str) -> list[str]:
        removed = []
        with os.scandir(self._dir) as entries:
            stale = [e.name for e in entries
                     if e.name.startswith(JOURNAL_PREFIX) and e.name != current]
        for name in stale:
            try:
                os.unlink(name, dir_fd=self._dir)
                removed.append(f"{name}: left by an interrupted compaction, removed")
            except OSError:
                pass
        return removed

    # -- updating --------------------------------------------------------

    def get(self, key: str) -> Record | None:
        """The newest record of ``key`` (pending or on disk)."""
        record = self._pending.get(key)
        if record is None and key in self._stored:
            record = json.loads(self._stored[key])
        return record

    def items(self, prefix: str = "") -> Iterator[tuple[str, Record]]:
        """The newest records whose key starts with ``prefix``."""
        for key in [k for k in self._stored if k.startswith(prefix) and k not in self._pending]:
            yield key, json.loads(self._stored[key])
        yield from [(k, r) for k, r in self._pending.items() if k.startswith(prefix)]

    def __len__(self) -> int:
        return len(self._stored) + sum(1 for k in self._pending if k not in self._stored)

    def put(self, record: Record) -> None:
        """Queue ``record`` (replacing any of the same ``"k"``) for :meth:`flush`."""
        self._pending[record["k"]] = record

    @property
    def dirty(self) -> bool:
        """Whether records wait for :meth:`flush`."""
        return bool(self._pending)

    def flush(self) -> None:
        """Append the queued records and sync them; on an error nothing is
        half-written (the journal is cut back) and they stay queued."""
        if not self._pending:
            return
        if self._fd < 0:
            self._open_journal(f"{JOURNAL_PREFIX}{self._number}", 0)
        lines = {k: _encode(r) for k, r in self._pending.items()}
        data = b"".join(line + b"\n" for line in lines.values())
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            os.fdatasync(self._fd)
        except BaseException:
            try:
                os.ftruncate(self._fd, self._size)
            except OSError:
                pass
            raise
        self._size += len(data)
        self.bytes_written += len(data)
        self._stored.update(lines)
        self._pending.clear()
        if self._size > max(COMPACT_MIN, self._state_size):
            try:
                self.compact()
            except OSError as e:
                if not is_disk_full(e):
                    raise
                # The journal still holds everything: fold it in when there is room.

    def compact(self) -> None:
        """Fold the journal into a new snapshot and start an empty journal."""
        number = self._number + 1
        data = b"".join([b'{"version":%d,"journal":%d,"records":{' % (FORMAT_VERSION, number),
                         b",".join(_encode(k) + b":" + v for k, v in self._stored.items()),
                         b"}}"])
        write_atomically(self._dir, STATE_FILE, data)
        self.bytes_written += len(data)
        old = f"{JOURNAL_PREFIX}{self._number}"
        os.close(self._fd)
        self._fd = -1
        self._number, self._state_size = number, len(data)
        self._open_journal(f"{JOURNAL_PREFIX}{number}", 0)
        os.fsync(self._dir)
        try:
            os.unlink(old, dir_fd=self._dir)
        except FileNotFoundError:
            pass

    def disk_bytes(self) -> int:
        """Bytes the snapshot and the journal take on disk."""
        total = os.fstat(self._fd).st_blocks * 512 if self._fd >= 0 else 0
        try:
            total += os.stat(STATE_FILE, dir_fd=self._dir, follow_symlinks=False).st_blocks * 512
        except FileNotFoundError:
            pass
        return total

    def close(self) -> None:
        """Close the files (queued records are not written)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._dir >= 0:
            os.close(self._dir)
            self._dir = -1


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _read_bytes(dir_fd: int, name: str) -> bytes | None:
    try:
        return read_file(dir_fd, name, MAX_LOAD)
    except ValueError as e:
        raise JournalError(str(e)) from None


def _read_json(dir_fd: int, name: str) -> Any:
    data = _read_bytes(dir_fd, name)
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        raise JournalError(f"{name}: not valid JSON") from None


def _size(dir_fd: int, name: str) -> int:
    return os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_size
