"""``allocdir-inspector logs ALLOC [TASK] [-f] [-n N] [--stderr | --all]
[--since TIME] [--merge] [--root PATH]``: an allocation's logs on stdout,
for scripts and SSH sessions, with no Nomad agent.

ALLOC is the path of an alloc dir, or an allocation's id (or a unique
prefix of it) under ``--root`` (a client root or a data_dir; the current
directory by default). TASK is a task (its stdout; ``--stderr``: its
stderr; ``--all``: both), or a log by its set name (``alloc/logs/web.stdout``:
every ``web.stdout.N`` in order) or a file of the allocation. Without TASK:
every task. Several logs are written one after the other, each after a
``==> tag <==`` line; with ``--merge`` interleaved in time order, each line
after its source's tag (the order of the viewer's merged stream).

``-n N``: only the last N lines (of each log; of the stream with
``--merge``). ``--since TIME``: from the first line at or after TIME.
``-f``: then follow every log, across truncation and rotation, as
``tail -F`` does, until SIGINT or a closed pipe (exit 0). To a terminal the
content's escape sequences other than colours are dropped, as the app
does; to a pipe the bytes are written as they are. Errors are one line on
stderr, exit status 2.
"""

from __future__ import annotations

import collections
import os
import sys
import threading

from allocdir import AllocDir, AllocDirError, is_alloc_dir

from . import EXIT_USAGE, Parser, fail
from ..core.lognames import STREAMS
from ..core.merge.part import Part, Reading
from ..core.merge.sources import LogNameError, SourceSpec, alloc_sources, log_sources
from ..core.merge.stream import PIECE, SourceLines, merged, merged_lines
from ..core.records import Records
from ..core.roots import Root, RootError
from ..core.text import printable, terminal_text
from ..core.timestamps import parse_query

PROG = "allocdir-inspector logs"
BACK_CHUNK = 64 * 1024


def build_parser() -> Parser:
    """The parser of ``allocdir-inspector logs``."""
    parser = Parser(prog=PROG, description="An allocation's logs on stdout: a task's, every "
                    "task's, or merged in time order; followed across rotation with -f.")
    parser.add_argument("alloc", metavar="ALLOC",
                        help="an alloc dir, or an allocation id (or a unique prefix) under --root")
    parser.add_argument("task", nargs="?", metavar="TASK",
                        help="a task, or a log by its set name (alloc/logs/web.stdout) or file; "
                        "default: every task")
    parser.add_argument("-f", "--follow", action="store_true",
                        help="follow the logs across truncation and rotation (until ^C)")
    parser.add_argument("-n", type=_count, default=None, metavar="N",
                        help="only the last N lines (of each log; of the stream with --merge)")
    streams = parser.add_mutually_exclusive_group()
    streams.add_argument("--stderr", action="store_true", help="stderr instead of stdout")
    streams.add_argument("--all", action="store_true", help="stdout and stderr")
    parser.add_argument("--since", metavar="TIME",
                        help="from the first line at or after TIME (2026-11-28T10:15, 10:15Z)")
    parser.add_argument("--merge", action="store_true",
                        help="interleave the logs in time order, each line after its tag")
    parser.add_argument("--root", metavar="PATH", default=".",
                        help="where an allocation id is looked up: a client root or a "
                        "data_dir (default: the current directory)")
    return parser


