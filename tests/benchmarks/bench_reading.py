"""Operator-grade reading beside grep: search (literal, case-folded, regex)
and a filter's count through a generated 2 GB log, `e`/`E` (the next and
previous error line) through one without errors but near its end, a
100,000-entry directory in the tree, and a 10-file rotation set in the viewer.

The log is generated once per run in the work directory (``/var/tmp`` by
default), read once so that both sides find it in the page cache, and
removed with the work directory. Ours and grep's are timed in the same run,
alternately, median of three.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid

from allocdir import AllocDir

from .bench_viewer import median_probe
from .harness import PEAK_RSS_SOURCE, Row

NEEDLE = "upstream Connection refused by 10.0.0.7:8080"
"""One line near the end of the log holds this."""
WORDS = ("request served upstream cache miss hit backend pool worker queued job "
         "connection accepted closed retry timeout healthy checkpoint flushed").split()
LEVELS = ["INFO"] * 6 + ["DEBUG"] * 2 + ["WARN", "ERROR"]


def _block(lines: int = 200_000, levels: list[str] = LEVELS) -> bytes:
    """About 23 MB of log lines whose times run over one hour ("HH" is filled in)."""
    rnd = random.Random(20261128)
    out = []
    for j in range(lines):
        tenth_ms = j * 36_000_000 // lines
        minute, rest = divmod(tenth_ms, 600_000)
        second, frac = divmod(rest, 10_000)
        words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(4, 12)))
        out.append(f"2026-11-DDTHH:{minute:02d}:{second:02d}.{frac:04d}Z "
                   f"{levels[rnd.randrange(len(levels))]:5} [web] #{j} {words} "
                   f"latency_ms={rnd.randrange(1, 900)}\n")
    return "".join(out).encode()


def make_log(path: str, size: int, levels: list[str] = LEVELS) -> int:
    """Write about ``size`` bytes of log with NEEDLE on one line near the end
    (an ERROR line), the other lines at ``levels``."""
    block = _block(max(2000, min(200_000, size // 115)), levels)
    with open(path, "wb") as f:
        i = 0
        placed = False
        while f.tell() < size:
            day, hour = 1 + i // 24, i % 24
            f.write(block.replace(b"-DDTHH:", b"-%02dT%02d:" % (day, hour)))
            i += 1
            if not placed and f.tell() >= size * 0.95:
                f.write(f"2026-11-30T00:00:00.0000Z ERROR [web] {NEEDLE}\n".encode())
                placed = True
        if not placed:
            f.write(f"2026-11-30T00:00:00.0000Z ERROR [web] {NEEDLE}\n".encode())
        return f.tell()


def _warm(path: str) -> None:
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


def _big_log(work: str, size: int, levels: list[str]) -> tuple[AllocDir, str, str, int]:
    """A built alloc dir holding a log of about ``size`` bytes made by
    :func:`make_log`, read once (in the page cache for both sides): (alloc,
    its path inside, its path on disk, bytes written)."""
    if shutil.which("grep") is None:
        raise RuntimeError("needs grep")
    alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
    alloc.build()
    rel = "alloc/logs/web.stdout.0"
    path = os.path.join(alloc.alloc_dir, rel)
    written = make_log(path, size, levels)
    _warm(path)
    return alloc, rel, path, written


def _grep(*args: str) -> float:
    # Output to a pipe, not /dev/null: GNU grep stops at the first match
    # when it sees its output thrown away.
    started = time.perf_counter()
    subprocess.run(["grep", *args], stdout=subprocess.PIPE, check=False)
    return time.perf_counter() - started


def _alternate(ours, theirs, runs: int = 3) -> tuple[float, float]:
    """Medians of ``runs`` timings of each, taken alternately (the same load for both)."""
    a, b = [], []
    for _ in range(runs):
        a.append(ours())
        b.append(theirs())
    return statistics.median(a), statistics.median(b)


def search_and_filter(work: str, size: int) -> list[Row]:
    """Literal, case-folded and regex search, and a filter's count, beside grep."""
    from inspector.core.pager import FsSource
    from inspector.core.search import SearchPattern, count_matching_lines, search_forward

    alloc, rel, path, written = _big_log(work, size, LEVELS)
    source = FsSource(alloc, rel)
    rows = []
    try:
        total = source.size()

        def ours(text: str):
            pattern = SearchPattern.parse(text)

            def run() -> float:
                started = time.perf_counter()
                found = search_forward(source.read, total, pattern, 0)
                took = time.perf_counter() - started
                assert found is not None, text
                return took

            return run

        label = f"{written / 1e9:.1f} GB log" if written >= 1e9 else f"{written / 1e6:.0f} MB log"
        cases = [
            ("search, literal", "Connection refused", ("-b", "-m1", "Connection refused", path),
             "`grep -b -m1`", 1.5),
            ("search, literal, case folded", "connection refused by",
             ("-b", "-m1", "-i", "connection refused by", path), "`grep -b -m1 -i`", 1.5),
            ("search, regex", r"Conn\w+ refused", ("-b", "-m1", "-E", r"Conn\w+ refused", path),
             "`grep -b -m1 -E`", 3.0),
            ("search, regex alternation, case folded", "unreachable|refused by",
             ("-b", "-m1", "-i", "-E", "unreachable|refused by", path), "`grep -b -m1 -i -E`",
             3.0),
        ]
        for name, text, args, baseline, limit in cases:
            mine, theirs = _alternate(ours(text), lambda args=args: _grep(*args))
            rows.append(Row(f"{name} `{text}`, match at 95% of a {label}", mine, theirs,
                            baseline, goal=f"≤ {limit:g}", limit=limit))

        pattern = SearchPattern.parse("ERROR")
        counts = []

        def count() -> float:
            started = time.perf_counter()
            counts.append(count_matching_lines(source.read, total, pattern))
            return time.perf_counter() - started

        mine, theirs = _alternate(count, lambda: _grep("-c", "ERROR", path))
        grep_count = int(subprocess.run(["grep", "-c", "ERROR", path], capture_output=True,
                                        text=True).stdout)
        assert counts[-1] == grep_count, (counts[-1], grep_count)
        rows.append(Row(f"filter `&ERROR`: count the matching lines of the {label} "
                        f"({grep_count:,} lines)", mine, theirs, "`grep -c`", goal="≤ 3",
                        limit=3.0))
    finally:
        source.close()
        alloc.destroy()
    return rows


