"""Putting strings a task controls on the screen as plain text.

A task writes the names of its files and the content of its logs; the
operator reads them in a root terminal. Nothing of either may reach the
terminal as a control sequence (OSC 0/2 retitles the window, OSC 52 writes
the clipboard, OSC 8 hides a link target, CSI moves the cursor or clears the
screen) nor be read as Textual markup (``[@click=…]`` runs an action).

Two rules, one per kind of string:

- **Names, paths and error texts** go through :func:`printable`: every
  control character becomes a visible escape (``\\x1b``, ``\\n``, ``\\t``,
  ``\\x07`` …), so what is shown is what is on disk, on one line. Widgets get
  the result as ``Text``/``Content`` or with ``markup=False``, never inside
  markup.
- **File content** goes through :func:`ansi_text`: SGR colour sequences are
  kept (logs are often coloured), every other escape sequence is dropped
  whole, with its payload, and the resulting ``Text`` carries no link.
"""

from __future__ import annotations

import re

from rich.style import Style
from rich.text import Span, Text

from allocdir.plaintext import visible

printable = visible
"""The one escaping rule for names, paths and messages a task can influence:
``allocdir.plaintext.visible`` itself, under the name the front-ends use.
Every character that would not show as itself becomes an escape (``\\x1b``,
``\\n``, ``\\t``, ``\\xNN`` of an undecodable byte, ``\\uNNNN`` for
format, bidi and other invisible characters): two names that look alike are
told apart, and what is shown is what is on disk, on one line."""


def plain(value: object, style: str | Style = "") -> Text:
    """A ``Text`` of ``printable(value)``: never parsed as markup."""
    return Text(printable(value), style=style, end="")


# ---------------------------------------------------------------- content

# What starts an escape sequence: ESC, and the 8-bit C1 introducers a
# terminal also obeys (DCS, SOS, CSI, OSC, PM, APC).
_INTRODUCER = re.compile("[\x1b\x90\x98\x9b\x9d\x9e\x9f]")
_CSI_BODY = re.compile(r"([0-?]*)([ -/]*)([@-~])?")
_SGR_PARAMS = re.compile(r"[0-9;:]*")
_STRING_STARTS = {"]", "P", "X", "^", "_"}  # OSC, DCS, SOS, PM, APC after ESC
_C1_STRINGS = {"\x90", "\x98", "\x9d", "\x9e", "\x9f"}
# A control string ends at BEL, at ST (ESC \ or the 8-bit \x9c), or where a
# terminal aborts it: CAN, SUB, or an ESC that starts another sequence.
_STRING_END = re.compile("[\x07\x18\x1a\x1b\x9c]")
_ESC_TAIL = re.compile(r"[ -/]*[0-~]?")
# Controls dropped from content once the escape sequences are gone: all but
# tab and the ESC of a kept SGR (rich's decoder would also split a line on
# \r, \v, \f, \x1c-\x1e, \x85, \u2028 and \u2029).
_CONTENT_CONTROLS = re.compile("[\x00-\x08\x0a-\x1a\x1c-\x1f\x7f-\x9f\u2028\u2029]")


def strip_escapes(raw: str) -> str:
    """``raw`` with every escape sequence removed except SGR (colours).

    Parses as a terminal does: a CSI runs to its final byte; an OSC, DCS,
    SOS, PM or APC string runs to BEL or ST, and an ESC inside it ends it and
    starts a new sequence, which is how an OSC 52 hidden in an OSC 8 link's
    URL would reach the terminal: here both are dropped. An unterminated
    string swallows the rest of the line, as it would in the terminal. The
    kept SGR sequences are written in their 7-bit form.
    """
    if _INTRODUCER.search(raw) is None:
        return raw
    out: list[str] = []
    pos, end = 0, len(raw)
    while pos < end:
        match = _INTRODUCER.search(raw, pos)
        if match is None:
            out.append(raw[pos:])
            break
        start = match.start()
        out.append(raw[pos:start])
        char = raw[start]
        if char == "\x1b":
            nxt = raw[start + 1] if start + 1 < end else ""
            if nxt == "[":
                pos = _csi(raw, start + 2, out)
            elif nxt in _STRING_STARTS:
                pos = _skip_string(raw, start + 2)
            else:
                # ESC 7, ESC c (reset), ESC ( B …: intermediates, then a final byte.
                pos = _ESC_TAIL.match(raw, start + 1).end()
        elif char == "\x9b":
            pos = _csi(raw, start + 1, out)
        else:  # an 8-bit string introducer
            pos = _skip_string(raw, start + 1)
    return "".join(out)


def _csi(raw: str, pos: int, out: list[str]) -> int:
    """Consume a CSI body at ``pos``; keep it (as ESC [ … m) only if it is SGR."""
    match = _CSI_BODY.match(raw, pos)
    params, intermediates, final = match.groups()
    if final == "m" and not intermediates and _SGR_PARAMS.fullmatch(params):
        out.append(f"\x1b[{params}m")
    return match.end()


def _skip_string(raw: str, pos: int) -> int:
    """The position after the control string whose body starts at ``pos``."""
    match = _STRING_END.search(raw, pos)
    if match is None:
        return len(raw)
    if raw[match.start()] == "\x1b":
        if raw.startswith("\x1b\\", match.start()):
            return match.start() + 2  # ST
        return match.start()  # aborted: the ESC starts the next sequence
    return match.end()


def without_links(text: Text) -> Text:
    """``text`` with the link and meta of every style removed (in place)."""

    def clean(style: str | Style) -> str | Style:
        if isinstance(style, Style) and (style.link or style._meta):
            return style.clear_meta_and_links()
        return style

    text.style = clean(text.style)
    text.spans = [Span(span.start, span.end, clean(span.style)) for span in text.spans]
    return text


def ansi_text(raw: str) -> Text:
    """Display text for one line of file content.

    SGR colours become styles; every other escape sequence is dropped whole
    (:func:`strip_escapes`); the remaining control characters but tab are
    dropped too (tab is kept for the caller to expand); no style carries a
    link or meta (which Textual would emit as OSC 8, or act on).
    """
    cleaned = _CONTENT_CONTROLS.sub("", strip_escapes(raw))
    if "\x1b" not in cleaned:
        return Text(cleaned, end="")
    text = without_links(Text.from_ansi(cleaned, end=""))
    if "\x1b" in text.plain:  # an ESC rich did not read as SGR: drop it, keep the styles
        text = _drop_char(text, "\x1b")
    return text


def _drop_char(text: Text, char: str) -> Text:
    cuts = [i for i, c in enumerate(text.plain) if c == char]
    pieces = text.divide(cuts)
    kept = [pieces[0]] + [piece[1:] for piece in pieces[1:]]
    return Text("", end="").join(kept)


def terminal_text(raw: str) -> str:
    """One line of file content made safe to write to a terminal as it is:
    SGR colours kept (7-bit), every other escape sequence and control
    character but tab dropped (the rule of :func:`ansi_text`, as a string)."""
    return _CONTENT_CONTROLS.sub("", strip_escapes(raw))
