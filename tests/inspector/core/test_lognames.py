"""One rule for Nomad's rotated log names: N in ASCII digits, everywhere."""

from __future__ import annotations

import os

import pytest

from allocdir.testing import temp_alloc_dir
from inspector.core.follow import next_rotation
from inspector.core.tree.order import natural_key
from inspector.core.rotation import LogSource, group_rotations, parse_rotated
from inspector.core.viewing import is_text

# Digits a task can put in a name that are not ASCII: superscript two (which
# str.isdigit() accepts and int() refuses), Arabic-Indic three, fullwidth
# three and NKo three (which int() reads as 3).
OTHER_DIGITS = ["\u00b2", "\u0663", "\uff13", "\u07c3"]


@pytest.mark.parametrize("digit", OTHER_DIGITS)
def test_a_suffix_in_other_digits_is_not_a_rotated_log(digit):
    name = f"web.stdout.{digit}"
    assert parse_rotated(name) is None
    assert next_rotation(f"alloc/logs/{name}") is None
    assert group_rotations([name, "web.stdout.0"]) == {"web.stdout": [(0, "web.stdout.0")]}
    assert not is_text(f"alloc/logs/{name}", "application/octet-stream")
    # Sorted as text, not as the number int() would read.
    assert natural_key(f"a{digit}") == f"a{digit}"


def test_ascii_suffixes_still_parse_and_follow():
    from inspector.core.lognames import is_set_name

    assert parse_rotated("web.stdout.007") == ("web", "stdout", 7)
    assert next_rotation("alloc/logs/my.task.stderr.19") == "alloc/logs/my.task.stderr.20"
    assert next_rotation("web.stdout.0") == "web.stdout.1"
    assert next_rotation("alloc/logs/web.stdout.1\n") is None  # no trailing-newline match
    assert is_text("alloc/logs/web.stdout.3", "application/octet-stream")
    assert natural_key("web.stdout.10") > natural_key("web.stdout.9")
    assert is_set_name("web.stdout") and is_set_name("my.task.stderr")
    assert not is_set_name(".stdout") and not is_set_name("web.stdout.1")


def test_a_file_named_with_other_digits_is_not_read_into_the_set():
    with temp_alloc_dir() as alloc:
        logs = os.path.join(alloc.alloc_dir, "alloc", "logs")
        for name, data in [("web.stdout.0", b"zero\n"), ("web.stdout.1", b"one\n"),
                           ("web.stdout.\u0663", b"planted by the task\n"),
                           ("web.stdout.\u00b2", b"planted too\n")]:
            with open(os.path.join(logs, name), "wb") as f:
                f.write(data)
        source = LogSource(alloc, "alloc/logs/web.stdout.0")
        try:
            assert [s.name for s in source.segments()] == ["web.stdout.0", "web.stdout.1"]
            assert source.read(0, 100) == b"zero\none\n"
            source.refresh(force=True)
            assert source.read(0, 100) == b"zero\none\n"
        finally:
            source.close()
