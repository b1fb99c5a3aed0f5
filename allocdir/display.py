"""How allocdir objects look in Jupyter (``_repr_html_``) and in a terminal
IPython (``_repr_pretty_``).

Two halves, kept apart on purpose:

- **Rendering** (``*_html``, ``*_text``) is a pure function of data already
  in hand: an ``AllocFileInfo``, a listing, or a summary gathered before. It
  does no I/O. Every name goes through :func:`visible` (control characters
  as visible escapes) and then ``html.escape``: a task chooses its file
  names, and ``<script>``, quotes, newlines or a right-to-left override in a
  name are shown as what they are. Sizes and ages are humanized, with the
  exact byte count and the ISO time in a ``title`` (on hover); a time a
  ``datetime`` cannot hold (a task may date its files in year 36812) is
  "out of range". FIFOs,
  sockets and devices are marked; anything in a task's ``secrets/`` or
  ``private/`` is shown locked, without size or time.
- **Gathering** (:func:`summarize_alloc`, :func:`summarize_task`) is the only
  place that looks at the disk, and it is bounded: it lists ``alloc/logs``
  and each task dir (at most :data:`LIST_LIMIT` entries each), measures
  ``alloc/data`` and each ``local/`` without following a link or crossing a
  mount (at most :data:`MEASURE_LIMIT` entries in all, then the size is
  shown as "at least"), and reads the mount table. It never reads file
  content, never lists a secrets dir and never opens a FIFO.

Standard library and ``humanize`` only: the library must not pull in a UI
toolkit.
"""

from __future__ import annotations

import html
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .fileinfo import stat_mod_time, time_in_range
from .layout import LOG_DIR_NAME, SHARED_ALLOC_NAME, SHARED_DATA_DIR, TASK_LOCAL
from .paths import is_protected
from .plaintext import age_words, iso, size_words, visible

LIST_LIMIT = 2000
"""Entries read from one directory when gathering a summary."""
MEASURE_LIMIT = 20_000
"""Entries walked, in all, to measure the sizes of one allocation's summary."""
ROWS_SHOWN = 500
"""Rows of a listing rendered as HTML; the rest are counted in a last row."""
NEWEST_LOGS = 6
"""Log files named in an allocation's summary, newest first."""
LIVE_SECONDS = 60
"""A log written to within this many seconds counts as live."""

def esc(value: object) -> str:
    """``value`` made :func:`visible`, then HTML-escaped (quotes included)."""
    return html.escape(visible(value), quote=True)


# ------------------------------------------------------------------ values


def kind_of(file_mode: str) -> str:
    """What an ``ls``-style mode says an entry is: "dir", "file", "symlink",
    "FIFO", "socket", "char device", "block device"."""
    return {"d": "dir", "-": "file", "l": "symlink", "p": "FIFO", "s": "socket",
            "c": "char device", "b": "block device"}.get(file_mode[:1], "other")


def is_special(file_mode: str) -> bool:
    """True for a FIFO, socket or device: nothing to open and read."""
    return file_mode[:1] in ("p", "s", "c", "b")


def _count(n: int, word: str, plural: str = "") -> str:
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def size_html(size: int, *, at_least: bool = False) -> str:
    """A humanized size with the exact byte count on hover."""
    prefix = "≥ " if at_least else ""
    return (f'<span title="{_count(size, "byte")}{" or more" if at_least else ""}">'
            f"{prefix}{esc(size_words(size))}</span>")


def age_html(when: datetime, now: datetime) -> str:
    """A humanized age with the ISO time on hover."""
    return f'<span title="{esc(iso(when))}">{esc(age_words(when, now))}</span>'


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(timezone.utc)


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


# ------------------------------------------------------------------ style

# Inline styles only: a notebook may drop <style> elements of untrusted output.
_BOX = ("font-family:var(--jp-code-font-family,monospace);font-size:12px;"
        "border-collapse:collapse;margin:2px 0")
