"""``follow``: a live widget showing the lines of a log as they are written.

The following is the terminal app's, through the same reader session
(:mod:`inspector.core.session`): a :class:`~inspector.core.follow.Follower`
consumes ``AllocDir.change_events`` in its own thread, says "truncated"
and continues from offset 0 of the new content, continues into
``<task>.<stream>.<N+1>`` when Nomad rotates the log without breaking a
line split across the two files, and keeps its memory bounded whatever the
writer does. The session's follow job waits for it to change
(``wait_changed``, no polling) and builds each frame as soon as the widget
took the previous one: one line at once when the log is quiet, never a
queue of redraws when the writer is fast. A rotation set named without an
index (``alloc/logs/web.stdout``) is followed from its newest file.

The Stop button stops the follower: its watch is closed (inotify watch and
instance released, as the leak tests check), the threads end, the file is
closed, and the lines stay on screen. ``text()`` is what the follower read,
whether or not the widget drew it yet (a cell that blocks does not see a
stale copy); in a cell, ``await view.until(text)`` lets the widget catch up.
"""

from __future__ import annotations

import posixpath
from datetime import datetime

from ..core.pager import line_text
from ..core.session.frame import Frame
from ..core.session.jobs import FOLLOW, FOLLOWER
from ..core.session.session import ReaderSession
from ..core.text import printable
from ._ui import UiScheduler, Widget, await_until, wait_until, widgets
from .executor import NotebookExecutor
from .frames import MONO, frame_html
from .html import name_html
from .viewer import WIDTH, resolve

LINES = 200
"""Lines shown (the newest); the follower itself keeps more."""
NOTICES = 4
"""Notices ("truncated", "continued in …") kept in the status line."""
BODY_HEIGHT = "26em"
OPEN_WAIT = 10.0
"""Seconds a follow made outside a kernel's loop waits for its file to open."""


