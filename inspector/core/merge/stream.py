"""The whole merged stream in one pass, in order: what ``logs --merge`` writes.

The same order as the viewer's (:mod:`.order`: a line's key is the latest
time its source has shown, ties by source order), made for throughput: each
source is read in chunks of a megabyte, the keys of a chunk's lines come
from one regex pass (:func:`~inspector.core.stamps.stamp_keys`), and the
lines of all sources are merged in batches (a batch ends where every source
still being read has a line at least as late, so no later chunk can hold a
line that goes before it). Memory holds a few chunks per source, whatever
the sizes; a line longer than :data:`PIECE` is passed on in pieces.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence

from ..search import Reader
from ..stamps import LOWEST
from .keys import Shape, chunk_keys

CHUNK = 1 << 20
"""Bytes read from a source at a time."""
PIECE = 1 << 20
"""A line longer than this is passed on in pieces of this size."""
LOW_WATER = 4096
"""A source with fewer lines pending than this is read again before a batch."""


class SourceLines:
    """The lines of one source, read on from ``start`` to ``end`` (local
    offsets; ``end`` None: the size now), keyed by the rule; each line after
    ``prefix`` (e.g. its source's tag, put in front of every line at once)."""

    def __init__(self, index: int, read: Reader, size: Callable[[], int], start: int,
                 seed: bytes = LOWEST, end: int | None = None, prefix: bytes = b"") -> None:
        self.index = index
        self._read = read
        self._size = size
        self.pos = start
        self.end = end
        self.run = seed
        self.lines: list[bytes] = []
        self.keys: list[bytes] = []
        self.done = False
        self.prefix = prefix
        self._shape: Shape | None = None
        self._mid_line = False  # the last bytes read ended inside a line

    def fill(self, final: bool = True) -> None:
        """Read the next chunk (``final``: a last line without a newline at
        the end is a line; else it waits for its newline)."""
        end = self._size() if self.end is None else self.end
        want = CHUNK
        while not self.done:
            data = self._read(self.pos, min(want, end - self.pos)) if self.pos < end else b""
            if not data:
                self.done = True
                return
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                if len(data) >= PIECE or (self.pos + len(data) >= end and final):
                    cut = len(data)
                elif self.pos + len(data) >= end:
                    self.done = True  # the line still being written: taken once complete
                    return
                else:
                    want = min(PIECE, want * 4)
                    continue
            self._take(data[:cut])
            return

    def _take(self, body: bytes) -> None:
        text = body[:-1] if body.endswith(b"\n") else body
        prefix = self.prefix
        if prefix:
            text = prefix + text.replace(b"\n", b"\n" + prefix)
        lines = text.split(b"\n")
        first = []
        if self._mid_line:  # a piece of a line begun before: its start had the time
            first = [self.run]
        keys, self._shape = chunk_keys(lines[len(first):], len(prefix), self._shape, self.run)
        keys = first + keys if first else keys
        self._mid_line = not body.endswith(b"\n")
        self.run = keys[-1]
        self.lines += lines
        self.keys += keys
        self.pos += len(body)


def merged(sources: Sequence[SourceLines], *,
           final: bool = True) -> Iterator[tuple[list[int], list[bytes]]]:
    """Batches of the stream's lines in order: (source of each line, lines)."""
    for order, owners, lines in _batches(sources, final):
        yield [owners[i] for i in order], list(map(lines.__getitem__, order))


def merged_lines(sources: Sequence[SourceLines], *, final: bool = True) -> Iterator[list[bytes]]:
    """Batches of the stream's lines in order (each after its source's prefix)."""
    for order, _owners, lines in _batches(sources, final):
        yield list(map(lines.__getitem__, order))


def _batches(sources: Sequence[SourceLines],
             final: bool) -> Iterator[tuple[list[int], list[int], list[bytes]]]:
    """Batches of lines that can go out: (their order, their sources, the lines)."""
    while True:
        for source in sources:
            if not source.done and len(source.lines) < LOW_WATER:
                source.fill(final)
        if not any(source.lines for source in sources):
            return
        reading = [(source.keys[-1] if source.keys else LOWEST, source.index)
                   for source in sources if not source.done]
        if reading:
            mark_key, mark = min(reading)
            cuts = [(bisect.bisect_right if source.index <= mark else bisect.bisect_left)(
                source.keys, mark_key) for source in sources]
        else:
            cuts = [len(source.lines) for source in sources]
        keys: list[bytes] = []
        lines: list[bytes] = []
        owners: list[int] = []
        for source, cut in zip(sources, cuts, strict=True):
            if cut:
                keys += source.keys[:cut]
                lines += source.lines[:cut]
                owners += [source.index] * cut
                del source.keys[:cut], source.lines[:cut]
        yield sorted(range(len(keys)), key=keys.__getitem__), owners, lines
