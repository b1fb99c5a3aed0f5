"""Running a keeper in tests: a client root of allocations, a keeper in a
thread with short intervals, and readers of what it kept."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

from allocdir import AllocDir
from inspector.core.keep import KeepEvent, Keeper, KeepOptions, KeepStore, kept_log_order
from inspector.core.keep.journal import Journal
from inspector.core.keep.layout import STATE_DIR

ALLOC = "5fc98185-17ff-26bc-a802-0c74fa471c99"
OTHER = "7a2b4c6d-0000-1111-2222-333344445555"

#: Intervals short enough for tests (the command's defaults are seconds).
FAST = dict(safety_interval=0.5, poll_interval=0.2, tree_interval=1.0, tree_min_interval=0.05,
            flush_interval=0.2, spacing=0.02)


def make_alloc(root: Path, alloc_id: str = ALLOC, tasks: tuple[str, ...] = ("web",)) -> AllocDir:
    """A built alloc dir with ``tasks`` (their ``local/`` and a plain
    ``secrets/``: no tmpfs, so that tests need no mounts)."""
    alloc = AllocDir(root / alloc_id)
    alloc.build()
    for task in tasks:
        for sub in ("local", "secrets", "tmp"):
            os.makedirs(os.path.join(alloc.alloc_dir, task, sub), exist_ok=True)
    return alloc


def wait_for(condition: Callable[[], object], timeout: float = 10.0, what: str = "") -> object:
    """Poll ``condition`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.01)


class RunningKeeper:
    """A :class:`Keeper` on ``root`` keeping in ``keep``, in a thread."""

    def __init__(self, root: Path, keep: Path, *, start_timeout: float = 10.0,
                 **options) -> None:
        self.store = KeepStore.open(str(keep))
        self.events: list[KeepEvent] = []
        self._cond = threading.Condition()
        self.keeper = Keeper(str(root), self.store, KeepOptions(**{**FAST, **options}),
                             self._emit)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.wait_event("started", timeout=start_timeout)

    def _run(self) -> None:
        try:
            self.keeper.run()
        except BaseException as e:  # handed to the test in stop()
            self.error = e
            with self._cond:
                self._cond.notify_all()

    def _emit(self, event: KeepEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_event(self, kind: str, alloc_id: str | None = None,
                   timeout: float = 10.0) -> KeepEvent:
        """The first event of ``kind`` (about ``alloc_id``), waited for."""
        def found():
            if self.error is not None:
                raise self.error
            return next((e for e in self.events if e.kind == kind
                         and (alloc_id is None or e.alloc_id == alloc_id)), None)

        with self._cond:
            event = self._cond.wait_for(found, timeout)
        assert event is not None, f"no {kind} event; got {[e.line() for e in self.events]}"
        return event

    def kinds(self, kind: str) -> list[KeepEvent]:
        """Every event of ``kind`` so far."""
        with self._cond:
            return [e for e in self.events if e.kind == kind]

    def stop(self) -> None:
        """Stop the keeper (as SIGTERM does) and wait for it."""
        self.keeper.stop()
        self.thread.join(60)
        assert not self.thread.is_alive(), "the keeper did not stop"
        self.store.close()
        if self.error is not None:
            raise self.error

    def __enter__(self) -> RunningKeeper:
        return self

    def __exit__(self, *exc) -> None:
        if self.thread.is_alive():
            self.stop()


def kept_set(keep: Path, alloc_id: str, set_name: str) -> bytes:
    """Every kept file of the rotation set ``set_name``, in (N, G) order, as one."""
    logs = keep / alloc_id / "alloc" / "logs"
    names = [n for n in os.listdir(logs) if (kept_log_order(n) or ("",))[0] == set_name]
    names.sort(key=kept_log_order)
    return b"".join((logs / n).read_bytes() for n in names)


def records(keep: Path, alloc_id: str) -> dict[str, dict]:
    """The kept allocation's records, read as a later reader would."""
    fd = os.open(keep / alloc_id / STATE_DIR, os.O_RDONLY | os.O_DIRECTORY)
    journal = Journal(fd)
    try:
        journal.load(repair=False)
        return dict(journal.items())
    finally:
        journal.close()


def special_files(top: Path) -> list[str]:
    """Everything below ``top`` that is neither a regular file nor a directory."""
    found = []
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            mode = os.lstat(os.path.join(dirpath, name)).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                found.append(os.path.join(dirpath, name))
    return found


def all_bytes(top: Path) -> bytes:
    """The content of every regular file below ``top``, concatenated."""
    chunks = []
    for dirpath, _, filenames in os.walk(top):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if stat.S_ISREG(os.lstat(path).st_mode):
                with open(path, "rb") as f:
                    chunks.append(f.read())
    return b"".join(chunks)


def claims_hold(keep: Path, alloc_id: str) -> list[str]:
    """Where a record claims bytes its kept file does not hold (should be none)."""
    wrong = []
    for key, rec in records(keep, alloc_id).items():
        if key.startswith("log:"):
            size = os.path.getsize(keep / alloc_id / rec["file"])
            if size < rec["bytes"]:
                wrong.append(f"{rec['file']}: claims {rec['bytes']}, holds {size}")
    return wrong
