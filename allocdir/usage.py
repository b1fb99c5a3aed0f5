"""How much an alloc dir (a task dir, any dir inside, a whole client root)
holds on its file system: what ``du`` says, measured the way the library
walks everything else.

The walk goes down through directory fds opened ``O_NOFOLLOW``
(:mod:`allocdir.dirfd`): no symlink is followed, no mount point is entered
(another device, or a bind mount of the same file system), only the tree's
own device is counted, at most :data:`~allocdir.dirfd.MAX_WALK_FDS` fds are
held per walker whatever the depth, and nothing is ever opened but
directories: secrets are counted by ``lstat``, never read; a FIFO is never
opened. Hard links are counted once, as ``du`` does.

What is counted for the tree and for every directory in it:

- **apparent bytes** (``st_size``, ``du --apparent-size``) and **allocated
  bytes** (``st_blocks * 512``, plain ``du``): a sparse 1 TiB file shows
  both;
- **inodes** (every entry, directories included, as ``du --inodes``) and
  **files** (regular files);
- the **newest write** (the latest ``st_mtime``).

Speed: Python spends more time per entry than ``du``'s C, and threads do
not help (the interpreter lock is handed over at every ``lstat``, which
costs more than it saves). So the first levels of the tree are split into
units of work (subtrees, and slices of the files of a huge directory) that
:data:`WORKERS` forked processes take from a pipe, each walking from
directory fds it inherited, sending its directory totals back as it goes:
the caller sees numbers within :data:`FLUSH_EVERY` and the tree fills in
while it walks. Small trees, or ``workers=0``, are walked in the calling
thread by the same code.

Bounded whatever a task does: directory records are kept for at most
:data:`MAX_DIRS` directories (deeper ones are folded into their nearest
kept ancestor, totals unchanged), hard links are remembered for at most
:data:`MAX_LINKS` inodes, and ``time_limit`` stops the walk with a partial
result that says so.
"""

from __future__ import annotations

import errno
import gc
import heapq
import marshal
import os
import select
import signal
import stat
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import dirfd
from .dirfd import DIR_FLAGS, DirStack, TreeChangedError, is_mount_root

WORKERS = 2
"""Processes that walk at once (at most the number of CPUs)."""
SPLIT_DEPTH = 3
"""How deep the planning looks for subtrees to hand out."""
SPLIT_DIRS = 32
"""Directories held open, at most, to hand out their subdirectories and files."""
FILE_SLICE = 8192
"""Files of one directory per unit of work: a flat directory of 200,000
files is shared out in slices of this many."""
PARALLEL_MIN_ENTRIES = 2000
"""Entries seen while planning from which the walk is shared out…"""
PARALLEL_MIN_SUBTREES = 8
"""…or subtrees handed out (whose size planning does not know) from which
it is; below both the walk stays in-process (a fork costs more than it
saves on a small tree)."""
MAX_DIRS = 200_000
"""Directories given their own record; deeper or later ones are folded
into their nearest kept ancestor (their totals are kept there)."""
MAX_LINKS = 200_000
"""Hard-linked inodes remembered to count each once; past this, further
links may be counted again (the result says so)."""
MAX_SKIPPED = 200
"""Skipped entries named in a result (the rest are only counted)."""
FLUSH_EVERY = 0.05
"""Seconds between two batches of totals sent by a walker."""
TOP = 10
"""Largest files and directories kept, by default."""

_WALKERS: set[int] = set()
_KEY = struct.Struct("=I")
_LEN = struct.Struct("=I")
_S_ISREG = stat.S_ISREG


