"""The one escaping rule for names a task chose (``allocdir.plaintext.visible``,
which ``inspector.core.text.printable`` is): nothing that renders blank or
as something else may reach the screen as itself, so that two names that
look alike are told apart; printable non-ASCII is kept."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone

import pytest

from allocdir import AllocFileInfo, display
from allocdir.plaintext import BIDI_CONTROLS, visible

HIDDEN = {
    "\u200b": "zero-width space", "\u200c": "zero-width non-joiner",
    "\u200d": "zero-width joiner", "\u2060": "word joiner", "\ufeff": "BOM",
    "\u00ad": "soft hyphen", "\u061c": "arabic letter mark", "\u200e": "LRM",
    "\u202e": "RLO", "\u2066": "LRI", "\u2069": "PDI", "\u180e": "mongolian vowel separator",
    "\U000e0001": "language tag", "\U000e0041": "tag A", "\U000e007f": "cancel tag",
    "\ufdd0": "noncharacter", "\ufdef": "noncharacter", "\ufffe": "noncharacter",
    "\uffff": "noncharacter", "\U0001fffe": "noncharacter", "\U0010ffff": "noncharacter",
    "\u3164": "hangul filler", "\u115f": "hangul choseong filler", "\u034f": "grapheme joiner",
    "\U0001d173": "musical format", "\u0600": "arabic number sign",
}


@pytest.mark.parametrize("char", sorted(HIDDEN), ids=lambda c: f"U+{ord(c):04X}")
def test_invisible_and_format_characters_are_shown_as_escapes(char):
    name = f"web{char}.stdout.0"
    shown = visible(name)
    assert char not in shown
    assert shown != visible("web.stdout.0")  # told apart from the name it mimics
    escape = f"\\U{ord(char):08x}" if ord(char) > 0xFFFF else \
        f"\\x{ord(char):02x}" if ord(char) <= 0xFF else f"\\u{ord(char):04x}"
    assert shown == f"web{escape}.stdout.0"
    assert visible(shown) == shown  # idempotent


def test_every_format_character_is_escaped():
    """Category Cf as the running Python's Unicode database has it (the
    joiner is kept only inside an emoji: see below)."""
    missed = [f"U+{code:04X}" for code in range(0x110000)
              if unicodedata.category(chr(code)) == "Cf" and visible(chr(code)) == chr(code)]
    assert missed == []


def test_every_noncharacter_is_escaped():
    nonchars = [*range(0xFDD0, 0xFDF0)] + [plane | low for plane in range(0, 0x110000, 0x10000)
                                           for low in (0xFFFE, 0xFFFF)]
    assert [f"U+{c:04X}" for c in nonchars if visible(chr(c)) == chr(c)] == []


def test_bidi_controls_of_content_are_a_part_of_the_rule():
    """The notebook escapes these in file content too; names escape them and more."""
    for char in (c for c in map(chr, range(0x3000)) if re.fullmatch(f"[{BIDI_CONTROLS}]", c)):
        assert visible(char) != char


@pytest.mark.parametrize("name", [
    "héllo → 名前.log", "naïve café", "😀 grin.txt", "👩‍💻 coder", "👩🏽‍💻 coder",
    "🏳️‍🌈 flag", "🇫🇷", "❤️ love", "Ωmega", "עברית", "العربية", "x\ufe0f",
])
def test_printable_non_ascii_is_kept(name):
    assert visible(name) == name


def test_a_joiner_outside_an_emoji_is_escaped():
    assert visible("a\u200db") == "a\\u200db"
    assert visible("\u200d😀") == "\\u200d😀"
    assert visible("😀\u200d") == "😀\\u200d"


def test_renderings_of_a_listing_show_the_escapes():
    now = datetime(2024, 5, 1, tzinfo=timezone.utc)
    infos = [AllocFileInfo(name, False, 1, "-rw-r--r--", now)
             for name in ("web.stdout.0", "web\u200b.stdout.0", "web.stdout.0\U000e0020")]
    text = display.listing_text(infos, path="alloc/logs", now=now)
    page = display.listing_html(infos, path="alloc/logs", now=now)
    for out in (text, page):
        assert "web\\u200b.stdout.0" in out and "web.stdout.0\\U000e0020" in out
        assert "\u200b" not in out and "\U000e0020" not in out
