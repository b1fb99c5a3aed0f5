"""Keeping the evidence of allocations past Nomad's garbage collection.

``allocdir-inspector keep ROOT --to DIR`` (:mod:`inspector.commands.keep`)
runs a :class:`Keeper`: it follows every allocation under a client root and
copies, as they are written, its logs (every member of every rotation set,
each byte once, across truncation and rotation), its tasks' rendered
``local/`` files and, if asked, ``alloc/data``, into one directory per
allocation in DIR (layout: :mod:`.layout`). When Nomad removes the
allocation, the copy stays, marked with when it was last seen.

Reading follows the library's rule (directory fds, no symlink followed, no
FIFO opened, no lease waited for, no secret read); writing into DIR goes
through directory fds opened from DIR itself. A budget removes the oldest
copies first; a full disk pauses copying and loses nothing kept; records
never claim bytes that are not on disk, so a stop at any moment (SIGTERM,
or even SIGKILL) leaves a directory a restart resumes without copying
anything twice.

No UI here: the command line prints the :class:`KeepEvent` lines.
"""

from .budget import parse_size
from .destination import keep_refusal
from .events import KeepEvent
from .keeper import KeepOptions, Keeper, KeepStats
from .layout import FORMAT_VERSION, MANIFEST_NAME, kept_log_name, kept_log_order
from .store import KeepDirError, KeepStore

__all__ = [
    "FORMAT_VERSION", "MANIFEST_NAME", "KeepDirError", "KeepEvent", "KeepOptions", "KeepStats",
    "KeepStore", "Keeper", "keep_refusal", "kept_log_name", "kept_log_order", "parse_size",
]
