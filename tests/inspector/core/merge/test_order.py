"""The order of a merged stream: by time, ties by source order, lines
without a time after the line before them, clocks going backwards kept in
file order; and what a merge does with bad input."""

from __future__ import annotations

import os
import threading

import pytest

from inspector.core.merge import MAX_SOURCES, SourceSpec, alloc_sources, open_merged
from inspector.core.merge.sources import LogNameError, log_sources, tagged
from inspector.core.merge.stream import SourceLines, merged
from inspector.core.session.document import Outcome, View

LOGS = "alloc/logs"
VIEW = View(width=100, height=40)


def write(alloc, rel: str, text: str, mode: str = "w") -> str:
    path = os.path.join(alloc.alloc_dir, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as fh:
        fh.write(text)
    return path


def specs(alloc, *names: str) -> list[SourceSpec]:
    return tagged(SourceSpec(alloc, f"{LOGS}/{name}", "") for name in names)


def screen(alloc, *names: str, view: View = VIEW) -> tuple[list[str], object]:
    loaded = open_merged(specs(alloc, *names), view)
    lines = [f"{row.tag.plain} {row.plain}" for row in loaded.frame.rows]
    loaded.doc.close()
    return lines, loaded.frame


def stream(alloc, *names: str) -> list[str]:
    """The whole stream by the one-pass merge of the ``logs`` command."""
    sources = []
    for index, name in enumerate(names):
        path = os.path.join(alloc.alloc_dir, LOGS, name)
        with open(path, "rb") as fh:
            data = fh.read()
        sources.append(SourceLines(index, lambda o, n, d=data: d[o:o + n], lambda d=data: len(d),
                                   0))
    out = []
    for owners, lines in merged(sources):
        out += [f"{names[s]} {line.decode()}" for s, line in zip(owners, lines, strict=True)]
    return out


def test_equal_times_go_in_source_order_stably(alloc):
    write(alloc, f"{LOGS}/a.stdout.0", "2024-01-01T10:00:00Z a1\n2024-01-01T10:00:00Z a2\n")
    write(alloc, f"{LOGS}/b.stdout.0", "2024-01-01T10:00:00Z b1\n2024-01-01T10:00:00Z b2\n")
    lines, _ = screen(alloc, "b.stdout", "a.stdout")
    assert [line.rsplit(" ", 1)[1] for line in lines] == ["b1", "b2", "a1", "a2"]
    assert [line.rsplit(" ", 1)[1] for line in stream(alloc, "b.stdout.0", "a.stdout.0")] == \
        ["b1", "b2", "a1", "a2"]


def test_a_trace_stays_after_its_line(alloc):
    write(alloc, f"{LOGS}/a.stderr.0",
          "2024-01-01T10:00:01Z ERROR x\nTraceback:\n  at y\n2024-01-01T10:00:05Z ok\n")
    write(alloc, f"{LOGS}/b.stdout.0", "2024-01-01T10:00:02Z b\n")
    expected = ["a▸err 2024-01-01T10:00:01Z ERROR x", "a▸err Traceback:", "a▸err   at y",
                "b▸out 2024-01-01T10:00:02Z b", "a▸err 2024-01-01T10:00:05Z ok"]
    assert screen(alloc, "a.stderr", "b.stdout")[0] == expected
    assert [line.split(" ", 1)[1] for line in stream(alloc, "a.stderr.0", "b.stdout.0")] == \
        [line.split(" ", 1)[1] for line in expected]


def test_zones_compare_as_instants(alloc):
    """A skewed-looking clock: +02:00 at 12:00 is 10:00 UTC."""
    write(alloc, f"{LOGS}/a.stdout.0", "2024-01-01T12:00:30+02:00 a\n")
    write(alloc, f"{LOGS}/b.stdout.0", "2024-01-01T10:00:10Z b\n2024-01-01T10:00:50Z c\n")
    lines, _ = screen(alloc, "a.stdout", "b.stdout")
    assert [line.rsplit(" ", 1)[1] for line in lines] == ["b", "a", "c"]


def test_backwards_times_keep_file_order_and_are_said(alloc):
    write(alloc, f"{LOGS}/a.stdout.0",
          "2024-01-01T10:00:05Z a5\n2024-01-01T10:00:01Z a1\n2024-01-01T10:00:09Z a9\n")
    write(alloc, f"{LOGS}/b.stdout.0", "2024-01-01T10:00:03Z b3\n2024-01-01T10:00:07Z b7\n")
    lines, frame = screen(alloc, "a.stdout", "b.stdout")
    assert [line.rsplit(" ", 1)[1] for line in lines] == ["b3", "a5", "a1", "b7", "a9"]
    assert "times go backwards in a▸out" in frame.place.condition
    assert [line.rsplit(" ", 1)[1] for line in stream(alloc, "a.stdout.0", "b.stdout.0")] == \
        ["b3", "a5", "a1", "b7", "a9"]


def test_garbage_timestamps_are_lines_without_a_time(alloc):
    write(alloc, f"{LOGS}/a.stdout.0",
          "2024-01-01T10:00:02Z a\n9999-99-99T99:99:99Z junk\n\x00\x01 noise\n")
    write(alloc, f"{LOGS}/b.stdout.0", "2024-01-01T10:00:01Z b\n2024-01-01T10:00:03Z c\n")
    lines, _ = screen(alloc, "a.stdout", "b.stdout")
    assert lines[0].endswith(" b") and lines[-1].endswith(" c") and len(lines) == 5


def test_a_source_without_times_comes_first_in_file_order_and_is_said(alloc):
    write(alloc, f"{LOGS}/a.stdout.0", "plain 1\nplain 2\n")
    write(alloc, f"{LOGS}/b.stdout.0", "2024-01-01T10:00:01Z b\n")
    lines, frame = screen(alloc, "b.stdout", "a.stdout")
    assert lines == ["a▸out plain 1", "a▸out plain 2", "b▸out 2024-01-01T10:00:01Z b"]
    assert "no timestamps in a▸out: merged by file order" in frame.place.condition


def test_a_set_is_read_across_its_files(alloc):
    write(alloc, f"{LOGS}/a.stdout.0", "2024-01-01T10:00:01Z a1\n")
    write(alloc, f"{LOGS}/a.stdout.1", "2024-01-01T10:00:03Z a3\n")
    write(alloc, f"{LOGS}/b.stdout.0", "2024-01-01T10:00:02Z b2\n")
    lines, _ = screen(alloc, "a.stdout", "b.stdout")
    assert [line.rsplit(" ", 1)[1] for line in lines] == ["a1", "b2", "a3"]


def test_ten_thousand_logs_are_capped_with_a_notice(alloc):
    for i in range(10_000):
        write(alloc, f"alloc/data/many/{i}.log", f"2024-01-01T10:00:00Z {i}\n")
    many = tagged(SourceSpec(alloc, f"alloc/data/many/{i}.log", "") for i in range(10_000))
    before = len(os.listdir("/proc/self/fd"))
    loaded = open_merged(many, VIEW)
    try:
        assert len(loaded.doc.parts) == MAX_SOURCES
        assert f"merging the first {MAX_SOURCES} of 10,000 logs" in loaded.frame.place.condition
        assert len(os.listdir("/proc/self/fd")) - before <= 3 * MAX_SOURCES
    finally:
        loaded.doc.close()


def test_a_one_gib_line_without_a_newline_is_shown_bounded(alloc):
    path = write(alloc, f"{LOGS}/big.stdout.0", "2024-01-01T10:00:00Z " + "x" * 4096)
    os.truncate(path, 1 << 30)  # the rest sparse: never read whole
    write(alloc, f"{LOGS}/b.stdout.0", "2024-01-01T10:00:01Z b\n")
    loaded = open_merged(specs(alloc, "big.stdout", "b.stdout"), View(80, 10))
    try:
        assert loaded.frame.rows[0].tag.plain == "big▸out"
        doc = loaded.doc
        outcome = Outcome()
        doc.apply("tail", (), threading.Event(), outcome, None)
        assert doc.frame(View(80, 10)).rows  # the end is reached without reading it all
    finally:
        loaded.doc.close()


def test_a_member_swapped_for_a_fifo_or_a_symlink_out_is_not_read(alloc, tmp_path):
    write(alloc, f"{LOGS}/a.stdout.0", "2024-01-01T10:00:01Z a\n")
    write(alloc, f"{LOGS}/b.stdout.0", "2024-01-01T10:00:02Z b\n")
    secret = tmp_path / "secret"  # outside the allocation
    secret.write_text("2024-01-01T10:00:00Z SECRET\n")
    loaded = open_merged(specs(alloc, "a.stdout", "b.stdout"), VIEW)
    try:
        os.unlink(os.path.join(alloc.alloc_dir, LOGS, "a.stdout.0"))
        os.mkfifo(os.path.join(alloc.alloc_dir, LOGS, "a.stdout.1"))
        os.symlink(secret, os.path.join(alloc.alloc_dir, LOGS, "b.stdout.1"))
        doc, outcome = loaded.doc, Outcome()
        doc.apply("refresh", (), threading.Event(), outcome, None)
        doc.apply("head", (), threading.Event(), outcome, None)
        shown = [row.plain for row in doc.frame(VIEW).rows]
        assert not any("SECRET" in line for line in shown)
    finally:
        loaded.doc.close()


def test_a_destroyed_allocation_leaves_a_notice_not_a_crash():
    from allocdir.testing import temp_alloc_dir

    with temp_alloc_dir() as alloc:
        write(alloc, f"{LOGS}/a.stdout.0", "2024-01-01T10:00:01Z a\n")
        loaded = open_merged(alloc_sources(alloc), VIEW)
        alloc.destroy()
        doc, outcome = loaded.doc, Outcome()
        doc.apply("refresh", (), threading.Event(), outcome, None)
        doc.apply("tail", (), threading.Event(), outcome, None)
        assert [row.plain for row in doc.frame(VIEW).rows] == ["2024-01-01T10:00:01Z a"]
        assert ("a▸out: deleted: still reading the open file", None) in outcome.notices
        doc.close()


def test_names_a_task_a_set_or_a_file(alloc):
    write(alloc, f"{LOGS}/web.stdout.3", "x\n")  # .0 deleted by Nomad long ago
    write(alloc, f"{LOGS}/web.stderr.3", "x\n")
    assert [s.path for s in log_sources(alloc, "web")] == [f"{LOGS}/web.stdout",
                                                           f"{LOGS}/web.stderr"]
    assert [s.path for s in log_sources(alloc, f"{LOGS}/web.stdout.3")] == [f"{LOGS}/web.stdout"]
    assert [s.tag for s in alloc_sources(alloc, streams=["stderr"])] == ["web▸err"]
    with pytest.raises(LogNameError, match="no such task"):
        alloc_sources(alloc, ["nope"])
    with pytest.raises(LogNameError, match="not a stream"):
        alloc_sources(alloc, streams=["stdin"])


def test_tags_are_escaped_and_name_the_allocation_when_several(alloc):
    from allocdir.testing import temp_alloc_dir

    with temp_alloc_dir() as other:
        spec = tagged([SourceSpec(alloc, f"{LOGS}/we\x1b[31mb.stdout", ""),
                       SourceSpec(other, f"{LOGS}/web.stdout", "")])
        assert "\x1b" not in spec[0].tag
        assert spec[1].tag.startswith(other.alloc_id[:8] + ":")


@pytest.mark.parametrize("seed", range(8))
def test_the_lines_before_a_place_are_the_last_of_the_stream_up_to_it(alloc, seed):
    """``G`` and paging up take a few lines from each source, not a screen
    from each: what they find is what the stream from its start holds."""
    import random

    from inspector.core.merge import order

    rnd = random.Random(seed)
    names = [f"s{i}.stdout" for i in range(rnd.randrange(2, 7))]
    for name in names:
        lines, second = [], 0
        for n in range(rnd.randrange(0, 120)):
            second += rnd.choice((0, 0, 1, 5))
            if rnd.random() < 0.15:
                lines.append(f"  at frame {n}")  # no time: stays after its line
            else:
                lines.append(f"2024-01-01T10:{second // 60 % 60:02d}:{second % 60:02d}Z {name} {n}")
        write(alloc, f"{LOGS}/{name}.0", "".join(line + "\n" for line in lines))
    loaded = open_merged(specs(alloc, *names), VIEW)
    doc = loaded.doc
    try:
        shown = list(range(len(doc.parts)))
        stream_order = list(order.walk(doc.parts, order.head(doc.parts), shown))
        for count in (1, 7, 40):
            for stop in {len(stream_order), len(stream_order) // 2, len(stream_order) // 3}:
                cursor = (stream_order[stop].before if stop < len(stream_order)
                          else order.end(doc.parts))
                got = order.before(doc.parts, cursor, shown, count)
                want = stream_order[max(0, stop - count):stop]
                assert [(e.part, e.line.start, e.before) for e in got] == \
                       [(e.part, e.line.start, e.before) for e in want]
    finally:
        doc.close()
