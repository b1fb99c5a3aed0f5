"""Rich ``Text`` as HTML, for front-ends that draw in a browser (the notebook).

What the pager, the follower, the hex dump and the search make for the
terminal (``Text`` with styles) is turned into ``<span style=…>`` with inline
CSS, so one logic serves both front-ends. Rules:

- Every character is HTML-escaped; nothing of the content becomes markup.
- Styles become inline CSS: colours (ANSI, 256 and true colour, resolved with
  :data:`THEME`, JupyterLab's own ANSI palette), bold, dim, italic,
  underline, strike and reverse. Links and meta are never rendered (there is
  no ``<a>``: ``inspector.core.text.ansi_text`` already drops them, and this
  module ignores any left). ``conceal`` is ignored: a task cannot hide text
  from the operator.
- Bidirectional controls, which a browser obeys and a terminal does not,
  are shown as visible escapes (``\\u202e``), dimmed: a log line reads in the
  notebook as it does in the terminal.

No ipywidgets and no Textual here.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterable

from rich.console import Console
from rich.style import Style
from rich.terminal_theme import TerminalTheme
from rich.text import Text

from allocdir.plaintext import BIDI_CONTROLS, visible
from allocdir.render import esc

THEME = TerminalTheme(
    (255, 255, 255),
    (0, 0, 0),
    [(0x3E, 0x42, 0x4D), (0xE7, 0x5C, 0x58), (0x00, 0xA2, 0x50), (0xDD, 0xB6, 0x2B),
     (0x20, 0x8F, 0xFB), (0xD1, 0x60, 0xC4), (0x60, 0xC6, 0xC8), (0xC5, 0xC1, 0xB4)],
    [(0x28, 0x2C, 0x36), (0xB2, 0x2B, 0x31), (0x00, 0x74, 0x27), (0xB2, 0x7D, 0x12),
     (0x00, 0x65, 0xCA), (0xA0, 0x31, 0x96), (0x25, 0x8F, 0x8F), (0xA1, 0xA6, 0xB2)],
)
"""ANSI colours as JupyterLab's light theme shows them (readable on white)."""

HIGHLIGHT = "black on #ffe066"
"""The style of a search match."""

PRE_STYLE = ("font-family:var(--jp-code-font-family,monospace);font-size:12px;"
             "line-height:1.35;margin:0;padding:4px 6px;background:var(--jp-layout-color0,#fff);"
             "color:var(--jp-content-font-color0,#000)")

_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
# Text.render needs a console for named styles; nothing is printed on it.
_CONSOLE = Console(file=io.StringIO(), color_system="truecolor", force_terminal=False,
                   width=10_000, legacy_windows=False, emoji=False, markup=False)


def _hex(color, foreground: bool) -> str:
    return color.get_truecolor(THEME, foreground=foreground).hex


def style_css(style: Style) -> str:
    """Inline CSS for a rich ``Style`` (links, meta and conceal ignored)."""
    css = []
    fg = _hex(style.color, True) if style.color is not None and not style.color.is_default \
        else None
    bg = _hex(style.bgcolor, False) if style.bgcolor is not None \
        and not style.bgcolor.is_default else None
    if style.reverse:
        fg, bg = (bg or THEME.background_color.hex), (fg or THEME.foreground_color.hex)
    if fg:
        css.append(f"color:{fg}")
    if bg:
        css.append(f"background:{bg}")
    if style.bold:
        css.append("font-weight:bold")
    if style.dim:
        css.append("opacity:0.7")
    if style.italic:
        css.append("font-style:italic")
    decorations = [name for name, on in (("underline", style.underline or style.underline2),
                                         ("line-through", style.strike),
                                         ("overline", style.overline)) if on]
    if decorations:
        css.append("text-decoration:" + " ".join(decorations))
    return ";".join(css)


def _escape(chunk: str) -> str:
    escaped = html.escape(chunk, quote=True)
    if _BIDI.search(escaped) is None:
        return escaped
    return _BIDI.sub(lambda m: f'<span style="opacity:0.6">{visible(m.group())}</span>', escaped)


def text_html(text: Text, highlight: re.Pattern[str] | None = None) -> str:
    """One ``Text`` (a line) as escaped HTML with inline-styled spans.

    ``highlight`` (e.g. ``SearchPattern.text_regex``) marks its matches.
    """
    if highlight is not None:
        text = text.copy()
        text.highlight_regex(highlight, HIGHLIGHT)
    if not text.spans and not text.style:
        return _escape(text.plain)
    out = []
    for segment in text.render(_CONSOLE, end=""):
        chunk = segment.text
        if not chunk:
            continue
        css = style_css(segment.style) if segment.style else ""
        out.append(f'<span style="{css}">{_escape(chunk)}</span>' if css else _escape(chunk))
    return "".join(out)


def lines_html(texts: Iterable[Text], *, highlight: re.Pattern[str] | None = None,
               wrap: bool = False, empty: str = "") -> str:
    """Lines as one ``<pre>``: wrapped by the browser when ``wrap``, else
    scrolled sideways. ``empty`` (plain text) is shown when there are none."""
    body = "\n".join(text_html(text, highlight) for text in texts)
    if not body and empty:
        body = f'<span style="opacity:0.6">{esc(empty)}</span>'
    white = "white-space:pre-wrap;overflow-wrap:anywhere" if wrap else \
        "white-space:pre;overflow-x:auto"
    return f'<pre style="{PRE_STYLE};{white}">{body}</pre>'


name_html = esc
"""A name, path or message a task may influence, as HTML text: the library's
``allocdir.render.esc`` (the one rule, ``visible``, then HTML-escaped)."""
