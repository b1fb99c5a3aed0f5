"""The keeper: one thread that follows every allocation under a client root
and keeps its logs and files, until asked to stop.

It sleeps on one inotify instance (:class:`DirWatches`): the client root
(allocations appearing and going), each allocation's dir (tasks), its
``alloc/logs`` and the top of each kept tree. Events are taken in passes at
most ``spacing`` apart, so a thousand writes a second cost a few passes,
not a thousand. A slow safety look (``safety_interval``) catches what no
event announced; where a directory cannot be watched it is polled
(``poll_interval``). Copying is done in slices, logs first, so one large
file never holds the logs back for long.

Every ``flush_interval`` what was written is synced and then recorded
(:func:`.flush.flush`): the records never claim bytes that are not on
disk. A full disk pauses copying (reported, and recorded once there is
room) until there is room again; the budget removes the oldest copies
first. :meth:`Keeper.stop` (from a signal handler) ends the loop at the next
slice, and the last flush leaves a consistent directory.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from allocdir import is_alloc_dir
from allocdir.dirfd import check_name, lstat_at, open_dir
from allocdir.plaintext import size_words

from .alloc import KeptAlloc
from .budget import Budget
from .copies import CopyQueue
from .copying import is_disk_full
from .events import KeepEvent, describe
from .fdcache import FdCache, raise_fd_limit
from .flush import flush, flush_one
from .inotify import EVERYTHING, Changes, DirWatches
from .store import KeepStore

SLICE_BYTES = 16 << 20
"""Bytes copied for one member or file before the others get a turn."""
WORK_SLICE = 0.1
"""Seconds of copying between two looks at the events."""
NEW_DIR_GRACE = 10.0
"""Seconds a new directory of the client root is looked at again, while
Nomad builds it into an alloc dir."""
RETRY_INTERVAL = 5.0
"""Seconds between two looks for room when the disk is full."""
RESUME_FREE = 1 << 20
"""Free bytes needed on DIR's file system to resume after it was full."""


@dataclass(frozen=True)
class KeepOptions:
    """What to keep and how often to look."""

    include: frozenset[str] = frozenset({"logs", "local"})
    allocs: tuple[str, ...] = ()
    """Alloc id prefixes to keep (all when empty)."""
    exact: bool = False
    """``allocs`` are whole ids (one alloc dir was given)."""
    budget: int | None = None
    safety_interval: float = 10.0
    poll_interval: float = 1.0
    tree_interval: float = 30.0
    tree_min_interval: float = 2.0
    flush_interval: float = 5.0
    spacing: float = 0.2

    def wants(self, alloc_id: str) -> bool:
        """Whether ``alloc_id`` is one to keep."""
        if not self.allocs:
            return True
        if self.exact:
            return alloc_id in self.allocs
        return any(alloc_id.startswith(prefix) for prefix in self.allocs)


@dataclass
class KeepStats:
    """What this run did."""

    log_bytes: int = 0
    file_bytes: int = 0
    meta_bytes: int = 0
    evicted: int = 0
    started: float = field(default_factory=time.time)