class DirUsage:
    """The totals of one directory and everything below it on its device.

    ``apparent``, ``allocated`` (bytes), ``inodes``, ``files``, ``dirs`` and
    ``newest`` (a POSIX time, 0 when nothing was seen) cover the subtree;
    ``own_*`` only the non-directories directly in it (the directory itself
    and its subdirectories excluded). ``children`` are the subdirectories
    with a record, ``folded`` how many deeper ones were counted into this one
    without a record of their own. While a measurement runs, the numbers
    grow: they are what has been walked so far.
    """

    __slots__ = ("name", "parent", "children", "apparent", "allocated", "inodes", "files",
                 "dirs", "newest", "own_apparent", "own_allocated", "own_inodes", "own_files",
                 "folded", "note")

    def __init__(self, name: str, parent: DirUsage | None) -> None:
        self.name = name
        self.parent = parent
        self.children: list[DirUsage] = []
        self.apparent = self.allocated = self.inodes = self.files = self.dirs = 0
        self.own_apparent = self.own_allocated = self.own_inodes = self.own_files = 0
        self.newest = 0.0
        self.folded = 0
        self.note = ""

    @property
    def rel(self) -> str:
        """The path below the measured top ("" for the top itself)."""
        parts = []
        node: DirUsage | None = self
        while node is not None and node.parent is not None:
            parts.append(node.name)
            node = node.parent
        return "/".join(reversed(parts))

    def child(self, name: str) -> DirUsage | None:
        """The subdirectory record called ``name``, if there is one."""
        for sub in self.children:
            if sub.name == name:
                return sub
        return None

    def find(self, rel: str) -> DirUsage | None:
        """The record at ``rel`` below this one, if there is one."""
        node: DirUsage | None = self
        for part in (p for p in rel.split("/") if p):
            node = node.child(part) if node is not None else None
        return node

    def bytes(self, allocated: bool = False) -> int:
        """Allocated or apparent bytes of the subtree."""
        return self.allocated if allocated else self.apparent

    def __repr__(self) -> str:
        return (f"DirUsage({self.rel or '.'!r}, apparent={self.apparent}, "
                f"allocated={self.allocated}, inodes={self.inodes})")


@dataclass(frozen=True)
class FileUsage:
    """One of the largest files: its path below the top and its sizes."""

    rel: str
    apparent: int
    allocated: int
    mtime: float


@dataclass(frozen=True)
class Skipped:
    """Something not counted, and why (a mount point, an unreadable dir…)."""

    rel: str
    reason: str


@dataclass
class Usage:
    """A measurement of a tree: its totals, a record per directory, the
    largest files and what was skipped.

    Live while the walk runs (``done`` is False): the progress callback gets
    this very object as it fills in. ``complete`` is False when the walk
    stopped early (time limit, cancel, a walker that failed) or skipped
    something it should have counted; ``partial`` then says why.
    """

    path: str
    tree: DirUsage
    device: int = 0
    top: int = TOP
    done: bool = False
    started: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0
    partial: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    skipped_count: int = 0
    files_by_size: dict[str, FileUsage] = field(default_factory=dict)

    @property
    def apparent_bytes(self) -> int:
        """Apparent bytes (``du -s --apparent-size -B1``)."""
        return self.tree.apparent

    @property
    def allocated_bytes(self) -> int:
        """Allocated bytes (``du -s -B1``)."""
        return self.tree.allocated

    @property
    def inodes(self) -> int:
        """Entries, directories included, hard links once (``du -s --inodes``)."""
        return self.tree.inodes

    @property
    def files(self) -> int:
        """Regular files."""
        return self.tree.files

    @property
    def newest_write(self) -> float | None:
        """The latest modification time seen (POSIX seconds), or None."""
        return self.tree.newest or None

    @property
    def complete(self) -> bool:
        """True when the walk finished and counted everything it met."""
        return self.done and not self.partial

    def largest_files(self, allocated: bool = False) -> list[FileUsage]:
        """The largest files, by allocated or apparent bytes, largest first."""
        key = (lambda f: (f.allocated, f.rel)) if allocated else (lambda f: (f.apparent, f.rel))
        return heapq.nlargest(self.top, self.files_by_size.values(), key=key)

    def largest_dirs(self, allocated: bool = False) -> list[DirUsage]:
        """The directories holding the most in files of their own (not counting
        their subdirectories): where the bytes are written."""
        records: list[DirUsage] = []
        pending = [self.tree]
        while pending:
            node = pending.pop()
            records.append(node)
            pending.extend(node.children)
        key = (lambda d: d.own_allocated) if allocated else (lambda d: d.own_apparent)
        return heapq.nlargest(self.top, records, key=key)

    def skip(self, rel: str, reason: str, *, partial: bool = False) -> None:
        """Record something not counted (and, with ``partial``, that the
        result misses what it should have counted)."""
        self.skipped_count += 1
        if len(self.skipped) < MAX_SKIPPED:
            self.skipped.append(Skipped(rel, reason))
        if partial and len(self.partial) < MAX_SKIPPED:
            self.partial.append(f"{rel or '.'}: {reason}")


Progress = Callable[[Usage], None]


# --------------------------------------------------------------------------
# the public entry points


