"""Gathering what the summary of an allocation or a task shows: the only
part of the reprs that looks at the disk, and a bounded one.

It lists ``alloc/logs`` and each task dir (at most :data:`LIST_LIMIT`
entries each), reads the mount table, and measures ``alloc/data`` and each
``local/`` with :func:`allocdir.fsops.measure_at` (directory fds, no link
followed, no mount crossed). Each directory has a budget of its own
(:attr:`Budget.per_dir` entries, :data:`MEASURE_LIMIT` by default), so that
one big directory cannot leave the others unmeasured, and a size cut short
says so (:data:`~allocdir.render.PARTIAL`); a whole table may also be given
a time to look (:attr:`Budget.deadline`), after which the rest is
:data:`~allocdir.render.NOT_MEASURED`. With ``measure=False`` nothing is
walked and the sizes are :data:`~allocdir.render.MEASURING`: a widget shows
the card at once and fills the sizes in from a second, unbounded and
cancellable gathering. Nothing here reads file content, lists a secrets dir
or opens a FIFO. :mod:`allocdir.cards` renders what is gathered.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import dirfd
from .fileinfo import scan_dir
from .fsops import TreeSize, measure_at
from .layout import LOG_DIR_NAME, SHARED_ALLOC_NAME, SHARED_DATA_DIR, TASK_LOCAL
from .paths import open_directory
from .render import MEASURED, MEASURING, NOT_MEASURED, PARTIAL
from .times import stat_mod_time

LIST_LIMIT = 2000
"""Entries read from one directory when gathering a summary."""
MEASURE_LIMIT = 20_000
"""Entries walked, at most, to measure one directory of a summary."""
NEWEST_LOGS = 6
"""Log files named in an allocation's summary, newest first."""
LOGS = f"{SHARED_ALLOC_NAME}/{LOG_DIR_NAME}"


@dataclass(frozen=True)
class Budget:
    """How much measuring a gathering may do: ``per_dir`` entries for each
    directory (None: no bound), until ``deadline`` (a ``time.monotonic()``
    value; None: no bound), unless ``cancel`` (anything with ``is_set()``)
    is set."""

    per_dir: int | None = MEASURE_LIMIT
    deadline: float | None = None
    cancel: object = None

    @classmethod
    def for_seconds(cls, seconds: float, per_dir: int | None = MEASURE_LIMIT) -> Budget:
        """A budget that runs out ``seconds`` from now."""
        return cls(per_dir, time.monotonic() + seconds)

    @property
    def spent(self) -> bool:
        """True once the deadline passed or the gathering was cancelled."""
        return (self.deadline is not None and time.monotonic() >= self.deadline) or (
            self.cancel is not None and self.cancel.is_set())


UNBOUNDED = Budget(per_dir=None)
"""Measure every directory to the end."""


@dataclass(frozen=True)
class Measured:
    """Entries and regular-file bytes of a tree, and whether the figures are
    complete (:attr:`status`: ``MEASURED``, ``PARTIAL``, ``MEASURING``,
    ``NOT_MEASURED``, see :mod:`allocdir.render`)."""

    entries: int = 0
    content_bytes: int = 0
    allocated_bytes: int = 0
    status: str = MEASURED
    error: str = ""

    @property
    def partial(self) -> bool:
        """True when the figures are lower bounds (the walk stopped early)."""
        return self.status == PARTIAL


@dataclass(frozen=True)
class TaskSummary:
    """What the summary of one task shows."""

    name: str
    dirs: tuple[str, ...] = ()
    """Names in the task dir (directories end with "/"), secrets included."""
    local: Measured = field(default_factory=Measured)
    mounts: tuple[str, ...] = ()
    """Mount points in the task dir, relative to it (e.g. "secrets", "alloc")."""
    logs: tuple = ()
    """The task's log files (``AllocFileInfo``), newest first."""
    error: str = ""


@dataclass(frozen=True)
class AllocSummary:
    """What the summary of one allocation shows, gathered at ``gathered``."""

    alloc_id: str
    path: str
    gathered: datetime
    tasks: tuple[TaskSummary, ...] = ()
    data: Measured = field(default_factory=Measured)
    logs: tuple = ()
    """Log files (``AllocFileInfo``) newest first; FIFOs left out."""
    log_count: int = 0
    log_bytes: int = 0
    fifos: tuple[str, ...] = ()
    mounts: tuple[str, ...] = ()
    """Mount points under the alloc dir, relative to it."""
    modified: datetime | None = None
    error: str = ""

    @property
    def newest_log(self):
        """The most recently written log file, or None."""
        return self.logs[0] if self.logs else None

    @property
    def measured(self) -> tuple[Measured, ...]:
        """The sizes of ``alloc/data`` and each task's ``local/``."""
        return (self.data, *(task.local for task in self.tasks))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no longer exists"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _list_bounded(alloc_dir: str, rel: str, limit: int = LIST_LIMIT) -> tuple[list, bool]:
    """The first ``limit`` entries of a directory (lstat), and whether there
    were more. Opened as ``AllocDir.list`` opens: never outside the alloc dir."""
    fd, _ = open_directory(alloc_dir, rel)
    try:
        return scan_dir(fd, limit)
    finally:
        os.close(fd)