# -- `e` / `E`: the next and previous error line -----------------------------------

GREP_ERRORS = (
    r"(^|[^[:alnum:]_.-])(ERROR|ERR|FATAL|FTL|CRIT|CRITICAL|PANIC|EMERG|ALERT)([^[:alnum:]_-]|$)"
    r"|^(panic|fatal error):|^[EF][0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"|([Ll][Ee][Vv][Ee][Ll]|[Ll][Vv][Ll]|[Ss][Ee][Vv][Ee][Rr][Ii][Tt][Yy])=\"?"
    r"([Ee][Rr][Rr]|[Ff][Aa][Tt][Aa][Ll]|[Ff][Tt][Ll]|[Cc][Rr][Ii][Tt]|[Pp][Aa][Nn][Ii][Cc]"
    r"|[Dd][Pp][Aa][Nn][Ii][Cc]|[Ee][Mm][Ee][Rr][Gg]|[Aa][Ll][Ee][Rr][Tt])"
    r"|\"([Ll][Ee][Vv][Ee][Ll]|[Ll][Vv][Ll]|[Ss][Ee][Vv][Ee][Rr][Ii][Tt][Yy])\"[[:space:]]*:"
    r"[[:space:]]*\"([Ee][Rr][Rr]|[Ff][Aa][Tt][Aa][Ll]|[Ff][Tt][Ll]|[Cc][Rr][Ii][Tt]"
    r"|[Pp][Aa][Nn][Ii][Cc]|[Dd][Pp][Aa][Nn][Ii][Cc]|[Ee][Mm][Ee][Rr][Gg]|[Aa][Ll][Ee][Rr][Tt])"
)
"""What `e` looks for, as grep -E sees it: the level words as words, Go's
crash lines, klog's E/F prefix, and logfmt/JSON level fields in any case
(grep -E has no inline case folding: each letter is a bracket)."""
GREP_WORDS = "ERROR|ERR|FATAL|FTL|CRIT|PANIC|EMERG|ALERT|^panic:|^fatal error:|level=|\"level\""
"""A looser pattern (the level words as plain text, lower-case keys only):
what grep is asked by someone in a hurry, for the note."""


