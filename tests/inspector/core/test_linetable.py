"""The lines of a log as table rows (what ``nb.frame`` is made of): columns,
sources and offsets across a rotation set, levels and times of text and
records, escaping, the filter, and the bounds (rows, field names)."""

from __future__ import annotations

import json
import os

import pytest

from allocdir.testing import temp_alloc_dir
from inspector.core import linetable
from inspector.core.session.document import View
from inspector.core.session.logdoc import LogDocument
from inspector.core.structured.pattern import parse_filter

LOGS = "alloc/logs"


@pytest.fixture
def alloc():
    with temp_alloc_dir(prefix="table-") as built:
        os.makedirs(os.path.join(built.alloc_dir, LOGS), exist_ok=True)
        yield built


def _write(alloc, name: str, data: bytes) -> None:
    with open(os.path.join(alloc.alloc_dir, LOGS, name), "wb") as f:
        f.write(data)


def _rows(alloc, name: str, **options) -> list[linetable.RowBatch]:
    loaded = LogDocument.load(alloc, f"{LOGS}/{name}", View())
    try:
        return list(linetable.table_rows(loaded.doc, source=name, **options))
    finally:
        loaded.close()


def _record(i: int) -> bytes:
    return json.dumps({"ts": f"2026-11-28T10:00:{i:02d}.5Z",
                       "level": "error" if i % 5 == 0 else "info",
                       "status": 503 if i % 5 == 0 else 200,
                       "http": {"path": f"/api/{i}"}}).encode() + b"\n"


def test_rows_of_a_rotation_set_name_their_file_and_offset(alloc):
    first = b"".join(_record(i) for i in range(10))
    _write(alloc, "web.stdout.0", first)
    _write(alloc, "web.stdout.1", b"".join(_record(i) for i in range(10, 20)))
    [batch] = _rows(alloc, "web.stdout.0")
    columns = batch.columns
    assert len(batch) == 20
    assert columns["source"][9:11] == ["web.stdout.0", "web.stdout.1"]
    assert columns["offset"][10] == 0 and columns["offset"][1] == len(_record(0))
    assert columns["time"][3] == "20261128100003500000000"
    assert columns["level"][:6] == ["error", "info", "info", "info", "info", "error"]
    assert batch.records[12] == {"ts": "2026-11-28T10:00:12.5Z", "level": "info",
                                 "status": 200, "http": {"path": "/api/12"}}


def test_text_lines_have_their_stamp_and_level_and_are_escaped(alloc):
    _write(alloc, "web.stderr.0",
           b"2026-11-28T10:15:00Z [ERROR] agent: boom \x1b]0;owned\x07\n"
           b"plain line without a time\n"
           b"ts=2026-11-28T10:16:01Z level=warn msg=\"slow disk\"\n")
    [batch] = _rows(alloc, "web.stderr.0")
    columns = batch.columns
    assert columns["time"] == ["20261128101500000000000", None, "20261128101601000000000"]
    assert columns["level"] == ["error", None, "warn"]
    assert columns["text"][0] == "2026-11-28T10:15:00Z [ERROR] agent: boom \\x1b]0;owned\\x07"
    assert batch.records == [None, None, {"ts": "2026-11-28T10:16:01Z", "level": "warn",
                                          "msg": "slow disk"}]


def test_a_field_filter_and_a_row_limit(alloc):
    _write(alloc, "web.stdout.0", b"".join(_record(i) for i in range(50)))
    rows = _rows(alloc, "web.stdout.0", where=parse_filter("status>=500"))
    assert [r["status"] for b in rows for r in b.records] == [503] * 10
    limited = _rows(alloc, "web.stdout.0", limit=7, batch=3)
    assert [len(b) for b in limited] == [3, 3, 1]
    assert [r["http"]["path"] for b in limited for r in b.records][-1] == "/api/6"


def test_field_names_are_bounded_against_a_task_inventing_keys(alloc):
    _write(alloc, "web.stdout.0", b"".join(
        json.dumps({"level": "info", f"key{i}": i}).encode() + b"\n"
        for i in range(linetable.MAX_FIELDS + 50)))
    batches = _rows(alloc, "web.stdout.0")
    names = {name for b in batches for r in b.records for name in r}
    assert len(names) == linetable.MAX_FIELDS
    assert sum(b.dropped_fields for b in batches) == 51


def test_field_values_a_task_escaped_in_json_are_shown_escaped(alloc):
    _write(alloc, "web.stdout.0", b'{"level":"info","msg":"title \\u001b]0;owned\\u0007"}\n'
                                  b'{"level":"info","msg":"plain"}\n')
    [batch] = _rows(alloc, "web.stdout.0")
    assert [r["msg"] for r in batch.records] == ["title \\x1b]0;owned\\x07", "plain"]


def test_records_of_mixed_shapes_and_plain_lines_keep_their_own_fields(alloc):
    from inspector.core.structured.fields import parse_record

    lines = [b'{"level":"info","a":1}', b"plain text", b'{"level":"warn","a":2}',
             b'{"b":"x","level":"error"}', b'{"level":"info","a":null}', b"k=v z=1",
             b'{"level":"info","a":3}', b"{}", b'  {"a":4}  ', b'{"a":5} trailing',
             b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"]
    _write(alloc, "web.stdout.0", b"\n".join(lines) + b"\n")
    [batch] = _rows(alloc, "web.stdout.0", batch=100)
    expected = []
    for line in lines:
        record = parse_record(line)
        expected.append(record.fields if record.structured else None)
    assert batch.records == expected
    assert batch.fields["a"] == [1, None, 2, None, None, None, 3, None, 4, None, None]
    assert batch.fields["level"][3] == "error" and batch.fields["b"][3] == "x"


def test_a_record_nested_past_the_parser_stack_is_no_record():
    from inspector.core.structured.fields import parse_record, text_fields

    line = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert parse_record(line).problem and not parse_record(line).structured
    assert text_fields(line.decode()) is None


@pytest.mark.parametrize("line", [
    b"\x1b]0;owned\x07 plain", b"caf\xc3\xa9 ok", b"bad \xff byte", b"tab\there",
    b'{"msg":"a\\u001bb","level":"info"}', b'{"msg":"\\\\x1b not an escape"}',
    b"bell \x07 in a clean-looking line", b"cr\rinside"])
def test_text_and_fields_escaped_as_one_line_is_whatever_the_rest_of_the_chunk(alloc, line):
    from inspector.core.text import printable

    clean = b"2026-11-28T10:00:00Z [INFO] clean ascii\n" * 50
    _write(alloc, "web.stdout.0", clean + line + b"\n" + clean)
    [batch] = _rows(alloc, "web.stdout.0")
    row = 50
    assert batch.columns["text"][row] == printable(line.decode("utf-8", "surrogateescape"))
    assert batch.columns["text"][0] == "2026-11-28T10:00:00Z [INFO] clean ascii"
    record = batch.records[row]
    if record and "msg" in record:
        assert record["msg"].isprintable()
