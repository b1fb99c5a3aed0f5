"""inspector.core.text: names shown escaped, content kept to SGR colours."""

from __future__ import annotations

import os

import pytest
from rich.style import Style
from rich.text import Text

from inspector.core.pager import line_text
from inspector.core.text import ansi_text, printable, strip_escapes, without_links


@pytest.mark.parametrize(
    "name, shown",
    [
        ("plain-name.txt", "plain-name.txt"),
        ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
        ("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"),
        ("\x1b[2J", "\\x1b[2J"),
        ("two\nlines", "two\\nlines"),
        ("a\tb", "a\\tb"),
        ("cr\rdel\x7f", "cr\\x0ddel\\x7f"),
        ("c1\x9b31m\x9d", "c1\\x9b31m\\x9d"),
        ("line\u2028sep", "line\\u2028sep"),
        ("bidi\u202etxt.exe", "bidi\\u202etxt.exe"),
        (os.fsdecode(b"bad-\xff-utf8"), "bad-\\xff-utf8"),
        ("[@click='app.quit']x", "[@click='app.quit']x"),  # markup is not escaped: never parsed
        ("héllo → 名前", "héllo → 名前"),
    ],
)
def test_printable(name, shown):
    assert printable(name) == shown
    assert printable(shown) == shown  # idempotent: safe to apply twice
    shown.encode("utf-8")  # no lone surrogate is left for the terminal to choke on


def spans_with(text: Text, attribute: str) -> list:
    return [span for span in text.spans
            if isinstance(span.style, Style) and getattr(span.style, attribute)]


def test_osc8_link_keeps_its_text_and_loses_its_target():
    text = line_text(b"see \x1b]8;;https://example.com/x\x1b\\the docs\x1b]8;;\x1b\\ now")
    assert text.plain == "see the docs now"
    assert not spans_with(text, "link")


def test_osc52_hidden_in_an_osc8_url_is_dropped():
    raw = b"\x1b]8;;http://x/\x1b]52;c;aGk=\x07\x1b\\click me\x1b]8;;\x1b\\ after"
    text = line_text(raw)
    assert text.plain == "click me after"
    assert not spans_with(text, "link")
    assert "52" not in text.plain and "aGk" not in text.plain


@pytest.mark.parametrize(
    "raw, plain",
    [
        (b"\x1b]0;pwned\x07title", "title"),  # OSC 0 ended by BEL
        (b"\x1b]2;pwned\x1b\\title", "title"),  # OSC 2 ended by ST
        (b"\x1bPq#0;2;0;0;0\x1b\\dcs", "dcs"),  # DCS (sixel)
        (b"\x1b_Gf=100;AAAA\x1b\\apc", "apc"),  # APC (kitty graphics)
        (b"\x1b^pm\x07pm", "pm"),
        (b"\x1bXsos\x1b\\sos", "sos"),
        (b"\x1b[2J\x1b[H\x1b[?1049hclear", "clear"),  # CSI other than SGR
        (b"\x1bc\x1b7\x1b(Breset", "reset"),  # two-byte escapes, charset designation
        (b"\xc2\x9d0;c1-title\xc2\x9cc1", "c1"),  # 8-bit OSC ... ST
        (b"\xc2\x9b2Jc1csi", "c1csi"),
        (b"\x1b]0;never ended", ""),  # an unterminated string swallows the line, as a terminal
        (b"\x1b]0;cancelled\x18ok", "ok"),  # CAN aborts a string
        (b"bell\x07 and \x00nul", "bell and nul"),
    ],
)
def test_other_sequences_are_dropped_whole(raw, plain):
    text = line_text(raw)
    assert text.plain == plain
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text.plain)


def test_sgr_colours_survive():
    text = line_text(b"\x1b[31mred\x1b[0m \x1b[1;38;5;46mgreen\x1b[0m \x1b[48;2;1;2;3mbg\x1b[0m")
    assert text.plain == "red green bg"
    styles = {text.plain[s.start:s.end]: s.style for s in text.spans}
    assert styles["red"].color.name == "color(1)"
    assert styles["green"].bold and styles["green"].color.number == 46
    assert styles["bg"].bgcolor.triplet == (1, 2, 3)


def test_8bit_csi_sgr_is_kept_as_colour():
    assert strip_escapes("\x9b31mred") == "\x1b[31mred"


def test_without_links_clears_link_and_meta():
    text = Text("ab")
    text.stylize(Style(link="https://evil", bold=True), 0, 1)
    text.stylize(Style(meta={"@click": "app.quit"}), 1, 2)
    without_links(text)
    assert not spans_with(text, "link")
    assert all(not (isinstance(s.style, Style) and s.style.meta) for s in text.spans)
    assert any(isinstance(s.style, Style) and s.style.bold for s in text.spans)


def test_plain_content_is_untouched_and_fast_path():
    assert ansi_text("just text [bold]x[/]").plain == "just text [bold]x[/]"
    assert not ansi_text("just text [bold]x[/]").spans
