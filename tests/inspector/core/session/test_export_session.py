"""Taking evidence out of a session: the view, a marked range, the whole set
or a time range, raw, plain or escaped, marks carried; 0600, atomic, and
never inside an allocation."""

from __future__ import annotations

import os
import stat

import pytest

from inspector.core.export import ESCAPED, PLAIN, RAW, avoided_roots, export_target

from .conftest import LOGS, levels_log, make_set

HOSTILE = b"evil \x1b]0;owned\x07\x1b[31mred\x1b[0m \xff\xfe tail\n"


def _export(reader, tmp_path, scope="all", fmt=PLAIN, name="out.log", **options):
    plan = reader.records.plan(scope, fmt, **options)
    assert not isinstance(plan, str), plan
    roots = avoided_roots(reader.alloc)
    target = export_target(str(tmp_path / name), "/", roots)
    outcomes = []
    reader.records.export(plan, target, roots, outcomes.append)
    reader.wait(lambda: outcomes, what="the export")
    return outcomes[-1], tmp_path / name


def test_the_whole_set_raw_is_its_bytes_in_order(reader, tmp_path):
    expected = make_set(reader, files=3, lines=40)
    reader.open(reader.alloc, f"{LOGS}/web.stdout.1")
    outcome, path = _export(reader, tmp_path, fmt=RAW)
    assert outcome.written and outcome.lines == 120
    assert path.read_bytes() == ("\n".join(expected) + "\n").encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".partial")]
    assert outcome.message().startswith("Wrote 120 lines (")


def test_plain_drops_escapes_and_escaped_shows_them(reader, tmp_path):
    reader.write(f"{LOGS}/web.stdout.0", b"clean line\n" + HOSTILE)
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    _, plain = _export(reader, tmp_path, fmt=PLAIN, name="plain.log")
    body = plain.read_text().splitlines()
    assert body[0].startswith("# allocdir-inspector export of ")
    assert body[-2:] == ["clean line", "evil red \ufffd\ufffd tail"]
    _, escaped = _export(reader, tmp_path, fmt=ESCAPED, name="esc.log")
    last = escaped.read_bytes().splitlines()[-1]
    assert b"\x1b" not in last and b"\x07" not in last
    assert last == rb"evil \x1b]0;owned\x07\x1b[31mred\x1b[0m \xff\xfe tail"


def test_the_view_is_the_filtered_lines_with_their_context_and_marks(reader, tmp_path):
    reader.write(f"{LOGS}/web.stdout.0", b"".join(
        b"line %d%s\n" % (i, b" HIT" if i in (10, 12, 50) else b"") for i in range(60)))
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    reader.goto("13")
    reader.marks.set("m")
    reader.filter("HIT")
    reader.set_context(1)
    outcome, path = _export(reader, tmp_path, scope="view")
    body = [line for line in path.read_text().splitlines()]
    assert body[:4] == [body[0], "# lines matching &HIT, 1 lines of context, plain", body[2],
                        "# marks: 'm"]
    assert body[4:] == ["line 9", "line 10 HIT", "line 11", "# ── mark 'm ──", "line 12 HIT",
                        "line 13", "line 49", "line 50 HIT", "line 51"]
    assert outcome.lines == 8


def test_context_is_carried_across_chunks(reader, tmp_path, monkeypatch):
    from inspector.core import export

    monkeypatch.setattr(export, "CHUNK", 64)
    data = b"".join(b"l%03d%s\n" % (i, b" X" if i % 17 == 0 else b"") for i in range(200))
    reader.write(f"{LOGS}/web.stdout.0", data)
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    reader.filter("X")
    reader.set_context(2)
    lines_ = data.decode().splitlines()
    keep = sorted({j for i, line in enumerate(lines_) if line.endswith(" X")
                   for j in range(i - 2, i + 3) if 0 <= j < len(lines_)})
    plan = reader.records.plan("view", RAW)
    roots = avoided_roots(reader.alloc)
    target = export_target(str(tmp_path / "c.log"), "/", roots)
    from inspector.core.export import write_export

    outcome = write_export(reader.session._doc, plan, target, roots)
    assert outcome.written
    assert (tmp_path / "c.log").read_text().splitlines() == [lines_[j] for j in keep]


