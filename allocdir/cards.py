"""The summary of an allocation or a task as a card: HTML for Jupyter, text
for a terminal IPython. Pure functions of an
:class:`~allocdir.summary.AllocSummary` or
:class:`~allocdir.summary.TaskSummary` gathered before; nothing here
touches the disk. Sizes say whether they are complete, partial, still
being measured or not measured (:func:`allocdir.render.measured_html`)."""

from __future__ import annotations

from datetime import datetime, timezone

from .paths import is_protected
from .plaintext import age_words, size_words, visible
from .render import (
    BOX, DIM, KEY, LOCK, NUM, TAGS, TD, TH, WRAP, age_html, badge, count_words, esc, is_live,
    measured_html, measured_words, size_html,
)

_TASK_HEADS = ("task", "entries", "local/", "mounts", "newest logs")


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


def _log_html(info, now: datetime, *, with_dir: bool = False) -> str:
    live = f" {badge('live')}" if is_live(info, now) else ""
    name = esc(f"alloc/logs/{info.name}" if with_dir else info.name)
    return (f"<code>{name}</code> {size_html(info.size)} "
            f'<span style="{DIM}">{age_html(info.mod_time, now)}</span>{live}')


def _task_dirs_html(task) -> str:
    parts = []
    for entry in task.dirs:
        if is_protected(_join(task.name, entry.rstrip("/"))):
            parts.append(f'<span style="{TAGS["locked"]}">{LOCK} {esc(entry)}</span>')
        else:
            parts.append(esc(entry))
    return " ".join(parts) or f'<span style="{DIM}">(empty)</span>'


def task_html(task, now: datetime) -> str:
    """One row of an allocation summary's task table."""
    if task.error:
        return (f'<tr><td style="{TD}"><b>{esc(task.name)}</b></td>'
                f'<td colspan="4" style="{TD};{DIM}">{esc(task.error)}</td></tr>')
    mounts = ", ".join(esc(m) for m in task.mounts) or f'<span style="{DIM}">none</span>'
    logs = "<br>".join(_log_html(i, now) for i in task.logs[:2]) or \
        f'<span style="{DIM}">none</span>'
    return (f'<tr><td style="{TD}"><b>{esc(task.name)}</b></td>'
            f'<td style="{TD}">{_task_dirs_html(task)}</td>'
            f'<td style="{NUM}">{measured_html(task.local)}</td>'
            f'<td style="{TD}">{mounts}</td><td style="{TD}">{logs}</td></tr>')


def alloc_html(summary, now: datetime | None = None) -> str:
    """An allocation's summary: tasks (dirs, ``local/`` size, mounts,
    newest logs), ``alloc/data``, the newest log files, logmon's FIFOs."""
    now = now or summary.gathered
    title = (f'<div style="font-weight: 600">allocation <code>{esc(summary.alloc_id)}</code>'
             f'</div><div style="{DIM}; font-size:11px">{esc(summary.path)}</div>')
    if summary.error and not summary.tasks and not summary.logs:
        return (f'<div class="allocdir-alloc" style="{BOX}">{title}'
                f'<div style="{TAGS["error"]}">{esc(summary.error)}</div></div>')
    heads = "".join(f'<th style="{TH}">{h}</th>' for h in _TASK_HEADS)
    tasks = "".join(task_html(t, now) for t in summary.tasks) or \
        f'<tr><td colspan="5" style="{TD};{DIM}">(no task dirs)</td></tr>'
    fact_rows = "".join(f'<tr><th style="{KEY}">{k}</th><td style="{WRAP}">{v}</td></tr>'
                        for k, v in _facts(summary, now))
    return (f'<div class="allocdir-alloc">{title}'
            f'<table style="{BOX}"><thead><tr>{heads}</tr></thead><tbody>{tasks}</tbody></table>'
            f'<table style="{BOX}"><tbody>{fact_rows}</tbody></table></div>')


def _facts(summary, now: datetime) -> list[tuple[str, str]]:
    """The rows under an allocation's task table: (heading, HTML)."""
    logs = "<br>".join(_log_html(i, now, with_dir=True) for i in summary.logs) or \
        f'<span style="{DIM}">none</span>'
    fifos = ", ".join(f'<code style="{TAGS["special"]}">{esc(n)}</code>' for n in summary.fifos)
    other_mounts = [m for m in summary.mounts
                    if not any(m.startswith(f"{t.name}/") for t in summary.tasks)]
    facts = [
        ("alloc/data", measured_html(summary.data)),
        ("logs", f"{count_words(summary.log_count, 'file')}, {size_html(summary.log_bytes)}"
                 f"<br>{logs}"),
    ]
    if fifos:
        facts.append(("FIFOs", f"{fifos} <span style=\"{DIM}\">(logmon's; never opened)</span>"))
    if other_mounts:
        facts.append(("mounts", ", ".join(esc(m) for m in other_mounts)))
    if summary.modified is not None:
        facts.append(("modified", age_html(summary.modified, now)))
    if summary.error:
        facts.append(("note", f'<span style="{TAGS["error"]}">{esc(summary.error)}</span>'))
    return facts


def alloc_text(summary, now: datetime | None = None) -> str:
    """An allocation's summary as text, for a terminal."""
    now = now or summary.gathered
    lines = [f"allocation {visible(summary.alloc_id)}  ({visible(summary.path)})"]
    if summary.error:
        lines.append(f"  note: {visible(summary.error)}")
    for task in summary.tasks:
        if task.error:
            lines.append(f"  task {visible(task.name)}: {visible(task.error)}")
            continue
        dirs = " ".join(
            (f"{LOCK} {visible(d)}" if is_protected(_join(task.name, d.rstrip('/'))) else visible(d))
            for d in task.dirs)
        mounts = f"; mounts: {', '.join(visible(m) for m in task.mounts)}" if task.mounts else ""
        lines.append(f"  task {visible(task.name)}: {dirs}; local/ "
                     f"{measured_words(task.local)}{mounts}")
    lines.append(f"  alloc/data: {measured_words(summary.data)}")
    lines.append(f"  logs: {count_words(summary.log_count, 'file')}, "
                 f"{size_words(summary.log_bytes)}")
    for info in summary.logs:
        live = "  live" if is_live(info, now) else ""
        lines.append(f"    {visible(info.name):<24} {size_words(info.size):>10}  "
                     f"{age_words(info.mod_time, now)}{live}")
    if summary.fifos:
        lines.append(f"  FIFOs (never opened): {', '.join(visible(f) for f in summary.fifos)}")
    return "\n".join(lines)


def task_dir_html(task, path: str, now: datetime | None = None) -> str:
    """A task dir on its own: the same row as in its allocation's summary."""
    now = now if now is not None else datetime.now(timezone.utc)
    heads = "".join(f'<th style="{TH}">{h}</th>' for h in _TASK_HEADS)
    return (f'<div class="allocdir-task"><div style="{DIM}; font-size:11px">{esc(path)}</div>'
            f'<table style="{BOX}"><thead><tr>{heads}</tr></thead>'
            f"<tbody>{task_html(task, now)}</tbody></table></div>")


def task_dir_text(task, path: str) -> str:
    """A task dir on its own, as text."""
    if task.error:
        return f"task {visible(task.name)} ({visible(path)}): {visible(task.error)}"
    dirs = " ".join(visible(d) for d in task.dirs)
    return (f"task {visible(task.name)} ({visible(path)}): {dirs}; local/ "
            f"{measured_words(task.local)}")
