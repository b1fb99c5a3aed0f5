"""``allocdir-inspector usage PATH [--json] [--top N] [--config PATH]``:
what each allocation, task or directory holds, and the file system against
Nomad's GC thresholds.

PATH is a client root (or data_dir): one line per allocation and, below
it, per task and ``alloc/``; an alloc dir: per task and its directories;
any other directory: per subdirectory. Then the largest files and what was
not counted (mount points, unreadable directories). ``--json`` prints one
JSON object per line: the file system, the total, each entry and each
large file, each with a ``kind``; entries carry ``apparent_bytes``,
``allocated_bytes``, ``inodes``, ``files`` and ``newest_write``.
"""

from __future__ import annotations

import json
import sys

from allocdir import AllocDirError, measure_usage
from allocdir.plaintext import size_words

from . import Parser, fail
from ..core.text import printable
from ..core.usage.config import AgentConfig, ConfigError, read_config
from ..core.usage.model import ROOT, UsageRow, flatten, iso_time
from ..core.usage.target import Target, TargetError, resolve

PROG = "allocdir-inspector usage"


def build_parser() -> Parser:
    """The parser of ``allocdir-inspector usage``."""
    parser = Parser(prog=PROG, description="Disk and inode usage per allocation, task or "
                    "directory, never following links or crossing mounts; hard links once.")
    parser.add_argument("path", nargs="?", metavar="PATH",
                        help="a client root, a data_dir, an alloc dir or a directory in one; "
                        "default: the client root of --config")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--top", type=_positive, default=10, metavar="N",
                        help="how many of the largest files to list (default 10)")
    parser.add_argument("--depth", type=_positive, default=2, metavar="D",
                        help="levels of directories listed (default 2)")
    parser.add_argument("--config", metavar="PATH",
                        help="Nomad agent configuration (file or directory, HCL or JSON): "
                        "data_dir and the client's GC thresholds")
    parser.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                        help="stop measuring after this long (the result says it is partial)")
    return parser


def _positive(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def load_config(path: str | None, needed: bool, prog: str = PROG) -> AgentConfig | None:
    """Read ``--config``: each bad file is one line on stderr and the rest
    still counts; an unusable PATH fails only when nothing else says what
    to open (``needed``)."""
    if path is None:
        return None
    try:
        config = read_config(path)
    except ConfigError as exc:
        if needed:
            fail("--config", str(exc), prog)
        print(f"{prog}: --config: {exc}; using Nomad's defaults", file=sys.stderr)
        return None
    for error in config.errors:
        print(f"{prog}: --config: {error}", file=sys.stderr)
    return config


def main(argv: list[str]) -> int:
    """Measure and print; 2 on bad input (one line)."""
    args = build_parser().parse_args(argv)
    config = load_config(args.config, needed=args.path is None)
    try:
        target = resolve(args.path, config)
        status = target.status()
        usage = measure_usage(target.path, top=args.top, time_limit=args.time_limit)
    except TargetError as exc:
        fail(args.path or (config.alloc_root if config else None) or "--config", str(exc), PROG)
    except OSError as exc:
        fail(args.path or target.path, exc.strerror or str(exc), PROG)
    except AllocDirError as exc:  # a symlink where the directory should be
        fail(args.path or target.path, str(exc), PROG)
    rows = flatten(usage, args.depth, top_kind=target.kind)
    try:
        if args.json:
            _print_json(target, status, usage, rows)
        else:
            _print_text(target, status, usage, rows)
        sys.stdout.flush()
    except BrokenPipeError:
        sys.stderr.close()  # `| head`: not an error
    return 0


def _entry(kind: str, rel: str, row_like, target: Target) -> dict:
    return {"kind": kind, "path": f"{target.path}/{rel}" if rel else target.path, "rel": rel,
            "apparent_bytes": row_like.apparent, "allocated_bytes": row_like.allocated,
            "inodes": row_like.inodes, "files": row_like.files,
            "newest_write": iso_time(row_like.newest)}


def _print_json(target: Target, status, usage, rows: list[tuple[int, UsageRow]]) -> None:
    fs = status.fs
    print(json.dumps({
        "kind": "filesystem", "path": target.path, "disk_used_percent": round(fs.used_percent, 2),
        "inodes_used_percent": round(fs.inodes_percent, 2), "allocs": status.allocs,
        "gc_disk_usage_threshold": status.settings.disk_threshold,
        "gc_inode_usage_threshold": status.settings.inode_threshold,
        "gc_max_allocs": status.settings.max_allocs, "thresholds": status.settings.label,
        "over": [t for t, over in (("disk", status.disk_over), ("inodes", status.inodes_over),
                                   ("allocs", status.allocs_over)) if over]}))
    total = _entry("total", "", _Totals(usage), target)
    total.update(complete=usage.complete, partial=usage.partial)
    print(json.dumps(total))
    for level, row in rows:
        entry = _entry(row.kind, row.rel, row, target)
        entry.update(level=level, share=round(row.share, 4))
        print(json.dumps(entry))
    for f in usage.largest_files():
        print(json.dumps({**_entry("file", f.rel, _FileRow(f), target)}))
    for skipped in usage.skipped:
        print(json.dumps({"kind": "skipped", "rel": skipped.rel, "reason": skipped.reason}))


class _Totals:
    def __init__(self, usage) -> None:
        self.apparent, self.allocated = usage.apparent_bytes, usage.allocated_bytes
        self.inodes, self.files, self.newest = usage.inodes, usage.files, usage.newest_write


class _FileRow:
    def __init__(self, f) -> None:
        self.apparent, self.allocated, self.inodes, self.files = f.apparent, f.allocated, 1, 1
        self.newest = f.mtime


def _print_text(target: Target, status, usage, rows: list[tuple[int, UsageRow]]) -> None:
    newest = iso_time(usage.newest_write) or "-"
    print(f"{target.description}: {size_words(usage.apparent_bytes)} apparent, "
          f"{size_words(usage.allocated_bytes)} allocated, {usage.inodes:,} inodes, "
          f"{usage.files:,} files, newest write {newest}")
    print(f"file system: {status.summary()}")
    if not usage.complete:
        print("partial: " + "; ".join(printable(p) for p in usage.partial[:5]))
    print()
    print(f"{'APPARENT':>10}  {'ALLOCATED':>10}  {'INODES':>9}  {'FILES':>9}  "
          f"{'NEWEST WRITE':<25}  PATH")
    for level, row in rows:
        label = f"{row.kind} " if target.kind == ROOT and level == 1 or row.kind == "task" else ""
        print(f"{size_words(row.apparent):>10}  {size_words(row.allocated):>10}  "
              f"{row.inodes:>9,}  {row.files:>9,}  {iso_time(row.newest) or '-':<25}  "
              f"{'  ' * (level - 1)}{label}{printable(row.rel)}")
    largest = usage.largest_files()
    if largest:
        print("\nlargest files:")
        for f in largest:
            print(f"{size_words(f.apparent):>10}  {size_words(f.allocated):>10}  "
                  f"{printable(f.rel)}")
    if usage.skipped:
        print("\nnot counted:")
        for skipped in usage.skipped:
            print(f"  {printable(skipped.rel)}: {printable(skipped.reason)}")
        if usage.skipped_count > len(usage.skipped):
            print(f"  … and {usage.skipped_count - len(usage.skipped):,} more")
