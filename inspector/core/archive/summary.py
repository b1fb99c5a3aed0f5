"""What a root's table says about a snapshot tar (``nb.open_root``): the
library's :class:`~allocdir.summary.AllocSummary`, gathered from the
archive's index instead of the disk, so the row shows its tasks, its logs
and the bytes of ``alloc/data`` and each ``local/`` rather than a failure
to open the archive as a directory.

Bounded as the library's summary is: at most ``LIST_LIMIT`` entries of a
directory looked at, ``Budget.per_dir`` entries counted for each size; no
member is read, a secrets dir is not listed.
"""

from __future__ import annotations

from datetime import datetime, timezone

from allocdir.layout import SHARED_ALLOC_NAME, SHARED_DATA_DIR, TASK_LOCAL
from allocdir.render import MEASURED, NOT_MEASURED, PARTIAL
from allocdir.summary import (
    LIST_LIMIT, LOGS, NEWEST_LOGS, AllocSummary, Budget, Measured, TaskSummary,
)
from allocdir.times import utc_from_timestamp


def summarize_archive(fs, *, now: datetime | None = None,
                      budget: Budget | None = None) -> AllocSummary:
    """The summary of the archive ``fs`` (an ``ArchiveFS``), each size
    within ``budget`` (the library's default). Never raises: what could
    not be looked at is named in the summary."""
    now = now or datetime.now(timezone.utc)
    budget = budget or Budget()
    try:
        return _gather(fs, now, budget)
    except Exception as exc:  # a damaged index is said on the row
        return AllocSummary(fs.alloc_id, fs.alloc_dir, now, error=str(exc) or type(exc).__name__)


def _gather(fs, now: datetime, budget: Budget) -> AllocSummary:
    logs, log_error = _files(fs, LOGS)
    files = [info for info in logs if info.is_regular]
    newest = sorted(files, key=lambda i: (i.mod_time, i.name), reverse=True)
    tasks = tuple(_task(fs, name, files, budget) for name in sorted(fs.task_dirs))
    return AllocSummary(
        fs.alloc_id, fs.alloc_dir, now, tasks,
        _measure(fs, f"{SHARED_ALLOC_NAME}/{SHARED_DATA_DIR}", budget),
        tuple(newest[:NEWEST_LOGS]), len(files), sum(i.size for i in files),
        tuple(i.name for i in logs if i.file_mode.startswith("p")), (),
        utc_from_timestamp(fs.archive.stat.st_mtime), log_error)


def _files(fs, rel: str) -> tuple[list, str]:
    """The first ``LIST_LIMIT`` entries of ``rel`` (none if it is not
    there), and why not all were looked at."""
    try:
        listed = list(fs.list(rel))
    except FileNotFoundError:
        return [], ""
    if len(listed) > LIST_LIMIT:
        return listed[:LIST_LIMIT], (f"{rel} holds more than {LIST_LIMIT:,} entries: "
                                     "only the first were looked at")
    return listed, ""


def _task(fs, name: str, logs: list, budget: Budget) -> TaskSummary:
    try:
        entries, _ = _files(fs, name)
    except Exception as exc:  # said on the task's line
        return TaskSummary(name, error=str(exc))
    dirs = tuple(f"{i.name}/" if i.is_dir else i.name for i in entries)
    own = tuple(sorted((i for i in logs if i.name.startswith((f"{name}.stdout.",
                                                              f"{name}.stderr."))),
                       key=lambda i: (i.mod_time, i.name), reverse=True))
    return TaskSummary(name, dirs, _measure(fs, f"{name}/{TASK_LOCAL}", budget), (), own)


def _measure(fs, rel: str, budget: Budget) -> Measured:
    """Entries and member bytes below ``rel``, within ``budget``."""
    if budget.spent:
        return Measured(status=NOT_MEASURED)
    entries = size = 0
    pending = [rel]
    while pending:
        directory = pending.pop()
        try:
            listed = fs.list(directory)
        except FileNotFoundError:
            continue
        except Exception as exc:  # a secrets dir below, say: counted as not measured
            return Measured(entries, size, size, PARTIAL, str(exc))
        for info in listed:
            entries += 1
            if budget.per_dir is not None and entries > budget.per_dir:
                return Measured(entries - 1, size, size, PARTIAL)
            if info.is_dir:
                pending.append(f"{directory}/{info.name}")
            elif info.is_regular:
                size += info.size
    return Measured(entries, size, size, MEASURED)
