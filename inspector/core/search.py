"""Chunked, cancellable search through byte offsets, as ``less`` does it.

The file is scanned in big chunks read at offsets (8 MiB by default), never
as a whole. A pattern is a Python regular expression applied line by line;
case is smart, like ``less -i``: a pattern with no capital letter (escapes
such as ``\\S`` aside) matches any case (ASCII letters), one with a capital
matches exactly.

Three speeds, picked from the pattern:

- a literal (no regex syntax, or only escaped characters) is found with
  ``bytes.find`` (on the lowered chunk when case is folded), which runs at
  about ``grep``'s speed; consecutive chunks overlap by the pattern length
  minus one so a match across a chunk boundary is found;
- a regex that every match must contain some literal text for (``conn.*refused``
  contains ``refused``) looks for that text first and runs the regex only on
  the lines holding it, as ``grep`` and ``ripgrep`` do;
- any other regex runs on whole chunks cut at line ends.

Matches never span lines: a regex is compiled ``MULTILINE``, applied to one
line at a time where it matters, and ``^``/``$`` mean the start and end of
a line.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

CHUNK_SIZE = 8 * 1024 * 1024
"""Bytes scanned per read (at most)."""
DENSE = 32
"""After this many candidate lines in a row without a match, the regex scans by itself."""
MAX_LINE_READ = 64 * 1024 * 1024
"""Counting reads at most this much to get a whole (very long) line."""
LINE_TAIL = 64 * 1024
"""How far past a chunk's end a backward regex search reads to finish the line."""

Reader = Callable[[int, int], bytes]
"""``read(offset, length) -> bytes``, fewer bytes only at the end of the file."""

_META = set(".^$*+?{}[]\\|()")
_UPPER_ESCAPES = re.compile(r"\\.")


class SearchCancelled(Exception):
    """The search was cancelled before it finished."""


@dataclass(frozen=True)
class Match:
    """Where a match was found."""

    offset: int
    length: int


def _smart_case(text: str) -> bool:
    """True (ignore case) when ``text`` has no capital letter outside escapes."""
    bare = _UPPER_ESCAPES.sub("", text)
    return bare == bare.lower()


def _parse(pattern: bytes, flags: int):
    try:
        from re import _parser as sre_parse  # Python 3.11+
    except ImportError:  # pragma: no cover - older Pythons
        import sre_parse  # type: ignore[no-redef]
    return sre_parse.parse(pattern, flags)


def _literal_of(items) -> bytes | None:
    """The bytes matched by a parsed pattern made only of literals, else None."""
    from re import _constants as c

    out = bytearray()
    for op, arg in items:
        if op is not c.LITERAL:
            return None
        out.append(arg)
    return bytes(out)


def _required_literals(items) -> list[bytes]:
    """Runs of literal bytes that every match of ``items`` contains."""
    from re import _constants as c

    runs: list[bytes] = []
    run = bytearray()

    def flush() -> None:
        if run:
            runs.append(bytes(run))
            run.clear()

    for op, arg in items:
        if op is c.LITERAL:
            run.append(arg)
            continue
        flush()
        if op is c.SUBPATTERN:
            group, add_flags, del_flags, sub = arg
            if not add_flags and not del_flags:
                runs.extend(_required_literals(sub))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, _high, sub = arg
            if low >= 1:
                runs.extend(_required_literals(sub))
        elif op is getattr(c, "ATOMIC_GROUP", None):
            runs.extend(_required_literals(arg))
    flush()
    return runs


