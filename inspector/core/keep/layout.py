"""The layout of a keep directory: what a later reader opens as a root of
allocations.

::

    DIR/.allocdir-keep                          manifest (JSON): format, version, status
    DIR/<alloc id>/alloc/logs/<task>.<stream>.<N>      member N of a rotation set
    DIR/<alloc id>/alloc/logs/<task>.<stream>.<N>.<G>  member N after its G-th truncation
    DIR/<alloc id>/alloc/data/...               with --include data
    DIR/<alloc id>/<task>/local/...             rendered templates and other local files
    DIR/<alloc id>/.keep/state.json, journal.<J>    what was kept, from where, and when

Each kept allocation has Nomad's layout (``alloc/`` holds ``logs`` and
``data``), so ``allocdir.recognize`` takes DIR for a client alloc root and
each copy for an alloc dir; the manifest says it is a keep directory.

**Generations.** A log member that is truncated, rewritten from its start
or replaced by another file of the same name keeps what was already kept in
its file and continues in a new one: ``web.stdout.0`` holds the first
generation, ``web.stdout.0.1`` the bytes written after the first
truncation, and so on. Reading a set in order of (N, G) gives every byte
kept, in the order it was written. :func:`kept_log_order` gives that order.
"""

from __future__ import annotations

from ..rotation import parse_rotated

MANIFEST_NAME = ".allocdir-keep"
"""The manifest at the top of a keep directory (JSON)."""
MANIFEST_FORMAT = "allocdir-keep"
FORMAT_VERSION = 1
"""Version of the layout and of the metadata records."""
STATE_DIR = ".keep"
"""The metadata directory inside each kept allocation (a dot name: never a task)."""
STAGING_DIR = "tmp"
"""Inside ``STATE_DIR``: whole files are written here, then renamed into place."""
DIR_MODE = 0o700
FILE_MODE = 0o600


def rotated_member(name: str) -> tuple[str, int] | None:
    """``("web.stdout", 3)`` for Nomad's rotated log ``web.stdout.3``, else None.

    Only ASCII digits count as an index (``web.stdout.²`` is not a member)."""
    try:
        parsed = parse_rotated(name)
    except ValueError:  # a digit int() cannot read
        return None
    if parsed is None or not name.rsplit(".", 1)[1].isascii():
        return None
    return f"{parsed[0]}.{parsed[1]}", parsed[2]


def kept_log_name(member: str, generation: int) -> str:
    """The kept file of ``member`` (``web.stdout.0``) for ``generation``."""
    return member if generation == 0 else f"{member}.{generation}"


def kept_log_order(name: str) -> tuple[str, int, int] | None:
    """``(set, N, G)`` of a kept log file name, the order to read a set in:
    ``web.stdout.0.2`` is ``("web.stdout", 0, 2)``; None for other names."""
    member = rotated_member(name)
    if member is not None:
        return member[0], member[1], 0
    head, _, tail = name.rpartition(".")
    member = rotated_member(head) if tail.isascii() and tail.isdigit() else None
    if member is None or int(tail) == 0:
        return None
    return member[0], member[1], int(tail)
