"""How allocdir objects show themselves in Jupyter and a terminal IPython,
in one namespace: the pure rendering (:mod:`allocdir.render` for entries
and listings, :mod:`allocdir.cards` for the summaries of an allocation or a
task) and the bounded gathering behind the summaries
(:mod:`allocdir.summary`). No code of its own: it keeps the reprs'
functions reachable as ``allocdir.display.<name>``, e.g.
``display.alloc_html(display.summarize_alloc(alloc))``.
"""

from __future__ import annotations

from .cards import alloc_html, alloc_text, task_dir_html, task_dir_text, task_html
from .kinds import is_special, kind_of
from .plaintext import age_words, iso, size_words, visible
from .render import (
    LIVE_SECONDS, LOCK, MEASURED, MEASURING, NOT_MEASURED, PARTIAL, ROWS_SHOWN, age_html, esc,
    info_html, info_text, is_live, listing_html, listing_text, measured_html, measured_words,
    size_html, total_html, total_words,
)
from .summary import (
    LIST_LIMIT, MEASURE_LIMIT, NEWEST_LOGS, UNBOUNDED, AllocSummary, Budget, Measured,
    TaskSummary, summarize_alloc, summarize_task,
)

__all__ = [
    "LIST_LIMIT", "LIVE_SECONDS", "LOCK", "MEASURED", "MEASURE_LIMIT", "MEASURING",
    "NEWEST_LOGS", "NOT_MEASURED", "PARTIAL", "ROWS_SHOWN", "UNBOUNDED", "AllocSummary",
    "Budget", "Measured", "TaskSummary", "age_html", "age_words", "alloc_html", "alloc_text",
    "esc", "info_html", "info_text", "is_live", "is_special", "iso", "kind_of", "listing_html",
    "listing_text", "measured_html", "measured_words", "size_html", "size_words",
    "summarize_alloc", "summarize_task", "task_dir_html", "task_dir_text", "task_html",
    "total_html", "total_words", "visible",
]
