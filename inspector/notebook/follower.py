"""``follow``: a live widget showing the lines of a log as they are written.

The following itself is the terminal app's ``inspector.core.follow.Follower``
and nothing else: it consumes ``AllocDir.change_events`` for the file (in its
own thread, where the iteration blocks), reads what each event says was
written, says "truncated" and continues from offset 0 of the new content,
continues into ``<task>.<stream>.<N+1>`` when Nomad rotates the log without
breaking a line split across the two files, and keeps its memory bounded
whatever the writer does. Copying that logic into an ``async for`` here
would give the notebook a second follower with its own bugs; instead, the
widget's own thread waits for the follower's state to change
(``Follower.wait_changed``, no polling), turns the newest lines into HTML
there, and hands the result to the kernel's event loop, where the widget is
updated (see ``_ui``). Redraws are at most every :data:`REFRESH` seconds, so
a writer at hundreds of MB/s cannot flood the browser.

The Stop button stops the follower: its watch is closed (inotify watch and
instance released, as the leak tests check), both threads end, and the
lines stay on screen.
"""

from __future__ import annotations

import posixpath
import threading
import time
from datetime import datetime

from ..core.follow import FollowState, Follower
from .html import PRE_STYLE, text_html
from ..core.pager import line_text
from ..core.text import printable
from ._ui import UiScheduler, Widget, await_until, wait_until, widgets
from .viewer import newest_rotation, resolve

LINES = 200
"""Lines shown (the newest); the follower itself keeps more."""
REFRESH = 0.02
"""Least time between two redraws, in seconds (as the terminal app)."""
NOTICES = 4
"""Notices ("truncated", "continued in …") kept in the status line."""
BODY_HEIGHT = "26em"

