"""The reader session: what every key of a log viewer does, for every front-end.

- :mod:`.session`: :class:`ReaderSession`, the commands and the orchestration;
- :mod:`.jobs`: tokens (the one staleness rule) and the executors;
- :mod:`.frame`: the immutable :class:`Frame` a front-end draws;
- :mod:`.status`: the :class:`Status` line and how long a notice lasts;
- :mod:`.goto`: what go-to accepts (line, N%, @time, byte offset);
- :mod:`.document`: the protocol a readable thing implements;
- :mod:`.logdoc`: :class:`LogDocument`, a file or rotation set by byte offset;
- :mod:`.paging`: the paging operations on a pager;
- :mod:`.navigation`, :mod:`.searching`, :mod:`.filtering`, :mod:`.numbering`:
  the queue of moves, search, the ``&`` filter and its count, line numbers;
- :mod:`.following`, :mod:`.follow_job`: the rows and the job of a follow.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ReaderSession": "session", "Frame": "frame", "FrameRow": "frame", "Place": "frame",
    "Status": "status", "Notices": "status", "Document": "document", "View": "document",
    "LogDocument": "logdoc", "Clock": "jobs", "Executor": "jobs", "InlineExecutor": "jobs",
    "Job": "jobs", "LaneExecutor": "jobs", "ThreadExecutor": "jobs", "Token": "jobs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """The exported names, each loaded with its module when first asked for
    (the terminal app's start loads only what its first screen needs)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
