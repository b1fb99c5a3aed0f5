"""Log levels: which level a line is logged at, for colour and for `e`/`E`.

The common shapes are recognised:

- a bare upper-case word near the start: ``INFO``, ``WARN``/``WARNING``,
  ``ERROR``/``ERR``, ``FATAL``, ``DEBUG``, ``TRACE``, ``CRITICAL``… alone or
  bracketed (``[ERROR]``, hclog's ``[WARN]``, ``ERROR:root:``);
- Go's ``panic:`` / ``fatal error:`` at the start of a line;
- logfmt ``level=error`` (also ``lvl=``, ``severity=``, quoted or not);
- JSON ``"level":"error"`` (also ``"lvl"``, ``"severity"``);
- klog's ``E1128 10:00:00.000000`` prefix.

A line's level is its first such token. Nothing here reads files; the
search for the next error line is :func:`find_level_line`, built on
:mod:`inspector.core.search`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from rich.text import Text

from .search import Match, Reader, SearchPattern, search_backward, search_forward

ERROR, WARN, INFO, DEBUG = "error", "warn", "info", "debug"

LEVEL_STYLES = {
    ERROR: "bold red",
    WARN: "bold yellow",
    INFO: "green",
    DEBUG: "dim cyan",
}
"""The colour of each level's token (rich styles)."""

_WORDS = {
    "TRACE": DEBUG, "DEBUG": DEBUG, "DBG": DEBUG,
    "INFO": INFO, "INF": INFO, "NOTICE": INFO,
    "WARN": WARN, "WARNING": WARN, "WRN": WARN,
    "ERROR": ERROR, "ERR": ERROR, "FATAL": ERROR, "FTL": ERROR, "CRIT": ERROR,
    "CRITICAL": ERROR, "PANIC": ERROR, "EMERG": ERROR, "ALERT": ERROR,
}
_VALUES = {word.lower(): level for word, level in _WORDS.items()} | {
    "warning": WARN, "information": INFO, "dpanic": ERROR,
}
_KLOG = {"I": INFO, "W": WARN, "E": ERROR, "F": ERROR}

WORD_WINDOW = 120
"""A bare level word counts only within this many characters of the line start."""

_WORD_RE = re.compile(
    r"(?<![\w.-])(" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")(?![\w-])"
)
_PANIC_RE = re.compile(r"^(panic|fatal error):")
_FIELD_RE = re.compile(
    r"""(?:^|[\s{,])(?:"(?:level|lvl|severity)"\s*:\s*"|(?:level|lvl|severity)=(?:"?))"""
    r"""([A-Za-z]+)""",
    re.IGNORECASE,
)
_KLOG_RE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d\d", re.ASCII)


def level_span(line: str) -> tuple[int, int, str] | None:
    """Where a line's level is written and which it is: ``(start, end,
    level)``, or None when the line has no recognised level."""
    found = _PANIC_RE.match(line)
    if found:
        return found.start(1), found.end(1), ERROR
    found = _KLOG_RE.match(line)
    if found:
        return found.start(1), found.end(1), _KLOG[found.group(1)]
    best: tuple[int, int, str] | None = None
    found = _FIELD_RE.search(line, 0, 2048)
    if found:
        level = _VALUES.get(found.group(1).lower())
        if level is not None:
            best = (found.start(1), found.end(1), level)
    found = _WORD_RE.search(line, 0, WORD_WINDOW)
    if found and (best is None or found.start() < best[0]):
        best = (found.start(1), found.end(1), _WORDS[found.group(1)])
    return best


def level_of(line: str) -> str | None:
    """The level of one line (``"error"``, ``"warn"``, ``"info"``, ``"debug"``) or None."""
    span = level_span(line)
    return None if span is None else span[2]


def colour_levels(text: Text, styles: dict[str, str] | None = None) -> Text:
    """Colour the level token of a line of display text (in place).

    A line that already carries colours (the task wrote SGR sequences) is
    left as it is: the task's colours win.
    """
    if text.spans:
        return text
    span = level_span(text.plain)
    if span is not None:
        start, end, level = span
        text.stylize((styles or LEVEL_STYLES)[level], start, end)
    return text


ERROR_PATTERN = SearchPattern(
    r"(?<![\w.-])(?:ERROR|ERR|FATAL|FTL|CRIT|CRITICAL|PANIC|EMERG|ALERT)(?![\w-])"
    r"|^(?:panic|fatal error):"
    r"|^[EF]\d{4} \d\d:\d\d:\d\d"
    r"|(?i:(?:level|lvl|severity)=\"?(?:error|err|fatal|crit|critical|panic|dpanic|emerg|alert)\b)"
    r"|(?i:\"(?:level|lvl|severity)\"\s*:\s*\"(?:error|err|fatal|crit|critical|panic|dpanic"
    r"|emerg|alert)\")",
    ignore_case=False,
    regex=True,
)
"""Finds candidate error lines in raw bytes; :func:`level_of` confirms each."""


def find_level_line(
    read: Reader,
    size: int,
    start: int,
    *,
    backward: bool = False,
    level: str = ERROR,
    cancel: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
) -> Match | None:
    """The next line logged at ``level`` (error only, for now) starting at or
    after ``start`` (before it, when ``backward``); its match covers the
    level token. Streams like a search; ``cancel`` stops it."""
    if level != ERROR:
        raise ValueError("only the error level can be searched")
    pos = start
    while True:
        if backward:
            found = search_backward(read, ERROR_PATTERN, pos, cancel=cancel, progress=progress,
                                    first_chunk=256 * 1024)
        else:
            found = search_forward(read, size, ERROR_PATTERN, pos, cancel=cancel,
                                   progress=progress, first_chunk=256 * 1024)
        if found is None:
            return None
        line_start, line = _line_around(read, found.offset)
        if level_of(line.decode("utf-8", "replace")) == level:
            return found
        # The word was not the line's level ("INFO retried after ERROR"): go on.
        pos = line_start if backward else line_start + len(line) + 1


def _line_around(read: Reader, offset: int, reach: int = 4096) -> tuple[int, bytes]:
    """The start and bytes of the line holding ``offset`` (within ``reach``)."""
    low = max(0, offset - reach)
    data = read(low, offset - low + reach)
    rel = offset - low
    begin = data.rfind(b"\n", 0, rel) + 1
    end = data.find(b"\n", rel)
    end = len(data) if end < 0 else end
    return low + begin, data[begin:end]
