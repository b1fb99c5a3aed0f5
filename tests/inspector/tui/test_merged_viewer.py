"""Pilot tests of a merged stream in the FileViewer: tags in a gutter, the
keys of one log, and ``t`` cycling the sources without losing the place."""

from __future__ import annotations

from textual.app import App, ComposeResult

from inspector.core.merge import log_sources
from inspector.tui.status_bar import StatusBar
from inspector.tui.viewer import FileViewer

from .test_viewer import SIZE, wait_for, write

LOGS = "alloc/logs"


class MergedHost(App):
    """A FileViewer showing a task's stdout and stderr merged."""

    def __init__(self, alloc, follow: bool = False) -> None:
        super().__init__()
        self.alloc, self.follow = alloc, follow

    def compose(self) -> ComposeResult:
        yield FileViewer()
        yield StatusBar()

    def on_mount(self) -> None:
        viewer = self.query_one(FileViewer)
        viewer.focus()
        viewer.open_merged(log_sources(self.alloc, "web"), label="web", follow=self.follow)

    @property
    def viewer(self) -> FileViewer:
        return self.query_one(FileViewer)

    @property
    def lines(self) -> list[str]:
        # A message ("Opening…") has no timestamp to drop.
        return [line.split(" ", 1)[-1] for line in self.viewer.body.plain_lines()]

    @property
    def tags(self) -> list[str]:
        return self.viewer.body.tag_lines()


def web(alloc, count: int = 200) -> None:
    def stamp(s: int) -> str:
        return f"2024-01-01T10:{s // 60:02d}:{s % 60:02d}Z"
    write(alloc, f"{LOGS}/web.stdout.0",
          "".join(f"{stamp(s)} out {s}\n" for s in range(0, count, 2)).encode())
    write(alloc, f"{LOGS}/web.stderr.0",
          "".join(f"{stamp(s)} err {s}\n" for s in range(1, count, 2)).encode())


async def test_rows_carry_their_source_and_keys_move_through_the_stream(alloc):
    web(alloc)
    app = MergedHost(alloc)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.lines[:2] == ["out 0", "err 1"])
        assert app.tags[:2] == ["web▸out", "web▸err"]
        await pilot.press("G")
        await wait_for(pilot, lambda: app.lines[-1:] == ["err 199"])
        await pilot.press("colon", *"@10:01:40", "enter")
        await wait_for(pilot, lambda: app.lines[:1] == ["out 100"])
        await pilot.press("ampersand", *"err 15", "enter")
        await wait_for(pilot, lambda: app.lines == [f"err {i}" for i in range(151, 160, 2)]
                       and app.viewer.status.matches == 6)  # from the place on; 15 before it


async def test_t_shows_each_source_alone_then_all_keeping_the_place(alloc):
    web(alloc)
    app = MergedHost(alloc)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.viewer.mode == "text" and bool(app.lines))  # not "Opening…"
        await pilot.press("colon", *"@10:01:40", "enter")
        await wait_for(pilot, lambda: app.lines[:1] == ["out 100"])
        await pilot.press("t")
        await wait_for(pilot, lambda: app.lines[:2] == ["out 100", "out 102"])
        assert set(app.tags) == {"web▸out"}
        await pilot.press("t")
        await wait_for(pilot, lambda: app.lines[:2] == ["err 101", "err 103"])
        await pilot.press("t")
        await wait_for(pilot, lambda: app.lines[:2] == ["out 100", "err 101"]
                       or app.lines[:2] == ["err 101", "out 102"])


async def test_following_shows_new_lines_of_every_source(alloc):
    web(alloc, 20)
    app = MergedHost(alloc, follow=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.lines[-1:] == ["err 19"] and app.viewer.following)
        write(alloc, f"{LOGS}/web.stderr.0", b"2024-01-01T10:00:20Z err new\n", "ab")
        await wait_for(pilot, lambda: app.lines[-1:] == ["err new"])
        write(alloc, f"{LOGS}/web.stdout.1", b"2024-01-01T10:00:21Z out rotated\n")
        await wait_for(pilot, lambda: app.lines[-1:] == ["out rotated"])
        assert app.tags[-2:] == ["web▸err", "web▸out"]
