"""Byte-offset paging over a file of any size.

The pager never reads a whole file. Like ``less`` it keeps an anchor (the byte
offset of the line at the top of the screen, plus which wrapped row of that
line is on top) and reads only the bytes around it: moving down parses the
next line starts, moving up scans the bytes just before the anchor for the
previous newline, and the tail is found by reading backwards from the end.

Lines longer than ``max_line_bytes`` are split into pieces, so a file without
newlines never forces a big read; the text shown for a line is capped at
``MAX_LINE_CHARS`` characters before ANSI parsing and highlighting. In hex mode every row is 16
bytes at an offset that is a multiple of 16.

Nothing here knows about Textual; the viewer runs these methods in a worker
thread and renders the rows they return.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text

from inspector.core.hexdump import ROW_BYTES, format_row
from inspector.core.linefinder import Line, LineFinder
from inspector.core.rotation import LogSource
from inspector.core.search import SearchPattern, search_backward, search_forward
from inspector.core.shownlines import ShownLines
from inspector.core.text import ansi_text

MAX_LINE_BYTES = 2048
"""A line longer than this many bytes is shown as several pieces (rows)."""
MAX_LINE_CHARS = 2048
"""At most this many characters of a line are decoded, coloured and shown.

A piece has at most ``MAX_LINE_BYTES`` bytes, hence at most as many
characters, so with the defaults nothing of the file is ever hidden: the cut
(marked with "…") only guards callers that use longer pieces."""
BACK_SCAN_LIMIT = 256 * 1024
"""How far back to look for the start of a line before giving up on aligning pieces."""
BLOCK_SIZE = 64 * 1024
MAX_BLOCKS = 64
MAX_DISPLAY_CACHE = 2048
TAB_SIZE = 8

_CUT_MARKER = "…"


class ByteSource(Protocol):
    """Random access to the bytes of one file."""

    def size(self) -> int:
        """Return the current size of the file in bytes."""

    def read(self, offset: int, length: int) -> bytes:
        """Return up to ``length`` bytes at ``offset`` (fewer only at the end)."""


class FsSource(LogSource):
    """A ByteSource over one file of an ``AllocDirFS``, through ``read_at``.

    The handle returned by ``read_at`` is kept open, so a file that is deleted
    or rotated away stays readable, and every read is a ``pread`` (no shared
    file position), so one source can be read from several threads. (A
    rotation set read as one log is a :class:`~inspector.core.rotation.LogSource`.)
    """

    def __init__(self, fs, path: str) -> None:
        super().__init__(fs, path, as_set=False)


class BlockCache:
    """A small LRU cache of aligned blocks in front of a ByteSource.

    Paging moves a few lines at a time; the cache turns those small reads into
    a few block reads and keeps memory bounded (``max_blocks * block_size``).
    """

    def __init__(
        self, source: ByteSource, block_size: int = BLOCK_SIZE, max_blocks: int = MAX_BLOCKS
    ) -> None:
        self.source = source
        self.block_size = block_size
        self.max_blocks = max_blocks
        self._blocks: OrderedDict[int, bytes] = OrderedDict()

    def read(self, offset: int, length: int) -> bytes:
        """Return up to ``length`` bytes at ``offset`` (fewer only at the end)."""
        bs = self.block_size
        out: list[bytes] = []
        pos, end = offset, offset + length
        while pos < end:
            index = pos // bs
            block = self._block(index)
            start = pos - index * bs
            piece = block[start : start + (end - pos)]
            if piece:
                out.append(piece)
                pos += len(piece)
            if len(block) < bs and pos >= index * bs + len(block):
                break
        return b"".join(out)

    def invalidate(self, from_offset: int = 0) -> None:
        """Forget every block that holds bytes at or after ``from_offset``."""
        first = from_offset // self.block_size
        for index in [i for i in self._blocks if i >= first]:
            del self._blocks[index]

    def _block(self, index: int) -> bytes:
        block = self._blocks.get(index)
        if block is not None:
            self._blocks.move_to_end(index)
            return block
        block = self.source.read(index * self.block_size, self.block_size)
        self._blocks[index] = block
        if len(self._blocks) > self.max_blocks:
            self._blocks.popitem(last=False)
        return block


@dataclass(frozen=True)
class Row:
    """One screen row: a line, or one wrapped part of it."""

    line: Line
    index: int
    """Which wrapped part of the line (0 without wrap)."""
    text: Text
    """What the row shows (already cut to the row when wrapping)."""
    start: int = 0
    """Where the row starts in its line's display text (characters)."""