class Keeper:
    """Keeps the allocations under ``root`` (a client alloc root) in ``store``."""

    def __init__(self, root: str, store: KeepStore, options: KeepOptions,
                 emit: Callable[[KeepEvent], None]) -> None:
        self.root = root
        self.store = store
        self.options = options
        self._emit = emit
        self.stats = KeepStats()
        limit = raise_fd_limit()
        # Two files per set being written, a few directories per allocation:
        # a quarter of the limit is room for hundreds of allocations.
        self.fds = FdCache(max(32, min(4096, limit // 4)))
        self.watches = DirWatches()
        self.allocs: dict[str, KeptAlloc] = {}
        self.budget = Budget(options.budget, self._evict)
        self.paused = ""
        self._paused_since = 0.0
        self._stop = False
        self._root_fd = -1
        self._candidates: dict[str, float] = {}
        self._copies = CopyQueue(self.allocs, self._guard)
        self._due_trees: set[tuple[str, str]] = set()
        self._polled = not self.watches.available
        self._manifest: dict = {}

    # -- control ------------------------------------------------------------

    def stop(self) -> None:
        """Ask :meth:`run` to finish (safe from a signal handler)."""
        self._stop = True
        self.watches.wake()

    def emit(self, kind: str, alloc_id: str, text: str) -> None:
        """Report an event."""
        self._emit(KeepEvent(kind, alloc_id, text))

    # -- the loop -------------------------------------------------------------

    def run(self) -> None:
        """Keep until :meth:`stop`; returns once the directory is consistent."""
        try:
            self._start()
            self._loop()
        finally:
            self._finish()

    def _start(self) -> None:
        manifest = self.store.read_manifest()
        self._manifest = {"created": manifest.get("created") or time.time(), "root": self.root,
                          "include": sorted(self.options.include), "budget": self.options.budget,
                          "status": "running", "pid": os.getpid(),
                          "started": self.stats.started, "stopped": None, "paused": None,
                          "last_run": manifest.get("last_run")}
        self.store.write_manifest(self._manifest)
        self.budget.total = os.fstat(self.store.fd).st_blocks * 512
        for alloc_id in self.store.kept_allocs():
            alloc = KeptAlloc(self, alloc_id, None)
            alloc.read_summary()
            alloc.usage = self.store.allocated(alloc_id)
            self.budget.total += alloc.usage
            self.allocs[alloc_id] = alloc
        if not self.watches.available:
            self.emit("note", "", f"inotify is not available ({self.watches.unavailable_reason}):"
                      f" polling every {self.options.poll_interval:g} s")
        self._root_fd = open_dir(self.root)
        self._watch(("root",), self._root_fd, self.root)
        self._scan_root(EVERYTHING)
        for alloc in list(self.allocs.values()):
            if alloc.source is None and alloc.summary.get("gone") is None:
                self._gone(alloc)  # went while nothing was keeping it
        self.emit("started", "", f"keeping {', '.join(sorted(self.options.include))} of "
                  f"{len([a for a in self.allocs.values() if not a.gone])} allocations under "
                  f"{self.root} in {self.store.path}"
                  + (f" (budget {size_words(self.options.budget)})" if self.options.budget
                     else ""))
        self.budget.fit(list(self.allocs.values()))

    def _loop(self) -> None:
        now = time.monotonic()
        next_safety = now + self._safety_interval()
        next_flush = now + self.options.flush_interval
        next_retry = now + RETRY_INTERVAL
        last_pass = 0.0
        while not self._stop:
            busy = self._work(time.monotonic() + WORK_SLICE)
            if self._stop:
                break
            now = time.monotonic()
            deadline = min(next_safety, next_flush)
            if self.paused:
                deadline = min(deadline, next_retry)
            if self._candidates:
                deadline = min(deadline, now + 0.5)
            if self._due_trees:
                deadline = min(deadline, now + self.options.tree_min_interval)
            changes, woken = self.watches.wait(0.0 if busy else deadline - now)
            if changes and not woken:
                gap = last_pass + self.options.spacing - time.monotonic()
                if gap > 0:  # let writes gather: one pass for many events
                    self.watches.wait_wake(gap)
                    more, _ = self.watches.wait(0.0)
                    _merge(changes, more)
            last_pass = time.monotonic()
            self._apply(changes)
            now = time.monotonic()
            if self._candidates:
                self._scan_root(set(self._candidates))
            if self.paused and now >= next_retry:
                next_retry = now + RETRY_INTERVAL
                self._retry()
            if now >= next_safety:
                next_safety = now + self._safety_interval()
                self._safety()
            if now >= next_flush:
                next_flush = now + self.options.flush_interval
                self._flush()
            self._scan_due_trees(now)

    def _finish(self) -> None:
        self._copies.abort()
        self._flush(final=True)
        for alloc in self.allocs.values():
            alloc.close()
        self._manifest.update(status="stopped", stopped=time.time(), last_run={
            "started": self.stats.started, "stopped": time.time(),
            "log_bytes": self.stats.log_bytes, "file_bytes": self.stats.file_bytes,
            "metadata_bytes": self.stats.meta_bytes, "evicted": self.stats.evicted})
        try:
            self.store.write_manifest(self._manifest)
        except OSError as e:
            self.emit("error", "", f"{self.store.path}: the manifest could not be written: {e}")
        self.fds.close_all()
        self.watches.close()
        if self._root_fd >= 0:
            os.close(self._root_fd)
        self.emit("stopped", "", f"kept {size_words(self.stats.log_bytes)} of logs and "
                  f"{size_words(self.stats.file_bytes)} of files in this run")

    def _safety_interval(self) -> float:
        return self.options.poll_interval if self._polled else self.options.safety_interval

    # -- events ---------------------------------------------------------------

    def _apply(self, changes: Changes) -> None:
        for key, names in changes.items():
            if key == ("root",):
                self._scan_root(names)
                continue
            alloc = self.allocs.get(key[1])
            if alloc is None or alloc.source is None:
                continue
            if key[0] == "alloc":
                self._guard(alloc, self._check_alloc, alloc)
            elif key[0] == "logs":
                if names is EVERYTHING:
                    alloc.forget_logs_dir()
                    self._watch_logs(alloc)
                self._guard(alloc, alloc.logs.look, names)
            elif key[0] == "tree":
                self._due_trees.add((alloc.alloc_id, key[2]))

    def _scan_root(self, names: set[str] | None) -> None:
        """Look at the entries ``names`` of the client root (all of them for
        EVERYTHING): new allocations, allocations gone."""
        if names is EVERYTHING:
            try:
                with os.scandir(self._root_fd) as entries:
                    names = {e.name for e in entries if not e.name.startswith(".")}
            except OSError as e:
                self.emit("error", "", f"{self.root}: {e.strerror}")
                return
            names |= {a.alloc_id for a in self.allocs.values() if a.source is not None}
        now = time.monotonic()
        for name in names:
            alloc = self.allocs.get(name)
            if alloc is not None and alloc.source is not None:
                if not self._exists(name):
                    self._gone(alloc)
                continue
            if not self.options.wants(name):
                continue
            path = os.path.join(self.root, name)
            if self._exists(name) and _valid(name) and is_alloc_dir(path):
                self._candidates.pop(name, None)
                self._add(name, path)
            elif self._exists(name):
                first = self._candidates.setdefault(name, now)
                if now - first > NEW_DIR_GRACE:
                    del self._candidates[name]  # not an allocation; the safety look retries

    def _exists(self, name: str) -> bool:
        try:
            return lstat_at(self._root_fd, name) is not None
        except OSError:
            return False

    def _add(self, alloc_id: str, path: str, announce: bool = True) -> None:
        known = self.allocs.get(alloc_id)
        alloc = KeptAlloc(self, alloc_id, path)
        if known is not None:
            alloc.summary = known.summary
            alloc.usage = known.usage
            known.close()
        self.allocs[alloc_id] = alloc
        try:
            for problem in alloc.load():
                alloc.note(problem)
        except Exception as e:  # unreadable metadata: keep going, say so
            if is_disk_full(e):
                self._pause(e)
            self.emit("error", alloc_id, f"cannot take up its copy: {e}")
            alloc.source = None
            return
        tasks = alloc.tasks_on_disk()
        if tasks is None:
            self._gone(alloc)
            return
        alloc.seen(tasks)
        before = alloc.usage
        alloc.usage = self.store.allocated(alloc_id)
        self.budget.total += alloc.usage - before
        if announce:
            self.emit("new", alloc_id, (f"tasks {', '.join(tasks)}" if tasks else "no tasks yet")
                      + ("" if known is None else " (taking up its earlier copy)"))
        with alloc.source_dir() as fd:
            if fd is not None:
                self._watch(("alloc", alloc_id), fd, alloc_id)
        if "logs" in self.options.include:
            self._watch_logs(alloc)
            self._guard(alloc, alloc.logs.look, EVERYTHING)
        self._watch_trees(alloc)

    def _check_alloc(self, alloc: KeptAlloc) -> None:
        tasks = alloc.tasks_on_disk()
        if tasks is None:
            self._gone(alloc)
            return
        alloc.seen(tasks)
        self._watch_trees(alloc)

    def _gone(self, alloc: KeptAlloc) -> None:
        """The allocation left the client: keep what was kept, mark it."""
        if alloc.source is not None:
            self._guard(alloc, alloc.mark_gone)
        else:
            alloc.summary["gone"] = alloc.summary.get("last_seen") or time.time()
        last = alloc.summary.get("last_seen")
        self.watches.remove_where(lambda key: len(key) > 1 and key[1] == alloc.alloc_id)
        self._copies.drop(alloc, finish=True)
        self._guard(alloc, flush_one, alloc)
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last)) if last else "never"
        self.emit("gone", alloc.alloc_id, f"last seen {when}; its copy stays in "
                  f"{alloc.kept_path} ({size_words(max(0, alloc.usage))})")
        alloc.close()

    # -- watching -------------------------------------------------------------

    def _watch(self, key: tuple, fd: int, where: str) -> None:
        why = self.watches.add(key, fd)
        if why and not self._polled:
            self._polled = True
            self.emit("note", "", f"cannot watch {where} ({why}): polling every "
                      f"{self.options.poll_interval:g} s")

    def _watch_logs(self, alloc: KeptAlloc) -> None:
        with alloc.source_logs() as fd:
            if fd is not None:
                self._watch(("logs", alloc.alloc_id), fd, f"{alloc.alloc_id}/alloc/logs")

    def _watch_trees(self, alloc: KeptAlloc) -> None:
        """Scan the trees not scanned yet (a scan watches their directories)."""
        self._due_trees.update((alloc.alloc_id, name) for name, tree in alloc.trees.items()
                               if not tree.last_scan)

    # -- periodic -------------------------------------------------------------

    def _safety(self) -> None:
        """The slow look at everything, for what no event announced."""
        if self.store.vanished():
            self.emit("error", "", f"{self.store.path} was removed: stopping")
            self._stop = True
            return
        self._scan_root(EVERYTHING)
        now = time.time()
        for alloc in [a for a in self.allocs.values() if a.source is not None]:
            self._guard(alloc, self._check_alloc, alloc)
            if alloc.source is None:
                continue
            if "logs" in self.options.include:
                if not self.watches.watching(("logs", alloc.alloc_id)):
                    alloc.forget_logs_dir()
                    self._watch_logs(alloc)
                self._guard(alloc, alloc.logs.tick)
            for name, tree in alloc.trees.items():
                if now - tree.last_scan >= self.options.tree_interval:
                    self._due_trees.add((alloc.alloc_id, name))

    def _scan_due_trees(self, now: float) -> None:
        if self.paused or not self._due_trees:
            return
        wall = time.time()
        for alloc_id, name in list(self._due_trees):
            alloc = self.allocs.get(alloc_id)
            tree = alloc.trees.get(name) if alloc is not None and alloc.source else None
            if tree is None:
                self._due_trees.discard((alloc_id, name))
                continue
            if wall - tree.last_scan < self.options.tree_min_interval:
                continue
            self._due_trees.discard((alloc_id, name))

            def watch(rel: str, fd: int, alloc_id=alloc_id, name=name) -> None:
                self._watch(("tree", alloc_id, name, rel), fd, f"{alloc_id}/{name}/{rel}")

            if not self._copies.add(alloc_id, name, self._guard(alloc, tree.scan, watch) or []):
                self._due_trees.add((alloc_id, name))  # the rest at the next scan

    def _flush(self, final: bool = False) -> None:
        """Make what was written durable, then record it (see :func:`flush`)."""
        if self.paused and not final:
            return
        error = flush([a for a in self.allocs.values() if a.journal is not None],
                      self.store.fd, self._guard, final=final)
        if error is not None and is_disk_full(error):
            self._pause(error)
        elif error is not None:
            self.emit("error", "", f"{self.store.path}: {describe(error)}")

    # -- copying --------------------------------------------------------------

    def _work(self, deadline: float) -> bool:
        """Copy for at most until ``deadline``, logs first; True if work is left."""
        if self.paused:
            return False
        busy = False
        for alloc in list(self.allocs.values()):
            if alloc.source is None or not alloc.logs.pending:
                continue
            copied = self._guard(alloc, alloc.logs.work, SLICE_BYTES)
            self.stats.log_bytes += copied or 0
            if self.paused:
                return False
            busy = busy or bool(alloc.logs.pending)
            if time.monotonic() > deadline:
                return True
        self._copies.work(deadline, SLICE_BYTES)
        return busy or (bool(self._copies) and not self.paused)

    # -- budget and disk ------------------------------------------------------

    def room(self, alloc: KeptAlloc, wanted: int) -> int:
        """How many of ``wanted`` bytes ``alloc`` may write now."""
        if self.paused:
            return 0
        return self.budget.room(alloc, wanted, list(self.allocs.values()))

    def used(self, blocks: int, nbytes: int, files: bool) -> None:
        """Account what an allocation wrote."""
        self.budget.total += blocks
        if files:
            self.stats.file_bytes += nbytes

    def _evict(self, victim: KeptAlloc) -> int:
        """Remove ``victim``'s copy to make room; return the bytes freed. A
        running allocation goes on being kept, from what it writes next."""
        self._copies.drop(victim, finish=False)
        was_live = victim.source is not None
        victim.close()
        before = victim.usage
        errors = self.store.remove_alloc(victim.alloc_id)
        left = self.store.allocated(victim.alloc_id) if errors else 0
        freed = before - left
        self.budget.total -= freed
        self.stats.evicted += 1
        state = "gone" if victim.gone else "last written"
        when = victim.summary.get("last_seen") if victim.gone else victim.last_write
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when or 0))
        self.emit("evicted", victim.alloc_id, f"removed its copy ({size_words(freed)}, {state} "
                  f"{stamp}) to stay within the budget of {size_words(self.options.budget)}")
        for error in errors:
            self.emit("error", victim.alloc_id, f"could not remove {error.filename}: "
                      f"{error.strerror}")
        del self.allocs[victim.alloc_id]
        if was_live:  # go on keeping it, from what is written from now on
            self._restart_after_eviction(victim)
        return freed

    def _restart_after_eviction(self, victim: KeptAlloc) -> None:
        self._add(victim.alloc_id, victim.source, announce=False)
        alloc = self.allocs.get(victim.alloc_id)
        if alloc is None:
            return
        for gen in alloc.logs.members.values():
            gen.start = self._source_size(alloc, gen) or 0
        alloc.note("its earlier copy was removed to stay within the budget: kept from now on")

    def _source_size(self, alloc: KeptAlloc, gen) -> int | None:
        with alloc.source_log(gen.member, gen.ident, reopen=True) as fd:
            return None if fd is None else os.fstat(fd).st_size

    def _pause(self, error: OSError) -> None:
        """The disk is full: stop copying until there is room."""
        if self.paused:
            return
        self.paused = error.strerror or str(error)
        self._paused_since = time.time()
        self.emit("disk-full", "", f"{self.store.path}: {self.paused}: copying paused; what was "
                  "kept is intact; it resumes when there is room")
        self._manifest.update(status="paused", paused={"since": self._paused_since,
                                                       "reason": self.paused})
        try:
            self.store.write_manifest(self._manifest)
        except OSError:
            pass  # written when there is room again

    def _retry(self) -> None:
        if self.store.free_bytes() < RESUME_FREE:
            return
        reason, since = self.paused, self._paused_since
        self.paused = ""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since))
        for alloc in self.allocs.values():
            if alloc.source is not None:
                alloc.summary["notes"].append([time.time(), f"copying was paused from {stamp} "
                                               f"({reason}): what was written meanwhile was "
                                               "copied afterwards, unless it was removed first"])
                alloc.logs.pending.update(n for n, g in alloc.logs.members.items()
                                          if g.gone is None)
        self._flush(final=True)
        if self.paused:  # still full
            return
        self._manifest.update(status="running", paused=None)
        try:
            self.store.write_manifest(self._manifest)
        except OSError as e:
            self._pause(e)
            return
        self.emit("resumed", "", f"{self.store.path}: room again: copying resumed")
        for alloc in self.allocs.values():
            self._due_trees.update((alloc.alloc_id, name) for name in alloc.trees)

    def _guard(self, alloc: KeptAlloc, call: Callable, *args):
        """Run ``call(*args)`` for ``alloc``: a full disk pauses copying,
        any other failure is reported and the keeper goes on (a task must
        not be able to stop it)."""
        try:
            return call(*args)
        except OSError as e:
            if is_disk_full(e):
                self._pause(e)
            else:
                alloc.note_once(f"error:{describe(e)}", describe(e))
        except Exception as e:  # reported, never raised into the loop
            alloc.note_once(f"error:{e!r}", f"{type(e).__name__}: {describe(e)}")
        return None


def _valid(name: str) -> bool:
    try:
        check_name(name, "allocation id")
        return True
    except ValueError:
        return False


def _merge(changes: Changes, more: Changes) -> None:
    for key, names in more.items():
        if key not in changes:
            changes[key] = names
        elif changes[key] is EVERYTHING or names is EVERYTHING:
            changes[key] = EVERYTHING
        else:
            changes[key] |= names
