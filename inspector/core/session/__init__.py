"""The reader session: what every key of a log viewer does, for every front-end.

- :mod:`.session`: :class:`ReaderSession`, the commands and the orchestration;
- :mod:`.jobs`: tokens (the one staleness rule) and the executors;
- :mod:`.frame`: the immutable :class:`Frame` a front-end draws;
- :mod:`.status`: the :class:`Status` line and how long a notice lasts;
- :mod:`.goto`: what go-to accepts (line, N%, @time, byte offset);
- :mod:`.document`: the protocol a readable thing implements;
- :mod:`.logdoc`: :class:`LogDocument`, a file or rotation set by byte offset;
- :mod:`.paging`: the paging operations on a pager;
- :mod:`.following`, :mod:`.watch`: the rows and the job of a follow.

Importing this package is cheap: the modules load on first use.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ReaderSession": "session",
    "Frame": "frame", "FrameRow": "frame", "Place": "frame",
    "Status": "status", "Notices": "status",
    "Token": "jobs", "Clock": "jobs", "Job": "jobs", "Executor": "jobs",
    "LaneExecutor": "jobs", "InlineExecutor": "jobs", "ThreadExecutor": "jobs",
    "parse_goto": "goto", "GotoError": "goto",
    "Document": "document", "View": "document",
    "LogDocument": "logdoc",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
