"""Structured logs: the fields of JSON and logfmt lines.

- :mod:`.fields`: a line's record (JSON object or logfmt pairs), field paths;
- :mod:`.expr`: field expressions (``level>=warn``, ``status>=500``), the grammar;
- :mod:`.pattern`: a field expression as a pattern the filter scans with;
- :mod:`.columns`: chosen fields shown as columns;
- :mod:`.view`: the field view of one line.
"""