_TH = "text-align:left;padding:2px 12px 2px 0;border-bottom:1px solid #bbb;font-weight:600"
_KEY = "text-align:left;padding:1px 12px 1px 0;font-weight:600;vertical-align:top"
_TD = "text-align:left;padding:1px 12px 1px 0;vertical-align:top;white-space:pre"
_WRAP = "text-align:left;padding:1px 12px 1px 0;vertical-align:top"
_NUM = "text-align:right;padding:1px 12px 1px 0;white-space:nowrap;vertical-align:top"
_DIM = "color:#777"
_TAGS = {
    "dir": "color:#1f5fbf;font-weight:600",
    "symlink": "color:#168a8a",
    "FIFO": "color:#a0309a",
    "socket": "color:#a0309a",
    "char device": "color:#a0309a",
    "block device": "color:#a0309a",
    "locked": "color:#9a6a00;font-weight:600",
    "live": "color:#007427;font-weight:600",
}
LOCK = "\N{LOCK}"


def _badge(word: str) -> str:
    style = _TAGS.get(word, "")
    return f'<span style="{style}">{esc(word)}</span>' if style else esc(word)


def _caption(text: str) -> str:
    return f'<caption style="text-align:left;font-weight:600;padding:2px 0">{text}</caption>'


# ------------------------------------------------------------------ entries


def _name_cell(info, rel: str) -> str:
    name = esc(info.name)
    if is_protected(rel):
        return f'<span style="{_TAGS["locked"]}">{LOCK} {name}{"/" if info.is_dir else ""}</span>'
    kind = kind_of(info.file_mode)
    if kind == "dir":
        return f'<span style="{_TAGS["dir"]}">{name}/</span>'
    if kind == "symlink":
        return f'<span style="{_TAGS["symlink"]}">{name}@</span>'
    if kind in ("FIFO", "socket"):
        mark = "|" if kind == "FIFO" else "="
        return f'<span style="{_TAGS[kind]}">{name}{mark}</span>'
    return name


def _type_cell(info, rel: str) -> str:
    if is_protected(rel):
        return _badge("locked") + f' <span style="{_DIM}">(secret: never read)</span>'
    kind = kind_of(info.file_mode)
    if is_special(info.file_mode):
        return _badge(kind) + f' <span style="{_DIM}">(never opened)</span>'
    if info.content_type:
        return f"{_badge(kind)} <span style=\"{_DIM}\">{esc(info.content_type)}</span>"
    return _badge(kind)


def _entry_cells(info, rel: str, now: datetime) -> list[str]:
    """name, mode, size, modified, type: one listing row."""
    if is_protected(rel) and rel.count("/") >= 2:
        # Inside a secrets dir: its name is all that is shown.
        hidden = f'<span style="{_DIM}">—</span>'
        return [_name_cell(info, rel), hidden, hidden, hidden, _type_cell(info, rel)]
    size = "" if info.is_dir else size_html(info.size)
    return [_name_cell(info, rel), esc(info.file_mode), size, age_html(info.mod_time, now),
            _type_cell(info, rel)]


def info_html(info, *, path: str = "", now: datetime | None = None) -> str:
    """A one-row card of an ``AllocFileInfo`` (what ``stat`` returns);
    ``path`` is where it is in the alloc dir, when known."""
    now = _now(now)
    rel = path or info.name
    cells = _entry_cells(info, rel, now)
    heads = ["name", "mode", "size", "modified", "type"]
    where = (f'<div style="{_DIM}; font-size:11px">{esc(path)}</div>'
             if path and path != info.name else "")
    row = "".join(f'<td style="{_NUM if i == 2 else _TD}">{c}</td>' for i, c in enumerate(cells))
    head = "".join(f'<th style="{_TH}">{h}</th>' for h in heads)
    return (f'<div class="allocdir-info">{where}<table style="{_BOX}"><thead><tr>{head}</tr>'
            f"</thead><tbody><tr>{row}</tr></tbody></table></div>")


