"""Turning a failure of background work into one line a user sees.

A task controls what is in its directories: names, modes, times (a tmpfs
keeps any 64-bit mtime), and it can make a listing raise errors nobody
planned for. A worker that lists, stats or looks at logs for a tree must
never let such an error end the app, nor drop it silently: it becomes a
message shown on the node (or the notebook entry) it was working for.

:func:`failure_text` is that message. The expected failures get short
words ("permission denied", "no longer exists"); anything else is named
with its type, so an operator can report it, and is logged with its
traceback (logger ``inspector``).
"""

from __future__ import annotations

import logging
import os

from allocdir import AllocDirError, PathEscapesError

from .text import printable

_log = logging.getLogger("inspector")


def failure_text(exc: BaseException, doing: str = "") -> str:
    """One printable line saying why ``doing`` (e.g. "listing alloc/logs")
    failed with ``exc``; an unexpected exception is also logged."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "no longer exists"
    if isinstance(exc, PathEscapesError):
        return "escapes the alloc dir"
    if isinstance(exc, AllocDirError):
        return printable(str(exc) or type(exc).__name__)
    if isinstance(exc, OSError):
        if exc.errno is not None and not exc.filename:
            return printable(os.strerror(exc.errno).lower())
        return printable(str(exc) or type(exc).__name__)
    _log.warning("unexpected error%s", f" {doing}" if doing else "", exc_info=exc)
    detail = str(exc)
    name = type(exc).__name__
    return printable(f"unexpected error: {name}: {detail}" if detail else
                     f"unexpected error: {name}")