@dataclass(frozen=True)
class SearchPattern:
    """A compiled search pattern, for bytes (scanning) and text (highlighting).

    ``regex`` False means ``text`` is taken literally. Build one with
    :meth:`parse` (a regex, smart case) or :meth:`literal`.
    """

    text: str
    ignore_case: bool
    regex: bool = False

    @classmethod
    def parse(cls, text: str, *, regex: bool = True) -> SearchPattern:
        """Compile ``text`` with smart case. Raises ValueError if it is empty
        or, as a regex, invalid (the message says why)."""
        if not text:
            raise ValueError("empty search pattern")
        if not regex:
            return cls.literal(text)
        pattern = cls(text, ignore_case=_smart_case(text), regex=True)
        try:
            _ = pattern.bytes_regex, pattern.text_regex  # compile now, to report errors here
        except re.error as exc:
            raise ValueError(f"invalid regex: {exc}") from None
        return pattern

    @classmethod
    def literal(cls, text: str) -> SearchPattern:
        """``text`` literally, with smart case."""
        if not text:
            raise ValueError("empty search pattern")
        return cls(text, ignore_case=text == text.lower(), regex=False)

    # -- what the scan uses ------------------------------------------------

    @property
    def _flags(self) -> int:
        return re.MULTILINE | (re.IGNORECASE if self.ignore_case else 0)

    @cached_property
    def _parsed(self):
        if not self.regex or not (set(self.text) & _META):
            return None
        return _parse(self.text.encode("utf-8"), self._flags)

    @cached_property
    def is_literal(self) -> bool:
        """True when the pattern matches one fixed text (the fast path)."""
        if not self.regex or not (set(self.text) & _META):
            return True
        if "(?" in self.text:  # inline flags or groups: let the regex decide
            return False
        return _literal_of(self._parsed) is not None

    @cached_property
    def needle(self) -> bytes:
        """The literal bytes searched for (the pattern's text for a regex)."""
        if self.regex and set(self.text) & _META and "(?" not in self.text:
            literal = _literal_of(self._parsed)
            if literal is not None:
                return literal
        return self.text.encode("utf-8")

    @cached_property
    def fold(self) -> bool:
        """Whether the fast paths compare lowered bytes (case is ignored somewhere)."""
        if self.ignore_case:
            return True
        return self.regex and bool(re.search(r"\(\?[a-zA-Z]*i", self.text))

    @cached_property
    def prefilter(self) -> bytes | None:
        """Bytes every match contains (lowered when folding), or None."""
        if self.is_literal:
            needle = self.needle
        else:
            try:
                runs = _required_literals(self._parsed)
            except Exception:  # an unexpected parse tree: no prefilter
                runs = []
            if not runs:
                return None
            needle = max(runs, key=len)
        return needle.lower() if self.fold else needle

    @cached_property
    def needles(self) -> tuple[bytes, ...] | None:
        """Bytes of which every match contains one (lowered when folding): the
        required literal, or one per branch of a top-level alternation
        (``refused|unreachable``); None when there are none."""
        if self.prefilter is not None:
            return (self.prefilter,)
        try:
            items = self._parsed
            from re import _constants as c

            while len(items) == 1 and items[0][0] is c.SUBPATTERN and not any(items[0][1][1:3]):
                items = items[0][1][3]
            if len(items) != 1 or items[0][0] is not c.BRANCH:
                return None
            needles = []
            for branch in items[0][1][1]:
                runs = _required_literals(branch)
                if not runs:
                    return None
                needles.append(max(runs, key=len))
        except Exception:
            return None
        if self.fold:
            needles = [n.lower() for n in needles]
        return tuple(dict.fromkeys(needles))

    @cached_property
    def bytes_regex(self) -> re.Pattern[bytes]:
        """A regex finding the pattern in raw bytes (``MULTILINE``)."""
        if self.is_literal:
            return re.compile(re.escape(self.needle), self._flags)
        return re.compile(self.text.encode("utf-8"), self._flags)

    @cached_property
    def _scan(self) -> tuple[re.Pattern[bytes], bool]:
        """(regex, on_hay): with smart case the regex runs case-sensitively on
        the lowered bytes (the pattern has no capital: the same matches, and
        Python's ``re`` is several times faster without IGNORECASE)."""
        if self.ignore_case and not self.is_literal:
            return re.compile(self.text.encode("utf-8"), re.MULTILINE), True
        return self.bytes_regex, False

    @cached_property
    def text_regex(self) -> re.Pattern[str]:
        """A regex finding the pattern in decoded text (for highlighting)."""
        if self.is_literal:
            return re.compile(re.escape(self.needle.decode("utf-8", "replace")), self._flags)
        return re.compile(self.text, self._flags)

    @cached_property
    def _line_counter(self) -> re.Pattern[bytes]:
        """For counting matching lines of a literal: the needle and the rest of its line."""
        return re.compile(re.escape(self.prefilter or b"") + b"[^\n]*")

    # -- matching one chunk ------------------------------------------------

    def hay(self, data: bytes) -> bytes:
        """What the fast paths search: ``data``, lowered when folding case."""
        return data.lower() if self.fold else data

    def matches_line(self, line: bytes) -> bool:
        """Whether one line (without its newline) holds a match."""
        if self.is_literal:
            return self.prefilter in self.hay(line)
        regex, on_hay = self._scan
        return regex.search(self.hay(line) if on_hay else line) is not None

    def first_in(self, data: bytes, lo: int, hi: int, end: int | None = None,
                 hay: bytes | None = None) -> tuple[int, int] | None:
        """The first match of ``data`` that starts in ``[lo, hi)``, as (start, end).

        Bytes up to ``end`` (default: all of ``data``) may be looked at;
        ``hay`` is ``self.hay(data)`` when the caller already has it.
        """
        end = len(data) if end is None else end
        if self.is_literal:
            needle = self.prefilter
            hay = self.hay(data) if hay is None else hay
            found = hay.find(needle, lo, min(end, hi + len(needle) - 1))
            return None if found < 0 else (found, found + len(needle))
        regex, on_hay = self._scan
        needles = self.needles
        if needles is not None or on_hay:
            hay = self.hay(data) if hay is None else hay
        if on_hay:
            data = hay
        if needles is None:
            return _span_before(regex.search(data, lo, end), hi)
        pos, misses = lo, 0
        while pos < hi:
            hit = _find_any(hay, needles, pos, end)
            if hit < 0:
                return None
            line_start = max(lo, data.rfind(b"\n", 0, hit) + 1)
            if line_start >= hi:
                return None
            line_end = data.find(b"\n", hit, end)
            line_end = end if line_end < 0 else line_end
            found = regex.search(data, line_start, line_end)
            if found is not None and found.start() < hi:
                return found.span()
            pos = line_end + 1
            misses += 1
            if misses == DENSE:  # the literal is on most lines: let the regex scan
                return _span_before(regex.search(data, pos, end), hi)
        return None

    def last_in(self, data: bytes, lo: int, hi: int, end: int | None = None,
                hay: bytes | None = None) -> tuple[int, int] | None:
        """The last match of ``data`` that starts in ``[lo, hi)``, as (start, end)."""
        end = len(data) if end is None else end
        if self.is_literal:
            needle = self.prefilter
            hay = self.hay(data) if hay is None else hay
            found = hay.rfind(needle, lo, min(end, hi + len(needle) - 1))
            return None if found < 0 else (found, found + len(needle))
        regex, on_hay = self._scan
        needles = self.needles
        if needles is not None or on_hay:
            hay = self.hay(data) if hay is None else hay
        if on_hay:
            data = hay
        if needles is None:
            return _last_span(regex, data, lo, hi, end)
        if hi <= lo:
            return None
        # The line holding hi - 1: a match starting before hi may have its
        # literal after hi, so the whole line is looked at.
        line_start = max(lo, data.rfind(b"\n", 0, hi - 1) + 1)
        line_end = data.find(b"\n", hi - 1, end)
        line_end = end if line_end < 0 else line_end
        if _find_any(hay, needles, line_start, line_end) >= 0:
            last = _last_span(regex, data, line_start, hi, line_end)
            if last is not None:
                return last
        if line_start <= lo:
            return None
        limit = line_start
        misses = 0
        while True:
            hit = _rfind_any(hay, needles, lo, limit)
            if hit < 0:
                return None
            line_start = max(lo, data.rfind(b"\n", 0, hit) + 1)
            line_end = data.find(b"\n", hit, end)
            line_end = end if line_end < 0 else line_end
            last = _last_span(regex, data, line_start, hi, line_end)
            if last is not None:
                return last
            if line_start <= lo:
                return None
            limit = line_start
            misses += 1
            if misses == DENSE:  # the literal is on most lines: let the regex scan
                return _last_span(regex, data, lo, limit, limit)

    def count_lines_in(self, data: bytes, end: int) -> int:
        """How many lines of ``data[:end]`` hold a match (each line once)."""
        if self.is_literal:
            return len(self._line_counter.findall(self.hay(data), 0, end))
        regex, on_hay = self._scan
        needles = self.needles
        hay = self.hay(data) if needles is not None or on_hay else data
        if on_hay:
            data = hay
        count, pos, misses = 0, 0, 0
        while pos < end:
            if needles is not None and misses < DENSE:
                hit = _find_any(hay, needles, pos, end)
                if hit < 0:
                    break
                line_start = data.rfind(b"\n", 0, hit) + 1
                line_start = max(line_start, pos)
                line_end = data.find(b"\n", hit, end)
                line_end = end if line_end < 0 else line_end
                if regex.search(data, line_start, line_end) is not None:
                    count += 1
                    misses = 0
                else:
                    misses += 1  # on most lines and rarely a match: let the regex scan
            else:
                found = regex.search(data, pos, end)
                if found is None:
                    break
                line_end = data.find(b"\n", found.start(), end)
                line_end = end if line_end < 0 else line_end
                count += 1
            pos = line_end + 1
        return count


