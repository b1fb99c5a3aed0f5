"""Structured lines: records of JSON and logfmt lines, field expressions,
and the field pattern the filter scans with, checked line by line against
a plain evaluation of the same expression."""

from __future__ import annotations

import json
import random

import pytest

from inspector.core.search import (
    SearchPattern, count_matching_lines, search_backward, search_forward,
)
from inspector.core.structured.expr import parse_expression
from inspector.core.structured.fields import (
    MISSING, field_value, logfmt_pairs, parse_record,
)
from inspector.core.structured.pattern import FieldPattern, parse_filter


def test_a_json_line_is_a_record_with_nested_fields():
    record = parse_record(b'{"level":"error","http":{"status":503,"path":"/x"},"tags":[1,2]}')
    assert record.kind == "json"
    assert field_value(record.fields, "http.status") == 503
    assert field_value(record.fields, "tags.1") == 2
    assert field_value(record.fields, "http.nope") is MISSING


def test_a_logfmt_line_and_hclog_pairs_are_records():
    record = parse_record(b'level=warn msg="disk \\"almost\\" full" free_pct=4.5 done')
    assert record.kind == "logfmt"
    assert record.fields == {"level": "warn", "msg": 'disk "almost" full', "free_pct": "4.5"}
    hclog = logfmt_pairs("2026-11-28T10:00:00Z [ERROR] agent: failed: alloc_id=5fc9 err=EOF")
    assert hclog == {"alloc_id": "5fc9", "err": "EOF"}


def test_a_cut_json_record_says_so_and_plain_text_has_no_fields():
    cut = parse_record(b'{"level":"error","msg":"half a rec')
    assert not cut.structured and cut.problem.startswith("not a whole JSON record")
    assert parse_record(b"just words here").kind == ""
    assert parse_record(b'["a", "list"]').kind == ""


def test_an_undecodable_byte_does_not_lose_the_record():
    record = parse_record(b'{"msg":"caf\xe9"}')
    assert record.kind == "json" and record.fields["msg"] == "caf\udce9"


@pytest.mark.parametrize("text", ["error", "conn.*refused", "(trace_id=abc)", "a=", "=b",
                                  "status>=500 and", "or status=1", "x=1 y=2"])
def test_what_is_not_a_whole_expression_is_a_regex(text):
    assert parse_expression(text) is None
    assert isinstance(parse_filter(text), SearchPattern)


def test_a_bad_regex_in_an_expression_is_a_clear_error():
    with pytest.raises(ValueError, match="invalid regex after ~"):
        parse_filter("msg~(unclosed")


@pytest.mark.parametrize("line, text, expected", [
    (b'{"status":503}', "status>=500", True),
    (b'{"status":"503"}', "status>=500", True),
    (b'{"status":200}', "status>=500", False),
    (b"status=504 path=/", "status>=500", True),
    (b'{"level":"WARNING"}', "level>=warn", True),
    (b'{"level":"info"}', "level>=warn", False),
    (b'{"severity":"fatal"}', "severity=error", True),
    (b"2026-11-28T10:00:00Z [ERROR] agent: boom", "level>=warn", True),
    (b"2026-11-28T10:00:00Z [INFO]  agent: said ERROR", "level>=warn", False),
    (b'{"trace_id":"ABC"}', "trace_id=abc", True),
    (b'{"trace_id":"abc"}', "trace_id=ABC", False),
    (b'{"msg":"connection refused"}', "msg~refused", True),
    (b'{"msg":"ok"}', "msg!~refused", True),
    (b'{"other":1}', "status!=500", True),
    (b'{"other":1}', "status=500", False),
    (b'{"http":{"status":502}}', "http.status>=500 and http.status<504", True),
    (b'{"a":1}', "b=2 or a=1", True),
    (b'{"a":1,"b":3}', "a=1 and b=2 or b>=3", True),
    (b'{"msg":"a b"}', 'msg="a b"', True),
    (b'{"ok":true}', "ok=true", True),
    (b'{"ts":"2026-11-28T10:15:00Z"}', "ts>=2026-11-28T10:00", True),
])
def test_comparisons(line, text, expected):
    pattern = parse_filter(text)
    assert isinstance(pattern, FieldPattern)
    assert pattern.matches_line(line) is expected


def _log(count: int = 3000, seed: int = 7) -> tuple[bytes, list[bytes]]:
    rnd = random.Random(seed)
    lines = []
    for i in range(count):
        kind = rnd.randrange(4)
        status = rnd.choice([200, 200, 200, 404, 500, 503])
        if kind == 0:
            lines.append(json.dumps({"level": rnd.choice(["info", "warn", "error"]), "n": i,
                                     "status": status}).encode())
        elif kind == 1:
            lines.append(f"level=info n={i} status={status} msg=\"x y\"".encode())
        elif kind == 2:
            lines.append(f"2026-11-28T10:00:00Z [WARN] plain line {i} status".encode())
        else:
            lines.append(b'{"level":"info","msg":"status is fine","n":%d}' % i)
    return b"\n".join(lines) + b"\n", lines


@pytest.mark.parametrize("text", ["status>=500", "level>=warn", "status=404 or level=error",
                                  "status!=200"])
def test_the_scans_find_exactly_the_lines_that_match(text):
    data, lines = _log()
    pattern = parse_filter(text)
    expected = [i for i, line in enumerate(lines) if pattern.matches_line(line)]
    assert expected  # the log has some
    starts = []
    pos = 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    read = lambda offset, length: data[offset: offset + length]  # noqa: E731
    assert count_matching_lines(read, len(data), pattern, chunk_size=4096) == len(expected)
    found, pos = [], 0
    while (match := search_forward(read, len(data), pattern, pos, chunk_size=4096)):
        found.append(starts.index(match.offset))
        pos = match.offset + match.length + 1
    assert found == expected
    back, before = [], len(data)
    while (match := search_backward(read, pattern, before, chunk_size=4096)):
        back.append(starts.index(match.offset))
        before = match.offset
    assert back == expected[::-1]


def test_the_prefilter_is_the_field_name():
    assert parse_filter("http.status>=500").needles == (b"status",)
    assert parse_filter("a=1 or bb=2").needles == (b"a", b"bb")
    assert parse_filter("level>=warn").needles is None
    assert parse_filter("status!=500").needles is None
