"""The export's chunk work, checked against a plain line-by-line answer:
matching lines with their context carried from chunk to chunk, and the
formats."""

from __future__ import annotations

import random

import pytest

from inspector.core.export import ESCAPED, PLAIN, RAW, _Context, convert, matching_spans
from inspector.core.search import SearchPattern
from inspector.core.session.loglines import _chunks
from inspector.core.structured.pattern import parse_filter


class _Source:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def size(self) -> int:
        return len(self.data)

    def read(self, offset: int, length: int) -> bytes:
        return self.data[offset:offset + length]


def _exported(data: bytes, pattern, context: int, size: int) -> list[str]:
    carried = _Context(context) if context else None
    out = []
    for chunk in _chunks(_Source(data), None, None, None, size):
        spans = matching_spans(pattern, chunk.data, len(chunk.data))
        if carried is None:
            out += [chunk.data[a:b] for a, b in spans]
        else:
            owed, spans = carried.spans(chunk.data, spans, len(chunk.data))
            out += [owed] + [chunk.data[a:b] for a, b in spans]
    return b"".join(out).decode().splitlines()


@pytest.mark.parametrize("text", ["X", "x+ X", "(?i)x x", "n>=3"])
def test_matches_and_context_are_grep_C_whatever_the_chunks(text):
    pattern = parse_filter(text)
    for trial in range(300):
        rnd = random.Random(trial)
        lines = [("x" * rnd.randrange(0, 8)) + (" X" if rnd.random() < 0.1 else "")
                 + f" n={rnd.randrange(5)}" for _ in range(rnd.randrange(1, 80))]
        data = ("\n".join(lines) + ("\n" if rnd.random() < 0.8 else "")).encode()
        context, size = rnd.randrange(0, 4), rnd.randrange(1, 90)
        hits = [i for i, line in enumerate(lines) if pattern.matches_line(line.encode())]
        keep = sorted({j for i in hits for j in range(i - context, i + context + 1)
                       if 0 <= j < len(lines)})
        assert _exported(data, pattern, context, size) == [lines[j] for j in keep], trial


def test_formats():
    line = b"a\tb \x1b[1mbold\x1b[0m \xe2\x80\xae rtl \x9b \xc2\x9b\n"
    assert convert(line, RAW) == line
    assert convert(line, PLAIN) == "a\tb bold \u202e rtl \ufffd \n".encode()
    assert convert(line, ESCAPED) == b"a\\tb \\x1b[1mbold\\x1b[0m \\u202e rtl \\x9b \\x9b\n"
    clean = b"just text\nand more\n"
    assert convert(clean, PLAIN) is clean and convert(clean, ESCAPED) is clean
    assert SearchPattern.parse("X").is_literal


class _Lines:
    """A document in memory read in small chunks, whatever size is asked."""

    def __init__(self, data: bytes, chunk: int) -> None:
        self.data, self.chunk = data, chunk

    @property
    def size(self) -> int:
        return len(self.data)

    def chunks(self, start=None, end=None, cancel=None, size=None):
        return _chunks(_Source(self.data), start, end, cancel, self.chunk)


def _tricky_lines() -> list[bytes]:
    """Lines (with their newline, the last without) that the chunked filter
    can get wrong: the needle twice on a line, folded case, CRLF, hostile
    bytes, a 1 MiB line."""
    rnd = random.Random(20)
    lines = []
    for i in range(4000):
        words = rnd.choice([b"ok", b"ERROR", b"error ERROR", b"Error", b"\x1b[31mERROR\x07",
                            b"\xff\xfe err\x00or", b"ERR OR"])
        lines.append(b"%d %s%s\n" % (i, words, b"\r" if i % 7 == 0 else b""))
    lines[2000] = b"ERROR " + b"y" * (1 << 20) + b"\n"
    lines[-1] = lines[-1].rstrip(b"\n")
    return lines


@pytest.mark.parametrize("fmt", [RAW, PLAIN, ESCAPED])
@pytest.mark.parametrize("needle", ["ERROR", "error"])
def test_a_filtered_export_is_the_matching_lines_whatever_the_chunks(tmp_path, fmt, needle):
    from inspector.core.export import ExportPlan, export_target, write_export

    lines = _tricky_lines()
    pattern = SearchPattern.parse(needle)  # lower case folds: "error" finds "ERROR" too
    matching = [line for line in lines if pattern.matches_line(line.rstrip(b"\n"))]
    assert 0 < len(matching) < len(lines)
    for chunk in (1000, 65536):
        target = export_target(str(tmp_path / f"out-{chunk}"), "/", [])
        outcome = write_export(_Lines(b"".join(lines), chunk),
                               ExportPlan(fmt=fmt, pattern=pattern), target, [])
        assert outcome.written, outcome.message()
        with open(target.path, "rb") as f:
            written = f.read()
        if fmt != RAW:  # after the three header lines
            written = written.split(b"\n", 3)[3]
        assert written == b"".join(convert(line, fmt) for line in matching), chunk
        assert outcome.lines == sum(line.endswith(b"\n") for line in matching)
