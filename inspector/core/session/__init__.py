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

from .document import Document, View
from .frame import Frame, FrameRow, Place
from .jobs import Clock, Executor, InlineExecutor, Job, LaneExecutor, ThreadExecutor, Token
from .logdoc import LogDocument
from .session import ReaderSession
from .status import Notices, Status

__all__ = [
    "Clock", "Document", "Executor", "Frame", "FrameRow", "InlineExecutor", "Job",
    "LaneExecutor", "LogDocument", "Notices", "Place", "ReaderSession", "Status",
    "ThreadExecutor", "Token", "View",
]