def line_text(data: bytes, max_chars: int = MAX_LINE_CHARS) -> Text:
    """Turn the raw bytes of a line into display text.

    Decodes UTF-8 with replacement, cuts the line to ``max_chars`` characters
    (before any ANSI parsing, so a huge line costs nothing), keeps SGR
    colours, drops every other escape sequence and control character (see
    ``inspector.core.text.ansi_text``: nothing a task writes can retitle the
    terminal, reach its clipboard or carry a link) and expands tabs.
    """
    if data.endswith(b"\r"):
        data = data[:-1]
    raw = data[: max_chars * 4].decode("utf-8", errors="replace")
    cut = len(raw) > max_chars or len(data) > max_chars * 4
    text = ansi_text(raw[:max_chars])
    if "\t" in text.plain:
        text.expand_tabs(TAB_SIZE)
    if cut:
        text.append(_CUT_MARKER, style="bold reverse")
    return text


def wrap_starts(plain: str, width: int) -> list[int]:
    """Return the character offsets where each wrapped row of ``plain`` starts."""
    width = max(1, width)
    if plain.isascii():
        return list(range(0, max(1, len(plain)), width))
    starts = [0]
    cells = 0
    for i, char in enumerate(plain):
        size = get_character_cell_size(char)
        if cells + size > width and cells > 0:
            starts.append(i)
            cells = 0
        cells += size
    return starts


FILTER_FIRST_READ = 64 * 1024
"""A filter looks this far for the next matching line before reading bigger chunks."""
FILTER_MEMO = 4096
CACHED_READ = 256 * 1024
"""Reads up to this size go through the block cache; bigger ones go to the source."""


