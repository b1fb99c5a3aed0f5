"""The tree of allocations as a model, drawn by the terminal's ``AllocTree``
and the notebook's ``Browser``. Where each part lives:

- :mod:`.model`: :class:`TreeModel`, what a front-end holds and calls
  (expand, collapse, choose, order, filter, reload, reveal, its timers);
  :mod:`.loading`: its jobs (discovering, listing, looking at the logs);
- :mod:`.nodes`: the nodes and their kinds; :mod:`.listing`: listing a
  directory (the jobs' work) and keeping it compact; :mod:`.order`: the
  orders; :mod:`.filter`: the name filter;
- :mod:`.rows`: the row math of the virtual list; :mod:`.cursor`: the
  cursor; :mod:`.reveal`: expansions and the cursor wanted before a listing
  arrives;
- :mod:`.merging`: the entries of logs as one stream, the logs marked
  for merging;
- :mod:`.labels`: what a row says, as parts with roles for a front-end to
  style; :mod:`.events`: the messages to the front-end;
- :mod:`.watching`: which listed directories to list again, from the
  directory watcher; :mod:`.jobs`: the lanes of the jobs (tokens and
  executors are the reader session's, :mod:`inspector.core.session.jobs`).
"""

from .events import (
    Changed, CursorMoved, Loaded, Marked, Notice, Open, OpenMerged, Redraw, Refused, Toggled,
)
from .labels import Label, Part
from .listing import Listing, load_dir
from .model import TreeModel
from .nodes import (
    ALLOC,
    CONTAINERS,
    DIR,
    FILE,
    MERGED,
    NOTE,
    ROOT,
    SECRET,
    SECRET_FILE,
    SET,
    SPECIAL,
    STRAY,
    Node,
    Note,
)
from .order import MTIME, NAME, ORDERS, SIZE, Order

__all__ = [
    "ALLOC", "CONTAINERS", "DIR", "FILE", "MERGED", "MTIME", "NAME", "NOTE", "ORDERS", "ROOT", "SECRET",
    "SECRET_FILE", "SET", "SIZE", "SPECIAL", "STRAY", "Changed", "CursorMoved",
    "Label", "Listing", "Loaded", "Marked", "Node", "Note", "Notice", "Open", "OpenMerged",
    "Order",
    "Part", "Redraw", "Refused", "Toggled", "TreeModel", "load_dir",
]
