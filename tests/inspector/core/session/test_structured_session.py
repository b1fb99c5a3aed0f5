"""Structured logs in the reader session, at core speed: the & filter takes
field expressions (counted, paged, followed), fields as columns, the field
view of the current line, and a JSON record split by a rotation."""

from __future__ import annotations

import json

from .conftest import LOGS


def _json_log(count: int = 200) -> bytes:
    return b"".join(json.dumps({"level": "error" if i % 20 == 3 else "info", "n": i,
                                "status": 503 if i % 20 == 3 else 200,
                                "msg": f"request {i}"}).encode() + b"\n"
                    for i in range(count))


def test_a_field_expression_filters_counts_and_pages(reader):
    reader.write(f"{LOGS}/web.stdout.0", _json_log())
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    reader.filter("status>=500")
    status = reader.status
    assert status.filter == "status>=500" and status.matches == 10
    assert reader.lines and all('"status": 503' in line for line in reader.lines)
    reader.page_down()
    assert all('"status": 503' in line for line in reader.lines)
    reader.filter("level=error and n<50")
    assert reader.status.matches == 3


def test_a_regex_that_is_no_expression_stays_a_regex(reader):
    reader.write(f"{LOGS}/web.stdout.0", b"a=1 b\nx (a=1) y\nplain\n")
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    reader.filter("(a=1)")
    assert reader.lines == ["a=1 b", "x (a=1) y"]
    reader.filter("a=1")  # a field expression: logfmt a=1 only
    assert reader.lines == ["a=1 b"]


def test_a_field_filter_follows_as_tail_f_grep(reader):
    path = reader.write(f"{LOGS}/web.stdout.0", _json_log(40))
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0", follow=True)
    reader.filter("status>=500")
    reader.wait(lambda: reader.status.matches == 2)
    with open(path, "ab") as f:
        f.write(b'{"level":"error","n":999,"status":502,"msg":"new"}\n'
                b'{"level":"info","n":1000,"status":200}\n')
    reader.wait(lambda: any('"n":999' in line for line in reader.lines))
    assert not any('"n":1000' in line for line in reader.lines)


def test_chosen_fields_show_as_columns_and_go_away(reader):
    reader.write(f"{LOGS}/web.stdout.0", _json_log(5) + b"not json at all\n")
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    reader.set_columns("level:6,status:4")
    assert reader.notice == "columns: level:6 status:4"
    assert reader.lines[0].startswith("info    200  │ request 0 n=0")
    assert reader.lines[-1] == " " * 13 + "│ not json at all"
    reader.set_columns("")
    assert reader.lines[0].startswith('{"level": "info"')
    reader.set_columns("level,/bad")
    assert "not a field name" in reader.notice


def test_the_field_view_of_the_current_line_is_pretty_and_escaped(reader):
    record = {"level": "error", "msg": "bad\x1b]0;pwned\x07", "http": {"status": 502,
                                                                    "hdr": ["a", "b"]}}
    reader.write(f"{LOGS}/web.stdout.0", json.dumps(record).encode() + b"\nlevel=warn k=\"v w\"\n")
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    views = []
    reader.records.field_view(views.append)
    view = views[-1]
    assert view.kind == "json" and view.title == "JSON record, 3 fields"
    assert '    "status": 502,' in view.lines
    assert all("\x1b" not in line and "\x07" not in line for line in view.lines)
    assert any("\\u001b]0;pwned\\u0007" in line for line in view.lines)
    reader.resize(200, 1)
    reader.line_down()
    reader.records.field_view(views.append)
    assert views[-1].kind == "logfmt" and views[-1].lines == ("level = warn", "k     = v w")


def test_a_long_record_is_read_whole_not_as_the_row_on_screen(reader):
    record = {"level": "info", "blob": "x" * 10_000, "end": "here"}
    reader.write(f"{LOGS}/web.stdout.0", json.dumps(record).encode() + b"\n")
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    views = []
    reader.records.field_view(views.append)
    assert views[-1].kind == "json" and '  "end": "here"' in views[-1].lines


def test_a_json_record_split_by_rotation_is_one_record(reader):
    """Nomad rotates at a size, cutting a line that does not fit
    (hashicorp/nomad#1048): the set is one run of bytes, so the record is
    whole again, for the filter, the count and the field view."""
    first = json.dumps({"level": "info", "n": 1}).encode() + b"\n"
    split = json.dumps({"level": "error", "status": 503, "msg": "cut here"}).encode() + b"\n"
    reader.write(f"{LOGS}/web.stdout.0", first + split[:20])
    reader.write(f"{LOGS}/web.stdout.1", split[20:] + first)
    reader.open(reader.alloc, f"{LOGS}/web.stdout.0")
    reader.filter("status>=500")
    assert reader.status.matches == 1 and reader.lines == [split.decode().strip()]
    views = []
    reader.records.field_view(views.append)
    assert views[-1].kind == "json" and '  "msg": "cut here"' in views[-1].lines


def test_a_record_whose_start_was_rotated_away_says_so(reader):
    split = json.dumps({"level": "error", "msg": "cut here"}).encode() + b"\n"
    reader.write(f"{LOGS}/web.stdout.3", split[15:] + b'{"level":"info"}\n')
    reader.open(reader.alloc, f"{LOGS}/web.stdout.3")
    views = []
    reader.records.field_view(views.append)
    view = views[-1]
    assert view.title == "the end of a line cut by rotation"
    assert "its start was in a file Nomad has deleted" in view.where
    assert view.lines == ('r", "msg": "cut here"}',)
