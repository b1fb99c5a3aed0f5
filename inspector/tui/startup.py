"""Start-up cost: the cyclic garbage collector is paused while the command
line imports the app and the first frame is drawn.

Start-up allocates hundreds of thousands of objects (modules, classes, the
DOM, styles) that nearly all live as long as the app; collecting between
them finds little and costs about 15 ms here. Once the first frame is out
the collector runs as usual (and the first collection, off the start-up
path, takes what start-up left).
"""

from __future__ import annotations

import gc

_paused = False


def pause_collector() -> None:
    """Stop cyclic collection until :func:`resume_collector` (idempotent)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collector() -> None:
    """Collect again, if :func:`pause_collector` paused it; otherwise do nothing."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()