def info_text(info, *, path: str = "", now: datetime | None = None) -> str:
    """One line about an ``AllocFileInfo`` for a terminal."""
    now = _now(now)
    rel = path or info.name
    name = visible(rel)
    if is_protected(rel):
        return f"{name}  [locked: secret, never read]"
    kind = kind_of(info.file_mode)
    parts = [name + ("/" if info.is_dir else ""), info.file_mode]
    if not info.is_dir:
        parts.append(f"{size_words(info.size)} ({info.size:,} bytes)")
    parts.append(f"modified {age_words(info.mod_time, now)} ({iso(info.mod_time)})")
    parts.append(visible(info.content_type) if info.content_type else kind)
    if is_special(info.file_mode):
        parts.append(f"[{kind}: never opened]")
    return "  ".join(parts)


def listing_html(infos: Sequence, *, path: str = "", now: datetime | None = None,
                 limit: int = ROWS_SHOWN) -> str:
    """A table of a directory listing (name, mode, size, modified, type);
    at most ``limit`` rows, then one that counts the rest."""
    now = _now(now)
    heads = ["name", "mode", "size", "modified", "type"]
    rows = []
    for info in list(infos[:limit]):
        cells = _entry_cells(info, _join(path, info.name), now)
        rows.append("<tr>" + "".join(
            f'<td style="{_NUM if i == 2 else _TD}">{c}</td>' for i, c in enumerate(cells))
            + "</tr>")
    if len(infos) > limit:
        rows.append(f'<tr><td colspan="5" style="{_TD};{_DIM}">… and {len(infos) - limit:,} '
                    "more (the list holds them all)</td></tr>")
    if not infos:
        rows.append(f'<tr><td colspan="5" style="{_TD};{_DIM}">(empty)</td></tr>')
    count = len(infos)
    caption = _caption(f"{esc(path or '.')}/ &nbsp;<span style=\"{_DIM}; font-weight: normal\">"
                       f"{count:,} {'entry' if count == 1 else 'entries'}</span>")
    head = "".join(f'<th style="{_TH}">{h}</th>' for h in heads)
    return (f'<table class="allocdir-list" style="{_BOX}">{caption}<thead><tr>{head}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table>')


def listing_text(infos: Sequence, *, path: str = "", now: datetime | None = None,
                 limit: int = ROWS_SHOWN) -> str:
    """A directory listing as aligned text, for a terminal."""
    now = _now(now)
    lines = [f"{visible(path or '.')}/  ({len(infos):,} entries)"]
    for info in list(infos[:limit]):
        rel = _join(path, info.name)
        name = visible(info.name) + ("/" if info.is_dir else "")
        if is_protected(rel):
            lines.append(f"  {LOCK} {name:<30} locked (secret, never read)")
            continue
        size = "" if info.is_dir else size_words(info.size)
        kind = kind_of(info.file_mode)
        tag = f"  [{kind}]" if is_special(info.file_mode) or kind == "symlink" else ""
        lines.append(f"  {info.file_mode}  {size:>10}  {age_words(info.mod_time, now):<16}  "
                     f"{name}{tag}")
    if len(infos) > limit:
        lines.append(f"  … and {len(infos) - limit:,} more")
    return "\n".join(lines)


# ------------------------------------------------------------------ summaries


@dataclass(frozen=True)
class Measured:
    """Entries and regular-file bytes of a tree; ``partial`` when the walk
    stopped at its budget (the figures are then lower bounds)."""

    entries: int = 0
    content_bytes: int = 0
    partial: bool = False
    error: str = ""


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


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no longer exists"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _list_bounded(alloc_dir: str, rel: str, limit: int = LIST_LIMIT) -> tuple[list, bool]:
    """The first ``limit`` entries of a directory (lstat), and whether there
    were more. Opened as ``AllocDir.list`` opens: never outside the alloc dir."""
    from .fileinfo import scan_dir
    from .paths import open_directory

    fd, _ = open_directory(alloc_dir, rel)
    try:
        return scan_dir(fd, limit)
    finally:
        os.close(fd)


class _Budget:
    def __init__(self, entries: int) -> None:
        self.left = entries


