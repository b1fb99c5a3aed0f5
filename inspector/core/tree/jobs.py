"""The lanes of the tree model's jobs. Tokens, the staleness rule and the
executors are the reader session's (:mod:`inspector.core.session.jobs`):
the model's generation is a ``Clock``, each job carries a ``Token`` of it,
and a front-end runs them on the executor it gives the session too.

A lane's jobs run one at a time; listings are spread over
:data:`LIST_LANES` lanes by directory, so that a slow listing (a directory
of 100,000 entries) does not hold the others up, and no more than that many
directories are listed at once.
"""

from __future__ import annotations

import zlib

DISCOVER, LOOK, MEASURE = "tree-discover", "tree-look", "tree-measure"
"""The lanes of discovering the allocations, of looking at the logs dirs,
and of measuring directories for the size order."""
LIST_LANES = 4
"""Directories listed at once, at most."""


def list_lane(key: tuple[str, str]) -> str:
    """The lane a directory is listed in (the same one every time)."""
    return f"tree-list-{zlib.crc32('/'.join(key).encode(errors='surrogateescape')) % LIST_LANES}"
