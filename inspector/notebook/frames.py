"""A reader session's frame and status as HTML, for the notebook's widgets.

The rows are what the terminal shows (the same frame): level colours, the
matches of the search (or the filter) highlighted and the current match
apart, line numbers in a gutter, separators where a followed file was
truncated or created again. Every character of the content is escaped
(:func:`~inspector.notebook.html.text_html`); names and notices go through
:func:`~inspector.notebook.html.name_html`.
"""

from __future__ import annotations

from datetime import datetime, timezone

from allocdir.display import age_html, size_html

from ..core.session.frame import Frame, FrameRow
from ..core.session.status import Status, lines_origin
from .html import PRE_STYLE, name_html, text_html

CURRENT = "background:#5fafff;color:#000;font-weight:bold"
"""The style of the current match (the other matches: ``html.HIGHLIGHT``)."""
GUTTER = "opacity:0.55;user-select:none"
SEPARATOR = "color:#b27d12;font-weight:bold"
MONO = "font-family:var(--jp-code-font-family,monospace)"


def frame_html(frame: Frame, *, wrap: bool = False, empty: str = "(empty file)",
               style: str = "") -> str:
    """The rows of ``frame`` as one ``<pre>`` (its message when it shows one);
    ``style``: more CSS for the ``<pre>``."""
    white = "white-space:pre-wrap;overflow-wrap:anywhere" if wrap else \
        "white-space:pre;overflow-x:auto"
    white += f";{style}" if style else ""
    if frame.mode == "message":
        body = f'<span style="opacity:0.8">{name_html(frame.message)}</span>'
    elif not frame.rows:
        body = f'<span style="opacity:0.6">{name_html(empty)}</span>'
    else:
        body = "\n".join(_row_html(frame, row) for row in frame.rows)
    return f'<pre style="{PRE_STYLE};{white}">{body}</pre>'


def _row_html(frame: Frame, row: FrameRow) -> str:
    gutter = text_html(frame.tag_text(row)) if frame.tags else ""  # a merged stream's source
    if frame.numbers:
        gutter += f'<span style="{GUTTER}">{name_html(frame.gutter_text(row))}</span>'
    if row.separator:
        return f'{gutter}<span style="{SEPARATOR}">── {name_html(row.separator)} ──</span>'
    text = row.text
    if row.current is not None:
        start, end = row.current
        before, middle, after = text[:start], text[start:end], text[end:]
        return (gutter + text_html(before, frame.highlight)
                + f'<span style="{CURRENT}">{text_html(middle)}</span>'
                + text_html(after, frame.highlight))
    return gutter + text_html(text, frame.highlight)


def title_html(label: str, status: Status | None) -> str:
    """The file's name, size, type and age."""
    parts = [f"<b>{name_html(label)}</b>"]
    if status is not None and (status.mode != "message" or status.size):
        parts.append(size_html(status.size))
        if status.content_type:
            parts.append(name_html(status.content_type))
        if status.mod_time is not None:
            parts.append("modified " + age_html(status.mod_time, datetime.now(timezone.utc)))
    return f'<div style="{MONO};font-size:12px">' + " · ".join(parts) + "</div>"


def status_html(frame: Frame, wrap: bool) -> str:
    """Where the screen is in the file, the filter, the flags and the notice."""
    status = frame.status
    parts: list[str] = []
    if status is not None and frame.mode != "message":
        place = frame.place
        name = name_html(status.path.rsplit("/", 1)[-1])
        if status.members > 1:
            name += f" [{status.member}/{status.members}]"
        parts.append(name)
        if status.following:
            parts.append('<b style="color:#007427">FOLLOW</b>')
        if frame.tags:  # a merged stream: its places are cursors, its percent of its time span
            parts.append(f"merged · {place.size:,} bytes ({place.percent:.0f}%)")
        else:
            parts.append(f"{frame.mode} · bytes {place.top:,}–{place.bottom:,} of "
                         f"{place.size:,} ({place.percent:.0f}%)")
        if status.line is not None:
            total = f"/{status.lines:,}" if status.lines is not None else ""
            parts.append(f"L{status.line:,}{total}")
        elif status.numbers and status.indexing:
            parts.append("L…")
        if lines_origin(status):
            parts.append(f'<span style="color:#8a6d00">{name_html(lines_origin(status))}</span>')
        if status.filter:
            count = "…" if status.matches is None else f"{status.matches:,}"
            more = "+" if status.counting else ""
            parts.append(f'<b style="color:#a03196">&amp;{name_html(status.filter)}: '
                         f"{count}{more} lines</b>")
        parts.append("wrap" if wrap else "no wrap")
    if status is not None and status.notice:
        parts.append(f'<i style="color:#8a6d00">{name_html(status.notice)}</i>')
    return (f'<div style="{MONO};font-size:11px;color:#555">' + " · ".join(parts)
            + "</div>")