def measure(path: str | os.PathLike, rel: str = "", *, top: int = TOP,
            time_limit: float | None = None, cancel: threading.Event | None = None,
            on_progress: Progress | None = None, progress_every: float = 0.1,
            workers: int | None = None) -> Usage:
    """Measure ``rel`` below the directory ``path`` (an alloc dir, a client
    root, anything the operator names; ``rel`` is walked down without
    following a symlink), and everything below it on its device.

    ``on_progress(usage)`` is called from the measuring thread at most every
    ``progress_every`` seconds while it walks, and once at the end.
    ``time_limit`` (seconds) and ``cancel`` stop the walk: what was counted
    is returned, ``complete`` False and ``partial`` saying why. ``workers``
    0 walks in this thread; None picks (see :data:`WORKERS`).

    Raises ``FileNotFoundError``, ``NotADirectoryError``,
    :class:`~allocdir.dirfd.UnsafePathError` (a symlink on the way) or
    ``PermissionError`` when the top cannot be opened.
    """
    where = os.path.join(os.fspath(path), rel) if rel.strip("/") else os.fspath(path)
    base = dirfd.open_dir(os.fspath(path))
    try:
        top_fd = dirfd.open_beneath(base, rel, where) if rel.strip("/") else os.dup(base)
    finally:
        os.close(base)
    try:
        st = os.fstat(top_fd)
        usage = Usage(where, DirUsage("", None), device=st.st_dev, top=top)
        _Measurement(usage, top_fd, st, time_limit, cancel, on_progress, progress_every,
                     workers).run()
        return usage
    finally:
        os.close(top_fd)


def walker_pids() -> frozenset[int]:
    """The pids of this process's walkers running now (they hold directory
    fds inside what they measure: a process scan leaves them out)."""
    return frozenset(_WALKERS)


@dataclass(frozen=True)
class DirFiles:
    """The non-directories directly in one directory: the ``top`` largest
    by the chosen size, and the totals of all of them."""

    largest: list[FileUsage]
    apparent: int
    allocated: int
    count: int
    subdirs: list[str]


def files_in(path: str | os.PathLike, rel: str = "", *, top: int = 50,
             allocated: bool = False, limit: int = 1_000_000) -> DirFiles:
    """List the directory ``rel`` below ``path`` (walked down without
    following a symlink) and ``lstat`` what is in it: its largest files and
    the totals of its non-directories (hard links each time they appear),
    and the names of its subdirectories. At most ``limit`` entries are
    looked at. Nothing is opened but directories."""
    base = dirfd.open_dir(os.fspath(path))
    try:
        fd = dirfd.open_beneath(base, rel, os.path.join(os.fspath(path), rel)) \
            if rel.strip("/") else os.dup(base)
    finally:
        os.close(base)
    heap: list[tuple[int, str, int, int, float]] = []
    subdirs: list[str] = []
    app = alloc = count = 0
    try:
        with os.scandir(fd) as entries:
            for n, entry in enumerate(entries):
                if n >= limit:
                    break
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(entry.name)
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                size, blocks = st.st_size, st.st_blocks * 512
                app += size
                alloc += blocks
                count += 1
                key = blocks if allocated else size
                item = (key, entry.name, size, blocks, st.st_mtime)
                if len(heap) < top:
                    heapq.heappush(heap, item)
                elif heap and key > heap[0][0]:
                    heapq.heapreplace(heap, item)
    finally:
        os.close(fd)
    prefix = f"{rel.strip('/')}/" if rel.strip("/") else ""
    largest = [FileUsage(prefix + name, size, blocks, mtime)
               for _, name, size, blocks, mtime in sorted(heap, reverse=True)]
    return DirFiles(largest, app, alloc, count, subdirs)


# --------------------------------------------------------------------------
# the parent side: planning, workers, and the records


