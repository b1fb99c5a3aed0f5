"""Log levels: which level a line is logged at, for colour and for `e`/`E`.

The common shapes are recognised:

- a bare upper-case word near the start: ``INFO``, ``WARN``/``WARNING``,
  ``ERROR``/``ERR``, ``FATAL``, ``DEBUG``, ``TRACE``, ``CRITICAL``… alone or
  bracketed (``[ERROR]``, hclog's ``[WARN]``, ``ERROR:root:``);
- a bracketed lower-case level near the start, as Envoy (every Consul
  Connect sidecar) and nginx write it: ``[error]``, ``[warning]``,
  ``[critical]``, ``[warn]``, ``[info]``, ``[debug]``…;
- Go's ``panic:`` / ``fatal error:`` at the start of a line;
- logfmt ``level=error`` (also ``lvl=``, ``severity=``, quoted or not);
- JSON ``"level":"error"`` (also ``"lvl"``, ``"severity"``);
- klog's ``E1128 10:00:00.000000`` prefix.

A line's level is its first such token. Nothing here reads files; the
search for the next error line is :func:`find_level_line`, built on
:mod:`inspector.core.levelscan`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import NamedTuple

from rich.text import Text

from .search import Match, Reader

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
FIELD_WINDOW = 2048
"""A ``level=`` or ``"level":`` field counts only within this many characters."""


_RUN = (
    "[" + "".join(sorted({word[0] for word in _WORDS})) + r"](?<![\w.-].)"
    f"[A-Z]{{{min(map(len, _WORDS)) - 1},{max(map(len, _WORDS)) - 1}}}" + r"(?![\w-])"
)
"""A whole run of capitals that may be a level word: its first letter is one
a level word starts with (which ``re`` looks for quickly), nothing word-like
before it, nothing word-like or ``-`` after it."""
_START = r"(panic|fatal error):|([IWEF])[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}"
"""Go's crash lines and klog's prefix, at the start of a line."""
_FIELD = (r"""(?:^|[\s{,])(?:"(?:level|lvl|severity)"\s*:\s*"|(?:level|lvl|severity)=(?:"?))"""
          r"""([A-Za-z]+)""")
"""A logfmt or JSON level field; ``^`` is where the line starts."""
_BRACKETED = (r"\[(error|err|warning|warn|critical|crit|alert|emerg|fatal|panic|info|notice"
              r"|debug|trace)\]")
"""A lower-case level in brackets (Envoy's ``[warning]``, nginx's ``[error]``)."""


class _Rules(NamedTuple):
    """The rules compiled for one kind of string: text, or ASCII bytes."""

    run: re.Pattern
    start: re.Pattern
    field: re.Pattern
    words: dict
    values: dict
    klog: dict
    vees: tuple
    bracketed: re.Pattern


def _ascii_rules() -> _Rules:
    """The rules for bytes known to be ASCII, where they match as on text:
    whitespace spelled out as text has it (with the separators 0x1c-0x1f),
    and ``^`` after a newline, as a line of a chunk starts there."""
    field = _FIELD.replace(r"[\s{,]", r"[\s\x1c-\x1f{,]").replace(r"\s*", r"[\s\x1c-\x1f]*")
    return _Rules(
        re.compile(_RUN.encode()), re.compile(_START.encode()),
        re.compile(field.encode(), re.IGNORECASE | re.MULTILINE),
        {word.encode(): level for word, level in _WORDS.items()},
        {value.encode(): level for value, level in _VALUES.items()},
        {key.encode(): level for key, level in _KLOG.items()}, (b"v", b"V"),
        re.compile(_BRACKETED.encode()))


_TEXT = _Rules(re.compile(_RUN), re.compile(_START), re.compile(_FIELD, re.IGNORECASE),
               _WORDS, _VALUES, _KLOG, ("v", "V"), re.compile(_BRACKETED))
_ASCII = _ascii_rules()


def level_span(line: str) -> tuple[int, int, str] | None:
    """Where a line's level is written and which it is: ``(start, end,
    level)``, or None when the line has no recognised level."""
    return _span(_TEXT, line, 0, len(line))


def ascii_level_span(data: bytes, start: int, end: int) -> tuple[int, int, str] | None:
    """:func:`level_span` of the line ``data[start:end]``, which must be
    ASCII, without copying it; offsets are those in ``data``."""
    return _span(_ASCII, data, start, end)


def _span(rules: _Rules, line, start: int, end: int) -> tuple[int, int, str] | None:
    found = rules.start.match(line, start, end)
    if found:
        if found.group(1):
            return found.start(1), found.end(1), ERROR
        return found.start(2), found.end(2), rules.klog[found.group(2)]
    best: tuple[int, int, str] | None = None
    field_end = min(end, start + FIELD_WINDOW)
    # Every key (level, lvl, severity) has a v: most lines are spared the search.
    if line.find(rules.vees[0], start, field_end) >= 0 or \
            line.find(rules.vees[1], start, field_end) >= 0:
        found = rules.field.search(line, start, field_end)
        level = rules.values.get(found.group(1).lower()) if found else None
        if level is not None:
            best = (found.start(1), found.end(1), level)
    word_end = min(end, start + WORD_WINDOW)
    found = _first_word(rules, line, start, word_end)
    if found and (best is None or found.start() < best[0]):
        best = (found.start(), found.end(), rules.words[found.group()])
    found = rules.bracketed.search(line, start, word_end)
    if found and (best is None or found.start(1) < best[0]):
        best = (found.start(1), found.end(1), rules.values[found.group(1)])
    return best


def _first_word(rules: _Rules, line, pos: int, end: int) -> re.Match | None:
    """The first level word (``INFO``, ``[ERROR]``…) in ``line[pos:end]``."""
    while (found := rules.run.search(line, pos, end)) is not None:
        if found.group() in rules.words:
            return found
        pos = found.end()
    return None


def level_of(line: str) -> str | None:
    """The level of one line (``"error"``, ``"warn"``, ``"info"``, ``"debug"``) or None."""
    span = level_span(line)
    return None if span is None else span[2]


def level_named(word: str) -> str | None:
    """The level a field value names (``"warning"``, ``"ERR"``, ``"fatal"``),
    in any case, or None: how ``level=``/``"level":`` values are read."""
    return _VALUES.get(word.strip().lower())


def spellings(level: str) -> tuple[str, ...]:
    """Every word that names ``level`` (upper case): the bare words and the
    field values, e.g. for ``warn``: ``WARN``, ``WARNING``, ``WRN``."""
    return tuple(sorted({word.upper() for word, named in _VALUES.items() if named == level},
                        key=lambda word: (-len(word), word)))


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
    """The next line logged at ``level`` (error only, for now) whose level
    token is at or after ``start`` (before it, when ``backward``); its match
    covers the level token. Streams through the file in chunks, at about
    grep's speed (:mod:`inspector.core.levelscan`); ``cancel`` stops it
    (SearchCancelled)."""
    from .levelscan import find_error_backward, find_error_forward

    if level != ERROR:
        raise ValueError("only the error level can be searched")
    if backward:
        return find_error_backward(read, start, cancel=cancel, progress=progress)
    return find_error_forward(read, size, start, cancel=cancel, progress=progress)
