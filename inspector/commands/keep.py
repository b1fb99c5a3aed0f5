"""``allocdir-inspector keep ROOT --to DIR``: keep the logs and rendered
files of every allocation under a client root, as they are written, in a
directory that outlives Nomad's garbage collection.

Runs in the foreground until SIGTERM or SIGINT (or as a systemd service),
one line per event worth knowing; bad input is one line on stderr and exit
status 2. See :mod:`inspector.core.keep` for what is kept and how.
"""

from __future__ import annotations

import os
import signal
import sys

from . import PROG, Parser, fail

INCLUDABLE = ("logs", "local", "data")
DEFAULT_INCLUDE = "logs,local"


def build_parser() -> Parser:
    """The argument parser of ``keep``."""
    parser = Parser(prog=f"{PROG} keep", description=(
        "Keep the logs (whole rotation sets, across truncation and rotation, every byte "
        "once) and rendered local/ files of every allocation under ROOT, as they are "
        "written, in DIR: one directory per allocation, which stays when Nomad collects "
        "the allocation. Secrets are never read. Stops on SIGTERM or SIGINT, leaving DIR "
        "consistent; run it again to resume."))
    parser.add_argument("root", metavar="ROOT", help="a client alloc root (<data_dir>/alloc), "
                        "a Nomad data_dir, or one alloc dir")
    parser.add_argument("--to", metavar="DIR", required=True,
                        help="the keep directory: new, empty, or one kept before; created "
                        "0700; refused inside the client root or any alloc dir")
    parser.add_argument("--budget", metavar="SIZE", help="the most DIR may take on disk "
                        "(e.g. 10G): the oldest copies go first, gone allocations before "
                        "running ones")
    parser.add_argument("--include", metavar="WHAT", default=DEFAULT_INCLUDE,
                        help=f"what to keep, comma-separated, of {', '.join(INCLUDABLE)} "
                        f"(default {DEFAULT_INCLUDE}; data is alloc/data)")
    parser.add_argument("--alloc", metavar="ID", nargs="+", action="extend", default=[],
                        help="keep only the allocations whose id starts with one of these")
    level = parser.add_mutually_exclusive_group()
    level.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    level.add_argument("-v", "--verbose", action="store_true",
                       help="also print truncations, rotations and other details")
    return parser


def _include(text: str) -> frozenset[str]:
    parts = {p.strip() for p in text.split(",") if p.strip()}
    unknown = sorted(parts - set(INCLUDABLE))
    if unknown or not parts:
        fail("--include", f"{', '.join(unknown) or 'nothing'}: choose from "
             f"{', '.join(INCLUDABLE)}", f"{PROG} keep")
    return frozenset(parts)


def main(argv: list[str]) -> int:
    """Run ``keep``; returns the exit status."""
    from allocdir.dirfd import check_name
    from allocdir.plaintext import visible

    from ..core.keep import (
        KeepDirError, KeepOptions, Keeper, KeepStore, keep_refusal, parse_size,
    )
    from ..core.keep.events import DETAIL, ERROR
    from ..core.roots import Root, RootError

    prog = f"{PROG} keep"
    args = build_parser().parse_args(argv)
    include = _include(args.include)
    budget = None
    if args.budget is not None:
        try:
            budget = parse_size(args.budget)
        except ValueError as e:
            fail("--budget", str(e), prog)
    for prefix in args.alloc:
        try:
            check_name(prefix, "allocation id")
        except ValueError as e:
            fail("--alloc", str(e), prog)
    try:
        root = Root.open(args.root)
    except RootError as e:
        fail(args.root, str(e), prog)
    watched, allocs, exact = root.path, tuple(args.alloc), False
    if root.single:
        watched, name = os.path.split(root.path)
        if allocs and not any(name.startswith(p) for p in allocs):
            fail("--alloc", f"{name} is the only allocation of {root.path}", prog)
        allocs, exact = (name,), True
    refusal = keep_refusal(args.to, root, watched)
    if refusal:
        fail(args.to, refusal, prog)
    try:
        store = KeepStore.open(os.path.realpath(args.to))
    except KeepDirError as e:
        fail(args.to, str(e), prog)

    def show(event) -> None:
        if event.level == DETAIL and not args.verbose:
            return
        if args.quiet and event.level != ERROR:
            return
        stream = sys.stderr if event.level == ERROR else sys.stdout
        try:
            print(event.line(), file=stream, flush=True)
        except (BrokenPipeError, ValueError):
            pass  # the reader went away; keeping goes on

    options = KeepOptions(include=include, allocs=allocs, exact=exact, budget=budget)
    keeper = Keeper(watched, store, options, show)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: keeper.stop())
    try:
        keeper.run()
    except Exception as e:  # one line, not a traceback, for the operator
        print(visible(f"{prog}: {e}"), file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0