class _Measurement:
    """One run of :func:`measure`: plans units of work near the top, has
    them walked (forked workers or this thread), and folds the totals the
    walkers send into ``usage``."""

    def __init__(self, usage: Usage, top_fd: int, st: os.stat_result,
                 time_limit: float | None, cancel: threading.Event | None,
                 on_progress: Progress | None, progress_every: float,
                 workers: int | None) -> None:
        self.usage = usage
        self.top_fd = top_fd
        self.dev = st.st_dev
        self.deadline = None if time_limit is None else usage.started + time_limit
        self.cancel = cancel
        self.on_progress = on_progress
        self.progress_every = progress_every
        self.workers = workers
        self.records: dict[str, DirUsage] = {"": usage.tree}
        self.links: set[tuple[int, int]] = set()
        self.links_full = False
        self.units: list[tuple] = []
        self.opened: list[int] = []
        self.planned_entries = 0
        self.last_progress = 0.0
        self._add_dir_self("", st)

    # -- running --------------------------------------------------------------

    def run(self) -> None:
        usage = self.usage
        try:
            if self.workers == 0:  # one walk from the top: nothing to share out
                self.units.append(("t", self.top_fd))
                self._run_here()
                return
            self._plan(self.top_fd, "", 0)
            count = self._worker_count()
            if count >= 2:
                self._run_forked(count)
            else:
                self._run_here()
        finally:
            for fd in self.opened:
                os.close(fd)
            self.opened.clear()
            usage.elapsed = time.monotonic() - usage.started
            usage.done = True
            if self.on_progress is not None:
                self.on_progress(usage)

    def _worker_count(self) -> int:
        if self.workers is not None:
            wanted = self.workers
        else:
            subtrees = sum(1 for unit in self.units if unit[0] == "d")
            big = self.planned_entries >= PARALLEL_MIN_ENTRIES or \
                subtrees >= PARALLEL_MIN_SUBTREES
            wanted = WORKERS if big else 0
        return min(wanted, os.cpu_count() or 1, len(self.units))

    def _stopped(self) -> str:
        if self.cancel is not None and self.cancel.is_set():
            return "cancelled"
        if self.deadline is not None and time.monotonic() > self.deadline:
            return "time limit reached"
        return ""

    def _run_here(self) -> None:
        walker = _Walker(self.deadline, self.cancel, self.usage.top, self.apply)
        for unit in self.units:
            walker.run_unit(unit)
            if walker.stopped:
                break
        walker.flush(final=True)
        if walker.stopped:
            self.usage.partial.append(f"stopped: {walker.stopped}")

    def _run_forked(self, count: int) -> None:
        work_r, work_w = os.pipe()
        children: dict[int, int] = {}  # result pipe fd -> pid
        for _ in range(count):
            res_r, res_w = os.pipe()
            try:
                pid = os.fork()
            except OSError:  # a process limit: walk with those started, or here
                os.close(res_r)
                os.close(res_w)
                break
            if pid == 0:  # pragma: no cover - runs in the child
                os.close(res_r)
                os.close(work_w)
                _child(work_r, res_w, self.units, self.deadline, self.usage.top)
            os.close(res_w)
            children[res_r] = pid
            _WALKERS.add(pid)
        os.close(work_r)
        if not children:
            os.close(work_w)
            self._run_here()
            return
        self._feed_and_collect(work_w, children)

    def _feed_and_collect(self, work_w: int, children: dict[int, int]) -> None:
        os.set_blocking(work_w, False)
        queue = b"".join(_KEY.pack(i) for i in range(len(self.units)))
        buffers = {fd: bytearray() for fd in children}
        stopped = ""
        try:
            while buffers:
                wanted_w = [work_w] if queue and work_w >= 0 else []
                timeout = self.progress_every
                readable, writable, _ = select.select(list(buffers), wanted_w, [], timeout)
                if writable:
                    try:
                        sent = os.write(work_w, queue[:4096])
                        queue = queue[sent:]
                    except BlockingIOError:
                        pass
                if not queue and work_w >= 0:
                    os.close(work_w)
                    work_w = -1
                for fd in readable:
                    chunk = os.read(fd, 1 << 20)
                    if not chunk:
                        self._take(buffers.pop(fd), final=True)
                        self._reap(children.pop(fd), fd)
                        continue
                    buffers[fd] += chunk
                    self._take(buffers[fd])
                self._progress()
                stopped = stopped or self._stopped()
                if stopped == "cancelled" or (
                        stopped and self.deadline is not None
                        and time.monotonic() > self.deadline + 1.0):
                    break
        finally:
            if work_w >= 0:
                os.close(work_w)
            if buffers:
                self._end_children(children, kill=True)
                for fd in buffers:
                    os.close(fd)
        if stopped:
            self.usage.partial.append(f"stopped: {stopped}")

    def _take(self, buf: bytearray, final: bool = False) -> None:
        """Apply every complete message in ``buf`` (and drop them from it)."""
        pos = 0
        while len(buf) - pos >= 4:
            (size,) = _LEN.unpack_from(buf, pos)
            if len(buf) - pos - 4 < size:
                break
            self.apply(marshal.loads(bytes(buf[pos + 4:pos + 4 + size])))
            pos += 4 + size
        del buf[:pos]
        if final and buf:
            self.usage.partial.append("a walker's last totals were cut off")

    def _reap(self, pid: int, fd: int) -> None:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
        _WALKERS.discard(pid)
        if status:
            self.usage.partial.append(f"a walker failed ({_describe_status(status)})")

    def _end_children(self, children: dict[int, int], kill: bool) -> None:
        for pid in children.values():
            if kill:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            os.waitpid(pid, 0)
            _WALKERS.discard(pid)
        children.clear()

    def _progress(self) -> None:
        if self.on_progress is None:
            return
        now = time.monotonic()
        if now - self.last_progress >= self.progress_every:
            self.last_progress = now
            self.usage.elapsed = now - self.usage.started
            self.on_progress(self.usage)

    # -- planning --------------------------------------------------------------

    def _plan(self, fd: int, rel: str, depth: int) -> None:
        """List the directory ``fd`` (at ``rel``, already recorded): its
        files become file units; its subdirectories are planned in turn
        (near the top) or become subtree units."""
        files: list[str] = []
        subdirs: list[str] = []
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    (subdirs if entry.is_dir(follow_symlinks=False) else files).append(
                        entry.name)
        except OSError as e:
            self.usage.skip(rel, f"cannot be listed: {_reason(e)}", partial=True)
            return
        self.planned_entries += len(files) + len(subdirs)
        for start in range(0, len(files), FILE_SLICE):
            self.units.append(("f", fd, rel, files[start:start + FILE_SLICE]))
        for name in subdirs:
            sub_rel = f"{rel}/{name}" if rel else name
            if depth + 1 < SPLIT_DEPTH and len(self.opened) < SPLIT_DIRS:
                sub = self._open_planned(fd, name, sub_rel)
                if sub is not None:
                    self._plan(sub, sub_rel, depth + 1)
                continue
            self.units.append(("d", fd, sub_rel, name))

    def _open_planned(self, parent_fd: int, name: str, rel: str) -> int | None:
        """Open a directory near the top for planning, record it, and keep
        it open (its units need it); None when it is not to be entered
        (counted as a leaf, a mount point, gone)."""
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
        except FileNotFoundError:
            return None
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR):  # swapped for a link or file
                self.units.append(("f", parent_fd, rel.rpartition("/")[0], [name]))
            else:
                self.usage.skip(rel, f"cannot be opened: {_reason(e)}", partial=True)
            return None
        try:
            st = os.fstat(fd)
            if st.st_dev != self.dev or is_mount_root(fd):
                os.close(fd)
                self.usage.skip(rel, "mount point: not counted")
                return None
        except OSError as e:
            os.close(fd)
            self.usage.skip(rel, f"cannot be read: {_reason(e)}", partial=True)
            return None
        self.opened.append(fd)
        self._add_dir_self(rel, st)
        return fd

    # -- folding in what walkers send ---------------------------------------

    def apply(self, batch: list[tuple]) -> None:
        """Fold a batch of walker records into the tree."""
        for record in batch:
            kind = record[0]
            if kind == "d":
                _, rel, size, blocks, mtime, app, alloc, inodes, files, newest = record
                node = self._record_for(rel)
                self._add(node, size, blocks, 1, 0, 1, mtime, own=False)
                self._add(node, app, alloc, inodes, files, 0, newest, own=True)
            elif kind == "f":
                _, rel, app, alloc, inodes, files, newest = record
                self._add(self._nearest(rel), app, alloc, inodes, files, 0, newest, own=True)
            elif kind == "l":
                self._link(record)
            elif kind == "t":
                for rel, size, blocks, mtime in record[1]:
                    self.usage.files_by_size[rel] = FileUsage(rel, size, blocks, mtime)
                self._trim_files()
            elif kind == "s":
                _, rel, reason, partial = record
                self.usage.skip(rel, reason, partial=partial)
            elif kind == "p":
                if record[1] not in self.usage.partial:
                    self.usage.partial.append(record[1])
        self._progress()

    def _add_dir_self(self, rel: str, st: os.stat_result) -> None:
        node = self._record_for(rel)
        self._add(node, st.st_size, st.st_blocks * 512, 1, 0, 1, st.st_mtime, own=False)

    def _record_for(self, rel: str) -> DirUsage:
        """The record of the directory ``rel`` (made now; folded into its
        nearest recorded ancestor past :data:`MAX_DIRS`)."""
        node = self.records.get(rel)
        if node is not None:
            return node
        parent_rel, _, name = rel.rpartition("/")
        parent = self.records.get(parent_rel)
        if parent is None or len(self.records) >= MAX_DIRS:
            folded_into = self._nearest(parent_rel)
            folded_into.folded += 1
            return folded_into
        node = DirUsage(name, parent)
        parent.children.append(node)
        self.records[rel] = node
        return node

    def _nearest(self, rel: str) -> DirUsage:
        while True:
            node = self.records.get(rel)
            if node is not None:
                return node
            if not rel:
                return self.usage.tree
            rel = rel.rpartition("/")[0]

    @staticmethod
    def _add(node: DirUsage | None, app: int, alloc: int, inodes: int, files: int, dirs: int,
             newest: float, *, own: bool) -> None:
        if own and node is not None:
            node.own_apparent += app
            node.own_allocated += alloc
            node.own_inodes += inodes
            node.own_files += files
        while node is not None:
            node.apparent += app
            node.allocated += alloc
            node.inodes += inodes
            node.files += files
            node.dirs += dirs
            if newest > node.newest:
                node.newest = newest
            node = node.parent

    def _link(self, record: tuple) -> None:
        _, rel, dev, ino, size, blocks, mtime, regular = record
        key = (dev, ino)
        if key in self.links:
            return
        if len(self.links) < MAX_LINKS:
            self.links.add(key)
        elif not self.links_full:
            self.links_full = True
            self.usage.partial.append(
                f"more than {MAX_LINKS:,} hard-linked files: further links may count twice")
        self._add(self._nearest(rel), size, blocks, 1, int(regular), 0, mtime, own=True)

    def _trim_files(self) -> None:
        files = self.usage.files_by_size
        if len(files) > 4 * self.usage.top:
            keep = {f.rel for f in self.usage.largest_files()}
            keep |= {f.rel for f in self.usage.largest_files(allocated=True)}
            for rel in [rel for rel in files if rel not in keep]:
                del files[rel]