def _measure(alloc_fd: int, parent: str, name: str, where: str, budget: _Budget) -> Measured:
    """Entries and bytes below ``parent/name`` of the alloc dir, walked as
    snapshots walk (directory fds, no link followed, no mount crossed),
    stopping when the budget is spent."""
    from . import dirfd
    from .dirfd import ENTER, LEAF, MOUNT

    if budget.left <= 0:
        return Measured(partial=True)
    try:
        parent_fd = dirfd.open_dir_at(alloc_fd, parent, f"{where}/{parent}")
    except FileNotFoundError:
        return Measured()
    except Exception as exc:
        return Measured(error=_reason(exc))
    entries = size = 0
    partial = False
    try:
        # One step per entry (no batching option): the budget bounds the steps.
        walk = dirfd.walk(parent_fd, name, where=f"{where}/{parent}/{name}")
        try:
            for step in walk:
                if step.kind not in (ENTER, LEAF, MOUNT):
                    continue
                if budget.left <= 0:
                    partial = True
                    break
                budget.left -= 1
                entries += 1
                if step.kind != LEAF:
                    continue
                try:
                    st = dirfd.lstat_at(step.dir_fd, step.name)
                except FileNotFoundError:
                    entries -= 1
                    continue
                if stat.S_ISREG(st.st_mode):
                    size += st.st_size
        finally:
            walk.close()  # closes the walk's directory fds now, not at garbage collection
    except Exception as exc:
        return Measured(entries, size, partial, _reason(exc))
    finally:
        os.close(parent_fd)
    return Measured(entries, size, partial)


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
                   budget: _Budget | None = None) -> TaskSummary:
    """Gather what a task's summary shows (bounded; see the module doc).

    Lists the task dir (names only for ``secrets/``: it is never listed),
    measures ``local/``, and picks the task's logs out of ``logs`` (the
    listing of ``alloc/logs``; listed here when not given).
    """
    from . import dirfd

    name = task_dir.name
    alloc_dir = task_dir.alloc_dir
    try:
        if mounts is None:
            mounts = _mounts_below(alloc_dir)
        if logs is None:
            logs = [i for i in _list_bounded(alloc_dir, f"{SHARED_ALLOC_NAME}/{LOG_DIR_NAME}")[0]
                    if i.file_mode.startswith("-")]
        entries, _ = _list_bounded(alloc_dir, name)
        dirs = tuple(f"{i.name}/" if i.is_dir else i.name for i in entries)
        own_fd = alloc_fd if alloc_fd is not None else dirfd.open_dir(alloc_dir)
        try:
            local = _measure(own_fd, name, TASK_LOCAL, alloc_dir,
                             budget if budget is not None else _Budget(MEASURE_LIMIT))
        finally:
            if alloc_fd is None:
                os.close(own_fd)
    except Exception as exc:
        return TaskSummary(name, error=_reason(exc))
    task_mounts = tuple(m.split("/", 1)[1] for m in mounts if m.startswith(f"{name}/"))
    task_logs = tuple(_newest(i for i in logs if _is_log_of(i.name, name)))
    return TaskSummary(name, dirs, local, task_mounts, task_logs)


def summarize_alloc(alloc, *, now: datetime | None = None) -> AllocSummary:
    """Gather what an allocation's summary shows (bounded; see the module doc).

    Never raises: what could not be looked at is named in the summary.
    """
    from . import dirfd

    now = _now(now)
    path = alloc.alloc_dir
    try:
        alloc_fd = dirfd.open_dir(path)
    except Exception as exc:
        return AllocSummary(alloc.alloc_id, path, now, error=_reason(exc))
    try:
        modified = stat_mod_time(os.fstat(alloc_fd))
        mounts = _mounts_below(path)
        try:
            listed, more = _list_bounded(path, f"{SHARED_ALLOC_NAME}/{LOG_DIR_NAME}")
        except Exception as exc:
            listed, more, log_error = [], False, _reason(exc)
        else:
            log_error = ""
        files = [i for i in listed if i.file_mode.startswith("-")]
        fifos = tuple(i.name for i in listed if i.file_mode.startswith("p"))
        budget = _Budget(MEASURE_LIMIT)
        data = _measure(alloc_fd, SHARED_ALLOC_NAME, SHARED_DATA_DIR, path, budget)
        task_dirs = alloc._task_dirs()  # a copy taken under the alloc's lock
        tasks = tuple(summarize_task(td, mounts=mounts, logs=files, alloc_fd=alloc_fd,
                                     budget=budget) for td in task_dirs)
        newest = _newest(files)
        error = log_error or (f"alloc/logs holds more than {LIST_LIMIT:,} entries: "
                              "only the first were looked at" if more else "")
        return AllocSummary(alloc.alloc_id, path, now, tasks, data, tuple(newest[:NEWEST_LOGS]),
                            len(files), sum(i.size for i in files), fifos, tuple(mounts),
                            modified, error)
    except Exception as exc:
        return AllocSummary(alloc.alloc_id, path, now, error=_reason(exc))
    finally:
        os.close(alloc_fd)


