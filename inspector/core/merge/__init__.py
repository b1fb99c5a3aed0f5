"""Several logs read as one stream, in time order (an allocation's logs,
a task's stdout and stderr, or logs marked in the tree).

- :mod:`.sources`: what is merged, named as an operator names it, and the tags;
- :mod:`.part`: one source opened, the keys and times of its lines;
- :mod:`.order`: the order of the stream, cursors, the k-way merge;
- :mod:`.document`: :class:`MergedDocument`, a reader session's document;
- :mod:`.moves`, :mod:`.scans`: its navigation, search and counts;
- :mod:`.feed`, :mod:`.following`: following every source at once;
- :mod:`.stream`: the whole stream in one pass, for the ``logs`` command.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "MergedDocument": "document", "open_merged": "document", "SourceSpec": "sources",
    "LogNameError": "sources", "alloc_sources": "sources", "log_sources": "sources",
    "MAX_SOURCES": "sources", "MergedFeed": "feed",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """The exported names, each loaded with its module when first asked for."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
