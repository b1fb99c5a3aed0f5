"""What the file pane says before a file is opened: the summary of the
allocation under the tree's cursor (tasks, sizes, mounts, newest logs and
whether they are live, FIFOs), or, on the root, a table of the client
root's allocations, as the notebook shows them.

Gathered through :func:`allocdir.summary.summarize_alloc`: bounded listings,
sizes walked within a time budget (then said to be partial), no file
content, no secrets dir, no FIFO opened; ``cancel`` (anything with
``is_set()``) stops a gathering the user moved away from. Blocking: run it
in a worker. The text is plain, every name made visible (escaped).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timezone

from allocdir.cards import alloc_text
from allocdir.plaintext import age_words, visible
from allocdir.render import is_live, total_words
from allocdir.summary import Budget, summarize_alloc

from .tree.labels import short_id

CARD_SECONDS = 1.0
"""Time the sizes of one allocation's summary may take."""
ROOT_SECONDS = 2.0
"""Time the sizes of the root's table may take, in all."""
ROOT_ROWS = 50
"""Allocations summarized in the root's table; the rest are counted."""


def _budget(seconds: float, cancel: object) -> Budget:
    return Budget(deadline=time.monotonic() + seconds, cancel=cancel)


def alloc_card(alloc, cancel: object = None) -> str:
    """The summary of ``alloc`` as text (see the module docstring)."""
    summary = summarize_alloc(alloc, budget=_budget(CARD_SECONDS, cancel))
    return alloc_text(summary) + "\n\nEnter on a file opens it; s snapshot, u usage, F1 help."


def root_card(description: str, allocs: Sequence, cancel: object = None) -> str:
    """The client root's table as text: each allocation's short id, tasks,
    data + local size, the age of its newest log and its live logs."""
    now = datetime.now(timezone.utc)
    budget = _budget(ROOT_SECONDS, cancel)
    count = len(allocs)
    lines = [f"{visible(description)} — {count} allocation{'' if count == 1 else 's'}", ""]
    for alloc in allocs[:ROOT_ROWS]:
        if getattr(cancel, "is_set", lambda: False)():
            break
        summary = summarize_alloc(alloc, now=now, budget=budget)
        tasks = ", ".join(visible(t.name) for t in summary.tasks) or "no tasks"
        newest = summary.newest_log
        age = f"log {age_words(newest.mod_time, now)}" if newest is not None else "no logs"
        live = [visible(i.name) for i in summary.logs if is_live(i, now)]
        lines.append(f"  {visible(short_id(alloc.alloc_id))}  {tasks} · "
                     f"{total_words(summary.measured)} · {age}"
                     + (f" · live: {', '.join(live)}" if live else ""))
    if count > ROOT_ROWS:
        lines.append(f"  … and {count - ROOT_ROWS:,} more")
    lines += ["", "Enter on an allocation expands it; u shows what fills the node."]
    return "\n".join(lines)


__all__ = ["CARD_SECONDS", "ROOT_ROWS", "ROOT_SECONDS", "alloc_card", "root_card"]
