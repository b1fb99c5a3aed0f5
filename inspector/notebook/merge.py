"""``nb.merge``: several logs in one pager, in time order, each line after
its source's tag (the terminal's merged stream, as a widget)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..core.lognames import STREAMS
from ..core.merge.sources import SourceSpec, alloc_sources, log_sources, tagged
from .viewer import PAGE_LINES, Viewer, resolve


def merge_specs(target, tasks: Iterable[str] | None = None,
                streams: Iterable[str] = STREAMS) -> list[SourceSpec]:
    """The logs ``merge`` opens: an allocation's (``tasks``' ``streams``),
    or, for a list of ``(target, path)``, each path by its name (a task, a
    set, a file). Raises ``LogNameError`` for a name that is no log.
    Blocking: lists the logs directories."""
    if isinstance(target, Sequence) and not isinstance(target, str):
        specs = []
        for each, path in target:
            fs, rel = resolve(each, path)
            specs += log_sources(fs, rel)
        return tagged(specs)
    return alloc_sources(target, tasks, streams)


def merge(target, *, tasks: Iterable[str] | None = None, streams: Iterable[str] = STREAMS,
          lines: int = PAGE_LINES, follow: bool = False, numbers: bool = False) -> Viewer:
    """A pager on logs merged in time order: ``merge(alloc)`` (every task's
    stdout and stderr), ``merge(alloc, tasks=["web"], streams=["stderr"])``,
    or ``merge([(alloc, "alloc/logs/web.stdout"), (other, "web")])`` (logs
    of several allocations: each tag starts with its allocation's short id).
    ``follow``: at the end, new lines of every source as they come.
    ``viewer.show_sources([...tags])`` shows some sources only, keeping the
    place. Returns at once; the logs are read in a worker."""
    specs = merge_specs(target, tasks, streams)
    viewer = Viewer(lines=lines, numbers=numbers)
    label = ", ".join(spec.tag for spec in specs[:4]) + (" …" if len(specs) > 4 else "")
    viewer.label = f"merged: {label}"
    viewer.session.open_merged(specs, label=viewer.label, follow=follow)
    return viewer
