"""The `allocdir-inspector` command line: validate PATH, then run the app."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
from typing import TYPE_CHECKING, NoReturn

from ..commands import EXIT_USAGE, PROG, Parser, fail, subcommand
from . import startup

if TYPE_CHECKING:
    from ..core.roots import Root

__all__ = ["EXIT_USAGE", "PROG", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `allocdir-inspector`."""
    parser = Parser(
        prog=PROG,
        description="Browse Nomad allocation directories: page through files of any "
        "size, follow task logs, snapshot, move or destroy allocations.",
    )
    parser.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="an alloc dir, a client alloc root holding alloc dirs (Nomad's "
        "<data_dir>/alloc), or a Nomad data_dir (its alloc/ is opened); anything else "
        "is refused; default: the current directory",
    )
    parser.add_argument(
        "--open",
        metavar="REL",
        dest="open_rel",
        help="open this file at start: relative to PATH (under a root it begins "
        "with the alloc id, or a prefix naming one allocation), or an absolute path "
        "inside PATH; a rotated log <task>.<stream>.<N> opens with its whole set",
    )
    parser.add_argument("--follow", action="store_true", help="follow the --open file")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="Nomad agent configuration (a file, or a directory of *.hcl/*.json as "
        "nomad agent -config takes): the client's GC thresholds, and data_dir when "
        "PATH is omitted",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run on a live demo root in a temporary directory, removed on exit",
    )
    return parser


_fail = fail


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status.

    A first word naming a subcommand (``logs``, ``usage``, ``keep``: see
    :mod:`inspector.commands`) runs it instead of the app."""
    argv = sys.argv[1:] if argv is None else argv
    run = subcommand(argv)
    if run is not None:
        return run(argv[1:])
    args = build_parser().parse_args(argv)
    if args.follow and not args.open_rel:
        _fail("--follow", "needs --open REL")
    # Paused before the heavy imports; the app's first frame resumes it.
    startup.pause_collector()
    try:
        if args.demo:
            if args.path is not None:
                _fail("--demo", "takes no PATH")
            return _run_demo(args.open_rel, args.follow)
        config = _config(args.config, args.path is None)
        path = args.path if args.path is not None else (
            (config.alloc_dir or config.data_dir) if config is not None else None)
        return _run(_open_root(path or "."), args.open_rel, args.follow,
                    config.gc if config is not None else None)
    finally:
        startup.resume_collector()


def _open_root(path: str) -> Root:
    """The Root at PATH, or the one-line error."""
    from ..core.roots import Root, RootError

    try:
        return Root.open(path)
    except RootError as exc:
        _fail(path, str(exc))


def _config(path: str | None, needed: bool):
    """The agent configuration of --config (each bad file one line on stderr)."""
    if path is None:
        return None
    from ..commands.usage import load_config

    return load_config(path, needed, PROG)


def _run(root: Root, open_rel: str | None, follow: bool, gc_settings=None) -> int:
    """Check --open, then run the app on `root`.

    The --open file's first screen is read here, before the event loop runs,
    so that the app's first frame shows it (a worker would deliver it a frame
    later); the viewer lays it out again for its real size.
    """
    from ..core.roots import RootError, check_openable
    from ..core.viewing import read_first_screen
    from .app import InspectorApp, viewer_size
    from .viewer import WRAP

    start = first = logs = None
    if open_rel:
        try:
            alloc, rel = root.locate(open_rel)
            logs = _task_logs(alloc, rel)
            if logs is None:
                check_openable(alloc, _member(alloc, rel, follow))
        except RootError as exc:
            _fail(open_rel, str(exc))
        start = (alloc, rel)
        if logs is None:
            width, height = viewer_size(*shutil.get_terminal_size())
            first = read_first_screen(alloc, rel, width, height, wrap=WRAP, follow=follow)
    extra = {"gc_settings": gc_settings} if gc_settings is not None else {}
    if logs:
        extra["open_logs"] = logs
    InspectorApp(root, open_file=start, follow=follow, first_screen=first, **extra).run()
    return 0


def _task_logs(alloc, rel: str):
    """For an --open naming a task (``ALLOC/web``): its stdout and stderr,
    to open merged; else None."""
    from ..core.merge.sources import alloc_sources, task_names

    name = rel.strip("/")
    if not name or "/" in name or name not in task_names(alloc):
        return None
    return alloc_sources(alloc, [name])


def _member(alloc, rel: str, follow: bool) -> str:
    """The file --open reads first: ``rel``, or of a set named without an
    index (``alloc/logs/web.stdout``), its first file (its newest to follow)."""
    from allocdir import AllocDirError

    from ..core.roots import RootError
    from ..core.viewing import set_member

    try:
        return set_member(alloc, rel, newest=follow)
    except FileNotFoundError:
        raise RootError("no such file or directory") from None
    except (OSError, AllocDirError):  # its directory cannot be listed: the file itself says why
        return rel


def _exit_on_signal(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)


def _run_demo(open_rel: str | None, follow: bool) -> int:
    """Build the demo root, run the app on it, remove it whatever happens,
    also when the terminal goes away (SIGHUP) or the process is asked to stop."""
    from ..demo import DemoRoot

    for signum in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, _exit_on_signal)
    with DemoRoot() as demo:
        return _run(_open_root(demo.path), open_rel, follow)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
