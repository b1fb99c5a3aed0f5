"""Following every source of a merged stream: one feed made of many.

:class:`MergedFeed` has the public behaviour of a
:class:`~inspector.core.follow.Follower` (``run``, ``stop``,
``wait_changed``, ``running``, ``path``), so the session's follow job waits
on it as on one log. Underneath, each source with a file has a follower of
its own, in a thread of its own (with the no-gap promise of one log across
truncation and rotation); a source without a file yet is watched for its
first file. Any follower's change wakes the waiter (``on_change``), and the
feed remembers the order in which sources changed since it was last asked
(:meth:`MergedFeed.take_changes`): new lines are shown in the order they
came.
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future

from ..follow import Follower, FollowSink
from .part import Part

JOIN = 2.0
"""Seconds to wait for a follower's thread to end once stopped."""


class MergedFeed:
    """Follows the sources of ``parts`` (see the module docstring)."""

    def __init__(self, parts: Sequence[Part], *, reopen: bool = True,
                 starts: Mapping[int, int] | None = None,
                 sink: Callable[[int], FollowSink] | None = None) -> None:
        """``starts``: where to begin in each source's last file (its end when
        not given); ``sink``: the sink of each source's every byte (for a
        command writing what it reads), by source."""
        self._parts = list(parts)
        self._reopen = reopen
        self._starts = dict(starts or {})
        self._sink = sink
        self._cond = threading.Condition()
        self._version = 0
        self._seq = 0
        self._changed: dict[int, int] = {}
        self._last: int | None = None
        self._stop = threading.Event()
        self._followers: dict[int, Follower] = {}
        self._threads: list[threading.Thread] = []
        self._waits: dict[int, Future] = {}
        self._running = False
        self.notice = ""
        """What the feed said last when it ended by itself."""

    # -- what the session asks -----------------------------------------------

    @property
    def running(self) -> bool:
        """True while it follows (until stopped, or every source ended)."""
        with self._cond:
            return self._running

    @property
    def path(self) -> str:
        """The file of the source that changed last (its followed file)."""
        with self._cond:
            last = self._last
        follower = self._followers.get(last) if last is not None else None
        if follower is not None:
            return follower.path
        part = self._parts[last if last is not None else 0] if self._parts else None
        return part.doc.path if part is not None and part.doc is not None else ""

    def follower(self, s: int) -> Follower | None:
        """The follower of source ``s`` (None before its file was followed)."""
        return self._followers.get(s)

    def wait_changed(self, version: int, timeout: float) -> int:
        """Block until any source changed since ``version`` (or ``timeout``)."""
        with self._cond:
            self._cond.wait_for(lambda: self._version != version, timeout)
            return self._version

    def wait_watching(self, timeout: float) -> bool:
        """Block until every follower watches its file (False on timeout)."""
        return all(follower.wait_watching(timeout) for follower in list(self._followers.values()))

    def take_changes(self) -> list[int]:
        """The sources that changed since the last call, in the order they first did."""
        with self._cond:
            changed, self._changed = self._changed, {}
        return sorted(changed, key=changed.get)

    # -- running --------------------------------------------------------------

    def run(self) -> None:
        """Follow every source until stopped. Blocks."""
        with self._cond:
            self._running = True
            self._bump(None)
        try:
            for part in self._parts:
                if part.doc is not None:
                    self._follow(part.index, part.doc.source.path,
                                 start=self._starts.get(part.index))
                else:
                    self._await_first(part)
            self._stop.wait()
        finally:
            for follower in list(self._followers.values()):
                follower.stop()
            for wait in list(self._waits.values()):
                wait.cancel()
            for thread in self._threads:
                thread.join(JOIN)
            with self._cond:
                self._running = False
                self._bump(None)

    def stop(self) -> None:
        """Make :meth:`run` return soon (any thread)."""
        self._stop.set()
        for follower in list(self._followers.values()):
            follower.stop()
        with self._cond:
            self._bump(None)

    def _follow(self, s: int, path: str, start: int | None) -> None:
        if self._stop.is_set():
            return
        follower = Follower(self._parts[s].spec.fs, path, start=start, backlog_bytes=0,
                            max_lines=1, reopen=self._reopen,
                            on_change=lambda s=s: self._source_changed(s),
                            sink=self._sink(s) if self._sink is not None else None)
        self._followers[s] = follower
        thread = threading.Thread(target=self._run_one, args=(s, follower), daemon=True,
                                  name=f"inspector-merge-follow-{s}")
        self._threads.append(thread)
        thread.start()

    def _run_one(self, s: int, follower: Follower) -> None:
        follower.run()
        notice = follower.state(last=0).notice
        with self._cond:
            self.notice = f"{self._parts[s].tag}: {notice}" if notice else self.notice
            if not self._stop.is_set() and not any(f.running for f in self._followers.values()
                                                   ) and not self._waits:
                self._running = False  # every source ended by itself
            self._bump(s)

    def _await_first(self, part: Part) -> None:
        """Watch for the first file of a source that has none yet (Nomad
        writes ``.0`` first)."""
        spec = part.spec
        first = f"{spec.path}.0" if spec.is_set else spec.path
        try:
            wait = spec.fs.block_until_exists(first)
        except Exception:  # its directory is gone: nothing will come
            return
        self._waits[part.index] = wait

        def appeared(future: Future) -> None:
            self._waits.pop(part.index, None)
            if future.cancelled() or future.exception() is not None:
                return
            self._follow(part.index, first, start=0)
            self._source_changed(part.index)

        wait.add_done_callback(appeared)

    def _source_changed(self, s: int) -> None:
        """A follower's state changed (called in its thread)."""
        with self._cond:
            self._seq += 1
            self._changed.setdefault(s, self._seq)
            self._bump(s)

    def _bump(self, s: int | None) -> None:
        """The caller holds the condition."""
        if s is not None:
            self._last = s
        self._version += 1
        self._cond.notify_all()

    def describe(self) -> str:
        """What is followed, in words (for tests and the notebook)."""
        return ", ".join(f"{self._parts[s].tag}={posixpath.basename(f.path)}"
                         for s, f in sorted(self._followers.items()))
