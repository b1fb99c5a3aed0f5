"""One kept allocation: where its source is, where its copy is, what was
kept (the journal) and what is known about it (``.keep/alloc.json``: first
and last seen, gone, notes).

:class:`KeptAlloc` gives its log and tree keepers the fds they work through
(source directories reached ``O_NOFOLLOW`` from the alloc dir; kept
directories from the keep directory), the budget, and the records.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from allocdir import SHARED_ALLOC_NAME, AllocDirError, dirfd
from allocdir.layout import SHARED_DATA_DIR, TASK_LOCAL

from .copying import is_disk_full
from .journal import Journal, JournalError
from .layout import FILE_MODE, FORMAT_VERSION, STAGING_DIR, STATE_DIR
from .logs import LOG_DIR, Generation, LogKeeper
from .source import open_source
from .store import TEMP_FILE_FLAGS, ensure_path, read_file, write_atomically
from .trees import TreeKeeper

SUMMARY_FILE = "alloc.json"
MAX_NOTES = 100
"""Notes kept in an allocation's summary (the newest)."""
SUMMARY_INTERVAL = 60.0
"""Seconds between two writes of ``last_seen`` while nothing else changes."""


class _Elsewhere(Exception):
    """A name no longer leads to the file being followed."""


class KeptAlloc:
    """An allocation being kept (``source`` is its alloc dir, None when it
    is gone) or kept earlier (summary only, until :meth:`load`)."""

    def __init__(self, keeper, alloc_id: str, source: str | None) -> None:
        self.keeper = keeper
        self.alloc_id = alloc_id
        self.source = source
        self.real_path = os.path.realpath(source) if source else ""
        self.kept_path = f"{keeper.store.path}/{alloc_id}"
        self.journal: Journal | None = None
        self.logs = LogKeeper(self)
        self.trees: dict[str, TreeKeeper] = {}
        self.sealed: dict[str, tuple[Generation, float]] = {}
        """Generations complete but not yet recorded, by kept file name."""
        self.summary: dict = {"version": FORMAT_VERSION, "id": alloc_id, "source": source,
                              "first_seen": None, "last_seen": None, "gone": None,
                              "last_write": None, "tasks": [], "notes": [],
                              "log_bytes": 0, "file_bytes": 0}
        self.usage = 0
        self._summary_written = 0.0
        self._summary_dirty = False
        self._noted: dict[str, str] = {}
        self._staged = 0
        self._meta_blocks = 0
        self._summary_blocks = 0
        self._new_logs = False

    # -- the allocation's life ------------------------------------------------

    @property
    def gone(self) -> bool:
        """Whether the allocation is gone from the client (or was when last kept)."""
        return self.source is None or self.summary.get("gone") is not None

    @property
    def last_write(self) -> float:
        """When bytes were last kept for it (or it was first seen)."""
        return self.summary.get("last_write") or self.summary.get("first_seen") or 0.0

    def read_summary(self) -> None:
        """Read ``alloc.json`` of an allocation kept earlier (if any)."""
        with self.kept_dir() as kept_fd:
            state = ensure_path(kept_fd, STATE_DIR, self.kept_path)
        try:
            data = read_file(state, SUMMARY_FILE, 1 << 20)
            found = None if data is None else json.loads(data)
        except ValueError:
            self.note(f"{STATE_DIR}/{SUMMARY_FILE} could not be read: started again")
            return
        finally:
            os.close(state)
        if isinstance(found, dict):
            self.summary.update({k: v for k, v in found.items() if k in self.summary})

    def load(self) -> list[str]:
        """Open the journal and take up where an earlier run stopped. Records
        that cannot be read are set aside (``.keep.unreadable.<time>``) and
        the kept files taken up as files no record names: nothing is lost,
        nothing copied twice."""
        problems = []
        while True:
            with self.kept_dir() as kept_fd:
                state_fd = ensure_path(kept_fd, STATE_DIR, self.kept_path)
                self._clear_staging(kept_fd)
            self.journal = Journal(state_fd)
            try:
                problems += self.journal.load()
                break
            except JournalError as e:
                self.journal.close()
                aside = f"{STATE_DIR}.unreadable.{int(self.now())}"
                with self.kept_dir() as kept_fd:
                    os.rename(STATE_DIR, aside, src_dir_fd=kept_fd, dst_dir_fd=kept_fd)
                problems.append(f"{e}: set aside as {aside}; the kept files are taken up "
                                "anew")
        self.logs.resume(self.journal.items("log:"))
        return problems

    def _clear_staging(self, kept_fd: int) -> None:
        staging = ensure_path(kept_fd, f"{STATE_DIR}/{STAGING_DIR}", self.kept_path)
        try:
            with os.scandir(staging) as entries:
                names = [e.name for e in entries]
            for name in names:
                try:
                    os.unlink(name, dir_fd=staging)
                except OSError:
                    pass
        finally:
            os.close(staging)

    def seen(self, tasks: list[str]) -> None:
        """The allocation is there now, with ``tasks``."""
        now = self.now()
        if self.summary["first_seen"] is None:
            self.summary["first_seen"] = now
            self._summary_dirty = True
        if self.summary.get("gone") is not None:
            self.summary["gone"] = None
            self.note("seen again after it was marked gone")
        if tasks != self.summary["tasks"]:
            self.summary["tasks"] = tasks
            self._summary_dirty = True
        self.summary["last_seen"] = now
        tops = [(task, TASK_LOCAL) for task in tasks if "local" in self.keeper.options.include]
        if "data" in self.keeper.options.include:
            tops.append((SHARED_ALLOC_NAME, SHARED_DATA_DIR))
        for parent, name in tops:
            if f"{parent}/{name}" not in self.trees:
                self.trees[f"{parent}/{name}"] = TreeKeeper(self, parent, name)

    def mark_gone(self) -> None:
        """The allocation left the client (Nomad's GC): what was kept stays."""
        self.summary["gone"] = self.now()
        self._summary_dirty = True
        for name, gen in self.logs.members.items():
            if gen.gone is None:
                self.logs.source_gone(name)
        self.source = None

    def tasks_on_disk(self) -> list[str] | None:
        """The task dirs of the allocation now (None if it is gone)."""
        with self.source_dir() as fd:
            if fd is None:
                return None
            with os.scandir(fd) as entries:
                return sorted(e.name for e in entries if e.is_dir(follow_symlinks=False)
                              and e.name != SHARED_ALLOC_NAME and not e.name.startswith("."))

    # -- what the keepers use: time, notes, budget ---------------------------

    def now(self) -> float:
        """Wall-clock time for records."""
        return time.time()

    def note(self, text: str) -> None:
        """Something the operator should know about this copy: reported and
        kept in its summary."""
        notes = self.summary["notes"]
        notes.append([self.now(), text])
        del notes[:-MAX_NOTES]
        self._summary_dirty = True
        self.keeper.emit("note", self.alloc_id, text)

    def note_once(self, key: str, text: str) -> None:
        """:meth:`note`, unless this ``key`` said the same already."""
        if self._noted.get(key) != text:
            if len(self._noted) >= MAX_NOTES * 10:  # what was said long ago may be said again
                self._noted.clear()
            self._noted[key] = text
            self.note(text)

    def verbose(self, text: str) -> None:
        """A detail, shown with ``--verbose``."""
        self.keeper.emit("detail", self.alloc_id, text)

    def problem(self, where: str, error: BaseException) -> None:
        """Something could not be read: noted once per place and reason."""
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        self.note_once(f"problem:{where}", f"{where}: {reason}")

    def write_failed(self, where: str, error: BaseException) -> None:
        """A write into the keep directory failed: a full disk pauses
        keeping (raised to the keeper), anything else is noted."""
        if is_disk_full(error):
            raise error
        self.note_once(f"write:{where}", f"could not keep {where}: {error}")

    def room(self, wanted: int) -> int:
        """How many of ``wanted`` bytes may be written now (the budget)."""
        return self.keeper.room(self, wanted)

    def wrote(self, nbytes: int, blocks: int, *, files: bool = False) -> None:
        """Account ``nbytes`` kept and ``blocks`` (bytes on disk) more used."""
        if nbytes:
            self.summary["log_bytes" if not files else "file_bytes"] += nbytes
            self.summary["last_write"] = self.now()
        self.usage += blocks
        self.keeper.used(blocks, nbytes, files)

    # -- source side ---------------------------------------------------------

    @contextmanager
    def source_dir(self) -> Iterator[int | None]:
        """The alloc dir, open (None when it is gone)."""
        if self.source is None:
            yield None
            return
        with self._held(("alloc", self.alloc_id), lambda: dirfd.open_dir(self.source),
                        (FileNotFoundError, NotADirectoryError, AllocDirError)) as fd:
            yield fd

    @contextmanager
    def source_logs(self) -> Iterator[int | None]:
        """``alloc/logs`` of the allocation, open (None when it cannot be:
        gone, or something else than a directory of the allocation)."""
        def opener() -> int:
            with self.source_dir() as alloc_fd:
                if alloc_fd is None:
                    raise FileNotFoundError(LOG_DIR)
                fd = dirfd.open_beneath(alloc_fd, LOG_DIR, LOG_DIR)
            if dirfd.is_mount_root(fd):
                os.close(fd)
                raise AllocDirError(f"{LOG_DIR} is a mount point: not read")
            return fd

        try:
            fd = self.keeper.fds.acquire(("logs", self.alloc_id), opener)
        except FileNotFoundError:
            fd = None
        except (OSError, AllocDirError) as e:
            self.problem(LOG_DIR, e)
            fd = None
        if fd is None:
            yield None
            return
        try:
            yield fd
        finally:
            self.keeper.fds.release(("logs", self.alloc_id))

    def forget_logs_dir(self) -> None:
        """Drop the open ``alloc/logs`` (it was moved or replaced)."""
        self.keeper.fds.close(("logs", self.alloc_id))

    @contextmanager
    def source_log(self, member: str, ident: tuple[int, int], *,
                   reopen: bool) -> Iterator[int | None]:
        """The open member file with identity ``ident``; reopened by name if
        ``reopen`` (None when the name leads to another file, or nowhere)."""
        key = ("src", self.alloc_id, member, ident)
        if key not in self.keeper.fds and not reopen:
            yield None
            return

        def opener() -> int:
            with self.source_logs() as logs_fd:
                if logs_fd is None:
                    raise _Elsewhere()
                try:
                    fd, st = open_source(logs_fd, member, f"{LOG_DIR}/{member}", self.real_path)
                except (FileNotFoundError, AllocDirError):
                    raise _Elsewhere() from None
            if dirfd.identity(st) != ident:
                os.close(fd)
                raise _Elsewhere()
            return fd

        with self._held(key, opener, _Elsewhere) as fd:
            yield fd

    @contextmanager
    def _held(self, key, opener, absent) -> Iterator[int | None]:
        """The fd of ``key`` from the open files, or None when ``opener``
        raises ``absent`` (an exception class or a tuple of them)."""
        try:
            fd = self.keeper.fds.acquire(key, opener)
        except absent:
            yield None
            return
        try:
            yield fd
        finally:
            self.keeper.fds.release(key)

    def adopt_source(self, member: str, ident: tuple[int, int], fd: int) -> None:
        """Keep ``fd`` (member ``member`` just opened) among the open files."""
        self.keeper.fds.adopt(("src", self.alloc_id, member, ident), fd)

    def release_source(self, member: str, ident: tuple[int, int]) -> None:
        """Close the open file of ``member`` with identity ``ident``."""
        self.keeper.fds.close(("src", self.alloc_id, member, ident))

    # -- kept side -----------------------------------------------------------

    def release_kept(self, name: str) -> None:
        """Close the kept log file ``name`` (synced first if it was written)."""
        self.keeper.fds.close(("dst", self.alloc_id, name))

    @contextmanager
    def kept_dir(self) -> Iterator[int]:
        """The allocation's directory in the keep directory (made if needed)."""
        with self.keeper.fds.use(("kept", self.alloc_id),
                                 lambda: self.keeper.store.open_alloc(self.alloc_id)) as fd:
            yield fd

    @contextmanager
    def kept_logs(self) -> Iterator[int]:
        """``alloc/logs`` of the copy."""
        def opener() -> int:
            with self.kept_dir() as kept_fd:
                return ensure_path(kept_fd, LOG_DIR, self.kept_path)

        with self.keeper.fds.use(("keptlogs", self.alloc_id), opener) as fd:
            yield fd

    @contextmanager
    def kept_log(self, name: str) -> Iterator[int]:
        """The kept log file ``name``, open for reading and writing."""
        def opener() -> int:
            with self.kept_logs() as logs_fd:
                return os.open(name, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=logs_fd)

        with self.keeper.fds.use(("dst", self.alloc_id, name), opener) as fd:
            yield fd

    def create_kept_log(self, name: str) -> None:
        """Create the kept log file ``name``; ``FileExistsError`` if it exists."""
        with self.kept_logs() as logs_fd:
            fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                         FILE_MODE, dir_fd=logs_fd)
            self.keeper.fds.adopt(("dst", self.alloc_id, name), fd)
        self._new_logs = True  # the directory is synced before a record names the file

    def staging_file(self) -> tuple[int, str, int]:
        """A new staging file: (its directory's fd, its name, its fd)."""
        with self.kept_dir() as kept_fd:
            staging = ensure_path(kept_fd, f"{STATE_DIR}/{STAGING_DIR}", self.kept_path)
        try:
            while True:
                self._staged += 1
                name = f"copy.{self._staged}"
                try:
                    fd = os.open(name, TEMP_FILE_FLAGS, FILE_MODE, dir_fd=staging)
                    return staging, name, fd
                except FileExistsError:
                    continue
        except BaseException:
            os.close(staging)
            raise

    def seal(self, gen: Generation) -> None:
        """``gen`` is complete: its final record goes out with the next flush."""
        self.sealed[gen.file] = (gen, self.now())

    def unsynced(self) -> list[Generation]:
        """The generations with bytes written since their last record."""
        gens = [gen for gen, _ in self.sealed.values()] + self.logs.dirty()
        return [gen for gen in gens if gen.kept > gen.claimed]

    def is_open(self, gen: Generation) -> bool:
        """Whether ``gen``'s kept file is open (it can be synced on its own)."""
        return self.keeper.fds.peek(("dst", self.alloc_id, gen.file)) is not None

    def sync(self, gen: Generation) -> None:
        """Sync ``gen``'s kept file; if that fails, cut it back to its
        record (the bytes are copied again later) and raise."""
        with self.kept_log(gen.file) as fd:
            try:
                os.fdatasync(fd)
            except OSError:
                self.cut_back(gen)
                raise

    def cut_back(self, gen: Generation) -> None:
        """Bytes of ``gen`` could not be made durable: back to its record."""
        with self.kept_log(gen.file) as fd:
            try:
                os.ftruncate(fd, gen.claimed)
            except OSError:
                pass
            gen.kept = gen.claimed
            self.logs.fingerprint(gen, fd)
        self.logs.pending.add(gen.member)

    # -- records -------------------------------------------------------------

    def file_record(self, key: str) -> dict | None:
        """The record of a tree entry."""
        return None if self.journal is None else self.journal.get(key)

    def file_records(self, prefix: str) -> list[tuple[str, dict]]:
        """The records of ``prefix`` and everything below it."""
        if self.journal is None:
            return []
        below = prefix + "/"
        return [(k, r) for k, r in self.journal.items(prefix) if k == prefix or k.startswith(below)]

    def put_file_record(self, record: dict) -> None:
        """Record a tree entry (or a note about one) with the next flush."""
        if self.journal is not None:
            self.journal.put(record)

    def put_note_record(self, path: str, kind: str) -> None:
        """Record that ``path`` in the logs dir is not a file that is kept."""
        self.put_file_record({"k": f"file:{path}", "path": path, "kind": kind,
                              "note": f"{kind}: not copied", "seen": self.now(),
                              "source_gone": None})

    def record(self, *, final: bool = False, synced: bool = False) -> None:
        """Record what was written (once it is on disk: :meth:`sync` of each
        file, or the whole file system ``synced``): the journal (every
        generation written to, every file copied) and, when due, the
        summary. Raises OSError (a full disk) with nothing recorded."""
        if self.journal is None:
            return
        now = self.now()
        if self._new_logs and not synced:
            with self.kept_logs() as logs_fd:
                os.fsync(logs_fd)
        self._new_logs = False
        for gen, sealed in self.sealed.values():
            self._claim(gen, now, sealed)
        self.sealed.clear()
        for gen in self.logs.dirty():
            self._claim(gen, now, None)
        self.journal.flush()
        if final or self._summary_dirty or now - self._summary_written >= SUMMARY_INTERVAL:
            self.write_summary()
        meta = self.journal.disk_bytes() + self._summary_blocks
        self.wrote(0, meta - self._meta_blocks)
        self._meta_blocks = meta

    def _claim(self, gen: Generation, now: float, sealed: float | None) -> None:
        gen.claimed = gen.kept
        gen.dirty = False
        self.journal.put(gen.record(sealed, now))

    def write_summary(self) -> None:
        """Write ``alloc.json`` (atomically)."""
        with self.kept_dir() as kept_fd:
            state = ensure_path(kept_fd, STATE_DIR, self.kept_path)
            try:
                data = json.dumps(self.summary, indent=1).encode() + b"\n"
                write_atomically(state, SUMMARY_FILE, data)
                self._summary_blocks = os.stat(SUMMARY_FILE, dir_fd=state,
                                               follow_symlinks=False).st_blocks * 512
            finally:
                os.close(state)
        self.keeper.stats.meta_bytes += len(data)
        self._summary_written = self.now()
        self._summary_dirty = False

    def close(self) -> None:
        """Close everything this allocation holds open and forget what only
        following it needed (its summary and usage stay)."""
        self.keeper.fds.close_where(lambda k: k[1] != self.alloc_id)
        if self.journal is not None:
            self.keeper.stats.meta_bytes += self.journal.bytes_written
            self.journal.close()
            self.journal = None
        self.logs = LogKeeper(self)
        self.trees.clear()
        self.sealed.clear()

