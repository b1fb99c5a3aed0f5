"""``snapshot``, ``move`` and ``destroy`` from a notebook cell.

The checks and the work are the terminal app's (``inspector.core.actions``):
the same refusals (never the client alloc root or a data_dir, never a mount
point, never into an alloc dir's tasks' reach, not while another action
runs on the allocation, room for the tar…), the same temp-file-then-rename
snapshot, the same claim-check-act sequence. Here each call returns an
:class:`ActionJob` at once, a widget with a progress bar and the outcome,
while the work runs in a worker thread; ``job.wait()`` (or ``await job``
in a cell) gives the result or raises :class:`ActionRefused` /
:class:`ActionFailed`.

``destroy`` refuses, before anything is started, unless ``confirm`` is the
exact alloc id (:class:`ConfirmationError`).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future

from allocdir import AllocDir, PathKind
from allocdir.plaintext import size_words

from ..core import actions as core
from ..core.actions import BusyRegistry, Refused
from .html import name_html
from ..core.roots import Root, RootError
from ..core.strays import NonAllocDir
from ..core.text import printable
from ._ui import UiScheduler, Widget, widgets
from .roots import root_of

BUSY = BusyRegistry()
"""What runs on which allocation, for every action started from this kernel."""
REDRAW_EVERY = 0.05
"""Seconds between progress updates sent to the notebook."""


class ConfirmationError(ValueError):
    """``destroy`` was not given the exact alloc id as ``confirm``: nothing was done."""


class ActionRefused(RuntimeError):
    """A check refused the action before anything was done; the message says why."""


class ActionFailed(RuntimeError):
    """The action started and failed; the message says what is left where."""


class Outcome:
    """What an action ended with, as ``job.wait()`` (or ``await job``)
    returns it: ``message`` says it in words, and it reads as that (``repr``
    and HTML); the details are the action's own (``ok``, ``path``,
    ``skipped``… of a snapshot) and read through it."""

    def __init__(self, value, message: str) -> None:
        self.value = value
        self.message = message

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.value, name)

    def __repr__(self) -> str:
        return printable(self.message)

    def _repr_html_(self) -> str:
        ok = getattr(self.value, "ok", True)
        mark = '<b style="color:#007427">✔</b>' if ok else '<b style="color:#b22b31">✖</b>'
        items = "".join(f"<li>{name_html(path)}: {name_html(why)}</li>"
                        for path, why in getattr(self.value, "skipped", None) or ())
        more = f"<ul>{items}</ul>" if items else ""
        return (f'<div style="font-family:var(--jp-code-font-family,monospace);font-size:12px">'
                f"{mark} {name_html(self.message)}{more}</div>")


class ActionJob(Widget):
    """A snapshot, move or destroy running in a worker thread, shown as a
    title, a progress bar and a message (and a Cancel button where the work
    can be cancelled)."""

    def __init__(self, title: str, *, cancellable: bool = False) -> None:
        w = widgets()
        self._ui = UiScheduler()
        self._future: Future = Future()
        self._lock = threading.Lock()
        self._finished = False  # no progress is shown after the outcome
        self.cancel_event = threading.Event()
        self.message = ""
        """What happened, once done (the outcome or the error)."""
        self.warning = ""
        """Why the allocation looked live when the action started ("" if it did not)."""
        self.title = w.HTML(f"<b>{name_html(title)}</b>")
        self.progress = w.IntProgress(value=0, min=0, max=1000, bar_style="info",
                                      layout=w.Layout(width="24em"))
        self.label = w.HTML()
        self.cancel_button = w.Button(description="Cancel", icon="times",
                                      layout=w.Layout(width="auto",
                                                      display="" if cancellable else "none"))
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.widget = w.VBox([self.title, w.HBox([self.progress, self.cancel_button]),
                              self.label])
        self._title_text = title

    # -- the public contract ------------------------------------------------

    @property
    def done(self) -> bool:
        """True once the action ended (well or not)."""
        return self._future.done()

    def result(self, timeout: float | None = None):
        """The outcome; raises what the action raised (``ActionRefused``,
        ``ActionFailed``), or TimeoutError while it still runs."""
        try:
            value = self._future.result(timeout)
        finally:
            if self._future.done() and self._ui.on_loop_thread:
                self._ui.flush()
        return value

    def wait(self, timeout: float | None = None):
        """Block until the action ends; returns ``result()``."""
        return self.result(timeout)

    def __await__(self):
        """``await job`` in a cell: the loop keeps running (the progress bar moves)."""
        value = yield from asyncio.wrap_future(self._future).__await__()
        self._ui.flush()
        return value

    def cancel(self) -> None:
        """Ask a cancellable action (a snapshot) to stop; what it wrote is removed."""
        self.cancel_event.set()
        self._say("cancelling…")

    # -- progress (any thread) ----------------------------------------------

    def _say(self, text: str) -> None:
        with self._lock:
            if not self._finished:
                self._ui.call(self._set_label, text)

    def _set_label(self, text: str) -> None:
        self.label.value = (f'<span style="font-family:var(--jp-code-font-family,monospace);'
                            f'font-size:12px;white-space:pre-wrap">{name_html(text)}</span>')
        self._published()

    def _progress(self, permille: int, text: str) -> None:
        def apply() -> None:
            self.progress.value = max(0, min(1000, permille))
            self._set_label(text)
        with self._lock:
            if not self._finished:
                self._ui.call(apply, key="progress")  # only the newest waits for the loop

    def _finish(self, value=None, error: BaseException | None = None) -> None:
        message = (self.message or "done") if error is None else str(error)

        def apply() -> None:
            self.cancel_button.layout.display = "none"
            if error is None:
                self.progress.value = 1000
                self.progress.bar_style = "success"
            else:
                self.progress.bar_style = "danger"
            self._set_label(message)
        with self._lock:
            self._finished = True
            self.message = message
            self._ui.call(apply)
        if error is None:
            self._future.set_result(value)
        else:
            self._future.set_exception(error)

    def _run(self, work: Callable[[ActionJob], object]) -> ActionJob:
        def run() -> None:
            try:
                value = work(self)
            except (ActionRefused, ActionFailed) as exc:
                self._finish(error=exc)
            except Exception as exc:  # any other failure: reported, never lost
                self._finish(error=ActionFailed(f"{self._title_text} failed: "
                                                f"{printable(exc)}"))
            else:
                self._finish(value)

        threading.Thread(target=run, name="inspector-nb-action", daemon=True).start()
        return self

    def _ticking(self, verb: str) -> threading.Event:
        """Show the time spent while work without progress reports runs."""
        stop = threading.Event()
        started = time.monotonic()

        def tick() -> None:
            while not stop.wait(0.5):
                self._say(f"{verb}… {time.monotonic() - started:.0f} s")  # ignored once done

        threading.Thread(target=tick, name="inspector-nb-tick", daemon=True).start()
        return stop

    def _plain(self) -> str:
        state = "done" if self.done else "running"
        return f"{printable(self._title_text)} [{state}] {printable(self.message)}"

    def _html(self) -> str:
        done = self.progress.value // 10
        bar = "█" * (done // 5) + "░" * (20 - done // 5)
        colour = {"success": "#007427", "danger": "#b22b31"}.get(self.progress.bar_style, "#555")
        return (f"<div>{self.title.value}<div style=\"font-family:monospace;color:{colour}\">"
                f"{bar} {done}%</div>{self.label.value}</div>")


def _refuse_non_alloc(verb: str, *targets) -> None:
    """Raise ActionRefused, at once, when a target is a directory of the root
    that is not an allocation (``root.lookup`` hands those out, read-only)."""
    for target in targets:
        if isinstance(target, NonAllocDir) or (
                getattr(target, "read_only", False) and verb not in target.allowed_actions):
            # not an allocation, or a snapshot tar or kept copy (read-only)
            raise ActionRefused(target.refusal(verb))


def root_for(alloc: AllocDir) -> Root:
    """What protects ``alloc``'s surroundings: the root it was opened from
    with ``open_root``; else its client alloc root (and the Nomad data_dir
    holding that) found by layout; else the allocation alone. Blocking."""
    known = root_of(alloc)
    if known is not None:
        return known
    parent = os.path.dirname(alloc.alloc_dir)
    for candidate in (os.path.dirname(parent), parent):
        try:
            found = Root.open(candidate)
        except RootError:
            continue
        if not found.single and found.path == parent:
            return found
    return Root(alloc.alloc_dir, single=True, kind=PathKind.ALLOC_DIR)


def snapshot(alloc: AllocDir, path: str | os.PathLike[str], *,
             overwrite: bool = False) -> ActionJob:
    """Write a tar of ``alloc``'s ``alloc/data`` and each task's ``local/``
    to ``path``, with a progress bar and a Cancel button.

    Refused (``ActionRefused``) when the file is inside an alloc dir (or
    what looks like one, or a task dir) or anywhere in a client alloc root,
    names a directory or a link, its file system is read-only or lacks room
    for the estimated tar, another action runs on the allocation, or the
    file exists and ``overwrite`` is false. The tar is written beside
    ``path`` and renamed into place once complete; a file that grows so
    much meanwhile that the file system would drop below its reserve stops
    it, named.
    """
    _refuse_non_alloc("snapshot", alloc)
    typed = os.fspath(path)
    job = ActionJob(f"Snapshot of {alloc.alloc_id} to {typed}", cancellable=True)

    def work(job: ActionJob):
        job._say("checking the destination and measuring the allocation…")
        root = root_for(alloc)
        target = core.snapshot_target(alloc, typed, root, os.getcwd(), BUSY)
        if isinstance(target, Refused):
            raise ActionRefused(target.reason)
        if target.exists and not overwrite:
            raise ActionRefused(f"{printable(target.path)} exists: pass overwrite=True to "
                                "replace it (once the new snapshot is complete)")
        total = max(1, target.estimate.content_bytes)
        last = [0.0]

        def progress(done: int) -> None:
            now = time.monotonic()
            if now - last[0] >= REDRAW_EVERY:
                last[0] = now
                job._progress(done * 1000 // total,
                              f"archived {size_words(done)} of ~{size_words(total)}")

        job._progress(0, f"archived 0 B of ~{size_words(total)}")
        outcome = core.run_snapshot(alloc, target, root, BUSY, progress=progress,
                                    cancel=job.cancel_event)
        if isinstance(outcome, Refused):
            raise ActionRefused(outcome.reason)
        if not outcome.ok:
            raise ActionFailed(outcome.message())
        job.message = outcome.message()
        return Outcome(outcome, job.message)

    return job._run(work)


def _check_live(job: ActionJob, alloc: AllocDir, verb: str, if_live: str) -> None:
    """Say, before acting, that ``alloc`` looks live (processes, mounts, a
    recent write); with ``if_live="refuse"``, refuse instead."""
    from ..core.usage.liveness import check_liveness

    warning = check_liveness(alloc.alloc_dir).warning()
    if not warning:
        return
    if if_live == "refuse":
        raise ActionRefused(f"{warning} Not {verb} (if_live='refuse').")
    job.warning = warning
    job._say(f"{warning} {verb.capitalize()} anyway…")


def move(dst: AllocDir | str | os.PathLike[str], src: AllocDir,
         tasks: Iterable[str] | None = None, *, if_live: str = "warn") -> ActionJob:
    """Move ``src``'s ``alloc/data`` and the ``local/`` of ``tasks`` (default:
    every task) into ``dst``: an existing alloc dir (e.g. the replacement
    allocation), or a directory that does not exist yet or is empty, where
    one is built. The job's result is the destination ``AllocDir``.

    Refused (``ActionRefused``) into the source or anything inside or above
    it, the client alloc root or a data_dir, anything deeper in a client
    root than its own alloc dirs, a non-empty directory that is not an
    alloc dir, a directory inside an alloc dir (or what looks like one, or
    a task dir), a path through a directory someone else can change, a
    read-only file system, or while another action runs on either side.
    When the source looks live (processes use it, mounts, a recent write)
    the job says so first (``job.warning``), or refuses with
    ``if_live="refuse"``.
    """
    if if_live not in ("warn", "refuse"):
        raise ValueError(f"if_live must be 'warn' or 'refuse', not {if_live!r}")
    _refuse_non_alloc("move", src, dst)
    names = list(src.task_dirs) if tasks is None else [str(t) for t in tasks]
    # The core moves every task of the source it is given: give it a copy
    # that knows only the tasks asked for (names checked here, at once).
    view = src.copy()
    view.task_dirs = {}
    for name in names:
        view.new_task_dir(name)
    destination = os.fspath(dst.alloc_dir if isinstance(dst, AllocDir) else dst)
    job = ActionJob(f"Move of {src.alloc_id} ({', '.join(names) or 'alloc/data only'}) "
                    f"to {destination}")

    def work(job: ActionJob):
        _check_live(job, src, "moving", if_live)
        job._say("checking the destination…")
        root, cwd = root_for(src), os.getcwd()
        target = core.move_target(view, destination, root, cwd, BUSY)
        if isinstance(target, Refused):
            raise ActionRefused(target.reason)
        parts = "; ".join(part.describe() for part in core.move_parts(view))
        stop = job._ticking("moving")
        try:
            refusal = core.run_move(view, target, root, cwd, BUSY)
        finally:
            stop.set()
        if refusal:
            raise ActionRefused(refusal)
        job.message = f"moved to {printable(target.path)}: {parts}" + (
            f" ({job.warning})" if job.warning else "")
        return AllocDir.discover(target.path)

    return job._run(work)


def destroy(alloc: AllocDir, *, confirm: str | None = None,
            if_live: str = "warn") -> ActionJob:
    """Destroy ``alloc`` (unmount its task mounts, then remove it), once
    ``confirm`` is its exact alloc id.

    Raises :class:`ConfirmationError` at once, doing nothing, without the
    exact id. Refused (``ActionRefused``) for anything not recognised as an
    alloc dir, the client alloc root or a data_dir, a mount point, or while
    another action runs on it. When it looks live (processes use it, mounts,
    a recent write) the job says so before destroying (``job.warning``), or
    refuses with ``if_live="refuse"``.
    """
    if if_live not in ("warn", "refuse"):
        raise ValueError(f"if_live must be 'warn' or 'refuse', not {if_live!r}")
    _refuse_non_alloc("destroy", alloc)
    if confirm != alloc.alloc_id:
        given = "no confirm=" if confirm is None else f"confirm={printable(confirm)!r}"
        raise ConfirmationError(
            f"destroy refused: {given}; pass confirm= with the exact alloc id "
            f"{printable(alloc.alloc_id)!r} to destroy {printable(alloc.alloc_dir)}")
    words = core.destroy_words(alloc)  # a kept copy is removed
    job = ActionJob(f"{words.title} {alloc.alloc_id}")

    def work(job: ActionJob):
        _check_live(job, alloc, "destroying", if_live)
        job._say("checking…")
        root = root_for(alloc)
        stop = job._ticking("destroying")
        try:
            refusal = core.run_destroy(alloc, root, BUSY)
        except Exception as exc:
            raise ActionFailed(f"destroy of {printable(alloc.alloc_id)} failed: "
                               f"{printable(exc)}") from exc
        finally:
            stop.set()
        if refusal:
            raise ActionRefused(refusal)
        job.message = f"{words.done} {printable(alloc.alloc_dir)}" + (
            f" ({job.warning})" if job.warning else "")
        return None

    return job._run(work)
