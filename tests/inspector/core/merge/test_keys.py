"""The merge keys of a chunk in bulk are the rule's, line by line: the
stamp layout a source writes stands for the rule only where it gives the
same key (a stamp out of range, another layout, a line without a time, a
clock going backwards, a zone that is not UTC all keep the rule)."""

from __future__ import annotations

import itertools
import random

import pytest

from inspector.core.merge.keys import Shape, chunk_keys
from inspector.core.stamps import LOWEST, line_stamp


def rule(lines: list[bytes], run: bytes) -> list[bytes]:
    """The keys by the rule, one line at a time: the latest time so far."""
    return list(itertools.accumulate((line_stamp(line) or LOWEST for line in lines), max,
                                     initial=run))[1:]


def keyed(chunks: list[list[bytes]], skip: int = 0) -> list[bytes]:
    """The keys of ``chunks`` read one after the other, as a source is."""
    shape, run, out = None, LOWEST, []
    for chunk in chunks:
        keys, shape = chunk_keys([b"T" * skip + line for line in chunk], skip, shape, run)
        if keys:
            run = keys[-1]
        out += keys
    return out


ODD_LINES = [
    b"2026-11-28T10:15:01.1234Z INFO ok",
    b"    at com.example.Trace(Trace.java:12)",
    b"2026-13-28T10:15:02.1234Z month 13 is no time",
    b"2026-11-28T10:15:61.1234Z second 61: the rule stops at the minute",
    b"2026-11-28T10:15:03.12345Z one more digit of fraction",
    b"2026-11-28T10:15:04.1234+02:00 a zone east",
    b"2026-11-28T09:00:00.0000Z the clock went back",
    b"2026-11-28T10:15:05.1234Zulu no zone, the same instant",
    b"2026-11-28T10:15",
    b"",
    b"level=info ts=1732795200 msg=epoch",
    b"[pid 7] 2026-11-28T10:15:06.1234Z a stamp further in",
    b"2026-11-00T10:15:07.1234Z day 0",
    b"2026-11-28T24:15:07.1234Z hour 24",
    b"2026-11-28T23:59:60.1234Z a leap second",
]


def test_a_regular_source_gets_the_rules_keys():
    lines = [b"2026-11-28T10:%02d:%02d.%04dZ INFO line %d" % (i // 60 % 60, i % 60, i, i)
             for i in range(5000)]
    chunks = [lines[i:i + 700] for i in range(0, len(lines), 700)]
    assert keyed(chunks) == rule(lines, LOWEST)


@pytest.mark.parametrize("seed", range(20))
def test_any_mix_of_lines_gets_the_rules_keys(seed):
    rnd = random.Random(seed)
    regular = [b"2026-11-28T10:15:%02d.%04dZ INFO" % (rnd.randrange(60), rnd.randrange(10000))
               for _ in range(50)]
    lines = sorted(regular) + [rnd.choice(ODD_LINES + regular) for _ in range(300)]
    cuts = sorted(rnd.sample(range(1, len(lines)), 6))
    chunks = [lines[a:b] for a, b in zip([0] + cuts, cuts + [len(lines)], strict=True)]
    assert keyed(chunks) == rule(lines, LOWEST)
    assert keyed(chunks, skip=9) == rule(lines, LOWEST)  # after a tag


@pytest.mark.parametrize("first", [
    b"2026/11/28 10:15:00 go's log", b"2026-11-28 10:15:00,123 python's",
    b"2026-11-28T10:15:00z lower zulu"])
def test_other_layouts_and_lines_that_only_look_alike(first):
    shape = Shape.of(first)
    assert shape is not None
    twin = first[:shape.width - 1].replace(b"28", b"29", 1)
    lines = [first, twin + first[shape.width - 1:], twin + b".5 more fraction",
             twin + b"+01:00 zoned", first[:10] + b" date alone"]
    assert keyed([lines]) == rule(lines, LOWEST)


@pytest.mark.parametrize("line", [b"2026-11-28T10:15:00+02:00 zoned", b"2026-11-28 a date",
                                  b"ts=1732795200 epoch", b"2026-11-28T10:15 x",
                                  b"x 2026-11-28T10:15:00Z later in the line"])
def test_no_shape_where_it_would_not_be_the_rule(line):
    assert Shape.of(line) is None or line.startswith(b"2026-11-28T10:15 ")
    assert keyed([[line, line]]) == rule([line, line], LOWEST)


def test_a_source_that_changes_layout_keeps_the_rule():
    old = [b"2026-11-28T10:15:%02dZ old" % i for i in range(30)]
    new = [b"2026/11/28 10:16:%02d new" % i for i in range(30)]
    assert keyed([old, new[:10], new[10:]]) == rule(old + new, LOWEST)


def test_a_line_longer_than_a_piece_goes_out_in_pieces_with_its_time():
    """The one-pass merge (``logs --merge``): a long line's pieces keep the
    time its start showed, each after its source's tag."""
    from inspector.core.merge.stream import PIECE, SourceLines, merged_lines

    start = b"2024-01-01T10:00:05Z "  # and a piece that starts like a later time: no time
    long_line = start + b"x" * (PIECE - len(start)) + b"2024-01-01T10:00:09Z" + b"y" * 2 * PIECE
    logs = [long_line + b"\n2024-01-01T10:00:07Z after\n",
            b"2024-01-01T10:00:04Z before\n2024-01-01T10:00:06Z mid\n"]
    tags = (b"a ", b"b ")
    sources = [SourceLines(i, lambda o, n, d=data: d[o:o + n], lambda d=data: len(d), 0,
                           prefix=tags[i]) for i, data in enumerate(logs)]
    out = [line for batch in merged_lines(sources) for line in batch]
    pieces = -(-len(long_line) // PIECE)
    assert [line[:2] for line in out] == [b"b "] + [b"a "] * pieces + [b"b ", b"a "]
    assert b"".join(line[2:] for line in out[1:1 + pieces]) == long_line
    assert max(len(line) for line in out) <= PIECE + 2
    assert out[-2:] == [b"b 2024-01-01T10:00:06Z mid", b"a 2024-01-01T10:00:07Z after"]
