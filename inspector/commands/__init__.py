"""The headless subcommands of ``allocdir-inspector`` (``logs``, ``usage``,
``keep``): for scripts and SSH sessions, no terminal UI.

Each subcommand is a module of this package with a ``main(argv) -> int``;
:data:`SUBCOMMANDS` maps the word typed after ``allocdir-inspector`` to it, so
the command line (:mod:`inspector.tui.cli`) dispatches without importing
Textual. Errors are one line on stderr and exit status 2
(:func:`fail`, :class:`Parser`), as for the app itself.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

PROG = "allocdir-inspector"
EXIT_USAGE = 2

SUBCOMMANDS: dict[str, str] = {
    "keep": "keep",
    "logs": "logs",
    "usage": "usage",
}
"""Subcommand word -> module (in this package) holding its ``main(argv)``."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print the usage error as one line and exit with status 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def fail(subject: str, reason: str, prog: str = PROG) -> NoReturn:
    """Print ``prog: subject: reason`` (escaped) on stderr and exit with status 2."""
    from ..core.text import printable

    print(f"{prog}: {printable(subject)}: {printable(reason)}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def subcommand(argv: list[str]):
    """The ``main`` of the subcommand ``argv`` starts with, or None."""
    if not argv or argv[0] not in SUBCOMMANDS:
        return None
    return importlib.import_module(f"{__name__}.{SUBCOMMANDS[argv[0]]}").main
