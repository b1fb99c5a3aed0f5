"""How allocdir objects look in Jupyter (``*_html``) and in a terminal
IPython (``*_text``): pure functions of data already in hand, an
``AllocFileInfo``, a listing, or a summary gathered before by
:mod:`allocdir.summary`. Nothing here touches the disk.

Every name goes through :func:`esc` (the project's one escaping rule,
:func:`allocdir.plaintext.visible`, then ``html.escape``): a task chooses
its file names, and ``<script>``, quotes, newlines or a right-to-left
override in a name are shown as what they are. Sizes and ages are
humanized, with the exact byte count and the ISO time in a ``title`` (on
hover); a time a ``datetime`` cannot hold (a task may date its files in year
36812) is "out of range". FIFOs, sockets and devices are marked (the kinds
are :mod:`allocdir.kinds`'); anything in a task's ``secrets/`` or
``private/`` is shown locked, without size or time. A size that was not
measured to the end says so in words ("at least 4.3 MiB: counted the first
20,000 entries"), never as a bare bound.

Standard library and ``humanize`` only: the library must not pull in a UI
toolkit.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timezone

from .kinds import file_kind
from .paths import is_protected
from .plaintext import age_words, iso, size_words, visible
from .times import time_in_range

ROWS_SHOWN = 500
"""Rows of a listing rendered as HTML; the rest are counted in a last row."""
LIVE_SECONDS = 60
"""A log written to within this many seconds counts as live."""
LOCK = "[locked]"
"""How a secret is marked: words, not the lock emoji (a browser without an
emoji font, as Chromium on a server, shows a box for it)."""

MEASURED, PARTIAL, MEASURING, NOT_MEASURED = "measured", "partial", "measuring", "not measured"
"""What a size in a summary is: measured to the end, a lower bound (the walk
stopped at its budget), still being measured (a widget fills it in), or
left out (the time a table may take to gather was spent)."""


def esc(value: object) -> str:
    """``value`` made :func:`~allocdir.plaintext.visible`, then HTML-escaped
    (quotes included): how every name, path or message a task may influence
    goes into HTML."""
    return html.escape(visible(value), quote=True)


def is_live(info, now: datetime) -> bool:
    """True when a log file was written to within :data:`LIVE_SECONDS` (a
    time out of range, or further ahead than that, is not live)."""
    if not time_in_range(info.mod_time):
        return False
    return abs((now - info.mod_time).total_seconds()) <= LIVE_SECONDS


def count_words(n: int, word: str, plural: str = "") -> str:
    """``n`` and the noun, e.g. "1 entry", "20,000 entries"."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def size_html(size: int, *, at_least: bool = False) -> str:
    """A humanized size with the exact byte count on hover."""
    prefix = "at least " if at_least else ""
    return (f'<span title="{count_words(size, "byte")}{" or more" if at_least else ""}">'
            f"{prefix}{esc(size_words(size))}</span>")


def age_html(when: datetime, now: datetime) -> str:
    """A humanized age with the ISO time on hover."""
    return f'<span title="{esc(iso(when))}">{esc(age_words(when, now))}</span>'


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(timezone.utc)


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


# ------------------------------------------------------------------ style

# Inline styles only (a notebook may drop <style> elements of untrusted output),
# shared by the cards (allocdir.cards).
BOX = ("font-family:var(--jp-code-font-family,monospace);font-size:12px;"
        "border-collapse:collapse;margin:2px 0")
TH = "text-align:left;padding:2px 12px 2px 0;border-bottom:1px solid #bbb;font-weight:600"
KEY = "text-align:left;padding:1px 12px 1px 0;font-weight:600;vertical-align:top"
TD = "text-align:left;padding:1px 12px 1px 0;vertical-align:top;white-space:pre"
WRAP = "text-align:left;padding:1px 12px 1px 0;vertical-align:top"
NUM = "text-align:right;padding:1px 12px 1px 0;white-space:nowrap;vertical-align:top"
DIM = "color:#777"
TAGS = {
    "dir": "color:#1f5fbf;font-weight:600",
    "symlink": "color:#168a8a",
    "special": "color:#a0309a",
    "locked": "color:#9a6a00;font-weight:600",
    "live": "color:#007427;font-weight:600",
    "error": "color:#b22b31",
}
"""Inline CSS of the marks every HTML rendering shares."""


