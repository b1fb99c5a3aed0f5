"""Keeping one allocation's logs: every byte of every rotation set once, in
order, as it is written.

Each member ``<task>.<stream>.<N>`` of ``alloc/logs`` is copied into the
kept file of the same name, from where the copy stopped (``start + kept``
in the source). What a look finds:

- the member grew: the new bytes are copied (holes stay holes);
- it is shorter than what was kept, its first or last kept bytes changed
  (truncated, perhaps written again past the old end), or the name now
  leads to another file: what was kept stays, and the member continues in
  a new generation ``<member>.<G>`` from the start of the new content;
- it was removed (rotated away by ``max_files``, or the allocation
  collected): what was written up to then is read through the still-open
  file, and the kept copy stays, marked with when the source went.

A record per kept file (journal key ``log:<file>``) says where it came from
(the member, its device and inode), where in the source it starts, how many
bytes are kept and why the generation began.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field

from allocdir import AllocDirError, SecretReadError
from allocdir.dirfd import identity, lstat_at

from .copying import copy_range
from .layout import kept_log_name, rotated_member
from .source import NotRegular, kind_word, open_source

FINGERPRINT = 64
"""Bytes compared at the start and at the end of what was kept, to notice a rewrite."""
MAX_MEMBERS = 50_000
"""Log members kept per allocation; beyond, new members are counted and not kept."""
MAX_SCAN = 200_000
"""Entries of ``alloc/logs`` looked at in one listing."""
MAX_GENERATIONS = 10_000
"""Generations of one member (truncations); beyond, it is no longer followed."""
MAX_KEPT_FILES = 100_000
"""Kept log files (members and their generations, and notes about names
that are not files) per allocation; beyond, new ones are not kept."""
LOG_DIR = "alloc/logs"


@dataclass(slots=True)
class Generation:
    """The kept file a member is copied into now."""

    member: str
    generation: int
    ident: tuple[int, int]
    start: int
    why: str
    opened: float
    kept: int = 0
    """Bytes in the kept file."""
    claimed: int = 0
    """Bytes recorded as kept (synced before the record was written)."""
    head: bytes = b""
    tail: bytes = b""
    mtime_ns: int = -1
    blocks: int = 0
    gone: float | None = None
    unverified: int = 0
    """Bytes found in the kept file past the record (an earlier run was killed)."""
    orphan: bool = False
    """The kept file was found with no record at all (a run killed before its first)."""
    dirty: bool = True

    @property
    def file(self) -> str:
        """The kept file name."""
        return kept_log_name(self.member, self.generation)

    @property
    def end(self) -> int:
        """The source offset just after the last byte kept."""
        return self.start + self.kept

    def record(self, sealed: float | None = None, updated: float = 0.0) -> dict:
        """The journal record claiming ``claimed`` bytes."""
        set_name, index = rotated_member(self.member) or (self.member, 0)
        return {"k": f"log:{self.file}", "file": f"{LOG_DIR}/{self.file}",
                "source": f"{LOG_DIR}/{self.member}", "member": self.member, "set": set_name,
                "index": index, "generation": self.generation, "dev": self.ident[0],
                "ino": self.ident[1], "start": self.start, "bytes": self.claimed,
                "why": self.why, "opened": self.opened, "updated": updated,
                "sealed": sealed, "source_gone": self.gone}


@dataclass
class LogStats:
    """What one allocation's log keeping did."""

    bytes: int = 0
    truncations: int = 0
    members_over_limit: set = field(default_factory=set)


