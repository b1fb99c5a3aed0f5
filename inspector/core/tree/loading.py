"""The tree model's jobs: discovering the allocations (the root's rows),
listing a directory, looking at the logs dirs. Each runs through the
model's executor (the reader session's protocol,
:mod:`inspector.core.session.jobs`) with a token of the current generation;
discovering again starts a new generation, so that whatever older jobs
deliver is dropped. A
directory is listed by one job at a time. What a job brings back is put
into the model where it lives; what it met is a message on its node."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from allocdir.plaintext import size_words

from ..failure import failure_text
from ..roots import ARCHIVE, Discovery
from .events import Loaded, Notice, Redraw
from ..session.jobs import Clock
from .jobs import DISCOVER, LOOK, MEASURE, list_lane
from .listing import Listing, load_dir
from .nodes import ALLOC, SET, Key, Node, Note
from .sizes import measure_dirs, subdirectories

if TYPE_CHECKING:
    from .model import TreeModel


class Loader:
    """Starts the jobs of a :class:`TreeModel` and takes in what they bring."""

    def __init__(self, model: TreeModel) -> None:
        self._model = model
        self._clock = Clock()
        self.listing: set[Key] = set()
        """The keys of the directories being listed."""
        self._looking = False

    def stop(self) -> None:
        """Whatever is running delivers nothing any more."""
        self._clock.advance()

    # -- the root -------------------------------------------------------------

    def discover(self) -> None:
        """Discover the allocations (a new generation: older jobs are stale)."""
        self._clock.advance()
        self.listing.clear()
        self._looking = False
        self._model.executor.submit(
            self._discovery, self._clock.token(), lane=DISCOVER, done=self._show_allocs,
            failed=lambda exc: self._show_allocs(self._failed_discovery(exc)),
            progress=self._show_progress)

    def _discovery(self, job) -> tuple[Discovery, str | None]:
        """The work (in a worker): the allocations, and a first look at their logs."""
        model = self._model
        told = [-1]

        def progress(done: int, total: int) -> None:  # a snapshot tar's index being read
            percent = done * 100 // total if total > 0 else 100
            if percent != told[0]:  # once a percent: 100k headers are not 100k reports
                told[0] = percent
                job.report(f"reading the archive's index… {percent}% "
                           f"({size_words(done)} of {size_words(total)})")

        try:
            root = model.alloc_root
            found = root.discover(progress=progress) if root.source == ARCHIVE else \
                root.discover()
        except Exception as exc:  # said as the root's note
            found = self._failed_discovery(exc)[0]
        problem = None
        if model.log_times is not None:
            try:
                model.log_times.track(found.allocs)  # bounded: see LogTimes
            except Exception as exc:  # each allocation's own failure is on its node
                problem = f"looking at the logs: {failure_text(exc)}"
        return found, problem

    def _show_progress(self, text: str) -> None:
        """What the root's "loading…" says while discovery reads an archive."""
        model = self._model
        if not model.discovered:
            model.loading_text = text
            model.listener(Redraw())

    def _failed_discovery(self, exc: BaseException) -> tuple[Discovery, None]:
        name = os.path.basename(self._model.alloc_root.path) or "/"
        return Discovery(errors={name: failure_text(exc, "discovering the allocations")}), None

    def _show_allocs(self, outcome: tuple[Discovery, str | None]) -> None:
        found, problem = outcome
        model = self._model
        if problem is not None:
            model.listener(Notice(problem, error=True))
        for key in model.watched:
            model.watch.unwatch(key)
        model.allocs = found.allocs
        model.alloc_nodes = [Node(model, ALLOC, model.root, alloc=alloc, name=alloc.alloc_id)
                             for alloc in found.allocs]
        model.strays = found.strays
        model.root.forget_children()
        model.root_notes = [Note(model, model.root, f"{alloc_id}: {reason}", "error")
                            for alloc_id, reason in found.errors.items()]
        if not found.allocs and not found.errors and not len(found.strays):
            model.root_notes.append(Note(model, model.root, "no allocations", "note"))
        model.discovered = True
        if len(found.allocs) == 1:  # one allocation: it is what there is to see
            model.wants.keep_expanded({(found.allocs[0].alloc_dir, "")})
        model.changed()
        model.wants.apply_to_tops()
        model.listener(Loaded(None))

    # -- directories ----------------------------------------------------------

    def list(self, node: Node) -> None:
        """List ``node``'s directory (unless that is already under way)."""
        key = node.key
        if key is None or key in self.listing:
            return
        self.listing.add(key)
        fs, rel, asked = node.alloc, node.rel, time.monotonic()

        def work(_job) -> tuple[Listing | str, float]:
            return load_dir(fs, rel), time.monotonic() - asked

        self._model.executor.submit(
            work, self._clock.token(), lane=list_lane(key),
            done=lambda outcome: self._populate(node, *outcome),
            failed=lambda exc: self._populate(node, failure_text(exc, f"listing {rel}"), 0.0))

    def _populate(self, node: Node, result: Listing | str, took: float) -> None:
        model, key = self._model, node.key
        self.listing.discard(key)
        if model.watch is not None:
            model.watch.listed(key, took)  # listing again is throttled by how long it took
        if isinstance(result, str):
            node.listing, node.error = None, result
        else:
            self._adopt(node, result)
            node.error = None
        node.loaded = True
        if node.expanded:
            model.watch_node(node)
            if model.order.name == "size":
                self.measure(node)
        model.changed()
        model.wants.apply(node)
        model.listener(Loaded(key))

    def _adopt(self, node: Node, listing: Listing) -> None:
        """Take a new listing, keeping what is open below (by name)."""
        old = node.listing
        node.listing = listing
        kept = node.kept()
        node.forget_children()
        if old is None:
            return
        for sub in kept:
            if sub.kind == SET:
                if sub.set_name in listing.sets:
                    node.keep(sub)
                continue
            index = listing.find(sub.name)
            if index is not None:
                sub.entry = index
                node.keep(sub)
            else:
                self._model.unwatch_below(sub)

    # -- sizes of directories (the size order) ---------------------------------

    def measure(self, node: Node) -> None:
        """Measure the subdirectories of ``node``'s listing, in a job; the
        rows are ordered again when the sizes come."""
        listing = node.listing
        if listing is None or node.alloc is None or node.kind == SET:
            return
        names = [name for name in subdirectories(listing, node.rel)
                 if listing.find(name) not in listing.dir_sizes]
        if not names:
            return
        alloc_dir, rel = node.alloc.alloc_dir, node.rel

        def measured(sizes) -> None:
            if node.listing is listing:
                listing.add_dir_sizes(sizes)
                self._model.changed()

        self._model.executor.submit(
            lambda _job: measure_dirs(alloc_dir, rel, names), self._clock.token(),
            lane=MEASURE, done=measured,
            failed=lambda exc: self._model.listener(
                Notice(f"measuring {rel or 'the allocation'}: {failure_text(exc)}", error=True)))

    # -- the logs dirs --------------------------------------------------------

    def look_at_logs(self) -> None:
        """Look at the logs dirs that are due a look (one look at a time)."""
        log_times = self._model.log_times
        if log_times is None or self._looking or not log_times.due():
            return
        self._looking = True
        self._model.executor.submit(lambda job: log_times.look_again(), self._clock.token(),
                                    done=self._looked, failed=self._look_failed, lane=LOOK)

    def _looked(self, _result=None) -> None:
        self._looking = False
        self._model.listener(Redraw())

    def _look_failed(self, exc: BaseException) -> None:
        self._looking = False
        self._model.listener(Notice(f"looking at the logs: {failure_text(exc)}", error=True))