def _find_any(hay: bytes, needles: tuple[bytes, ...], pos: int, end: int) -> int:
    """The first offset in ``[pos, end)`` where one of ``needles`` starts, or -1."""
    if len(needles) == 1:
        return hay.find(needles[0], pos, end)
    best = -1
    for needle in needles:
        found = hay.find(needle, pos, end if best < 0 else min(end, best + len(needle)))
        if found >= 0 and (best < 0 or found < best):
            best = found
    return best


def _rfind_any(hay: bytes, needles: tuple[bytes, ...], lo: int, limit: int) -> int:
    """The last offset before ``limit`` where one of ``needles`` starts (and
    ends by ``limit + len - 1``), or -1."""
    best = -1
    for needle in needles:
        found = hay.rfind(needle, max(lo, best + 1), limit + len(needle) - 1)
        if found > best:
            best = found
    return best


def _span_before(found: re.Match[bytes] | None, hi: int) -> tuple[int, int] | None:
    if found is None or found.start() >= hi:
        return None
    return found.span()


def _last_span(regex: re.Pattern[bytes], data: bytes, lo: int, hi: int,
               end: int) -> tuple[int, int] | None:
    """The last match of ``regex`` in ``data[lo:end]`` that starts before ``hi``."""
    last = None
    for found in regex.finditer(data, lo, end):
        if found.start() >= hi:
            break
        last = found.span()
    return last


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise SearchCancelled()