class Pager(LineFinder, ShownLines):
    """The paging state of one file: an anchor and the rows on screen.

    ``top`` is the byte offset of the line at the top of the screen and
    ``top_row`` the wrapped row of that line shown first. Not thread-safe: one
    worker at a time drives it.

    With ``filter`` set (a :class:`~inspector.core.search.SearchPattern`),
    only the lines holding a match are shown, like ``less``'s ``&pattern``:
    every movement skips the other lines by searching (cancellable through
    ``cancel``, reporting through ``progress``). In a log with timestamps,
    a match shows its whole record (:mod:`inspector.core.records`: the
    line that logged it and the trace below). With ``levels``, the level
    word of each line is coloured (:mod:`inspector.core.levels`).
    """

    def __init__(
        self,
        source: ByteSource,
        *,
        hex_mode: bool = False,
        width: int = 80,
        height: int = 24,
        wrap: bool = False,
        max_line_bytes: int = MAX_LINE_BYTES,
        back_scan_limit: int = BACK_SCAN_LIMIT,
        levels: bool = False,
        cache_blocks: int = MAX_BLOCKS,
        display_cache: int = MAX_DISPLAY_CACHE,
    ) -> None:
        self.source = source
        self.hex_mode = hex_mode
        self.width = max(1, width)
        self.height = max(1, height)
        self.wrap = wrap
        self.levels = levels
        self.max_line_bytes = max_line_bytes
        self.back_scan_limit = max(back_scan_limit, max_line_bytes + 2)
        self.top = 0
        self.top_row = 0
        self.cancel: threading.Event | None = None
        """Set it to stop a long filter scan (it raises SearchCancelled)."""
        self.progress: Callable[[float], None] | None = None
        """Called with a percentage while a filter scans far."""
        self.notices: list[str] = []
        """What ``sync`` noticed (a member rotated away, the file deleted…); the caller empties it."""
        self._cache_blocks = cache_blocks
        self._display_cache = display_cache
        self._filter: SearchPattern | None = None
        self.context = 0  # see ShownLines.set_context
        self.render: Callable[[bytes], bytes] | None = None  # see ShownLines.set_render
        self._records = None  # the filter's records (inspector.core.records), made with it
        self._memo: OrderedDict[tuple[str, int], Line | None] = OrderedDict()
        self._cache = BlockCache(source, max_blocks=cache_blocks)
        self._texts: OrderedDict[tuple[int, int], Text] = OrderedDict()
        self._rows: OrderedDict[tuple[int, int, int], list[Row]] = OrderedDict()
        self._size = source.size()

    # -- file state ---------------------------------------------------------

    @property
    def size(self) -> int:
        """The file size seen by the last ``sync``."""
        return self._size

    def sync(self, force: bool = False) -> bool:
        """Pick up a change of the file; return True if it changed.

        A source that can ``refresh`` (a rotation set) is asked first (with
        ``force``, it lists its directory now): bytes rotated away from its
        head move the anchor down with them. A shrunk file drops every cached
        byte and, if the anchor is now past the end, moves to the tail; a
        grown file drops only the cached end.
        """
        changed = False
        refresh = getattr(self.source, "refresh", None)
        if refresh is not None:
            change = refresh(force=True) if force else refresh()
            if change:
                self.notices.extend(change.notices)
                if change.dropped or change.reshaped:
                    self._rebase(change.dropped)
                    changed = True
        size = self.source.size()
        if size == self._size:
            return changed
        if size < self._size:
            self._cache.invalidate(0)
            self._texts.clear()
            self._rows.clear()
            self._memo.clear()
            if self._records is not None:
                self._records.forget()
        else:
            self._grown(self._size)
        self._size = size
        if self.top >= size and size > 0:
            self.tail()
        elif size == 0:
            self.top, self.top_row = 0, 0
        return True

    def _grown(self, old_size: int) -> None:
        """Bytes were appended after ``old_size``: what was read of the bytes
        before it stands (a line's text is keyed by its byte range), except
        the block and the line that touched the old end, and a filter's
        answers that reached it ("nothing matches below" may be wrong now)."""
        self._cache.invalidate(old_size)
        for key in [key for key, line in self._memo.items()
                    if line is None or line.end >= old_size]:
            del self._memo[key]
        if self._records is not None:
            self._records.grown()

    def forget(self) -> None:
        """Forget every cached byte, line and text (the file was rewritten)."""
        self._rebase(0)

    def _rebase(self, dropped: int) -> None:
        """Forget cached bytes; offsets moved down by ``dropped``."""
        self._cache = BlockCache(self.source, max_blocks=self._cache_blocks)
        self._texts.clear()
        self._rows.clear()
        self._memo.clear()
        self._size = self.source.size()
        if dropped:
            if self.top < dropped:
                self.top, self.top_row = 0, 0
            else:
                self.top -= dropped

    def replace_source(self, source: ByteSource) -> None:
        """Read another file (e.g. the successor of a rotated log) from now on."""
        self.source = source
        self._cache = BlockCache(source, max_blocks=self._cache_blocks)
        self._texts.clear()
        self._rows.clear()
        self._memo.clear()
        self._size = source.size()
        if self.top >= self._size:
            self.top, self.top_row = 0, 0

    def set_view(self, width: int, height: int, wrap: bool) -> None:
        """Change the screen size or the wrap mode, keeping the top line."""
        if (width, height, wrap) == (self.width, self.height, self.wrap):
            return
        self.width, self.height, self.wrap = max(1, width), max(1, height), wrap
        self.top_row = 0

    @property
    def filter(self) -> SearchPattern | None:
        """The pattern every shown line must match, or None (all lines)."""
        return self._filter

    def set_filter(self, pattern: SearchPattern | None) -> None:
        """Show only the lines matching ``pattern`` (None: every line),
        keeping the top of the screen where it is."""
        self._filter = pattern
        self._memo.clear()
        self._records = None
        if pattern is not None:
            from inspector.core.records import Records

            self._records = Records(self.read, lambda: self._size)
        self.top_row = 0

    def _read(self, offset: int, length: int) -> bytes:
        length = min(length, self._size - offset)
        if length <= 0:
            return b""
        return self._cache.read(offset, length)

    def read(self, offset: int, length: int) -> bytes:
        """Read through the block cache when small, straight from the source when big."""
        length = min(length, self._size - offset)
        if length <= 0:
            return b""
        if length <= CACHED_READ:
            return self._cache.read(offset, length)
        return self.source.read(offset, length)

    # -- lines ------------------------------------------------------------

    def line_at(self, offset: int) -> Line | None:
        """Return the line starting at ``offset``, or None at the end of the file.

        With a filter: the first matching line starting at or after ``offset``.
        """
        if self._filter is not None and not self.hex_mode:
            if self.context:
                return self._context_after(offset)
            return self._matching_line(offset, backward=False)
        return self._line_at(offset)

    def line_before(self, offset: int) -> Line | None:
        """Return the line that ends at ``offset``, or None at the start of the file.

        With a filter: the last matching line that starts before ``offset``.
        """
        if self._filter is not None and not self.hex_mode:
            if self.context:
                return self._context_before(offset)
            return self._matching_line(offset, backward=True)
        return self._line_before(offset)

    def _matching_line(self, offset: int, backward: bool) -> Line | None:
        """The next (previous) line holding a match of the filter."""
        key = ("before" if backward else "at", offset)
        if key in self._memo:
            self._memo.move_to_end(key)
            return self._memo[key]
        records = self._timed_records()
        if records is not None:
            line = self._record_line(records, offset, backward)
        else:
            if backward:
                found = search_backward(
                    self.read, self._filter, offset, first_chunk=FILTER_FIRST_READ,
                    cancel=self.cancel, progress=self.progress,
                ) if offset > 0 else None
            else:
                found = search_forward(
                    self.read, self._size, self._filter, offset, first_chunk=FILTER_FIRST_READ,
                    cancel=self.cancel, progress=self.progress,
                )
            line = None if found is None else self._line_containing(found.offset)
        self._memo[key] = line
        if len(self._memo) > FILTER_MEMO:
            self._memo.popitem(last=False)
        return line

    def _timed_records(self):
        """The filter's records when the log has timestamps (else lines are shown alone)."""
        records = self._records
        return records if records is not None and records.timed else None

    def _record_line(self, records, offset: int, backward: bool,
                     lower: int = 0) -> Line | None:
        """The next (previous, not before ``lower``) line of a record holding
        a match of the filter."""
        if backward:
            end = records.previous_matching(self._filter, offset, lower=lower, cancel=self.cancel,
                                            progress=self.progress,
                                            first_chunk=FILTER_FIRST_READ)
            return None if end is None else self._line_before(end)
        start = records.next_matching(self._filter, offset, cancel=self.cancel,
                                      progress=self.progress, first_chunk=FILTER_FIRST_READ)
        return None if start is None else self._line_containing(start)

    def line_containing(self, offset: int) -> Line | None:
        """Return the line (or piece) that holds the byte at ``offset``.

        With a filter: the first matching line at or after that line.
        """
        line = self._line_containing(offset)
        if self._filter is not None and not self.hex_mode and line is not None:
            return self.line_at(line.start)
        return line

    # -- display ----------------------------------------------------------

    def text_of(self, line: Line) -> Text:
        """Return the display text of a line (cached)."""
        key = (line.start, line.end)
        text = self._texts.get(key)
        if text is None:
            if self.hex_mode:
                text = format_row(line.start, line.data, self._size)
            else:
                text = line_text(self.render(line.data) if self.render else line.data)
                if self.levels:
                    from inspector.core.levels import colour_levels

                    colour_levels(text)
            self._texts[key] = text
            if len(self._texts) > self._display_cache:
                self._texts.popitem(last=False)
        return text

    def _starts(self, line: Line) -> list[int]:
        if not self.wrap or self.hex_mode:
            return [0]
        text = self.text_of(line)
        if cell_len(text.plain) <= self.width:
            return [0]
        return wrap_starts(text.plain, self.width)

    def rows_of(self, line: Line) -> int:
        """How many screen rows the line takes."""
        return len(self._starts(line))

    def rows(self, line: Line) -> list[Row]:
        """The screen rows of one line (the same objects while the line and
        the width are: a renderer may cache what it drew of them)."""
        key = (line.start, line.end, self.width if self.wrap else 0)
        rows = self._rows.get(key)
        if rows is not None and rows[0].line == line:
            self._rows.move_to_end(key)
            return rows
        text = self.text_of(line)
        starts = self._starts(line)
        if len(starts) == 1:
            rows = [Row(line, 0, text)]
        else:
            ends = starts[1:] + [len(text)]
            rows = [Row(line, i, text[a:b], a)
                    for i, (a, b) in enumerate(zip(starts, ends, strict=True))]
        self._rows[key] = rows
        if len(self._rows) > self._display_cache:
            self._rows.popitem(last=False)
        return rows

    # -- movement ---------------------------------------------------------

    def screen(self) -> list[Row]:
        """Return the rows on screen, from the anchor down (at most ``height``)."""
        rows: list[Row] = []
        line = self.line_at(self.top)
        skip = self.top_row if line is not None and line.start == self.top else 0
        while line is not None and len(rows) < self.height:
            line_rows = self.rows(line)
            rows.extend(line_rows[skip:])
            skip = 0
            line = self.line_at(line.end)
        return rows[: self.height]

    def tail_lines(self, lower: int, rows: int) -> list[Line]:
        """The last lines of the file (that match the filter, if any) starting
        at or after ``lower``, in file order: enough of them for ``rows``
        screen rows, or all there are (a line that starts before ``lower``
        is cut there). Reads backwards from the end, so it costs what the
        lines cost, however much lies before them."""
        lines: list[Line] = []
        offset, need = self._size, rows
        while need > 0 and offset > lower:
            records = None if self.hex_mode or self.context else self._timed_records()
            if records is not None:
                line = self._record_line(records, offset, True, lower)
            elif self._filter is not None and not self.hex_mode and not self.context:
                found = search_backward(self.read, self._filter, offset, lower=lower,
                                        first_chunk=FILTER_FIRST_READ, cancel=self.cancel)
                line = None if found is None else self._line_containing(found.offset)
            else:
                line = self.line_before(offset)
            if line is None or line.end <= lower:
                break
            if line.start < lower:  # a line cut at ``lower``: its part from there
                data = line.data[lower - line.start:]
                lines.append(Line(lower, line.end, data, line.newline))
                break
            lines.append(line)
            need -= self.rows_of(line)
            offset = line.start
        lines.reverse()
        return lines

    def last_line_start(self) -> int:
        """Where the last line starts if the file does not end with a newline
        (the line a writer is still writing: of a long one, its last piece),
        else the size. In a hex dump: the start of an incomplete last row."""
        size = self._size
        if self.hex_mode:
            return size - size % ROW_BYTES
        if size == 0 or self._read(size - 1, 1) == b"\n":
            return size
        return self._start_before(size)

    def head(self) -> None:
        """Move to the start of the file."""
        self.top, self.top_row = 0, 0

    def tail(self) -> None:
        """Move so that the last screenful of the file is shown."""
        need = self.height
        offset = self._size
        self.top, self.top_row = 0, 0
        while need > 0:
            line = self.line_before(offset)
            if line is None:
                return
            count = self.rows_of(line)
            self.top, offset = line.start, line.start
            if count >= need:
                self.top_row = count - need
                return
            need -= count

    def down(self, count: int = 1) -> None:
        """Move ``count`` rows towards the end (never past the last screenful)."""
        line = self.line_at(self.top)
        if line is not None and line.start != self.top:
            self.top, self.top_row = line.start, 0  # a filter skipped to here
        while count > 0 and line is not None:
            total = self.rows_of(line)
            if self.top_row + count < total:
                self.top_row += count
                break
            count -= total - self.top_row
            following = self.line_at(line.end)
            if following is None:
                break
            self.top, self.top_row, line = following.start, 0, following
        if len(self.screen()) < self.height and (self.top, self.top_row) != (0, 0):
            self.tail()

    def up(self, count: int = 1) -> None:
        """Move ``count`` rows towards the start."""
        while count > 0:
            if self.top_row >= count:
                self.top_row -= count
                return
            count -= self.top_row + 1
            line = self.line_before(self.top)
            if line is None:
                self.top_row = 0
                return
            self.top, self.top_row = line.start, self.rows_of(line) - 1

    def page_down(self) -> None:
        """Move one screenful towards the end."""
        self.down(self.height)

    def page_up(self) -> None:
        """Move one screenful towards the start."""
        self.up(self.height)

    def goto(self, offset: int) -> None:
        """Put the line holding byte ``offset`` at the top (or show the tail).

        With a filter: the first matching line from there.
        """
        line = self.line_containing(offset)
        if line is None:
            if self._filter is not None and not self.hex_mode:
                self.tail()
            else:
                self.head()
            return
        self.top, self.top_row = line.start, 0
        if len(self.screen()) < self.height and line.start > 0:
            self.tail()

    def goto_exact(self, offset: int) -> None:
        """Put ``offset`` itself at the top (e.g. the first byte of a rotated
        file, though a line spans the rotation)."""
        self.top, self.top_row = max(0, min(offset, self._size)), 0
        if len(self.screen()) < self.height and self.top > 0:
            self.tail()

    def is_visible(self, offset: int) -> bool:
        """Whether the byte at ``offset`` is on a row of the current screen."""
        rows = self.screen()
        return bool(rows) and rows[0].line.start <= offset < rows[-1].line.end

    def bottom(self, rows: list[Row] | None = None) -> int:
        """The byte offset just after the last row on screen."""
        rows = self.screen() if rows is None else rows
        return rows[-1].line.end if rows else self.top

    def percent(self, rows: list[Row] | None = None) -> float:
        """How far through the file the bottom of the screen is, 0..100."""
        if self._size == 0:
            return 100.0
        return min(100.0, 100.0 * self.bottom(rows) / self._size)