def test_a_marked_range_and_a_time_range(reader, tmp_path):
    reader.write(f"{LOGS}/web.stdout.0", levels_log(400))
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    reader.goto("5")
    reader.marks.set("a")
    reader.goto("8")
    reader.marks.set("b")
    outcome, path = _export(reader, tmp_path, scope="marks", fmt=RAW, marks="ba")
    assert [line.split()[-1] for line in path.read_text().splitlines()] == \
        ["#4", "#5", "#6", "#7"]
    outcome, path = _export(reader, tmp_path, scope="time", fmt=RAW, name="t.log",
                            since="10:01:00", until="10:01:05")
    assert [line.split()[-1] for line in path.read_text().splitlines()] == \
        [f"#{i}" for i in range(60, 65)]
    assert reader.records.plan("marks", RAW, marks="az") == "no mark 'z"
    outcome, _ = _export(reader, tmp_path, scope="time", fmt=RAW, name="none.log",
                         since="23:00")
    assert not outcome.written and "no line at or after 23:00" in outcome.message()
    assert not (tmp_path / "none.log").exists()


def test_destinations_inside_an_allocation_or_the_client_root_are_refused(reader, tmp_path):
    roots = avoided_roots(reader.alloc)
    inside = export_target(f"{reader.alloc.alloc_dir}/alloc/data/x.log", "/", roots)
    assert "inside the alloc dir" in str(inside)
    beside = export_target(os.path.dirname(reader.alloc.alloc_dir) + "/x.log", "/", roots)
    assert "client alloc root" in str(beside)
    assert "names a directory" in str(export_target(str(tmp_path) + "/", "/", roots))
    assert "does not exist" in str(export_target(str(tmp_path / "no/x"), "/", roots))
    os.symlink("/etc/passwd", tmp_path / "link")
    assert "symbolic link" in str(export_target(str(tmp_path / "link"), "/", roots))
    ok = export_target("out.log", str(tmp_path), roots)
    assert ok.path == str(tmp_path / "out.log") and not ok.exists


def test_an_existing_file_is_replaced_only_by_a_whole_export(reader, tmp_path):
    reader.write(f"{LOGS}/web.stdout.0", b"new\n")
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    (tmp_path / "out.log").write_text("old evidence\n")
    target = export_target(str(tmp_path / "out.log"), "/", [])
    assert target.exists
    outcome, path = _export(reader, tmp_path, fmt=RAW)
    assert outcome.written and path.read_text() == "new\n"


def test_a_cancelled_export_leaves_nothing(reader, tmp_path):
    from inspector.core.export import ExportPlan, write_export
    import threading

    reader.write(f"{LOGS}/web.stdout.0", b"x\n" * 1000)
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    (tmp_path / "out.log").write_text("old\n")
    cancel = threading.Event()
    cancel.set()
    target = export_target(str(tmp_path / "out.log"), "/", [])
    outcome = write_export(reader.session._doc, ExportPlan(fmt=RAW), target, [], cancel=cancel)
    assert outcome.cancelled and not outcome.written
    assert os.listdir(tmp_path) == ["out.log"] and (tmp_path / "out.log").read_text() == "old\n"
    assert "cancelled: nothing written" in outcome.message()


@pytest.mark.parametrize("fmt", [RAW, PLAIN])
def test_an_export_goes_on_when_another_file_is_opened(reader, tmp_path, fmt):
    make_set(reader, files=2, lines=30)
    reader.write(f"{LOGS}/other.stdout.0", b"other\n")
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    plan = reader.records.plan("all", fmt)
    target = export_target(str(tmp_path / "o.log"), "/", [])
    outcomes = []
    reader.records.export(plan, target, [], outcomes.append)
    reader.open(reader.alloc, f"{LOGS}/other.stdout.0")
    reader.wait(lambda: outcomes, what="the export")
    assert outcomes[-1].written and outcomes[-1].lines == 60