def search_forward(
    read: Reader,
    size: int,
    pattern: SearchPattern,
    start: int,
    *,
    chunk_size: int = CHUNK_SIZE,
    cancel: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
    first_chunk: int | None = None,
    end: int | None = None,
) -> Match | None:
    """Return the first match starting at or after ``start`` (and before
    ``end``, default the end of the file), or None.

    Reads grow from ``first_chunk`` (default ``chunk_size``) to ``chunk_size``
    bytes, so a match close by costs a small read. ``progress`` is called
    with the percentage of the range scanned after each chunk; setting
    ``cancel`` makes the search raise SearchCancelled.
    """
    limit = size if end is None else min(end, size)
    pos = max(0, start)
    span = max(1, limit - pos)
    chunk = max(1, min(first_chunk or chunk_size, chunk_size))
    literal = pattern.is_literal
    overlap = len(pattern.prefilter) - 1 if literal else 0
    while pos < limit:
        _check(cancel)
        want = min(chunk, limit - pos)
        data = read(pos, want + overlap)
        if not data:
            break
        at_end = pos + len(data) >= size
        if literal:
            found = pattern.first_in(data, 0, want)
            step = want
        else:
            stop = len(data)
            if not at_end:
                cut = data.rfind(b"\n") + 1
                if cut == 0 and chunk < MAX_LINE_READ and want == chunk:
                    chunk *= 4  # one line longer than the read: read more
                    continue
                stop = cut or len(data)
            found = pattern.first_in(data, 0, min(stop, limit - pos), stop)
            step = stop
        if found is not None and pos + found[0] < limit:
            return Match(pos + found[0], found[1] - found[0])
        if at_end:
            break
        pos += step
        chunk = min(max(chunk, chunk * 4 if chunk < chunk_size else chunk), chunk_size)
        if progress is not None:
            progress(min(100.0, 100.0 * (pos - start) / span))
    return None