def _reason(e: OSError) -> str:
    return os.strerror(e.errno).lower() if e.errno else str(e)


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"


# --------------------------------------------------------------------------
# the walker: the same code in a forked child or in the calling thread


def _child(work_r: int, res_w: int, units: list[tuple], deadline: float | None,
           top: int) -> None:  # pragma: no cover - runs in a forked child
    """A forked walker: take unit numbers from ``work_r`` until it is
    closed, walk them, send batches of records on ``res_w``; never return."""
    status = 1
    try:
        gc.disable()  # no finalizer of the parent's objects runs here
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)

        def send(batch: list[tuple]) -> None:
            data = marshal.dumps(batch)
            view = memoryview(_LEN.pack(len(data)) + data)
            while view:
                view = view[os.write(res_w, view):]

        walker = _Walker(deadline, None, top, send)
        while not walker.stopped:
            key = os.read(work_r, 4)
            if len(key) < 4:
                break
            walker.run_unit(units[_KEY.unpack(key)[0]])
        if walker.stopped:
            walker.out.append(("p", f"stopped: {walker.stopped}"))
        walker.flush(final=True)
        status = 0
    except BaseException:
        status = 1
    finally:
        os._exit(status)


class _Walker:
    """Walks units of work and hands batches of records to ``emit``.

    Records (tuples, for ``marshal``): ``("d", rel, size, blocks, mtime,
    own apparent, own allocated, own inodes, own files, newest own write)``
    for a directory entered; ``("f", rel, …own totals…)`` for more files of
    a directory; ``("l", rel, dev, ino, size, blocks, mtime, regular)`` for
    a hard-linked file (counted once by the parent); ``("s", rel, reason,
    partial)`` for something skipped; ``("t", [(rel, size, blocks,
    mtime)…])`` for the largest files; ``("p", reason)`` for a stop.
    """

    def __init__(self, deadline: float | None, cancel: threading.Event | None, top: int,
                 emit: Callable[[list[tuple]], None]) -> None:
        self.deadline = deadline
        self.cancel = cancel
        self.top = max(1, top)
        self.emit = emit
        self.out: list[tuple] = []
        # (size or blocks, path, size, blocks, mtime), smallest first
        self.by_size: list[tuple[int, str, int, int, float]] = []
        self.by_blocks: list[tuple[int, str, int, int, float]] = []
        self.last_flush = time.monotonic()
        self.stopped = ""

    def check(self) -> None:
        """Flush if it is time; note a stop (deadline, cancel)."""
        now = time.monotonic()
        if now - self.last_flush >= FLUSH_EVERY:
            self.flush()
        if self.deadline is not None and now > self.deadline:
            self.stopped = "time limit reached"
        elif self.cancel is not None and self.cancel.is_set():
            self.stopped = "cancelled"

    def flush(self, final: bool = False) -> None:
        """Hand what was gathered to ``emit`` (at the end, the largest files too)."""
        if final:
            tops = {item[1]: item[1:] for heap in (self.by_size, self.by_blocks)
                    for item in heap}
            if tops:
                self.out.append(("t", list(tops.values())))
        if self.out:
            batch, self.out = self.out, []
            self.emit(batch)
        self.last_flush = time.monotonic()

    def run_unit(self, unit: tuple) -> None:
        """Walk one unit: ``("f", dir fd, rel, names)`` or ``("d", parent
        fd, rel, name)``."""
        if unit[0] == "f":
            _, fd, rel, names = unit
            totals = self._stat_names(fd, rel, names)
            self.out.append(("f", rel, *totals))
        elif unit[0] == "t":  # the whole tree from its (already counted) top
            _, top_fd = unit
            self._walk(top_fd, ".", "", top=True)
        else:
            _, parent_fd, rel, name = unit
            self._walk(parent_fd, name, rel)
        self.check()

    # -- one directory's entries ---------------------------------------------

    def _stat_names(self, fd: int, rel: str, names: list[str]) -> tuple:
        """``lstat`` the named non-directories of the open directory ``fd``
        (a slice of a big directory's files); their totals. The same few
        operations per file as :meth:`_scan`."""
        app = blocks_total = inodes = files = 0
        newest = 0.0
        lstat = os.stat
        by_size, by_blocks = self.by_size, self.by_blocks
        top = self.top
        size_min = by_size[0][0] if len(by_size) >= top else -1
        blocks_min = by_blocks[0][0] // 512 if len(by_blocks) >= top else -1
        for name in names:
            try:
                st = lstat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            except OSError as e:
                self.out.append(("s", _join(rel, name), f"cannot be read: {_reason(e)}", True))
                continue
            mode = st.st_mode
            if mode & 0o170000 == 0o040000:  # became a directory since it was listed
                self.out.append(("s", _join(rel, name), "appeared while measuring", False))
                continue
            if st.st_nlink > 1:
                self._link(rel, st)
                continue
            size = st.st_size
            blocks = st.st_blocks
            app += size
            blocks_total += blocks
            inodes += 1
            if mode & 0o170000 == 0o100000:
                files += 1
            mtime = st.st_mtime
            if mtime > newest:
                newest = mtime
            if size > size_min or blocks > blocks_min:
                self._consider(rel, name, size, blocks * 512, mtime)
                size_min = by_size[0][0] if len(by_size) >= top else -1
                blocks_min = by_blocks[0][0] // 512 if len(by_blocks) >= top else -1
            if not inodes & 4095:
                self.check()
        return app, blocks_total * 512, inodes, files, newest

    def _scan(self, fd: int, rel: str, subdirs: list[str]) -> tuple:
        """Stat the non-directories of the open directory ``fd`` and list
        its subdirectories into ``subdirs``; its own totals.

        The loop that runs once per file: kept to what must be done (one
        ``lstat``, a few additions, two comparisons against the smallest of
        the largest files kept)."""
        app = blocks_total = inodes = files = 0
        newest = 0.0
        by_size, by_blocks = self.by_size, self.by_blocks
        top = self.top
        size_min = by_size[0][0] if len(by_size) >= top else -1
        blocks_min = by_blocks[0][0] // 512 if len(by_blocks) >= top else -1
        with os.scandir(fd) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(entry.name)
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                except OSError as e:
                    self.out.append(("s", _join(rel, entry.name),
                                     f"cannot be read: {_reason(e)}", True))
                    continue
                if st.st_nlink > 1:
                    self._link(rel, st)
                    continue
                size = st.st_size
                blocks = st.st_blocks
                app += size
                blocks_total += blocks
                inodes += 1
                if st.st_mode & 0o170000 == 0o100000:  # S_ISREG, without a call
                    files += 1
                mtime = st.st_mtime
                if mtime > newest:
                    newest = mtime
                if size > size_min or blocks > blocks_min:
                    self._consider(rel, entry.name, size, blocks * 512, mtime)
                    size_min = by_size[0][0] if len(by_size) >= top else -1
                    blocks_min = by_blocks[0][0] // 512 if len(by_blocks) >= top else -1
                if not inodes & 4095:
                    self.check()
        return app, blocks_total * 512, inodes, files, newest

    def _consider(self, rel: str, name: str, size: int, blocks: int, mtime: float) -> None:
        """Keep the file among the largest, by either size."""
        path = _join(rel, name)
        for heap, key in ((self.by_size, size), (self.by_blocks, blocks)):
            if len(heap) < self.top:
                heapq.heappush(heap, (key, path, size, blocks, mtime))
            elif key > heap[0][0]:
                heapq.heapreplace(heap, (key, path, size, blocks, mtime))

    def _link(self, rel: str, st: os.stat_result) -> None:
        self.out.append(("l", rel, st.st_dev, st.st_ino, st.st_size, st.st_blocks * 512,
                         st.st_mtime, _S_ISREG(st.st_mode)))

    # -- a subtree ---------------------------------------------------------------

    def _enter(self, parent_fd: int, name: str, rel: str, dev: int) -> int | None:
        """Open the subdirectory ``name`` to walk it, or account for it
        otherwise (a link swapped in: a leaf; a mount point: skipped)."""
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
        except FileNotFoundError:
            return None
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR):  # swapped for a link or file
                totals = self._stat_names(parent_fd, rel.rpartition("/")[0], [name])
                self.out.append(("f", rel.rpartition("/")[0], *totals))
            else:
                self.out.append(("s", rel, f"cannot be opened: {_reason(e)}", True))
            return None
        try:
            st = os.fstat(fd)
            if st.st_dev != dev or is_mount_root(fd):
                os.close(fd)
                self.out.append(("s", rel, "mount point: not counted", False))
                return None
        except OSError as e:
            os.close(fd)
            self.out.append(("s", rel, f"cannot be read: {_reason(e)}", True))
            return None
        self._entered = st
        return fd

    def _walk(self, parent_fd: int, name: str, rel: str, top: bool = False) -> None:
        """Depth first below ``name`` of ``parent_fd``, without recursion,
        holding a bounded number of fds (:class:`DirStack`). With ``top``,
        ``name`` is ``"."``: the measured top itself, whose own inode was
        counted already."""
        dev = os.fstat(parent_fd).st_dev
        fd = os.open(".", DIR_FLAGS, dir_fd=parent_fd) if top else \
            self._enter(parent_fd, name, rel, dev)
        if top:
            self._entered = os.fstat(fd)
        if fd is None:
            return
        stack = DirStack(parent_fd)
        pending: list[list[str]] = []
        rels: list[str] = []
        try:
            while True:
                if fd is not None:
                    st = self._entered
                    stack.push(rel.rpartition("/")[2], fd)
                    subdirs: list[str] = []
                    try:
                        own = self._scan(fd, rel, subdirs)
                    except OSError as e:
                        own = (0, 0, 0, 0, 0.0)
                        self.out.append(("s", rel, f"cannot be listed: {_reason(e)}", True))
                    if top:
                        self.out.append(("f", rel, *own))
                        top = False
                    else:
                        self.out.append(("d", rel, st.st_size, st.st_blocks * 512,
                                         st.st_mtime, *own))
                    pending.append(subdirs)
                    rels.append(rel)
                    self.check()
                    if self.stopped:
                        return
                fd = None
                if pending[-1]:
                    child = pending[-1].pop()
                    rel = _join(rels[-1], child)
                    fd = self._enter(stack.top(), child, rel, dev)
                    continue
                pending.pop()
                rels.pop()
                try:
                    stack.pop()
                except TreeChangedError as e:
                    self.out.append(("s", rels[-1] if rels else "", str(e), True))
                    return
                if not pending:
                    return
        finally:
            stack.close()


def _join(rel: str, name: str) -> str:
    return f"{rel}/{name}" if rel else name
