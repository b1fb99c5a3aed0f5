"""Issue #20's Measure table: the histogram of a 2 GB log beside ``grep -c``
of the level words, ``nb.frame`` of a 1 GiB JSON log (1 M rows) beside
``pandas.read_json(lines=True)`` (time and peak RSS, each in a fresh
interpreter), the field filter ``status>=500`` beside ``jq -c
'select(.status>=500)' | wc -l``, and an export of the 2 GB log filtered by
``&ERROR`` beside ``grep ERROR > file``. Timed alternately, median of three
(one run each for the frame, whose sides take tens of seconds).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid

from allocdir import AllocDir

from .bench_reading import LEVELS, _alternate, _big_log, _warm
from .harness import PEAK_RSS_SOURCE, Row

FRAME_PROBE = PEAK_RSS_SOURCE + r"""
import sys, time
kind, path, alloc_dir, rel = sys.argv[1:5]
started = time.perf_counter()
if kind == "pandas":
    import pandas as pd
    rows = len(pd.read_json(path, lines=True))
else:
    from allocdir import AllocDir
    from inspector import notebook as nb
    rows = len(nb.frame(AllocDir(alloc_dir), rel, limit=10**9))
print(rows, time.perf_counter() - started, peak_rss())
"""


def make_json_log(path: str, size: int) -> tuple[int, int]:
    """About ``size`` bytes of zap-like JSON records of ~1 KiB each; (bytes, lines)."""
    rnd = random.Random(20261128)
    block = []
    for j in range(10_000):
        status = rnd.choice([200] * 40 + [404, 500, 503])
        block.append(json.dumps({
            "ts": f"2026-11-28T10:{j // 600 % 60:02d}:{j // 10 % 60:02d}.{j % 10}00Z",
            "level": "error" if status >= 500 else "info", "status": status,
            "method": rnd.choice(["GET", "POST"]), "path": f"/api/v1/items/{j}",
            "latency_ms": rnd.randrange(1, 900), "trace_id": f"{rnd.getrandbits(64):016x}",
            "msg": "request served", "pad": "x" * rnd.randrange(700, 900)}) + "\n")
    data = "".join(block).encode()
    written = lines = 0
    with open(path, "wb") as f:
        while written < size:
            f.write(data)
            written += len(data)
            lines += len(block)
    return written, lines


def _json_log(work: str, size: int):
    alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
    alloc.build()
    rel = "alloc/logs/api.stdout.0"
    path = os.path.join(alloc.alloc_dir, rel)
    written, lines = make_json_log(path, size)
    _warm(path)
    return alloc, rel, path, written, lines


def _label(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


def _timed_run(*argv: str, shell: bool = False) -> float:
    started = time.perf_counter()
    subprocess.run(argv[0] if shell else list(argv), shell=shell, stdout=subprocess.PIPE,
                   check=True)
    return time.perf_counter() - started


def text_log_rows(work: str, size: int) -> list[Row]:
    """The histogram and the filtered export of a text log beside grep."""
    from inspector.core.export import RAW, VIEW, ExportPlan, export_target, write_export
    from inspector.core.histogram import scan_histogram
    from inspector.core.search import SearchPattern
    from inspector.core.session.document import View
    from inspector.core.session.logdoc import LogDocument

    alloc, rel, path, written = _big_log(work, size, LEVELS)
    loaded = LogDocument.load(alloc, rel, View())
    out_dir = os.path.join(work, "out")
    os.makedirs(out_dir, exist_ok=True)
    rows = []
    try:
        doc = loaded.doc
        pictures = []

        def histogram() -> float:
            started = time.perf_counter()
            pictures.append(scan_histogram(doc))
            return time.perf_counter() - started

        mine, theirs = _alternate(histogram, lambda: _timed_run(
            "grep", "-c", "-E", "ERROR|WARN", path))
        errors, warns, lines = pictures[-1].totals()
        rows.append(Row(f"histogram of a {_label(written)} log, first full picture "
                        f"({lines:,} lines, {errors:,} errors, {warns:,} warnings)",
                        mine, theirs, "`grep -c -E 'ERROR|WARN'`", goal="≤ 2", limit=2.0))

        plan = ExportPlan(VIEW, RAW, pattern=SearchPattern.parse("ERROR"), label=rel)
        target = os.path.join(out_dir, "errors.log")
        outcomes = []

        def export() -> float:
            checked = export_target(target, "/", [])
            started = time.perf_counter()
            outcomes.append(write_export(doc, plan, checked, []))
            return time.perf_counter() - started

        def grep_to_file() -> float:
            started = time.perf_counter()
            with open(os.path.join(out_dir, "grep.log"), "wb") as f:
                subprocess.run(["grep", "ERROR", path], stdout=f, check=True)
            return time.perf_counter() - started

        mine, theirs = _alternate(export, grep_to_file)
        assert outcomes[-1].written, outcomes[-1].message()
        rows.append(Row(f"export of the {_label(written)} log filtered by `&ERROR`, raw "
                        f"({outcomes[-1].lines:,} lines)", mine, theirs,
                        "`grep ERROR > file`", goal="≤ 1.5", limit=1.5))
    finally:
        loaded.close()
        alloc.destroy()
        shutil.rmtree(out_dir, ignore_errors=True)
    return rows


def json_log_rows(work: str, size: int) -> list[Row]:
    """The field filter's count and ``nb.frame`` of a JSON log beside jq and pandas."""
    from inspector.core.pager import FsSource
    from inspector.core.search import count_matching_lines
    from inspector.core.structured.pattern import parse_filter

    if shutil.which("jq") is None:
        raise RuntimeError("needs jq")
    alloc, rel, path, written, lines = _json_log(work, size)
    source = FsSource(alloc, rel)
    rows = []
    try:
        counts = []

        def count() -> float:
            started = time.perf_counter()
            counts.append(count_matching_lines(source.read, source.size(),
                                               parse_filter("status>=500")))
            return time.perf_counter() - started

        jq = f"jq -c 'select(.status>=500)' {path} | wc -l"
        mine, theirs = _alternate(count, lambda: _timed_run(jq, shell=True))
        expected = int(subprocess.run(jq, shell=True, capture_output=True, text=True).stdout)
        assert counts[-1] == expected, (counts[-1], expected)
        rows.append(Row(f"field filter `status>=500`, count, {_label(written)} JSON log "
                        f"({expected:,} of {lines:,} lines)", mine, theirs,
                        "`jq -c 'select(.status>=500)' | wc -l`", goal="≤ 1", limit=1.0))

        probe = {}
        # Both sides run with their modules' bytecode cached (pandas is
        # installed with it; ours would else be compiled in the timed run),
        # cached by an untimed run of each on a small log first.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = os.path.join(work, "pycache")
        small = os.path.join(alloc.alloc_dir, "alloc/logs/small.stdout.0")
        with open(path, "rb") as src, open(small, "wb") as dst:
            dst.writelines(itertools.islice(src, 100))
        for kind in ("ours", "pandas"):
            subprocess.run([sys.executable, "-c", FRAME_PROBE, kind, small, alloc.alloc_dir,
                            "alloc/logs/small.stdout.0"], env=env, capture_output=True,
                           check=True)
        for kind in ("ours", "pandas"):
            out = subprocess.run([sys.executable, "-c", FRAME_PROBE, kind, path,
                                  alloc.alloc_dir, rel], capture_output=True, text=True,
                                 env=env, check=True).stdout.split()
            probe[kind] = (int(out[0]), float(out[1]), float(out[2]))
        assert probe["ours"][0] == probe["pandas"][0] == lines, probe
        label = f"`nb.frame` of a {_label(written)} JSON log, {lines:,} rows"
        rows.append(Row(f"{label}: time", probe["ours"][1], probe["pandas"][1],
                        "`pandas.read_json(lines=True)`", goal="≤ 1", limit=1.0))
        rows.append(Row(f"{label}: peak RSS", probe["ours"][2], probe["pandas"][2],
                        "`pandas.read_json(lines=True)`", unit="MB", goal="≤ 0.5",
                        limit=0.5))
    finally:
        source.close()
        alloc.destroy()
    return rows