def search_backward(
    read: Reader,
    pattern: SearchPattern,
    before: int,
    *,
    chunk_size: int = CHUNK_SIZE,
    cancel: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
    first_chunk: int | None = None,
    lower: int = 0,
) -> Match | None:
    """Return the last match starting before ``before`` (and at or after
    ``lower``), or None. Chunks are scanned from the end."""
    high = before
    span = max(1, before - lower)
    chunk = max(1, min(first_chunk or chunk_size, chunk_size))
    literal = pattern.is_literal
    extra = len(pattern.prefilter) - 1 if literal else 0
    first = True
    while high > lower:
        _check(cancel)
        low = max(lower, high - chunk)
        if literal:
            data = read(low, high - low + extra)
            found = pattern.last_in(data, 0, high - low)
            next_high = low
        else:
            data = read(low, high - low + (LINE_TAIL if first else 0))
            end = high - low
            if first:  # finish the line that holds `before`
                nl = data.find(b"\n", end)
                end = len(data) if nl < 0 else nl
            begin = 0
            if low > lower:
                begin = data.find(b"\n", 0, high - low) + 1
                if (begin == 0 or begin >= high - low) and chunk < MAX_LINE_READ \
                        and high - low == chunk:
                    chunk *= 4  # no whole line starts in the read: read more
                    continue
                if begin >= high - low:
                    begin = 0
            found = pattern.last_in(data, begin, high - low, end)
            next_high = low + begin if begin else low
        if found is not None:
            return Match(low + found[0], found[1] - found[0])
        high = next_high
        first = False
        chunk = min(chunk * 4, chunk_size) if chunk < chunk_size else chunk_size
        if progress is not None:
            progress(min(100.0, 100.0 * (before - high) / span))
    return None


class Found(NamedTuple):
    """What :func:`search` found: the match, and whether it wrapped around."""

    match: Match | None
    wrapped: bool = False


def search(
    read: Reader,
    size: int,
    pattern: SearchPattern,
    start: int,
    *,
    backward: bool = False,
    wrap: bool = True,
    cancel: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Found:
    """Search from ``start`` in one direction and, with ``wrap``, go on from
    the other end of the file up to ``start`` (as ``less`` does with its
    wrap-around search)."""
    if backward:
        match = search_backward(read, pattern, start, cancel=cancel, progress=progress,
                                chunk_size=chunk_size)
        if match is not None or not wrap:
            return Found(match)
        match = search_backward(read, pattern, size, lower=start, cancel=cancel,
                                progress=progress, chunk_size=chunk_size)
        return Found(match, wrapped=match is not None)
    match = search_forward(read, size, pattern, start, cancel=cancel, progress=progress,
                           chunk_size=chunk_size)
    if match is not None or not wrap:
        return Found(match)
    match = search_forward(read, size, pattern, 0, end=start, cancel=cancel,
                           progress=progress, chunk_size=chunk_size)
    return Found(match, wrapped=match is not None)


def count_matching_lines(
    read: Reader,
    size: int,
    pattern: SearchPattern,
    *,
    start: int = 0,
    chunk_size: int = CHUNK_SIZE,
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Count the lines of the file that hold a match, as ``grep -c`` does.

    Streams through the file in chunks cut at line ends; ``progress(count,
    offset)`` is called after each chunk with the count so far and how far
    the scan got. ``cancel`` stops it (SearchCancelled).
    """
    pos, count = start, 0
    want = chunk_size
    while pos < size:
        _check(cancel)
        data = read(pos, want)
        if not data:
            break
        stop = len(data)
        if pos + len(data) < size:
            cut = data.rfind(b"\n") + 1
            if cut == 0 and want < MAX_LINE_READ:
                want *= 2  # a line longer than the read: read it whole
                continue
            stop = cut or len(data)
        count += pattern.count_lines_in(data, stop)
        pos += stop
        want = chunk_size
        if progress is not None:
            progress(count, pos)
    return count