class FollowView(Widget):
    """A live view of a followed log, with a Stop button.

    ``text()`` is what is shown (plain lines, the partial one last);
    ``stop()`` ends the follow; ``wait_for(text)`` (or ``await
    view.until(text)`` in a cell) waits until a line holds ``text``.
    """

    def __init__(self, target, path: str, *, lines: int = LINES, start: int | None = None,
                 backlog_bytes: int | None = None) -> None:
        w = widgets()
        fs, rel = resolve(target, path)
        rel = newest_rotation(fs, rel)
        self.fs = fs
        self.opened = rel
        self.max_lines = max(1, lines)
        options = {} if backlog_bytes is None else {"backlog_bytes": backlog_bytes}
        self.follower = Follower(fs, rel, start=start, **options)
        self._ui = UiScheduler()
        self._alloc_id = getattr(fs, "alloc_id", "")
        self._stopping = threading.Event()
        self._shown: list[str] = []
        self._state: FollowState | None = None
        self._notices: list[tuple[str, str]] = []
        self._last_notice = ""
        self._cache: dict[bytes, tuple[str, str]] = {}  # line -> (HTML, plain)
        self._renders = 0

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
        self._shown_notices: list[tuple[str, str]] = []
        self._show_now(self.follower.state(last=self.max_lines), "", [], [])

        self._runner = threading.Thread(target=self.follower.run, daemon=True,
                                        name="inspector-nb-follower")
        self._pump = threading.Thread(target=self._pump_loop, daemon=True,
                                      name="inspector-nb-follow-view")
        self._runner.start()
        self._pump.start()

    # -- the public contract ------------------------------------------------

    @property
    def running(self) -> bool:
        """True until the follow ended (stopped, or the file was deleted)."""
        return self._pump.is_alive()

    @property
    def path(self) -> str:
        """The file followed now (it changes when the log rotates)."""
        return self.follower.path

    @property
    def notices(self) -> list[str]:
        """What the widget shows has happened ("truncated", "continued in
        web.stdout.1"…), the last few."""
        return [notice for _, notice in self._shown_notices]

    def text(self) -> list[str]:
        """The lines shown, oldest first, as plain text."""
        return list(self._shown)

    def stop(self, wait: bool = True, timeout: float = 5.0) -> None:
        """Stop following: the watch is closed and the threads end (joined
        when ``wait``). The lines shown stay. Idempotent."""
        self._stopping.set()
        self.follower.stop()
        self._ui.call(self._stopped_button)
        if wait:
            for thread in (self._runner, self._pump):
                if thread is not threading.current_thread():
                    thread.join(timeout)
            if self._runner.is_alive() or self._pump.is_alive():
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

    # -- the view's thread --------------------------------------------------

    def _pump_loop(self) -> None:
        follower = self.follower
        seen = -1
        last_draw = 0.0
        while True:
            version = follower.wait_changed(seen, 0.25)
            if version == seen:
                if not self._runner.is_alive():
                    break
                continue
            pause = last_draw + REFRESH - time.monotonic()
            if pause > 0:
                self._stopping.wait(pause)  # coalesce what comes meanwhile
            state = follower.state(last=self.max_lines)
            seen = state.version
            last_draw = time.monotonic()
            self._draw(state)
            if not state.running and not self._runner.is_alive():
                break
        final = follower.state(last=self.max_lines)  # after run() returned: its last word
        if final.version != seen:
            self._draw(final)

    def _draw(self, state: FollowState) -> None:
        data = state.lines + ([state.partial] if state.partial else [])
        cache, fresh = self._cache, {}
        for line in data:
            if line not in fresh:
                drawn = cache.get(line)
                if drawn is None:
                    text = line_text(line)
                    drawn = (text_html(text), text.plain)
                fresh[line] = drawn
        self._cache = fresh  # only what is on screen: bounded by the lines shown
        body = "\n".join(fresh[line][0] for line in data)
        plain = [fresh[line][1] for line in data]
        self._note(state)
        self._renders += 1
        # Keyed: while the kernel is busy only the newest drawing waits.
        self._ui.call(self._show_now, state, body, plain, list(self._notices), key="draw")

    def _note(self, state: FollowState) -> None:
        """Keep the follower's notices ("truncated", "continued in …") as they come."""
        if state.notice and state.notice != self._last_notice:
            self._notices.append((datetime.now().strftime("%H:%M:%S"), state.notice))
            del self._notices[:-NOTICES]
        self._last_notice = state.notice

    # -- showing (kernel loop) ----------------------------------------------

    def _show_now(self, state: FollowState, body: str, plain: list[str],
                  notices: list[tuple[str, str]]) -> None:
        self._state = state
        self._shown = plain
        self._shown_notices = notices
        if not body:
            body = '<span style="opacity:0.6">waiting for lines…</span>'
        # column-reverse keeps the scroll at the bottom: the newest line in view
        # (the <pre> must neither shrink nor scroll itself, as a notebook's CSS
        # would have it).
        self.body.value = (f'<div style="display:flex;flex-direction:column-reverse;'
                           f'max-height:{BODY_HEIGHT};overflow:auto">'
                           f'<pre style="{PRE_STYLE};white-space:pre-wrap;'
                           f'overflow-wrap:anywhere;flex-shrink:0;overflow:visible">'
                           f'{body}</pre></div>')
        # Version 0: run() has not started yet.
        live = (state.running or state.version == 0) and not self._stopping.is_set()
        badge = ('<span style="color:#007427;font-weight:600">● following</span>' if live else
                 '<span style="color:#777;font-weight:600">■ stopped</span>')
        label = f"{self._alloc_id}/{state.path}" if self._alloc_id else state.path
        self.title.value = (f'<span style="font-family:var(--jp-code-font-family,monospace);'
                            f'font-size:12px"><b>{_esc(label)}</b> · {badge}</span>')
        notes = " · ".join(f"{when} {_esc(notice)}" for when, notice in notices)
        parts = [f"{state.offset:,} bytes of {_esc(posixpath.basename(state.path))} read",
                 f"{len(plain)} lines shown"]
        if notes:
            parts.append(f'<i style="color:#8a6d00">{notes}</i>')
        self.status.value = ('<div style="font-family:var(--jp-code-font-family,monospace);'
                             'font-size:11px;color:#555">' + " · ".join(parts) + "</div>")
        if not live:
            self._stopped_button()

    def _stopped_button(self) -> None:
        self.stop_button.disabled = True
        self.stop_button.description = "Stopped"
        self.stop_button.button_style = ""

    def _plain(self) -> str:
        state = "following" if self.running else "stopped"
        head = f"{printable(self.follower.path)} [{state}]"
        return "\n".join([head] + self._shown[-20:])


def _esc(value: object) -> str:
    from .html import name_html

    return name_html(value)


def follow(target, path: str, *, lines: int = LINES, start: int | None = None) -> FollowView:
    """A live widget following ``path`` of ``target`` (an ``AllocDir``, or a
    ``NotebookRoot`` with the path starting with an alloc id prefix).

    New lines appear as they are written; truncation is shown and followed
    from offset 0; a rotated Nomad log continues into ``.N+1``. A rotation
    set named without its index (``alloc/logs/web.stdout``) follows its
    newest file. ``start`` is the offset to follow from (default: the end,
    with the last lines before it shown). Stop it with its button or
    ``stop()``.
    """
    return FollowView(target, path, lines=lines, start=start)