def badge(word: str, tag: str = "") -> str:
    """``word`` styled as the mark ``tag`` (its own name by default)."""
    style = TAGS.get(tag or word, "")
    return f'<span style="{style}">{esc(word)}</span>' if style else esc(word)


def _caption(text: str) -> str:
    return f'<caption style="text-align:left;font-weight:600;padding:2px 0">{text}</caption>'


# ------------------------------------------------------------------ entries


def _name_cell(info, rel: str) -> str:
    name = esc(info.name)
    if is_protected(rel):
        return f'<span style="{TAGS["locked"]}">{LOCK} {name}{"/" if info.is_dir else ""}</span>'
    kind = file_kind(info.file_mode)
    if kind.word == "dir":
        return f'<span style="{TAGS["dir"]}">{name}/</span>'
    if kind.word == "symlink":
        return f'<span style="{TAGS["symlink"]}">{name}@</span>'
    if kind.special:  # the type column says what it is, in a word
        return f'<span style="{TAGS["special"]}">{name}</span>'
    return name


def _type_cell(info, rel: str) -> str:
    if is_protected(rel):
        return badge("locked") + f' <span style="{DIM}">(secret: never read)</span>'
    kind = file_kind(info.file_mode)
    if kind.special:
        return badge(kind.word, "special") + f' <span style="{DIM}">(never opened)</span>'
    word = badge(kind.word)
    if info.content_type:
        return f'{word} <span style="{DIM}">{esc(info.content_type)}</span>'
    return word


def _entry_cells(info, rel: str, now: datetime) -> list[str]:
    """name, mode, size, modified, type: one listing row."""
    if is_protected(rel) and rel.count("/") >= 2:
        # Inside a secrets dir: its name is all that is shown.
        hidden = f'<span style="{DIM}">—</span>'
        return [_name_cell(info, rel), hidden, hidden, hidden, _type_cell(info, rel)]
    size = "" if info.is_dir else size_html(info.size)
    return [_name_cell(info, rel), esc(info.file_mode), size, age_html(info.mod_time, now),
            _type_cell(info, rel)]


def _row(cells: list[str]) -> str:
    return "<tr>" + "".join(f'<td style="{NUM if i == 2 else TD}">{c}</td>'
                            for i, c in enumerate(cells)) + "</tr>"


_ENTRY_HEADS = ("name", "mode", "size", "modified", "type")


def info_html(info, *, path: str = "", now: datetime | None = None) -> str:
    """A one-row card of an ``AllocFileInfo`` (what ``stat`` returns);
    ``path`` is where it is in the alloc dir, when known."""
    now = _now(now)
    rel = path or info.name
    where = (f'<div style="{DIM}; font-size:11px">{esc(path)}</div>'
             if path and path != info.name else "")
    head = "".join(f'<th style="{TH}">{h}</th>' for h in _ENTRY_HEADS)
    return (f'<div class="allocdir-info">{where}<table style="{BOX}"><thead><tr>{head}</tr>'
            f"</thead><tbody>{_row(_entry_cells(info, rel, now))}</tbody></table></div>")


def info_text(info, *, path: str = "", now: datetime | None = None) -> str:
    """One line about an ``AllocFileInfo`` for a terminal."""
    now = _now(now)
    rel = path or info.name
    name = visible(rel)
    if is_protected(rel):
        return f"{name}  [locked: secret, never read]"
    kind = file_kind(info.file_mode)
    parts = [name + ("/" if info.is_dir else ""), info.file_mode]
    if not info.is_dir:
        parts.append(f"{size_words(info.size)} ({info.size:,} bytes)")
    parts.append(f"modified {age_words(info.mod_time, now)} ({iso(info.mod_time)})")
    parts.append(visible(info.content_type) if info.content_type else kind.word)
    if kind.special:
        parts.append(f"[{kind.word}: never opened]")
    return "  ".join(parts)


