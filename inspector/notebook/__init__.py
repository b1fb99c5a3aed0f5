"""The inspector in Jupyter: the terminal app's logic behind ipywidgets.

    from inspector import notebook as nb

    root = nb.open_root("/var/lib/nomad/alloc")   # a table of the allocations
    alloc = root["5fc98185"]                      # an allocdir.AllocDir, by id prefix
    alloc.list("alloc/logs")                      # a table, still a list
    nb.browse(root)                               # tree + file pane
    nb.view(alloc, "alloc/logs/web.stderr.0")     # pager by byte offset
    nb.follow(alloc, "alloc/logs/web.stdout.0")   # live, across truncation and rotation
    nb.tail(alloc, "alloc/logs/web.stdout.0", 50) # plain text
    nb.merge(alloc, tasks=["web"])                # stdout+stderr in time order, tagged
    nb.snapshot(alloc, "snap.tar")                # progress bar in the cell
    nb.move(dst, src, ["web"]); nb.destroy(alloc, confirm=alloc.alloc_id)
    nb.usage(root)                                # what fills the node: table and chart
    nb.frame(alloc, "alloc/logs/web.stdout", where="status>=500")  # lines as a DataFrame
    nb.rate(alloc, "alloc/logs/web.stdout")       # errors and warnings over time (matplotlib)

What is shared with the terminal app lives in ``inspector.core`` (roots,
pager, hex dump, follower, search, the checks that guard actions, text
escaping, and ``inspector.notebook.html`` to draw rich ``Text`` as HTML); the
HTML of allocdir objects is the library's own (``allocdir.display``). This
package only arranges widgets (``ipywidgets``, the ``notebook`` extra) around
them. Importing it is cheap: ipywidgets is loaded when a widget is first made.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "open_root": "roots", "NotebookRoot": "roots", "AllocLookupError": "roots",
    "RootError": "roots",
    "view": "viewer", "Viewer": "viewer", "merge": "merge",
    "tail": "tail", "TailText": "tail",
    "follow": "follower", "FollowView": "follower",
    "browse": "browser", "Browser": "browser",
    "snapshot": "actions", "move": "actions", "destroy": "actions", "ActionJob": "actions",
    "ActionFailed": "actions", "ActionRefused": "actions", "ConfirmationError": "actions",
    "usage": "usage", "UsageTable": "usage",
    "frame": "dataframe", "rate": "dataframe",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'inspector.notebook' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
