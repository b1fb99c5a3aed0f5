"""``nb.frame`` and ``nb.rate``: the lines of a log as a pandas DataFrame, and
errors and warnings per time bucket as a matplotlib chart.

Both read a log, a rotation set (as one log) or what a viewer shows (one
log or a merged stream) through the reader session's
:class:`~inspector.core.session.lines.Lines`, a chunk at a time: memory
stays bounded by the rows asked for (``limit``), never by the log's size.
They block the cell that calls them (as ``pandas.read_json`` does), never
a widget's loop. pandas and matplotlib are the notebook extra's: the
terminal app never imports this module.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

from ..core.linetable import BASE_COLUMNS, table_rows
from ..core.session.document import View
from .viewer import Viewer, resolve

ROW_LIMIT = 1_000_000
"""Rows of ``nb.frame`` by default, at most."""


@contextmanager
def _lines_of(source, path: str | None):
    """The Lines of ``source``: a :class:`~inspector.notebook.viewer.Viewer`
    (what it shows), or an ``AllocDir``/``NotebookRoot`` and ``path``. Yields
    (lines, name of the log)."""
    if isinstance(source, Viewer):
        lines = source.session.records.document_lines()
        if lines is None:
            raise ValueError("the viewer shows no log to read lines from")
        yield lines, source.label
        return
    if path is None:
        raise TypeError("name the log: frame(alloc, 'alloc/logs/web.stdout') or frame(viewer)")
    from ..core.session.logdoc import LogDocument

    fs, rel = resolve(source, path)
    loaded = LogDocument.load(fs, rel, View(width=200, height=1, wrap=False))
    if loaded.doc is None:
        raise ValueError(loaded.frame.message or f"{rel} cannot be read as text")
    try:
        yield loaded.doc, rel
    finally:
        loaded.close()


def _where(text: str | None):
    if not text:
        return None
    from ..core.structured.pattern import parse_filter

    return parse_filter(text)


def frame(source, path: str | None = None, *, limit: int = ROW_LIMIT,
          where: str | None = None, fields: bool = True, since: str | None = None,
          until: str | None = None, cancel: threading.Event | None = None):
    """The lines of a log as a DataFrame, one row a line, in order.

    ``source`` is a viewer (what it shows: a log, a set, a merged stream)
    or an ``AllocDir``/``NotebookRoot`` with ``path`` (a log, or a rotation
    set by its name). Columns: ``time`` (the line's leading timestamp or its
    record's time field: in UTC when the log writes a zone or an epoch,
    else as written), ``level`` (error, warn,
    info, debug), ``source`` (the file of the set, or the stream's log),
    ``offset`` (the line's byte offset in that source), ``text`` (escaped:
    control characters as ``\\x1b``…), then the fields of JSON and logfmt
    records (nested values as parsed; a field named like a column above is
    ``<name>_field``). ``where``: only the lines a regex or a field
    expression (``status>=500``, as the ``&`` filter) matches; ``since`` /
    ``until``: a time range (as ``:@`` takes them); at most ``limit`` rows.
    """
    import pandas as pd

    parts, dropped = [], 0
    with _lines_of(source, path) as (lines, name), _collector_paused():
        start = end = None
        if since:
            start = lines.time_position(since, cancel)
            if start is None:
                return _empty(pd)
        if until:
            end = lines.time_position(until, cancel)
        for batch in table_rows(lines, limit=limit, where=_where(where), fields=fields,
                                start=start, end=end, source=name, cancel=cancel):
            parts.append(_batch_frame(pd, batch))
            dropped += batch.dropped_fields
    if not parts:
        return _empty(pd)
    table = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    for column in ("level", "source"):
        table[column] = table[column].astype("category")
    if dropped:
        table.attrs["dropped_fields"] = dropped
    return table


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off while rows are built: they are
    millions of new objects without cycles (strings, tuples, lists) that it
    would walk again and again as they pile up, for nothing to free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _empty(pd):
    return pd.DataFrame({column: [] for column in BASE_COLUMNS})


def _batch_frame(pd, batch):
    """One batch as a DataFrame: its times as datetimes, then the field columns."""
    columns = dict(batch.columns)
    columns["time"] = _datetimes(pd, columns["time"])
    base = pd.DataFrame(columns, copy=False)
    if not batch.fields:
        return base
    fields = pd.DataFrame(batch.fields, copy=False)
    fields.columns = [f"{c}_field" if c in BASE_COLUMNS else c for c in fields.columns]
    return pd.concat([base, fields], axis=1)


_KEY_FIELDS = ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14), (14, 23))
"""Where a time key holds year, month, day, hour, minute, second and nanoseconds."""


def _datetimes(pd, keys: list):
    """The sortable time keys of :func:`~inspector.core.timestamps.line_stamp`
    (23 digits, or None) as datetime64[ns] (NaT for none), computed on
    their digits as arrays. A key no calendar has (month 13, a leap second,
    beyond datetime64's years) is read by format, as pandas always read them."""
    import numpy as np

    rows = len(keys)
    digits = np.array([k or "" for k in keys], dtype="U23").view(np.uint32).reshape(rows, 23)
    digits = digits.astype(np.int64) - ord("0")
    year, month, day, hour, minute, second, nanos = (
        digits[:, a:b] @ 10 ** np.arange(b - a - 1, -1, -1) for a, b in _KEY_FIELDS)
    present = np.array([k is not None for k in keys], dtype=bool)
    months = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    month_days = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]"))
    valid = (present & ((digits >= 0) & (digits <= 9)).all(axis=1)
             & (year >= 1678) & (year <= 2261) & (month >= 1) & (month <= 12)
             & (day >= 1) & (day <= month_days.astype(np.int64))
             & (hour <= 23) & (minute <= 59) & (second <= 59))
    times = (months.astype("datetime64[D]") + (day - 1)).astype("datetime64[ns]") + (
        ((hour * 60 + minute) * 60 + second) * 1_000_000_000 + nanos).astype("timedelta64[ns]")
    times[~valid] = np.datetime64("NaT")
    odd = present & ~valid
    if odd.any():
        times[odd] = pd.to_datetime(pd.Series(keys, dtype=object)[odd],
                                    format="%Y%m%d%H%M%S%f", errors="coerce").to_numpy(
                                        dtype="datetime64[ns]")
    return times


def rate(source, path: str | None = None, *, buckets: int = 120, ax=None):
    """Errors and warnings per time bucket of a log (as the terminal's ``i``),
    as a matplotlib chart: bars of errors, a line of warnings. The bucket
    width is chosen from the span (at most ``buckets`` of them). ``ax``:
    draw there; else a new figure is made. Returns the figure (a cell
    shows it)."""
    from matplotlib.figure import Figure

    from ..core.histogram import scan_histogram

    with _lines_of(source, path) as (lines, name):
        picture = scan_histogram(lines, max_buckets=buckets)
    if ax is None:
        ax = Figure(figsize=(10, 3), layout="constrained").subplots()
    starts = [picture.start(i) for i in range(len(picture.counts))]
    width = picture.width / 86400  # matplotlib's dates are in days
    ax.bar(starts, [c[0] for c in picture.counts], width=width, align="edge",
           color="#c0392b", label="errors")
    ax.step(starts, [c[1] for c in picture.counts], where="post", color="#d4a017",
            label="warnings")
    ax.set_title(f"{name}: errors and warnings per {picture.width_words}", loc="left")
    ax.set_ylabel("lines")
    ax.legend(loc="upper left")
    ax.figure.autofmt_xdate()
    return ax.figure