def measure(alloc_fd: int, parent: str, name: str, where: str, budget: Budget | None,
            ) -> Measured:
    """Entries and bytes below ``parent/name`` of the alloc dir open as
    ``alloc_fd``, within ``budget`` (None: not measured now, MEASURING)."""
    if budget is None:
        return Measured(status=MEASURING)
    if budget.spent:
        return Measured(status=NOT_MEASURED)
    try:
        parent_fd = dirfd.open_dir_at(alloc_fd, parent, f"{where}/{parent}")
    except FileNotFoundError:
        return Measured()
    except Exception as exc:
        return Measured(error=_reason(exc))
    size = TreeSize()
    try:
        whole = measure_at(parent_fd, name, f"{where}/{parent}/{name}", size,
                           limit=budget.per_dir, cancel=budget.cancel)
    except Exception as exc:
        return Measured(size.entries, size.content_bytes, size.allocated_bytes, PARTIAL,
                        _reason(exc))
    finally:
        os.close(parent_fd)
    return Measured(size.entries, size.content_bytes, size.allocated_bytes,
                    MEASURED if whole else PARTIAL)


def _mounts_below(alloc_dir: str) -> list[str]:
    from .mounts import mounts_under
    from .paths import real_root

    real = real_root(alloc_dir)
    return sorted(os.path.relpath(m, real) for m in mounts_under(real) if m != real)


def _is_log_of(name: str, task: str) -> bool:
    return name.startswith(f"{task}.stdout.") or name.startswith(f"{task}.stderr.")


def _newest(infos: Iterable) -> list:
    return sorted(infos, key=lambda i: (i.mod_time, i.name), reverse=True)


def summarize_task(task_dir, *, mounts: Sequence[str] | None = None,
                   logs: Sequence | None = None, alloc_fd: int | None = None,
                   budget: Budget | None = Budget(), measure_sizes: bool = True,
                   ) -> TaskSummary:
    """Gather what a task's summary shows (bounded; see the module doc).

    Lists the task dir (names only for ``secrets/``: it is never listed),
    measures ``local/`` (unless ``measure_sizes`` is False), and picks the
    task's logs out of ``logs`` (the listing of ``alloc/logs``; listed here
    when not given).
    """
    name = task_dir.name
    alloc_dir = task_dir.alloc_dir
    try:
        if mounts is None:
            mounts = _mounts_below(alloc_dir)
        if logs is None:
            logs = [i for i in _list_bounded(alloc_dir, LOGS)[0] if i.is_regular]
        entries, _ = _list_bounded(alloc_dir, name)
        dirs = tuple(f"{i.name}/" if i.is_dir else i.name for i in entries)
        own_fd = alloc_fd if alloc_fd is not None else dirfd.open_dir(alloc_dir)
        try:
            local = measure(own_fd, name, TASK_LOCAL, alloc_dir,
                            budget if measure_sizes else None)
        finally:
            if alloc_fd is None:
                os.close(own_fd)
    except Exception as exc:
        return TaskSummary(name, error=_reason(exc))
    task_mounts = tuple(m.split("/", 1)[1] for m in mounts if m.startswith(f"{name}/"))
    task_logs = tuple(_newest(i for i in logs if _is_log_of(i.name, name)))
    return TaskSummary(name, dirs, local, task_mounts, task_logs)


def summarize_alloc(alloc, *, now: datetime | None = None, budget: Budget = Budget(),
                    measure_sizes: bool = True) -> AllocSummary:
    """Gather what an allocation's summary shows (bounded; see the module doc).

    Never raises: what could not be looked at is named in the summary.
    """
    now = now or datetime.now(timezone.utc)
    path = alloc.alloc_dir
    try:
        alloc_fd = dirfd.open_dir(path)
    except Exception as exc:
        return AllocSummary(alloc.alloc_id, path, now, error=_reason(exc))
    try:
        return _gather(alloc, alloc_fd, now, budget if measure_sizes else None)
    except Exception as exc:
        return AllocSummary(alloc.alloc_id, path, now, error=_reason(exc))
    finally:
        os.close(alloc_fd)


def _gather(alloc, alloc_fd: int, now: datetime, budget: Budget | None) -> AllocSummary:
    path = alloc.alloc_dir
    modified = stat_mod_time(os.fstat(alloc_fd))
    mounts = _mounts_below(path)
    try:
        listed, more = _list_bounded(path, LOGS)
    except Exception as exc:
        listed, more, log_error = [], False, _reason(exc)
    else:
        log_error = ""
    files = [i for i in listed if i.is_regular]
    fifos = tuple(i.name for i in listed if i.file_mode.startswith("p"))
    data = measure(alloc_fd, SHARED_ALLOC_NAME, SHARED_DATA_DIR, path, budget)
    task_dirs = alloc._task_dirs()  # a copy taken under the alloc's lock
    tasks = tuple(summarize_task(td, mounts=mounts, logs=files, alloc_fd=alloc_fd,
                                 budget=budget, measure_sizes=budget is not None)
                  for td in task_dirs)
    error = log_error or (f"alloc/logs holds more than {LIST_LIMIT:,} entries: "
                          "only the first were looked at" if more else "")
    return AllocSummary(alloc.alloc_id, path, now, tasks, data,
                        tuple(_newest(files)[:NEWEST_LOGS]), len(files),
                        sum(i.size for i in files), fifos, tuple(mounts), modified, error)
