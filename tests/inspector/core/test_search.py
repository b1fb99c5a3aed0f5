"""Chunked forward/backward search through byte offsets."""

from __future__ import annotations

import threading

import pytest

from inspector.core.search import (
    Match,
    SearchCancelled,
    SearchPattern,
    search_backward,
    search_forward,
)


class Reads:
    """read(offset, length) over bytes, recording each read's length."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.lengths: list[int] = []

    def __call__(self, offset: int, length: int) -> bytes:
        self.lengths.append(length)
        return self.data[offset : offset + length]


def fwd(data: bytes, text: str, start: int = 0, **kw) -> Match | None:
    return search_forward(Reads(data), len(data), SearchPattern.parse(text), start, **kw)


def test_finds_first_match_from_start():
    data = b"one two three two"
    assert fwd(data, "two") == Match(4, 3)
    assert fwd(data, "two", start=5) == Match(14, 3)
    assert fwd(data, "four") is None


def test_match_spanning_a_chunk_boundary_is_found():
    data = b"x" * 1000 + b"NEEDLE" + b"y" * 1000
    for chunk in (997, 1000, 1002, 1003, 1005):
        assert fwd(data, "NEEDLE", chunk_size=chunk) == Match(1000, 6), chunk


def test_reads_are_chunked():
    reads = Reads(b"z" * 100_000)
    search_forward(reads, 100_000, SearchPattern.parse("q"), 0, chunk_size=4096)
    assert max(reads.lengths) <= 4096
    assert len(reads.lengths) >= 24


def test_smart_case():
    data = b"Error: an ERROR happened"
    assert fwd(data, "error") == Match(0, 5)
    assert fwd(data, "ERROR") == Match(10, 5)
    assert fwd(data, "Error", start=1) is None


def test_utf8_pattern():
    data = "prix: 12 €\n".encode()
    assert fwd(data, "€") == Match(data.index("€".encode()), 3)


def test_backward_finds_last_match_before_offset():
    data = b"ab.ab.ab.ab"
    pattern = SearchPattern.parse("ab")
    assert search_backward(Reads(data), pattern, len(data)) == Match(9, 2)
    assert search_backward(Reads(data), pattern, 9) == Match(6, 2)
    assert search_backward(Reads(data), pattern, 0) is None


def test_backward_across_chunk_boundaries():
    data = b"NEEDLE" + b"-" * 5000 + b"NEEDLE" + b"-" * 5000
    pattern = SearchPattern.parse("NEEDLE")
    for chunk in (999, 1000, 5003, 5004):
        assert search_backward(Reads(data), pattern, len(data), chunk_size=chunk) == Match(
            5006, 6
        ), chunk
        assert search_backward(Reads(data), pattern, 5006, chunk_size=chunk) == Match(0, 6)


def test_backward_finds_overlapping_last_match():
    assert search_backward(Reads(b"aaaa"), SearchPattern.parse("aa"), 4) == Match(2, 2)


def test_cancel_stops_the_scan():
    cancel = threading.Event()
    seen = []

    def progress(percent: float) -> None:
        seen.append(percent)
        if len(seen) == 3:
            cancel.set()

    with pytest.raises(SearchCancelled):
        fwd(b"." * 100_000, "x", chunk_size=1000, cancel=cancel, progress=progress)
    assert len(seen) == 3
    with pytest.raises(SearchCancelled):
        search_backward(Reads(b"." * 10), SearchPattern.parse("x"), 10, cancel=cancel)


def test_progress_reports_percentages():
    seen = []
    fwd(b"." * 10_000, "x", chunk_size=1000, progress=seen.append)
    assert seen == sorted(seen)
    assert 0 < seen[0] <= seen[-1] <= 100


def test_empty_pattern_is_refused():
    with pytest.raises(ValueError):
        SearchPattern.parse("")


def test_text_regex_is_for_highlighting():
    assert SearchPattern.literal("a.b").text_regex.findall("A.B axb a.b") == ["A.B", "a.b"]
    assert SearchPattern.parse("a.b").text_regex.findall("A.B axb a.b") == ["A.B", "axb", "a.b"]