class FollowView(Widget):
    """A live view of a followed log, with a Stop button.

    ``text()`` is what was read (plain lines, the partial one last);
    ``stop()`` ends the follow; ``wait_for(text)`` (or ``await
    view.until(text)`` in a cell) waits until a line shown holds ``text``.
    """

    def __init__(self, target, path: str, *, lines: int = LINES,
                 start: int | None = None) -> None:
        w = widgets()
        fs, rel = resolve(target, path)
        self.fs = fs
        self.opened = rel
        self.max_lines = max(1, lines)
        alloc_id = getattr(fs, "alloc_id", "")
        self.label = f"{alloc_id}/{rel}" if alloc_id else rel
        self._ui = UiScheduler()
        self._executor = NotebookExecutor(self._ui)
        options = {} if start is None else {"start": start}
        self.session = ReaderSession(self._executor, self._apply, width=WIDTH,
                                     height=self.max_lines, wrap=False, reopen=False,
                                     feed_options=options)
        self._feed = None
        self._shown: list[str] = []
        self._notices: list[tuple[str, str]] = []
        self._followed = False
        self._ended = False
        self.title = w.HTML()
        self.stop_button = w.Button(description="Stop", icon="stop", button_style="warning",
                                    tooltip="stop following (the lines stay)",
                                    layout=w.Layout(width="auto"))
        self.stop_button.on_click(lambda _b: self.stop(wait=False))
        self.body = w.HTML(layout=w.Layout(width="100%", border="1px solid #ddd"))
        self.status = w.HTML()
        self.widget = w.VBox([w.HBox([self.stop_button, self.title],
                                     layout=w.Layout(align_items="center")),
                              self.body, self.status], layout=w.Layout(width="100%"))
        self.session.open(fs, rel, label=self.label, follow=True)
        if self._ui.loop is None:  # a script: the follow watches when this returns
            self._executor.settle(OPEN_WAIT)
            if self.follower is not None:
                self.follower.wait_watching(OPEN_WAIT)

    # -- the public contract ------------------------------------------------

    @property
    def running(self) -> bool:
        """True until the follow ended (stopped, or the file was deleted)."""
        return not self._ended and (self.session.following or self.session.busy)

    @property
    def follower(self):
        """The follower (None before the file is open)."""
        return self.session.follower or self._feed

    @property
    def path(self) -> str:
        """The file followed now (it changes when the log rotates)."""
        feed = self.follower
        return feed.path if feed is not None else self.opened

    @property
    def notices(self) -> list[str]:
        """What has happened ("truncated", "continued in web.stdout.1"…), the last few."""
        return [notice for _, notice in self._notices]

    def text(self) -> list[str]:
        """The last lines read (as many as the view shows), oldest first, as
        plain text; the line being written last."""
        feed = self.follower
        lines = []
        if feed is not None:
            state = feed.state(last=self.max_lines)
            lines = state.lines + ([state.partial] if state.partial else [])
        if not lines:
            # A follower started again (the file reopened, the follow resumed)
            # has read nothing yet: what it read before is what is shown.
            return list(self._shown[-self.max_lines:])
        return [line_text(line).plain for line in lines[-self.max_lines:]]

    def stop(self, wait: bool = True, timeout: float = 5.0) -> None:
        """Stop following: the watch is closed, the threads end (joined when
        ``wait``), the file is closed. The lines shown stay. Idempotent."""
        self._feed = self.follower
        self._ended = True
        self.session.on_frame = None
        self.session.close()
        self._ui.call(self._show_title)
        if wait:
            if not self._executor.wait_lanes((FOLLOW, FOLLOWER), timeout):
                raise TimeoutError(f"the follow did not stop within {timeout:g} s")
            if self._ui.on_loop_thread:
                self._ui.flush()

    def wait_for(self, text: str, timeout: float = 10.0) -> FollowView:
        """Block until a line shown holds ``text`` (TimeoutError otherwise).
        In a notebook cell use ``await view.until(text)``: the kernel's loop
        must run for the widget to change."""
        wait_until(lambda: any(text in line for line in self._shown), timeout,
                   f"a line with {text!r}")
        return self

    async def until(self, text: str | None = None, *, lines: int = 1,
                    timeout: float = 10.0) -> FollowView:
        """In a cell: await a line holding ``text``, or ``lines`` lines shown."""
        def seen() -> bool:
            self._ui.flush()
            if text is not None:
                return any(text in line for line in self._shown)
            return len(self._shown) >= lines
        await await_until(seen, timeout, f"a line with {text!r}" if text else f"{lines} lines")
        return self

    # -- showing (the kernel's loop) ------------------------------------------

    def _apply(self, frame: Frame) -> None:
        status = frame.status
        if frame.following:
            self._followed = True
            self._feed = self.session.follower or self._feed
        notice = status.notice if status is not None else ""
        if frame.mode == "message" and frame.message != "loading…":
            notice = f"follow stopped: {frame.message}"
        if notice and notice != "loading…" and (not self._notices
                                               or self._notices[-1][1] != notice):
            self._notices.append((datetime.now().strftime("%H:%M:%S"), notice))
            del self._notices[:-NOTICES]
        if frame.mode != "message" or not self._shown:
            self._shown = frame.lines if frame.mode != "message" else []
            self.body.value = self._body_html(frame)
        ended = (self._followed and not frame.following) or (
            frame.mode == "message" and frame.message != "loading…")
        if ended:
            self._end()
        self._show_title()
        self._show_status(frame)
        self._published()

    def _end(self) -> None:
        """The follow ended by itself: release the file, keep what is shown."""
        self._feed = self.follower
        self._ended = True
        self.session.on_frame = None
        self.session.close()

    def _body_html(self, frame: Frame) -> str:
        if not frame.rows and frame.mode != "message":
            rows = '<span style="opacity:0.6">waiting for lines…</span>'
            pre = f'<pre style="{MONO};font-size:12px;margin:0;padding:4px 6px">{rows}</pre>'
        else:
            pre = frame_html(frame, wrap=True, empty="",
                             style="flex-shrink:0;overflow:visible")
        # column-reverse keeps the scroll at the bottom: the newest line in view
        # (the <pre> must neither shrink nor scroll itself, as a notebook's CSS
        # would have it).
        return (f'<div style="display:flex;flex-direction:column-reverse;'
                f'max-height:{BODY_HEIGHT};overflow:auto">{pre}</div>')

    def _show_title(self) -> None:
        live = not self._ended
        badge = ('<span style="color:#007427;font-weight:600">● following</span>' if live else
                 '<span style="color:#777;font-weight:600">■ stopped</span>')
        alloc_id = getattr(self.fs, "alloc_id", "")
        label = f"{alloc_id}/{self.path}" if alloc_id else self.path
        self.title.value = (f'<span style="{MONO};font-size:12px"><b>{name_html(label)}</b> · '
                            f"{badge}</span>")
        if not live:
            self.stop_button.disabled = True
            self.stop_button.description = "Stopped"
            self.stop_button.button_style = ""

    def _show_status(self, frame: Frame) -> None:
        feed = self.follower
        parts = []
        if feed is not None:
            state = feed.state(last=0)
            parts.append(f"{state.offset:,} bytes of {name_html(posixpath.basename(state.path))}"
                         " read")
        parts.append(f"{len(self._shown)} lines shown")
        notes = " · ".join(f"{when} {name_html(notice)}" for when, notice in self._notices)
        if notes:
            parts.append(f'<i style="color:#8a6d00">{notes}</i>')
        self.status.value = (f'<div style="{MONO};font-size:11px;color:#555">'
                             + " · ".join(parts) + "</div>")

    def _html(self) -> str:
        return self.title.value + self.body.value + self.status.value

    def _plain(self) -> str:
        state = "following" if self.running else "stopped"
        head = f"{printable(self.path)} [{state}]"
        return "\n".join([head] + self._shown[-20:])


def follow(target, path: str, *, lines: int = LINES, start: int | None = None) -> FollowView:
    """A live widget following ``path`` of ``target`` (an ``AllocDir``, or a
    ``NotebookRoot`` with the path starting with an alloc id prefix).

    New lines appear as they are written; truncation is shown and followed
    from offset 0; a rotated Nomad log continues into ``.N+1``. A rotation
    set named without its index (``alloc/logs/web.stdout``) follows its
    newest file. ``start``: the byte offset of the followed file to read
    from (default: its end, with the last lines before it shown). Stop it
    with its button or ``stop()``.
    """
    return FollowView(target, path, lines=lines, start=start)
