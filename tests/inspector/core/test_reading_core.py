"""The shared reading logic: rotation sets, regex search, counting, the line
index, going to a time, log levels (no UI toolkit involved)."""

from __future__ import annotations

import bisect
import os
import random
import threading

import pytest
from rich.text import Text

from allocdir.testing import temp_alloc_dir
from inspector.core.levels import ERROR, INFO, WARN, colour_levels, find_level_line, level_of
from inspector.core.lineindex import LineIndex
from inspector.core.pager import FsSource, Pager
from inspector.core.rotation import LogSource, group_rotations, parse_rotated
from inspector.core.search import (
    Match, SearchCancelled, SearchPattern, count_matching_lines, search, search_backward,
    search_forward,
)
from inspector.core.timestamps import find_time, line_stamp, parse_query


def reader(data: bytes):
    return lambda offset, length: data[offset : offset + length]


@pytest.fixture
def alloc():
    with temp_alloc_dir() as alloc_dir:
        yield alloc_dir


def write(alloc, rel: str, data: bytes, mode: str = "wb") -> str:
    path = os.path.join(alloc.alloc_dir, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as fh:
        fh.write(data)
    return path


# -- rotation sets -----------------------------------------------------------


def test_rotated_names_and_groups():
    assert parse_rotated("web.stdout.12") == ("web", "stdout", 12)
    assert parse_rotated("my.task.stderr.0") == ("my.task", "stderr", 0)
    assert parse_rotated("web.stdout") is None and parse_rotated(".stdout.1") is None
    groups = group_rotations(["web.stdout.10", "web.stdout.2", "web.stderr.0", "x.log"])
    assert groups == {"web.stdout": [(2, "web.stdout.2"), (10, "web.stdout.10")],
                      "web.stderr": [(0, "web.stderr.0")]}


def test_a_set_reads_as_one_log_in_order_of_n(alloc):
    write(alloc, "alloc/logs/web.stdout.0", b"zero\nsplit-")
    write(alloc, "alloc/logs/web.stdout.1", b"across\none\n")
    write(alloc, "alloc/logs/web.stdout.10", b"ten\n")
    write(alloc, "alloc/logs/web.stdout.2", b"two\n")
    write(alloc, "alloc/logs/web.stderr.0", b"other stream\n")
    source = LogSource(alloc, "alloc/logs/web.stdout.1")
    try:
        assert source.is_set and source.name == "web.stdout"
        assert [s.name for s in source.segments()] == [
            "web.stdout.0", "web.stdout.1", "web.stdout.2", "web.stdout.10"]
        data = source.read(0, 1000)
        assert data == b"zero\nsplit-across\none\ntwo\nten\n"
        assert source.size() == len(data)
        seg, local = source.locate(data.index(b"two"))
        assert (seg.name, local) == ("web.stdout.2", 0)
        assert source.start_of("alloc/logs/web.stdout.1") == len(b"zero\nsplit-")
        pager = Pager(source, height=10)
        assert [r.text.plain for r in pager.screen()] == [
            "zero", "split-across", "one", "two", "ten"]
    finally:
        source.close()


def test_a_set_follows_rotation_and_drops_the_head(alloc):
    log = "alloc/logs/web.stdout.{}"
    write(alloc, log.format(0), b"a0\na1\n")
    write(alloc, log.format(1), b"b0\nb1\n")
    source = LogSource(alloc, log.format(0))
    pager = Pager(source, height=2)
    try:
        pager.goto(source.start_of(log.format(1)))
        assert pager.screen()[0].text.plain == "b0"
        write(alloc, log.format(2), b"c0\n")
        os.unlink(os.path.join(alloc.alloc_dir, log.format(0)))
        change = source.refresh(force=True)
        assert change.added == ["web.stdout.2"] and change.removed == ["web.stdout.0"]
        assert change.dropped == 6 and "web.stdout.0 rotated away" in change.notices
        pager._rebase(change.dropped)
        assert pager.screen()[0].text.plain == "b0"  # the same line, at its new offset
        assert source.read(0, 100) == b"b0\nb1\nc0\n"
    finally:
        source.close()


def test_pager_sync_picks_up_rotation(alloc, monkeypatch):
    import inspector.core.rotation as rotation

    monkeypatch.setattr(rotation, "REFRESH_INTERVAL", 0.0)
    write(alloc, "alloc/logs/api.stderr.0", b"first\n")
    source = LogSource(alloc, "alloc/logs/api.stderr.0")
    pager = Pager(source, height=5)
    try:
        write(alloc, "alloc/logs/api.stderr.1", b"second\n")
        assert pager.sync()
        pager.tail()
        assert [r.text.plain for r in pager.screen()] == ["first", "second"]
    finally:
        source.close()


def test_deleted_file_is_read_through_its_descriptor_with_a_notice(alloc):
    path = write(alloc, "alloc/data/app.log", b"kept\n")
    source = FsSource(alloc, "alloc/data/app.log")
    try:
        os.unlink(path)
        change = source.refresh()
        assert change.notices == ["deleted: still reading the open file"]
        assert source.read(0, 10) == b"kept\n" and source.deleted
        assert not source.refresh()  # said once
    finally:
        source.close()


def test_closed_members_are_never_read_through_a_reused_descriptor(alloc):
    write(alloc, "alloc/logs/web.stdout.0", b"x" * 1000)
    source = LogSource(alloc, "alloc/logs/web.stdout.0")
    copy = source.snapshot()
    source.close()
    assert source.read(0, 10) == b""
    assert copy.read(0, 10) == b"x" * 10
    copy.close()


# -- search ------------------------------------------------------------------


def test_regex_search_and_literal_fast_path():
    data = b"ok\nERROR: conn to db refused\nwarn\nconn accepted\n"
    for text, expected in [("ERR.R", Match(3, 5)), ("conn.*refused", Match(10, 18)),
                           (r"^warn$", Match(29, 4)), ("db", Match(18, 2)),
                           (r"ERR\.R", None), (r"\d+", None)]:
        assert search_forward(reader(data), len(data), SearchPattern.parse(text), 0) == expected
    assert SearchPattern.parse("conn.*refused").prefilter == b"refused"
    assert SearchPattern.parse(r"a\.b").is_literal and SearchPattern.parse(r"a\.b").needle == b"a.b"
    assert not SearchPattern.parse("a.b").is_literal
    with pytest.raises(ValueError, match="invalid regex"):
        SearchPattern.parse("(unclosed")


def test_smart_case_ignores_escapes():
    assert SearchPattern.parse(r"\S+ error").ignore_case
    assert not SearchPattern.parse("Error").ignore_case
    data = b"x\nAn ERROR here\n"
    assert search_forward(reader(data), len(data), SearchPattern.parse("an err.r"), 0) == Match(2, 8)


@pytest.mark.parametrize("text", ["needle", "need.e", "NEEDLE", "ne+dle", "(?i)NEEDLE",
                                  "alpha|NEEDLE", "(?:beta|nee) dle", "x{30} ne"])
@pytest.mark.parametrize("chunk", [7, 64, 1000, 1 << 20])
def test_forward_and_backward_agree_with_a_plain_scan(text, chunk):
    rnd = random.Random(hash((text, chunk)) & 0xFFFF)
    lines = []
    for _ in range(400):
        words = [rnd.choice(["alpha", "beta", "needle", "NEEDLE", "nee", "dle", "x" * 30])
                 for _ in range(rnd.randrange(0, 5))]
        lines.append(" ".join(words))
    data = ("\n".join(lines) + "\n").encode()
    pattern = SearchPattern.parse(text)
    starts = [m.start() for line_start, line in _lines(data)
              for m in pattern.bytes_regex.finditer(data, line_start, line_start + len(line))]
    # the first match of each line, as a line-by-line scan finds them
    for start in rnd.sample(range(len(data)), 30):
        later = [s for s in starts if s >= start]
        found = search_forward(reader(data), len(data), pattern, start, chunk_size=chunk,
                               first_chunk=min(chunk, 16))
        assert (found.offset if found else None) == (later[0] if later else None)
        earlier = [s for s in starts if s < start]
        found = search_backward(reader(data), pattern, start, chunk_size=chunk,
                                first_chunk=min(chunk, 16))
        assert (found.offset if found else None) == (earlier[-1] if earlier else None)
    expected_lines = sum(1 for s, line in _lines(data) if pattern.bytes_regex.search(line))
    assert count_matching_lines(reader(data), len(data), pattern, chunk_size=chunk) == \
        expected_lines


def _lines(data: bytes):
    pos = 0
    for line in data.split(b"\n")[:-1]:
        yield pos, line
        pos += len(line) + 1


def test_dense_literal_and_alternation_fall_back_to_the_regex():
    data = b"".join(b"key=%d\n" % (i % 997) for i in range(50_000)) + b"key=12345\nend\n"
    for text in [r"key=\d{5}", r"key=\d{5}|zzz", r"(?i)KEY=\d{5}"]:
        pattern = SearchPattern.parse(text)
        assert pattern.needles is not None
        found = search_forward(reader(data), len(data), pattern, 0, chunk_size=64 * 1024)
        assert found is not None and data[found.offset:].startswith(b"key=12345"), text
        found = search_backward(reader(data), pattern, len(data), chunk_size=64 * 1024)
        assert found is not None and data[found.offset:].startswith(b"key=12345"), text
        assert count_matching_lines(reader(data), len(data), pattern, chunk_size=4096) == 1
    assert SearchPattern.parse("refused|unreachable").needles == (b"refused", b"unreachable")
    assert SearchPattern.parse("a|.*").needles is None


def test_search_wraps_around_and_says_so():
    data = b"one needle\ntwo\nthree needle\nfour\n"
    pattern = SearchPattern.parse("needle")
    found = search(reader(data), len(data), pattern, 25)
    assert found.match == Match(4, 6) and found.wrapped
    found = search(reader(data), len(data), pattern, 3, backward=True)
    assert found.match == Match(21, 6) and found.wrapped
    assert search(reader(data), len(data), pattern, 25, wrap=False).match is None
    assert not search(reader(data), len(data), pattern, 0).wrapped


def test_count_is_cancellable_and_reports_progress():
    data = b"match\nno\n" * 10_000
    seen = []
    cancel = threading.Event()

    def progress(count, offset):
        seen.append((count, offset))
        if len(seen) == 2:
            cancel.set()

    with pytest.raises(SearchCancelled):
        count_matching_lines(reader(data), len(data), SearchPattern.parse("match"),
                             chunk_size=1000, cancel=cancel, progress=progress)
    assert seen[0][0] > 0 and seen[1][1] > seen[0][1]
    assert count_matching_lines(reader(data), len(data), SearchPattern.parse("match")) == 10_000
    assert count_matching_lines(reader(data), len(data), SearchPattern.parse("m.tch|^no")) == \
        20_000


# -- filter in the pager -------------------------------------------------------


def test_filter_shows_only_matching_lines_both_ways():
    data = b"".join(b"%05d %s\n" % (i, b"ERROR" if i % 97 == 0 else b"fine") for i in range(5000))

    class Source:
        def size(self):
            return len(data)

        def read(self, offset, length):
            return data[offset : offset + length]

    pager = Pager(Source(), height=5)
    pager.set_filter(SearchPattern.parse("ERROR"))
    assert [r.text.plain for r in pager.screen()] == [
        "00000 ERROR", "00097 ERROR", "00194 ERROR", "00291 ERROR", "00388 ERROR"]
    pager.page_down()
    assert pager.screen()[0].text.plain == "00485 ERROR"
    pager.tail()
    assert pager.screen()[-1].text.plain == "04947 ERROR"
    pager.up(2)
    assert pager.screen()[0].text.plain == "04365 ERROR"
    pager.goto(data.index(b"02000 "))
    assert pager.screen()[0].text.plain == "02037 ERROR"
    pager.set_filter(None)
    assert pager.screen()[0].text.plain == "02037 ERROR"
    pager.down(1)
    assert pager.screen()[0].text.plain == "02038 fine"


# -- line index ----------------------------------------------------------------


def test_line_index_answers_both_ways_and_grows():
    rnd = random.Random(7)
    data = b"".join(b"y" * rnd.randrange(0, 300) + b"\n" for _ in range(5000))
    box = [data[: len(data) // 2]]
    index = LineIndex(lambda o, n: box[0][o : o + n], lambda: len(box[0]), step=4096,
                      chunk=16384)
    assert index.line_of(100_000) is None  # not counted yet: no answer, no wait
    index.build()
    box[0] = data  # the file grew
    assert not index.complete
    index.build()
    starts = [0] + [i + 1 for i, c in enumerate(data) if c == 10]
    for offset in rnd.sample(range(len(data)), 200):
        assert index.line_of(offset) == bisect.bisect_right(starts, offset)
    for number in rnd.sample(range(1, 5001), 200):
        assert index.offset_of_line(number) == starts[number - 1]
    assert index.offset_of_line(5002) is None
    assert index.newlines == 5000
    assert len(index._offsets) <= len(data) // 4096 + 2  # sparse: one entry per step


# -- timestamps ------------------------------------------------------------------


def test_go_to_a_time_by_bisection():
    lines = []
    for hour in range(24):
        for minute in range(0, 60, 5):
            lines.append(f"2026-11-28T{hour:02d}:{minute:02d}:00.000Z INFO tick\n")
            lines.append("    at some.stack.frame(line 12)\n")
    data = "".join(lines).encode()
    reads = []

    def read(offset, length):
        reads.append(length)
        return data[offset : offset + length]

    offset = find_time(read, len(data), parse_query("2026-11-28T10:02"))
    assert data[offset:].startswith(b"2026-11-28T10:05")
    assert find_time(reader(data), len(data), parse_query("2026-11-27")) == 0
    assert find_time(reader(data), len(data), parse_query("2026-11-29")) is None
    reference = line_stamp(data[:40])
    offset = find_time(reader(data), len(data), parse_query("13:00", reference))
    assert data[offset:].startswith(b"2026-11-28T13:00")
    assert line_stamp(b'{"time":"2026-11-28 10:00:01,5","msg":"x"}') == \
        parse_query("2026-11-28T10:00:01.5")
    assert line_stamp(b"no time here") is None
    with pytest.raises(ValueError):
        parse_query("yesterday")


@pytest.mark.parametrize("typed", ["2026-11-28T25:00", "T25:00", "10:60", "2026-02-30",
                                   "2026-13-01", "2026-00-10T10:00"])
def test_a_time_that_does_not_exist_is_refused(typed):
    with pytest.raises(ValueError, match="not a valid"):
        parse_query(typed, b"20261128000000000000000")


# -- levels --------------------------------------------------------------------


@pytest.mark.parametrize("line, level", [
    ("2026-11-28T10:00:00Z ERROR [web] boom", ERROR),
    ("2026-11-28T10:00:00.000Z [WARN]  agent: slow", WARN),
    ('{"ts":"2026","level":"info","msg":"up"}', INFO),
    ('time=2026 level=error msg="db down"', ERROR),
    ("panic: runtime error: index out of range", ERROR),
    ("E1128 10:00:00.000000   1 main.go:1] failed", ERROR),
    ("INFO retried after ERROR", INFO),
    ("all fine, no errors", None),
    ("x" * 200 + " ERROR late in the line", None),
    ("[2026-11-28 10:00:00.000][14][warning][config] envoy: slow", WARN),
    ("[2026-11-28 10:00:00.000][14][critical][main] envoy: abort", ERROR),
    ("2026/11/28 10:00:00 [error] 31#31: *1 connect() failed", ERROR),
    ("2026/11/28 10:00:00 [warn] 31#31: nginx", WARN),
    ("[info] then [error]", INFO),
    ("[errors] are not a level", None),
])
def test_levels(line, level):
    assert level_of(line) == level


def test_level_colour_only_on_uncoloured_lines():
    text = colour_levels(Text("2026 WARN disk"))
    assert text.spans and text.spans[0].start == 5 and "yellow" in str(text.spans[0].style)
    coloured = Text("x WARN y", spans=[])
    coloured.stylize("blue", 0, 1)
    assert len(colour_levels(coloured).spans) == 1


def test_next_error_line_skips_lines_whose_level_is_not_error():
    data = (b"INFO start\nINFO retried after ERROR\nWARN slow\n"
            b'{"level":"error","msg":"x"}\nINFO ok\npanic: boom\n')
    found = find_level_line(reader(data), len(data), 0)  # the match covers the level token
    assert data[found.offset - 9:found.offset + found.length] == b'"level":"error'
    found = find_level_line(reader(data), len(data), found.offset + 10)
    assert data[found.offset:].startswith(b"panic")
    found = find_level_line(reader(data), len(data), found.offset, backward=True)
    assert data[found.offset - 9:found.offset + found.length] == b'"level":"error'
    assert find_level_line(reader(data), len(data), found.offset, backward=True) is None