class LogKeeper:
    """The logs of one kept allocation (``alloc``: its :class:`KeptAlloc`)."""

    def __init__(self, alloc) -> None:
        self.alloc = alloc
        self.members: dict[str, Generation] = {}
        self.pending: set[str] = set()
        """Members with bytes, or a look, still due."""
        self.notes: dict[str, str] = {}
        """Log names that are not regular files, and what they are."""
        self.stats = LogStats()
        self.listed_mtime: int | None = None
        self.known: set[str] = set()
        """Kept file names a record (or this run) accounts for."""
        self.highest: dict[str, int] = {}
        """The highest N seen of each set: the member Nomad writes."""
        self.retry: set[str] = set()
        """Names that could not be opened (a lease): looked at on every tick."""

    # -- resuming --------------------------------------------------------

    def resume(self, records: Iterable[tuple[str, dict]]) -> None:
        """Take up the current generation of each member from the records
        (``log:`` keys) of an earlier run; its kept file is checked against
        the claim."""
        latest: dict[str, dict] = {}
        for key, rec in records:
            self.known.add(key[4:])
            if rec.get("sealed") is not None:
                continue
            member = rec.get("member", "")
            if rotated_member(member) is None:
                continue
            if member not in latest or rec["generation"] > latest[member]["generation"]:
                latest[member] = rec
        for member, rec in latest.items():
            gen = Generation(member, rec["generation"], (rec["dev"], rec["ino"]), rec["start"],
                             rec["why"], rec["opened"], kept=rec["bytes"], claimed=rec["bytes"],
                             gone=rec.get("source_gone"), dirty=False)
            self.members[member] = gen
            set_name, index = rotated_member(member)
            self.highest[set_name] = max(index, self.highest.get(set_name, index))
            self._check_kept(gen)
            if gen.gone is None:
                self.pending.add(member)

    def _check_kept(self, gen: Generation) -> None:
        """Compare the kept file with its claim: bytes beyond it (from a
        killed run) are checked against the source before being counted."""
        with self.alloc.kept_log(gen.file) as dst:
            st = os.fstat(dst)
            gen.blocks = st.st_blocks * 512
            if st.st_size < gen.claimed:
                self.alloc.note(f"{LOG_DIR}/{gen.file}: {gen.claimed - st.st_size} bytes "
                                "recorded as kept are missing from the kept file")
                gen.kept = gen.claimed = st.st_size
                gen.dirty = True
            gen.unverified = st.st_size - gen.kept
            self.fingerprint(gen, dst)

    # -- looking ----------------------------------------------------------

    def look(self, names: set[str] | None) -> None:
        """Look at the members ``names`` (None: list the directory) and
        queue what changed."""
        with self.alloc.source_logs() as logs_fd:
            if logs_fd is None:
                return
            if names is None:
                names = self._list(logs_fd)
            for name in names:
                if rotated_member(name) is not None:
                    self._look_one(logs_fd, name)

    def _list(self, logs_fd: int) -> set[str]:
        found: set[str] = set()
        self.listed_mtime = os.fstat(logs_fd).st_mtime_ns
        with os.scandir(logs_fd) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_SCAN:
                    self.alloc.note_once("logs-scan", f"{LOG_DIR} holds more than {MAX_SCAN:,} "
                                         "entries: only the first are looked at")
                    break
                if rotated_member(entry.name) is not None:
                    found.add(entry.name)
        # Members not listed are gone; in a cut listing they may just not have
        # come up: either way a look by name says which.
        return found | {m for m, gen in self.members.items() if gen.gone is None}

    def tick(self) -> None:
        """The safety look: the whole directory if it changed since it was
        listed, else each member followed, by ``lstat``."""
        with self.alloc.source_logs() as logs_fd:
            if logs_fd is None:
                return
            if os.fstat(logs_fd).st_mtime_ns != self.listed_mtime:
                self.look(None)
                return
            names = {n for n, gen in self.members.items() if gen.gone is None} | self.retry
            self.retry = set()
            for name in names:
                self._look_one(logs_fd, name)

    def _look_one(self, logs_fd: int, name: str) -> None:
        gen = self.members.get(name)
        try:
            st = lstat_at(logs_fd, name)
        except FileNotFoundError:
            st = None
        if st is None or not stat.S_ISREG(st.st_mode):
            if gen is not None and gen.gone is None:
                self.source_gone(name)
            if st is not None:
                self._note_kind(name, kind_word(st.st_mode))
            return
        if gen is not None and identity(st) == gen.ident:
            if gen.gone is not None:  # back under its name after a move: the same file
                gen.gone = None
                gen.dirty = True
            if st.st_size != gen.end or st.st_mtime_ns != gen.mtime_ns or gen.unverified:
                self.pending.add(name)
            return
        self._open_new(logs_fd, name, gen, "replaced" if gen is not None else "new")

    def _open_new(self, logs_fd: int, name: str, gen: Generation | None, why: str) -> None:
        """The name leads to a file not followed yet: open it and start its
        generation (the next one if the member was kept before)."""
        if gen is None and len(self.members) >= MAX_MEMBERS:
            if name not in self.stats.members_over_limit:
                self.stats.members_over_limit.add(name)
                self.alloc.note_once("log-members", f"more than {MAX_MEMBERS:,} log members: "
                                     "new ones are not kept")
            return
        try:
            src, st = open_source(logs_fd, name, f"{LOG_DIR}/{name}", self.alloc.real_path)
        except FileNotFoundError:
            return
        except (NotRegular, SecretReadError) as e:
            self._note_kind(name, getattr(e, "kind", "secret"))
            return
        except (OSError, AllocDirError) as e:
            self.alloc.problem(f"{LOG_DIR}/{name}", e)
            self.retry.add(name)  # a lease, perhaps: again at the next tick
            return
        if gen is not None and gen.gone is None:
            self._drain(name)
            gen = self.members[name]  # draining may have started a generation
            self._seal(gen)
        number = 0 if gen is None else gen.generation + 1
        if number >= MAX_GENERATIONS or self._full():
            os.close(src)
            self.alloc.note_once(f"gens:{name}", f"{LOG_DIR}/{name}: more than "
                                 f"{MAX_GENERATIONS:,} truncations: no longer followed")
            return
        new = self._start(name, number, identity(st), why)
        set_name, index = rotated_member(name)
        self.highest[set_name] = max(index, self.highest.get(set_name, index))
        self.alloc.adopt_source(name, identity(st), src)
        self.members[name] = new
        self.notes.pop(name, None)
        self.pending.add(name)

    def _start(self, member: str, number: int, ident: tuple[int, int], why: str) -> Generation:
        """A new generation, in a kept file of its own: a file a record
        names is never written over; one no record names (a run killed
        before it recorded it) is taken up, its bytes checked against the
        source before they count."""
        while True:
            gen = Generation(member, number, ident, 0, why, self.alloc.now())
            try:
                self.alloc.create_kept_log(gen.file)
                self.known.add(gen.file)
                return gen
            except FileExistsError:
                if gen.file in self.known:
                    number += 1
                    continue
            self.known.add(gen.file)
            gen.orphan = True
            with self.alloc.kept_log(gen.file) as dst:
                gen.unverified = os.fstat(dst).st_size
                gen.blocks = os.fstat(dst).st_blocks * 512
            return gen

    def _full(self) -> bool:
        """Whether this allocation has as many kept log files as it may."""
        if len(self.known) + len(self.notes) < MAX_KEPT_FILES:
            return False
        self.alloc.note_once("log-files", f"more than {MAX_KEPT_FILES:,} kept log files and "
                             "names that are not files: new ones are not kept")
        return True

    def _note_kind(self, name: str, kind: str) -> None:
        if name not in self.notes and len(self.notes) >= MAX_KEPT_FILES:
            return  # a task making names by the million: the note below says so
        if self.notes.get(name) != kind:
            self.notes[name] = kind
            self.alloc.put_note_record(f"{LOG_DIR}/{name}", kind)
            self.alloc.verbose(f"{LOG_DIR}/{name}: {kind}, not copied")

    # -- copying ----------------------------------------------------------

    def work(self, limit: int) -> int:
        """Copy what is due, at most ``limit`` bytes per member; return the
        bytes copied. Members with more to copy stay pending."""
        copied = 0
        for name in sorted(self.pending, key=_member_order):
            gen = self.members.get(name)
            self.pending.discard(name)
            if gen is None or gen.gone is not None:
                continue
            done, more = self._catch_up(gen, limit, reopen=True)
            if done is None:  # the name leads elsewhere now, or nowhere
                with self.alloc.source_logs() as logs_fd:
                    if logs_fd is not None:
                        self._look_one(logs_fd, name)
                continue
            copied += done
            if more:
                self.pending.add(name)
            elif not self._is_last(name):
                # Rotated: Nomad writes it no more. Its files are opened
                # again if it changes, so the fds stay few whatever the set.
                self.alloc.release_source(name, gen.ident)
                self.alloc.release_kept(gen.file)
        return copied

    def _is_last(self, name: str) -> bool:
        set_name, index = rotated_member(name) or (name, 0)
        return index >= self.highest.get(set_name, index)

    def _catch_up(self, gen: Generation, limit: int, *,
                  reopen: bool) -> tuple[int | None, bool]:
        """Copy up to ``limit`` new bytes of ``gen``'s source; return the
        bytes copied (None when the source is not open and, with
        ``reopen``, its name no longer leads to it) and whether more wait."""
        with self.alloc.source_log(gen.member, gen.ident, reopen=reopen) as src:
            if src is None:
                return None, False
            st = os.fstat(src)
            if gen.unverified and self._verify_unclaimed(gen, src):
                return 0, True  # continued in a new generation
            if st.st_size == gen.end and st.st_mtime_ns == gen.mtime_ns:
                return 0, False
            reason = self._rewritten(gen, src, st.st_size)
            if reason:
                self._restart(gen, src, reason)
                return 0, True
            gen.mtime_ns = st.st_mtime_ns
            want = min(limit, st.st_size - gen.end)
            if want <= 0:
                return 0, False
            want = self.alloc.room(want)
            if want <= 0:
                return 0, False
            with self.alloc.kept_log(gen.file) as dst:
                try:
                    done = copy_range(src, dst, gen.end, gen.kept, want, st.st_dev)
                except OSError as e:  # a full disk, part way: what was written counts
                    self._copied(gen, dst, getattr(e, "copied", 0))
                    raise
                self._copied(gen, dst, done)
            return done, gen.end < st.st_size

    def _copied(self, gen: Generation, dst: int, done: int) -> None:
        """Account ``done`` bytes just written to ``gen``'s kept file."""
        gen.kept += done
        gen.dirty = True
        self.fingerprint(gen, dst)
        blocks = os.fstat(dst).st_blocks * 512
        self.alloc.wrote(done, blocks - gen.blocks)
        gen.blocks = blocks
        self.stats.bytes += done

    def _rewritten(self, gen: Generation, src: int, size: int) -> str:
        """Why the source no longer continues what was kept ("" if it does)."""
        if size < gen.end:
            return "truncated"
        if gen.tail and os.pread(src, len(gen.tail), gen.end - len(gen.tail)) != gen.tail:
            return "rewritten"
        if gen.head and os.pread(src, len(gen.head), gen.start) != gen.head:
            return "rewritten"
        return ""

    def _restart(self, gen: Generation, src: int, why: str) -> None:
        """The same file starts over: seal what was kept, go on in a new
        generation from its start."""
        self._seal(gen)
        self.stats.truncations += 1
        self.alloc.verbose(f"{LOG_DIR}/{gen.member} {why}: continuing in "
                           f"{kept_log_name(gen.member, gen.generation + 1)}")
        if gen.generation + 1 >= MAX_GENERATIONS or self._full():
            gen.gone = self.alloc.now()
            self.alloc.note_once(f"gens:{gen.member}", f"{LOG_DIR}/{gen.member}: more than "
                                 f"{MAX_GENERATIONS:,} truncations: no longer followed")
            return
        new = self._start(gen.member, gen.generation + 1, gen.ident, why)
        self.members[gen.member] = new

    def _verify_unclaimed(self, gen: Generation, src: int) -> bool:
        """Bytes an earlier run wrote past its last record: counted when they
        are the source's. Otherwise they are cut off (and copied again) if a
        record names the file; a file no record names is kept as found and
        the member goes on in a new generation (True)."""
        extra = gen.unverified
        gen.unverified = 0
        with self.alloc.kept_log(gen.file) as dst:
            good = 0
            while good < extra:
                n = min(1 << 20, extra - good)
                ours = os.pread(dst, n, gen.kept + good)
                if not ours or os.pread(src, len(ours), gen.end + good) != ours:
                    break
                good += len(ours)
            if good < extra and gen.orphan:
                ident, gen.ident = gen.ident, (0, 0)  # from a file no longer known
                gen.kept += extra
                gen.why = "found"
                gen.dirty = True
                self._seal(gen)
                self.members[gen.member] = self._start(gen.member, gen.generation + 1,
                                                       ident, "replaced")
                return True
            if good < extra:
                os.ftruncate(dst, gen.kept + good)
            gen.kept += good
            gen.dirty = gen.dirty or good > 0
            self.fingerprint(gen, dst)
        return False

    def fingerprint(self, gen: Generation, dst: int) -> None:
        """Take ``gen``'s first and last kept bytes from its kept file
        ``dst``: what the source must still hold for it to be continued."""
        size = gen.kept
        if len(gen.head) < FINGERPRINT:
            gen.head = os.pread(dst, min(FINGERPRINT, size), 0) if size else b""
        start = max(0, size - FINGERPRINT)
        gen.tail = os.pread(dst, size - start, start) if size else b""

    def _drain(self, name: str) -> None:
        """Copy what is left in member ``name`` before it is dropped, through
        its open file (a file not held open has nothing more to give)."""
        for _ in range(8):  # a few generations at most: it is being dropped
            gen = self.members[name]
            try:
                done, more = self._catch_up(gen, 1 << 40, reopen=False)
            except OSError as e:
                self.alloc.problem(f"{LOG_DIR}/{name}", e)
                return
            if not more:
                return

    def source_gone(self, name: str) -> None:
        """Member ``name`` left its name (rotated away, collected): copy what
        its open file still holds, and mark it gone."""
        self._drain(name)
        gen = self.members[name]
        gen.gone = self.alloc.now()
        gen.dirty = True
        self.alloc.release_source(name, gen.ident)

    def _seal(self, gen: Generation) -> None:
        """The generation is complete: its record says so (when flushed)."""
        self.alloc.seal(gen)
        self.alloc.release_source(gen.member, gen.ident)

    # -- records ----------------------------------------------------------

    def dirty(self) -> list[Generation]:
        """The generations whose record is due."""
        return [gen for gen in self.members.values() if gen.dirty]


def _member_order(name: str) -> tuple[str, int]:
    return rotated_member(name) or (name, 0)