def listing_html(infos: Sequence, *, path: str = "", now: datetime | None = None,
                 limit: int = ROWS_SHOWN) -> str:
    """A table of a directory listing (name, mode, size, modified, type);
    at most ``limit`` rows, then one that counts the rest."""
    now = _now(now)
    rows = [_row(_entry_cells(info, _join(path, info.name), now)) for info in infos[:limit]]
    if len(infos) > limit:
        rows.append(f'<tr><td colspan="5" style="{TD};{DIM}">… and {len(infos) - limit:,} '
                    "more (the list holds them all)</td></tr>")
    if not infos:
        rows.append(f'<tr><td colspan="5" style="{TD};{DIM}">(empty)</td></tr>')
    caption = _caption(f"{esc(path or '.')}/ &nbsp;<span style=\"{DIM}; font-weight: normal\">"
                       f"{count_words(len(infos), 'entry', 'entries')}</span>")
    head = "".join(f'<th style="{TH}">{h}</th>' for h in _ENTRY_HEADS)
    return (f'<table class="allocdir-list" style="{BOX}">{caption}<thead><tr>{head}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table>')


def listing_text(infos: Sequence, *, path: str = "", now: datetime | None = None,
                 limit: int = ROWS_SHOWN) -> str:
    """A directory listing as aligned text, for a terminal."""
    now = _now(now)
    lines = [f"{visible(path or '.')}/  ({len(infos):,} entries)"]
    for info in infos[:limit]:
        name = visible(info.name) + ("/" if info.is_dir else "")
        if is_protected(_join(path, info.name)):
            lines.append(f"  {LOCK} {name:<30} locked (secret, never read)")
            continue
        size = "" if info.is_dir else size_words(info.size)
        kind = file_kind(info.file_mode)
        tag = f"  [{kind.word}]" if kind.special or kind.word == "symlink" else ""
        lines.append(f"  {info.file_mode}  {size:>10}  {age_words(info.mod_time, now):<16}  "
                     f"{name}{tag}")
    if len(infos) > limit:
        lines.append(f"  … and {len(infos) - limit:,} more")
    return "\n".join(lines)


# ------------------------------------------------------------------ sizes


def measured_words(measured) -> str:
    """A measured size in words: "4.3 MiB in 12 entries", "at least 4.3 MiB:
    counted the first 20,000 entries", "measuring…", "not measured: …"."""
    if measured.error:
        return f"({visible(measured.error)})"
    if measured.status == MEASURING:
        return "measuring…"
    if measured.status == NOT_MEASURED:
        return "not measured (the table's time to look was spent)"
    size = size_words(measured.content_bytes)
    if measured.status == PARTIAL:
        return (f"at least {size}: counted the first "
                f"{count_words(measured.entries, 'entry', 'entries')}")
    return f"{size} in {count_words(measured.entries, 'entry', 'entries')}"


def measured_html(measured) -> str:
    """:func:`measured_words` as HTML, the exact bytes on hover."""
    if measured.error:
        return f'<span style="{DIM}">({esc(measured.error)})</span>'
    if measured.status in (MEASURING, NOT_MEASURED):
        return f'<span style="{DIM}">{esc(measured_words(measured))}</span>'
    partial = measured.status == PARTIAL
    count = count_words(measured.entries, "entry", "entries")
    detail = (f": counted the first {count}, the walk stopped there" if partial
              else f" in {count}")
    return (size_html(measured.content_bytes, at_least=partial)
            + f'<span style="{DIM}">{detail}</span>')


def total_status(parts: Sequence) -> str:
    """The status of a sum of measured sizes: the least finished of them."""
    for status in (NOT_MEASURED, MEASURING, PARTIAL):
        if any(p.status == status for p in parts):
            return status
    return MEASURED


def total_html(parts: Sequence) -> str:
    """The bytes of several measured sizes (an allocation's ``data`` and
    ``local/`` dirs), saying when the sum is not complete."""
    status = total_status(parts)
    if status in (MEASURING, NOT_MEASURED):
        word = "measuring…" if status == MEASURING else "not measured"
        return f'<span style="{DIM}">{word}</span>'
    size = sum(p.content_bytes for p in parts)
    if status == PARTIAL:
        return size_html(size, at_least=True) + f'<span style="{DIM}"> (partial)</span>'
    return size_html(size)


def total_words(parts: Sequence) -> str:
    """:func:`total_html` as text."""
    status = total_status(parts)
    if status in (MEASURING, NOT_MEASURED):
        return "measuring…" if status == MEASURING else "not measured"
    size = size_words(sum(p.content_bytes for p in parts))
    return f"at least {size} (partial)" if status == PARTIAL else size
