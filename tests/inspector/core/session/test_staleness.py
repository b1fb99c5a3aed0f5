"""One staleness rule: what a job of an older file, an older filter or a
cancelled search delivers is never shown; how long a notice lasts."""

from __future__ import annotations

import os
from collections import deque

from inspector.core.session import ReaderSession
from inspector.core.session.jobs import LaneExecutor

from .conftest import levels_log, numbered

APP = "alloc/data/app.log"
OTHER = "alloc/data/other.log"


class Stepper(LaneExecutor):
    """Runs nothing until the test says which lane goes next."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[str, deque] = {}

    def _spawn(self, runner, lane):
        self.waiting.setdefault(lane, deque()).append(runner)

    def _post(self, callback):
        callback()

    def step(self, lane: str) -> None:
        self.waiting[lane].popleft()()

    def settle(self) -> None:
        while any(self.waiting.values()):
            for runners in list(self.waiting.values()):
                if runners:
                    runners.popleft()()


def stepped(alloc):
    executor, frames = Stepper(), []
    return ReaderSession(executor, frames.append, width=80, height=5), executor, frames


def write(alloc, rel: str, data: bytes) -> None:
    with open(os.path.join(alloc.alloc_dir, rel), "wb") as fh:
        fh.write(data)


def test_a_search_that_finishes_after_another_file_was_opened_is_never_shown(alloc):
    write(alloc, APP, numbered(100) + b"needle\n")
    write(alloc, OTHER, numbered(100, "other"))
    session, executor, frames = stepped(alloc)
    session.open(alloc, APP)
    executor.settle()
    session.search("needle")
    session.open(alloc, OTHER)
    executor.step("search")  # the search of the old file ends first
    executor.settle()
    assert session.frame.lines[0] == "other 0"
    assert not any("needle" in (frame.status.notice if frame.status else "")
                   for frame in frames[-3:])
    assert session.view.match is None and session.pattern is None


def test_a_load_that_comes_too_late_is_closed_not_shown(alloc):
    write(alloc, APP, numbered(10))
    write(alloc, OTHER, numbered(10, "other"))
    session, executor, frames = stepped(alloc)
    session.open(alloc, APP)
    session.open(alloc, OTHER)
    executor.step("nav")  # the first load: stale
    shown = len(frames)
    executor.settle()
    assert session.frame.lines[0] == "other 0"
    assert all("line 0" not in frame.lines for frame in frames[shown - 1:])


def test_the_count_of_an_older_filter_is_dropped(alloc):
    write(alloc, APP, levels_log(400))
    session, executor, frames = stepped(alloc)
    session.open(alloc, APP)
    executor.settle()
    session.filter("ERROR")
    session.filter("WARN")
    executor.settle()
    warn = sum(b" WARN " in line for line in levels_log(400).splitlines())
    assert session.status.filter == "WARN" and session.status.matches == warn == 72
    assert all(frame.status.matches in (None, warn) for frame in frames
               if frame.status and frame.status.filter == "WARN")


def test_a_search_found_after_a_move_still_moves_and_says_so(alloc):
    write(alloc, APP, numbered(100) + b"needle\n")
    session, executor, frames = stepped(alloc)
    session.open(alloc, APP)
    executor.settle()
    session.search("needle")
    session.line_down()
    executor.settle()
    assert "needle" in session.frame.lines and session.status.notice.startswith("/needle")


# -- how long a notice lasts ---------------------------------------------------------


def test_a_failed_go_to_is_forgotten_after_a_good_one(reader):
    reader.write(APP, levels_log(3000))
    reader.open(reader.alloc, APP)
    reader.goto("@yesterday")
    assert reader.notice.startswith("not a timestamp: 'yesterday'")
    reader.goto("@10:09")
    assert reader.notice == "" and reader.lines[0].startswith("2026-11-28T10:09:00")


def test_no_match_does_not_follow_to_another_file_or_a_move(reader):
    reader.write(APP, levels_log(100))
    reader.write(OTHER, levels_log(100))
    reader.open(reader.alloc, APP)
    reader.search("absent")
    assert reader.notice == "no match: absent"
    reader.line_down()
    assert reader.notice == ""
    reader.search("absent")
    reader.open(reader.alloc, OTHER)
    assert reader.notice == ""


def test_a_notice_of_an_older_command_is_not_shown_after_a_newer_one(alloc):
    write(alloc, APP, numbered(100))
    session, executor, frames = stepped(alloc)
    session.open(alloc, APP)
    executor.settle()
    session.goto("999999")  # queued: says "past the end" when applied
    session.line_down()  # a newer command before it ran
    executor.settle()
    assert session.status.notice == ""


def test_the_file_s_own_events_are_shown_whatever_the_command(reader):
    reader.write("alloc/logs/web.stdout.0", numbered(10))
    reader.write("alloc/logs/web.stdout.1", numbered(10))
    reader.open(reader.alloc, "alloc/logs/web.stdout.0")
    os.unlink(os.path.join(reader.alloc.alloc_dir, "alloc/logs/web.stdout.0"))
    reader.tail()
    assert "web.stdout.0 rotated away" in reader.notice


def test_a_search_starts_where_the_moves_asked_before_it_went(alloc):
    write(alloc, APP, b"needle at the top\n" + numbered(200))
    session, executor, frames = stepped(alloc)
    session.open(alloc, APP)
    executor.settle()
    session.tail()
    session.search("needle")  # asked right after the tail, before it was shown
    executor.settle()
    assert session.frame.lines[0] == "needle at the top"
    assert "wrapped to the top" in session.status.notice


def test_a_move_up_queued_behind_a_follow_frame_is_shown(alloc):
    """The keys that stopped following are applied by a job that began
    while following: its frame is of where they went, not of the end."""
    write(alloc, APP, numbered(100))
    session, executor, frames = stepped(alloc)
    session.open(alloc, APP)
    executor.settle()
    session.follow(True)  # its jobs wait: the stepper runs only the navigation
    session.poll()  # a navigation job starts while following…
    session.line_up()  # …and the move up (stopping the follow) joins its queue
    executor.step("nav")
    assert not session.following and session.frame.lines[-1] == "line 98"
