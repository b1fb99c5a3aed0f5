"""`e`/`E`: the next and previous error line, found by a chunked scan that
must agree with judging every line by its level, whatever the chunking, and
read each byte about once."""

from __future__ import annotations

import random

import pytest

from inspector.core import levelscan
from inspector.core.levels import ERROR, find_level_line, level_span
from inspector.core.search import SearchCancelled


class Counted:
    """A reader over bytes that counts what it hands out."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.bytes = 0

    def __call__(self, offset: int, length: int) -> bytes:
        piece = self.data[offset:offset + length]
        self.bytes += len(piece)
        return piece


def reference(data: bytes) -> list[tuple[int, int]]:
    """(token offset, length) of every error line, judging each line whole."""
    found, pos = [], 0
    for line in data.split(b"\n"):
        text = line.decode("utf-8", "surrogateescape")
        span = level_span(text)
        if span is not None and span[2] == ERROR:
            begin = len(text[:span[0]].encode("utf-8", "surrogateescape"))
            length = len(text[span[0]:span[1]].encode("utf-8", "surrogateescape"))
            found.append((pos + begin, length))
        pos += len(line) + 1
    return found


TIMESTAMP = "2026-11-28T10:00:00.000Z"
PIECES = [
    # error lines, in every shape levels.py knows
    "{ts} ERROR [web] upstream refused", "{ts} [ERR] x", "ERROR:root:boom", "FATAL now",
    "{ts} FTL x", "{ts} CRIT disk", "CRITICAL: x", "{ts} PANIC x", "EMERG x", "{ts} ALERT x",
    "panic: runtime error", "fatal error: all goroutines are asleep",
    "E1128 10:00:00.000000 1 x.go:1] boom", "F1128 10:00:00.000000 1 x.go:1] dead",
    "ts={ts} level=error msg=x", "ts={ts} LEVEL=Error msg=x", 'lvl="ERR" msg=x',
    "severity=critical msg=x", "sever\u0130ty=alert x", "\u017feverity=fatal x",
    '{{"level":"error","msg":"x"}}', '{{"Level" :  "Fatal"}}', '{{"severity":\u00a0"dpanic"}}',
    '{{"lvl": "ftl"}}', "{ts} ERROR caf\u00e9 \u2603 non-ASCII before and after",
    "{ts} ERROR with a windows ending\r",
    "[{ts}][14][error][main] envoy", "[{ts}][7][critical][assert] envoy",
    "2026/11/28 10:00:00 [crit] 31#31: nginx", "2026/11/28 10:00:00 [emerg] 1#1: nginx",
    # lines that only look like one
    "{ts} INFO retried after ERROR", "{ts} WARN saw FATAL in the config", "INFO ERRORS=0",
    "ts={ts} level=info err=null", '{{"level":"info","msg":"error"}}', "xERROR inside a word",
    "{ts} DEBUG PANICKED? no", "notpanic: x", " panic: not at the start", "I1128 10:00:00 ok",
    "E11 10:00:00 too short", "level=errors are plural", "{ts} TRACE cert RT R RR",
    "a line about the ALERTS", "stderr interrupt terraform", "", "plain text",
    "caf\u00e9 \u00e9t\u00e9 ERROR\u00e9", "{ts} INFO \u00e9" + "x" * 150 + " ERROR late",
    "[{ts}][14][warning][config] envoy", "[{ts}][1][info][main] then [error]",
    "2026/11/28 10:00:00 [warn] 1#1: nginx", "[errors] plural", "[Error] mixed case",
    "x" * 130 + " [error] too far in",
]


def make_log(seed: int, lines: int) -> bytes:
    rnd = random.Random(seed)
    out = []
    for _ in range(lines):
        piece = rnd.choice(PIECES).format(ts=TIMESTAMP)
        if rnd.random() < 0.05:
            piece = "y" * rnd.randrange(100, 9000) + " " + piece  # tokens pushed far in
        out.append(piece)
    data = "\n".join(out).encode("utf-8", "surrogateescape")
    if rnd.random() < 0.5:
        data += b"\n"
    return data + bytes([0xFF]) * rnd.randrange(0, 2)  # and an undecodable byte at the end


def walk_forward(read, size: int, start: int = 0) -> list[tuple[int, int]]:
    found, pos = [], start
    while (match := find_level_line(read, size, pos)) is not None:
        found.append((match.offset, match.length))
        pos = match.offset + 1
    return found


def walk_backward(read, size: int) -> list[tuple[int, int]]:
    found, pos = [], size
    while (match := find_level_line(read, size, pos, backward=True)) is not None:
        found.append((match.offset, match.length))
        pos = match.offset
    return found


@pytest.fixture(params=[(64, 256), (4096, 16384), (levelscan.FIRST_CHUNK, levelscan.CHUNK_SIZE)],
                ids=["tiny-chunks", "small-chunks", "default-chunks"])
def chunks(request, monkeypatch):
    first, most = request.param
    monkeypatch.setattr(levelscan, "FIRST_CHUNK", first)
    monkeypatch.setattr(levelscan, "CHUNK_SIZE", most)
    return request.param


@pytest.mark.parametrize("seed", range(6))
def test_every_error_line_forward_and_backward_as_judging_every_line(seed, chunks):
    data = make_log(seed, 400)
    expected = reference(data)
    assert expected  # the mix has error lines
    read = Counted(data)
    assert walk_forward(read, len(data)) == expected
    assert walk_backward(read, len(data)) == expected[::-1]


@pytest.mark.parametrize("seed", range(3))
def test_from_any_offset_the_next_and_previous_token(seed, chunks):
    data = make_log(100 + seed, 200)
    expected = reference(data)
    rnd = random.Random(seed)
    read = Counted(data)
    for start in [0, len(data), *(rnd.randrange(len(data)) for _ in range(40))]:
        following = [t for t in expected if t[0] >= start]
        match = find_level_line(read, len(data), start)
        assert (match.offset, match.length) == following[0] if following else match is None
        preceding = [t for t in expected if t[0] < start]
        match = find_level_line(read, len(data), start, backward=True)
        assert (match.offset, match.length) == preceding[-1] if preceding else match is None


def test_a_log_where_every_line_names_error_is_read_once():
    """9 MB of "INFO retried after ERROR": every line a candidate, none an
    error line but the last: each byte is read about once, never a read per
    candidate line."""
    line = f"{TIMESTAMP} INFO retried after ERROR connecting to the backend pool\n".encode()
    data = line * (9_000_000 // len(line)) + f"{TIMESTAMP} ERROR gave up\n".encode()
    read = Counted(data)
    match = find_level_line(read, len(data), 0)
    assert data[match.offset:match.offset + match.length] == b"ERROR"
    assert match.offset > len(data) - 100
    assert read.bytes < 1.1 * len(data) + levelscan.HEAD_BYTES
    read.bytes = 0
    match = find_level_line(read, len(data), match.offset, backward=True)
    assert match is None and read.bytes < 1.1 * len(data) + 2 * levelscan.HEAD_BYTES


def test_a_line_longer_than_a_chunk_is_judged_by_its_head(monkeypatch):
    monkeypatch.setattr(levelscan, "FIRST_CHUNK", 1024)
    monkeypatch.setattr(levelscan, "CHUNK_SIZE", 4096)
    data = (b"ERROR at the start of a long line " + b"z" * 50_000 + b"\n"
            + b"INFO " + b"ERROR " * 20_000 + b"\n" + b"x" * 30_000 + b" ERROR far in\n"
            + b"level=fatal last\n")
    expected = reference(data)
    assert len(expected) == 2
    assert walk_forward(Counted(data), len(data)) == expected
    assert walk_backward(Counted(data), len(data)) == expected[::-1]


def test_a_scan_can_be_cancelled():
    import threading

    cancel = threading.Event()
    cancel.set()
    data = b"INFO nothing\n" * 1000
    with pytest.raises(SearchCancelled):
        find_level_line(Counted(data), len(data), 0, cancel=cancel)
    with pytest.raises(SearchCancelled):
        find_level_line(Counted(data), len(data), len(data), backward=True, cancel=cancel)


def test_level_span_agrees_with_the_plain_rules_on_random_lines():
    """level_span finds words by runs of capitals and skips the field search
    on lines without a v: on random lines it agrees with the plain regexes."""
    import re

    from inspector.core import levels

    words = sorted(levels._WORDS, key=len, reverse=True)
    word_re = re.compile(r"(?<![\w.-])(" + "|".join(words) + r")(?![\w-])")
    field_re = re.compile(
        r"""(?:^|[\s{,])(?:"(?:level|lvl|severity)"\s*:\s*"|(?:level|lvl|severity)=(?:"?))"""
        r"""([A-Za-z]+)""", re.IGNORECASE)
    bracket_re = re.compile(r"\[(error|err|warning|warn|critical|crit|alert|emerg|fatal|panic"
                            r"|info|notice|debug|trace)\]")

    def plain(line: str):
        for found in [re.match(r"(panic|fatal error):", line)]:
            if found:
                return found.start(1), found.end(1), ERROR
        found = re.match(r"([IWEF])[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}", line)
        if found:
            return found.start(1), found.end(1), levels._KLOG[found.group(1)]
        best = None
        found = field_re.search(line, 0, 2048)
        if found and levels._VALUES.get(found.group(1).lower()):
            best = (found.start(1), found.end(1), levels._VALUES[found.group(1).lower()])
        found = word_re.search(line, 0, levels.WORD_WINDOW)
        if found and (best is None or found.start() < best[0]):
            best = (found.start(1), found.end(1), levels._WORDS[found.group(1)])
        found = bracket_re.search(line, 0, levels.WORD_WINDOW)
        if found and (best is None or found.start(1) < best[0]):
            best = (found.start(1), found.end(1), levels._VALUES[found.group(1)])
        return best

    rnd = random.Random(7)
    tokens = words + [w.lower() for w in words] + ["\x1c", "\x1f", "\r", "\x0b", "=", '"', '":"'] + [
        "level=", "LEVEL=", "lvl=\"", '"severity":', " ", " ", "-", ".", "_", "[", "]", ":",
        "x", "ERRORS", "INFOX", "\u00e9", "9", "{", ",", "\t", "panic:", "E1128 10:00:00",
        "ſeverity=", "sever\u0131ty=", "ERROR-", "-ERROR", ".WARN", "WARN.", "A", "AB",
        "[error]", "[warning]", "[crit]", "[info]", "[errors]"]
    for _ in range(20_000):
        line = "".join(rnd.choice(tokens) for _ in range(rnd.randrange(1, 40)))
        expected = plain(line)
        assert levels.level_span(line) == expected, line
        if line.isascii():  # judged in place, inside a chunk, as the scan does
            chunk = b"x\n" + line.encode() + b"\nERROR next line"
            span = levels.ascii_level_span(chunk, 2, 2 + len(line))
            assert span == (None if expected is None else
                            (expected[0] + 2, expected[1] + 2, expected[2])), line