def error_lines(work: str, size: int) -> list[Row]:
    """`e` from the top and `E` from the end of a log whose only error line
    lies at 95 % (its other lines at INFO/DEBUG/WARN), beside grep with an
    equivalent pattern over the same bytes; and `e` through a log where
    every line mentions ERROR but only the last is an error line."""
    from inspector.core.levels import find_level_line
    from inspector.core.pager import FsSource

    alloc, rel, path, written = _big_log(work, size, ["INFO"] * 6 + ["DEBUG"] * 2 + ["WARN"])
    source = FsSource(alloc, rel)
    label = f"{written / 1e9:.1f} GB log" if written >= 1e9 else f"{written / 1e6:.0f} MB log"
    rows = []
    try:
        total = source.size()
        found = find_level_line(source.read, total, 0)
        assert found is not None and source.read(found.offset, 5) == b"ERROR", found
        # `E` from the end reads back over the bytes after that line: grep is
        # timed scanning the same bytes (finding nothing, as `E` does until it).
        after = source.read(found.offset, 4096).index(b"\n") + 1
        tail_bytes = total - found.offset - after

        def forward() -> float:
            started = time.perf_counter()
            assert find_level_line(source.read, total, 0) == found
            return time.perf_counter() - started

        def backward() -> float:
            started = time.perf_counter()
            assert find_level_line(source.read, total, total, backward=True) == found
            return time.perf_counter() - started

        def grep_tail(pattern: str) -> float:
            started = time.perf_counter()
            tail = subprocess.Popen(["tail", "-c", str(tail_bytes), path], stdout=subprocess.PIPE)
            subprocess.run(["grep", "-n", "-m1", "-E", pattern], stdin=tail.stdout,
                           stdout=subprocess.PIPE, check=False)
            tail.stdout.close()
            tail.wait()
            return time.perf_counter() - started

        mine, theirs = _alternate(forward, lambda: _grep("-n", "-m1", "-E", GREP_ERRORS, path))
        loose = statistics.median(_grep("-n", "-m1", "-E", GREP_WORDS, path) for _ in range(3))
        rows.append(Row(f"`e`: the only error line, at 95% of a {label}", mine, theirs,
                        "`grep -n -m1 -E` (an equivalent pattern)", goal="≤ 1.5", limit=1.5,
                        note=f"grep with the looser level-word pattern: {loose:.2f} s"))
        mine, theirs = _alternate(backward, lambda: grep_tail(GREP_ERRORS))
        rows.append(Row(f"`E` from the end of the {label} back to that line "
                        f"({tail_bytes / 1e6:.0f} MB after it)", mine, theirs,
                        "`tail -c | grep -n -m1 -E` through those bytes", goal="≤ 1.5",
                        limit=1.5))
    finally:
        source.close()
        alloc.destroy()
    rows.append(_every_line_a_candidate(work))
    return rows