def is_live(info, now: datetime) -> bool:
    """True when a log file was written to within :data:`LIVE_SECONDS` (a
    time out of range, or further ahead than that, is not live)."""
    if not time_in_range(info.mod_time):
        return False
    return abs((now - info.mod_time).total_seconds()) <= LIVE_SECONDS


def _measured_html(measured: Measured) -> str:
    if measured.error:
        return f'<span style="{_DIM}">({esc(measured.error)})</span>'
    more = "+" if measured.partial else ""
    count = _count(measured.entries, "entry", "entries")
    files = f'<span style="{_DIM}"> in {count}{more}</span>'
    return size_html(measured.content_bytes, at_least=measured.partial) + files


def _log_html(info, now: datetime, *, with_dir: bool = False) -> str:
    live = f" {_badge('live')}" if is_live(info, now) else ""
    name = esc(f"alloc/logs/{info.name}" if with_dir else info.name)
    return (f"<code>{name}</code> {size_html(info.size)} "
            f'<span style="{_DIM}">{age_html(info.mod_time, now)}</span>{live}')


def _task_dirs_html(task: TaskSummary) -> str:
    parts = []
    for entry in task.dirs:
        rel = _join(task.name, entry.rstrip("/"))
        if is_protected(rel):
            parts.append(f'<span style="{_TAGS["locked"]}">{LOCK} {esc(entry)}</span>')
        else:
            parts.append(esc(entry))
    return " ".join(parts) or f'<span style="{_DIM}">(empty)</span>'


def task_html(task: TaskSummary, now: datetime) -> str:
    """One row of an allocation summary's task table."""
    if task.error:
        return (f'<tr><td style="{_TD}"><b>{esc(task.name)}</b></td>'
                f'<td colspan="4" style="{_TD};{_DIM}">{esc(task.error)}</td></tr>')
    mounts = ", ".join(esc(m) for m in task.mounts) or f'<span style="{_DIM}">none</span>'
    logs = "<br>".join(_log_html(i, now) for i in task.logs[:2]) or \
        f'<span style="{_DIM}">none</span>'
    return (f'<tr><td style="{_TD}"><b>{esc(task.name)}</b></td>'
            f'<td style="{_TD}">{_task_dirs_html(task)}</td>'
            f'<td style="{_NUM}">{_measured_html(task.local)}</td>'
            f'<td style="{_TD}">{mounts}</td><td style="{_TD}">{logs}</td></tr>')