def _count(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def main(argv: list[str]) -> int:
    """Run ``allocdir-inspector logs``; the exit status."""
    args = build_parser().parse_args(argv[1:] if argv[:1] == ["logs"] else argv)
    alloc = find_alloc(args.alloc, args.root)
    specs = chosen(alloc, args)
    parts = [Part(i, spec) for i, spec in enumerate(specs)]
    for part in parts:
        if part.open() and part.problem != "no file yet":
            print(f"{PROG}: {part.tag}: {part.problem}", file=sys.stderr)
    out = Output(sys.stdout.buffer, sys.stdout.isatty(), tagged=args.merge)
    try:
        ends = write_history(parts, args, out)
        if args.follow:
            follow(parts, ends, out)
    except BrokenPipeError:
        _quiet_stdout()
    except KeyboardInterrupt:
        pass
    finally:
        for part in parts:
            part.close()
    return 0


def find_alloc(given: str, root: str) -> AllocDir:
    """The allocation ALLOC names: an alloc dir's path, or an id (prefix) under ``root``."""
    try:
        if os.path.isdir(given) and is_alloc_dir(given):
            return AllocDir.discover(os.path.abspath(given))
        alloc, rest = Root.open(root).locate(given)
    except (RootError, AllocDirError, OSError) as exc:
        fail(given, str(exc), PROG)
    if rest.strip("/"):
        fail(given, "not an allocation (name a log as TASK)", PROG)
    return alloc


def chosen(alloc, args) -> list[SourceSpec]:
    """The logs the arguments name (one line and exit 2 when they name none)."""
    streams = list(STREAMS) if args.all else ["stderr"] if args.stderr else ["stdout"]
    try:
        if args.task is None:
            specs = alloc_sources(alloc, streams=streams)
        elif "/" in args.task:
            specs = log_sources(alloc, args.task)
        else:
            specs = alloc_sources(alloc, [args.task], streams)
    except LogNameError as exc:  # the message names what is wrong
        print(f"{PROG}: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None
    if not specs:
        fail(args.alloc, "no logs in this allocation", PROG)
    return specs


class Output:
    """Where lines go: bytes as they are to a pipe, safe text to a terminal;
    with ``tagged``, each line after its source's tag, else a ``==> tag <==``
    line when the source changes (several logs)."""

    def __init__(self, stream, terminal: bool, *, tagged: bool) -> None:
        self.stream = stream
        self.terminal = terminal
        self.tagged = tagged
        self.headers = False
        self.lock = threading.Lock()
        self._last: str | None = None

    def lines(self, tag: str, lines: list[bytes]) -> None:
        """Write ``lines`` (without their newlines) of the source ``tag``."""
        if not lines:
            return
        with self.lock:
            if self.headers and not self.tagged and tag != self._last:
                self.stream.write(b"%s==> %s <==\n" % (b"\n" if self._last else b"",
                                                       tag.encode()))
            self._last = tag
            prefix = tag.encode() + b" " if self.tagged else b""
            if self.terminal:
                lines = [terminal_text(line.decode("utf-8", "replace")).encode()
                         for line in lines]
            body = b"".join(prefix + line + b"\n" for line in lines)
            self.stream.write(body)
            self.stream.flush()

    @property
    def tags_in_lines(self) -> bool:
        """Whether merged lines come with their tags in front already (to a
        pipe, where nothing of a line is changed)."""
        return self.tagged and not self.terminal

    def block(self, lines: list[bytes]) -> None:
        """Write lines made ready for the output (tags in front), at once."""
        if lines:
            with self.lock:
                self.stream.write(b"\n".join(lines))
                self.stream.write(b"\n")
                self.stream.flush()

    def merged(self, owners: list[int], lines: list[bytes], tags: list[str]) -> None:
        """Write a batch of the merged stream."""
        run_start = 0
        for i in range(1, len(owners) + 1):
            if i == len(owners) or owners[i] != owners[run_start]:
                self.lines(tags[owners[run_start]], lines[run_start:i])
                run_start = i


def source_lines(part: Part, args, prefix: bytes = b"") -> SourceLines:
    """The lines of ``part`` the arguments ask for, up to its end now (each
    after ``prefix``)."""
    source = part.doc.source if part.doc is not None else None
    if source is None:
        return SourceLines(part.index, lambda offset, length: b"", lambda: 0, 0, end=0)
    size = source.size()
    reading = Reading(part.index, source.read, lambda: size, 0, Records(source.read, lambda: size))
    start = 0
    if args.since:
        try:  # a time alone: on the date (and in the zone) of the log's first time
            key = parse_query(args.since, reading.first_key())
        except ValueError as exc:
            fail("--since", str(exc), PROG)
        start = reading.find(key)
    if args.n is not None:
        start = max(start, last_lines_start(source.read, size, args.n))
    return SourceLines(part.index, source.read, lambda: size, start,
                       seed=reading.seed(start), end=size, prefix=prefix)


def last_lines_start(read, size: int, count: int) -> int:
    """Where the last ``count`` lines of a log of ``size`` bytes start
    (read backwards a chunk at a time: never the whole log)."""
    if count == 0:
        return size
    end = size
    if end and read(end - 1, 1) == b"\n":
        end -= 1  # the last line's own newline
    seen = 0
    while end > 0:
        low = max(0, end - BACK_CHUNK)
        data = read(low, end - low)
        at = len(data)
        while True:
            at = data.rfind(b"\n", 0, at)
            if at < 0:
                break
            seen += 1
            if seen == count:
                return low + at + 1
        end = low
    return 0


def write_history(parts: list[Part], args, out: Output) -> dict[int, int]:
    """Write what the logs hold now; where each ended (set offsets)."""
    tags = [part.tag for part in parts]
    if args.merge and out.tags_in_lines:
        sources = [source_lines(part, args, part.tag.encode() + b" ") for part in parts]
        keep = collections.deque(maxlen=args.n) if args.n is not None else None
        for lines in merged_lines(sources, final=not args.follow):
            if keep is None:
                out.block(lines)
            else:
                keep.extend(lines)
        out.block(list(keep or ()))
        return {source.index: source.pos for source in sources}
    sources = [source_lines(part, args) for part in parts]
    out.headers = len(parts) > 1
    if args.merge:
        keep = collections.deque(maxlen=args.n) if args.n is not None else None
        for owners, lines in merged(sources, final=not args.follow):
            if keep is None:
                out.merged(owners, lines, tags)
            else:
                keep.extend(zip(owners, lines, strict=True))
        if keep:
            out.merged([s for s, _ in keep], [line for _, line in keep], tags)
    else:
        for source in sources:
            for _owners, lines in merged([source], final=not args.follow):
                out.lines(tags[source.index], lines)
    return {source.index: source.pos for source in sources}


class LineSink:
    """A follower's sink: complete lines to the output, a long line in
    pieces, a truncation or a file created again as a line on stderr."""

    def __init__(self, tag: str, out: Output, broken) -> None:
        self.tag = tag
        self.out = out
        self.broken = broken
        """Called when stdout was closed."""
        self._partial = b""

    def data(self, chunk: bytes) -> None:
        """New bytes of the log."""
        data = self._partial + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0 and len(data) >= PIECE:
            cut = len(data)
        self._partial = data[cut:]
        if cut:
            self._write(data[:cut].split(b"\n")[:-1] if data[cut - 1:cut] == b"\n"
                        else [data[:cut]])

    def mark(self, label: str) -> None:
        """The log was truncated or created again."""
        self._partial = b""
        print(f"{PROG}: {self.tag}: {printable(label)}", file=sys.stderr, flush=True)

    def _write(self, lines: list[bytes]) -> None:
        try:
            self.out.lines(self.tag, lines)
        except (BrokenPipeError, ValueError):  # stdout closed: the follow ends, exit 0
            self.broken()


def follow(parts: list[Part], ends: dict[int, int], out: Output) -> None:
    """Follow every log from where the history ended, until interrupted."""
    from ..core.merge.feed import MergedFeed  # following only: watches and threads

    broken = threading.Event()
    starts = {}
    for part in parts:
        if part.doc is not None:
            source = part.doc.source
            starts[part.index] = max(0, ends[part.index] - (source.start_of(source.path) or 0))
    def closed() -> None:
        broken.set()
        feed.stop()

    feed = MergedFeed(parts, reopen=True, starts=starts,
                      sink=lambda s: LineSink(parts[s].tag, out, closed))
    try:
        feed.run()
    finally:
        feed.stop()
    if broken.is_set():
        raise BrokenPipeError


def _quiet_stdout() -> None:
    """After a closed pipe: no error from the interpreter's last flush."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