def _every_line_a_candidate(work: str) -> Row:
    """`e` through 9 MB of "INFO retried after ERROR" lines: every line a
    candidate, only the last an error line."""
    from inspector.core.levels import find_level_line
    from inspector.core.pager import FsSource

    alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
    alloc.build()
    rel = "alloc/logs/web.stdout.0"
    line = b"2026-11-28T10:00:00.0000Z INFO  [web] retried after ERROR connecting to the pool\n"
    with open(os.path.join(alloc.alloc_dir, rel), "wb") as f:
        f.write(line * (9_000_000 // len(line)) + b"2026-11-28T10:00:01.0000Z ERROR [web] gave up\n")
    source = FsSource(alloc, rel)
    try:
        total = source.size()

        cpu: list[float] = []

        def forward() -> float:
            started, used = time.perf_counter(), time.process_time()
            found = find_level_line(source.read, total, 0)
            took = time.perf_counter() - started
            cpu.append(time.process_time() - used)
            assert found is not None and found.offset > total - 100, found
            return took

        mine = statistics.median(forward() for _ in range(3))
    finally:
        source.close()
        alloc.destroy()
    return Row(f"`e` through {total / 1e6:.0f} MB whose every line mentions ERROR (only the "
               f"last is an error line)", mine, 1.0, "the 1 s goal", goal="≤ 1", limit=1.0,
               note=f"CPU time {statistics.median(cpu):.2f} s")


# -- the tree on a 100,000-entry directory ---------------------------------------

_TREE_PROBE = PEAK_RSS_SOURCE + r"""
import asyncio, json, sys, time
from inspector.tui.app import InspectorApp
from inspector.core.roots import Root

alloc_dir, rel, first, last = sys.argv[1:5]

async def main():
    root = Root.open(alloc_dir)
    app = InspectorApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        tree = app.alloc_tree
        def screen():
            return "".join(str(tree.render_line(y).text) for y in range(tree.size.height))
        async def until(predicate, limit=120.0):
            deadline = time.perf_counter() + limit
            while time.perf_counter() < deadline:
                if predicate():
                    return time.perf_counter()
                await pilot.pause(0.002)
            raise SystemExit("timed out")
        await until(lambda: bool(tree.allocs))
        key = (tree.allocs[0].alloc_dir, rel)
        tree.reveal(tree.allocs[0], rel)
        await until(lambda: tree.find(key) is not None)
        node = tree.find(key)
        tree.move_cursor(node)
        tree.focus()
        await pilot.pause()
        pressed = time.perf_counter()
        await pilot.press("space")
        first_screen = await until(lambda: first in screen()) - pressed
        pressed = time.perf_counter()
        await pilot.press("G")
        to_last = await until(lambda: last in screen()) - pressed
    print(json.dumps({"first_screen": first_screen, "last": to_last, "rss_mb": peak_rss()}))

asyncio.run(main())
"""


def _tree_probe(alloc: AllocDir, rel: str, first: str, last: str) -> dict:
    result = subprocess.run([sys.executable, "-c", _TREE_PROBE, alloc.alloc_dir, rel, first,
                             last], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"tree probe failed: {result.stderr.strip()[-800:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def big_directory(work: str, entries: int = 100_000) -> list[Row]:
    """First screen and G to the last entry of a big directory, and peak RSS,
    beside `ls -l` of the same directory and the same on a 100-entry one."""
    rows = []
    figures = {}
    for count in (100, entries):
        alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
        alloc.build()
        rel = "alloc/tmp/big"  # the last directory of the tree: G lands on its last entry
        big = os.path.join(alloc.alloc_dir, rel)
        os.mkdir(big)
        for n in range(count):
            os.close(os.open(os.path.join(big, f"entry.{n}"), os.O_CREAT | os.O_WRONLY, 0o644))
        probes = [_tree_probe(alloc, rel, "entry.0 ", f"entry.{count - 1} ") for _ in range(3)]
        figures[count] = {key: statistics.median(p[key] for p in probes)
                          for key in ("first_screen", "last")}
        figures[count]["rss_mb"] = max(p["rss_mb"] for p in probes)
        if count == entries:
            ls = statistics.median(
                _timed_cmd(["ls", "-l", big]) for _ in range(3))
            figures["ls"] = ls
        alloc.destroy()
    big_f, small_f = figures[entries], figures[100]
    rows.append(Row(f"tree: {entries:,}-entry directory, expand to first screen",
                    big_f["first_screen"], figures["ls"], "`ls -l` of it", goal="≤ 2",
                    limit=2.0))
    rows.append(Row(f"tree: `G` to the last of {entries:,} entries", big_f["last"],
                    small_f["last"], "the same in a 100-entry directory", goal="≈ 1",
                    limit=1.5))
    rows.append(Row(f"tree: peak RSS with {entries:,} entries listed", big_f["rss_mb"], 150.0,
                    "the 150 MB goal", unit="MB", goal="≤ 1", limit=1.0,
                    note=f"{small_f['rss_mb']:.0f} MB with 100"))
    return rows


def _timed_cmd(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


# -- a rotation set of 10 files --------------------------------------------------


def rotation_set(work: str, member: int = 8 << 30, files: int = 10) -> list[Row]:
    """Open and `G` on a set of ``files`` sparse files of ``member`` bytes
    each, beside one 1 KiB file."""
    head, tail = "first line of the set", "last line of the set"
    alloc = AllocDir(os.path.join(work, str(uuid.uuid4())))
    alloc.build()
    logs = os.path.join(alloc.alloc_dir, "alloc", "logs")
    for n in range(files):
        path = os.path.join(logs, f"web.stdout.{n}")
        with open(path, "wb") as f:
            if n == 0:
                f.write(f"{head}\n".encode() + b"log line\n" * 40)
            f.truncate(member)  # sparse: no disk, no time
            if n == files - 1:
                f.seek(member - len(tail) - 1)
                f.write(f"{tail}\n".encode())
    with open(os.path.join(logs, "small.stdout.0"), "wb") as f:
        f.write(f"{head}\n".encode() + b"log line\n" * 40 + f"{tail}\n".encode())
    big = median_probe(alloc, "alloc/logs/web.stdout.0", head, tail)
    one = median_probe(alloc, "alloc/logs/small.stdout.0", head, tail)
    alloc.destroy()
    size = f"{files} × {member / 2**30:g} GiB"
    return [
        Row(f"rotation set of {size}: open to first page", big["first_page"],
            one["first_page"], "one 1 KiB file", goal="≈ 1", limit=1.5),
        Row(f"rotation set of {size}: `G` to the tail of its last file", big["tail"],
            one["tail"], "one 1 KiB file", goal="≈ 1", limit=1.5),
        Row(f"rotation set of {size}: peak RSS", big["rss_mb"], 150.0, "the 150 MB goal",
            unit="MB", goal="≤ 1", limit=1.0, note=f"{one['rss_mb']:.0f} MB with the 1 KiB file"),
    ]