def alloc_html(summary: AllocSummary, now: datetime | None = None) -> str:
    """An allocation's summary: tasks (dirs, ``local/`` size, mounts,
    newest logs), ``alloc/data``, the newest log files, logmon's FIFOs."""
    now = now or summary.gathered
    title = (f'<div style="font-weight: 600">allocation <code>{esc(summary.alloc_id)}</code>'
             f'</div><div style="{_DIM}; font-size:11px">{esc(summary.path)}</div>')
    if summary.error and not summary.tasks and not summary.logs:
        return (f'<div class="allocdir-alloc" style="{_BOX}">{title}'
                f'<div style="color: #b22b31">{esc(summary.error)}</div></div>')
    heads = "".join(f'<th style="{_TH}">{h}</th>'
                    for h in ("task", "entries", "local/", "mounts", "newest logs"))
    tasks = "".join(task_html(t, now) for t in summary.tasks) or \
        f'<tr><td colspan="5" style="{_TD};{_DIM}">(no task dirs)</td></tr>'
    logs = "<br>".join(_log_html(i, now, with_dir=True) for i in summary.logs) or \
        f'<span style="{_DIM}">none</span>'
    fifos = ", ".join(f'<code style="{_TAGS["FIFO"]}">{esc(n)}|</code>' for n in summary.fifos)
    other_mounts = [m for m in summary.mounts
                    if not any(m.startswith(f"{t.name}/") for t in summary.tasks)]
    facts = [
        ("alloc/data", _measured_html(summary.data)),
        ("logs", f"{_count(summary.log_count, 'file')}, {size_html(summary.log_bytes)}<br>{logs}"),
    ]
    if fifos:
        facts.append(("FIFOs", f"{fifos} <span style=\"{_DIM}\">(logmon's; never opened)</span>"))
    if other_mounts:
        facts.append(("mounts", ", ".join(esc(m) for m in other_mounts)))
    if summary.modified is not None:
        facts.append(("modified", age_html(summary.modified, now)))
    if summary.error:
        facts.append(("note", f'<span style="color: #b22b31">{esc(summary.error)}</span>'))
    fact_rows = "".join(f'<tr><th style="{_KEY}">{k}</th><td style="{_WRAP}">{v}</td></tr>'
                        for k, v in facts)
    return (f'<div class="allocdir-alloc">{title}'
            f'<table style="{_BOX}"><thead><tr>{heads}</tr></thead><tbody>{tasks}</tbody></table>'
            f'<table style="{_BOX}"><tbody>{fact_rows}</tbody></table></div>')


def alloc_text(summary: AllocSummary, now: datetime | None = None) -> str:
    """An allocation's summary as text, for a terminal."""
    now = now or summary.gathered
    lines = [f"allocation {visible(summary.alloc_id)}  ({visible(summary.path)})"]
    if summary.error:
        lines.append(f"  note: {visible(summary.error)}")
    for task in summary.tasks:
        if task.error:
            lines.append(f"  task {visible(task.name)}: {visible(task.error)}")
            continue
        local = task.local
        size = f"{'≥ ' if local.partial else ''}{size_words(local.content_bytes)}"
        dirs = " ".join(
            (f"{LOCK}{visible(d)}" if is_protected(_join(task.name, d.rstrip('/'))) else visible(d))
            for d in task.dirs)
        mounts = f"; mounts: {', '.join(visible(m) for m in task.mounts)}" if task.mounts else ""
        lines.append(f"  task {visible(task.name)}: {dirs}; local/ {size}{mounts}")
    lines.append(f"  alloc/data: {'≥ ' if summary.data.partial else ''}"
                 f"{size_words(summary.data.content_bytes)}")
    lines.append(f"  logs: {_count(summary.log_count, 'file')}, {size_words(summary.log_bytes)}")
    for info in summary.logs:
        live = "  live" if is_live(info, now) else ""
        lines.append(f"    {visible(info.name):<24} {size_words(info.size):>10}  "
                     f"{age_words(info.mod_time, now)}{live}")
    if summary.fifos:
        lines.append(f"  FIFOs (never opened): {', '.join(visible(f) for f in summary.fifos)}")
    return "\n".join(lines)


def task_dir_html(task: TaskSummary, path: str, now: datetime | None = None) -> str:
    """A task dir on its own: the same row as in its allocation's summary."""
    now = _now(now)
    heads = "".join(f'<th style="{_TH}">{h}</th>'
                    for h in ("task", "entries", "local/", "mounts", "newest logs"))
    return (f'<div class="allocdir-task"><div style="{_DIM}; font-size:11px">{esc(path)}</div>'
            f'<table style="{_BOX}"><thead><tr>{heads}</tr></thead>'
            f"<tbody>{task_html(task, now)}</tbody></table></div>")


def task_dir_text(task: TaskSummary, path: str) -> str:
    """A task dir on its own, as text."""
    if task.error:
        return f"task {visible(task.name)} ({visible(path)}): {visible(task.error)}"
    dirs = " ".join(visible(d) for d in task.dirs)
    return (f"task {visible(task.name)} ({visible(path)}): {dirs}; local/ "
            f"{'≥ ' if task.local.partial else ''}{size_words(task.local.content_bytes)}")
