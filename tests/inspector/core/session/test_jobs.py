"""The one staleness rule (tokens) and the executors, without a session."""

from __future__ import annotations

import threading

import pytest

from inspector.core.session.jobs import (
    COUNT, FOLLOW, NAV, SEARCH, Clock, InlineExecutor, LaneExecutor, ThreadExecutor)


def test_a_token_is_stale_once_cancelled_or_once_its_clock_moved_on():
    clock = Clock()
    first, second = clock.token(), clock.token()
    assert not first.cancelled and not first.is_set()
    first.cancel()
    assert first.cancelled and first.is_set() and not second.cancelled
    clock.advance()
    assert second.cancelled and second.wait(0) is True
    assert not clock.token().cancelled


def test_advancing_the_clock_wakes_a_job_waiting_on_its_token():
    clock = Clock()
    token = clock.token()
    woke = threading.Event()
    threading.Thread(target=lambda: token.wait(10) and woke.set(), daemon=True).start()
    clock.advance()
    assert woke.wait(5)


def test_inline_jobs_run_at_once_in_order_and_a_job_submitted_by_a_delivery_comes_after():
    executor, clock, seen = InlineExecutor(), Clock(), []

    def second(value):
        seen.append(("delivered", value))

    def first_done(value):
        seen.append(("delivered", value))
        executor.submit(lambda job: "b", clock.token(), done=second)
        seen.append("submitted b")

    executor.submit(lambda job: "a", clock.token(), done=first_done)
    assert seen == [("delivered", "a"), "submitted b", ("delivered", "b")]


def test_a_stale_result_is_dropped_and_discarded():
    executor, clock = InlineExecutor(), Clock()
    token = clock.token()
    dropped, done = [], []

    def work(job):
        clock.advance()  # another file was opened while this job ran
        return "old file's result"

    executor.submit(work, token, done=done.append, discard=dropped.append)
    assert done == [] and dropped == ["old file's result"]
    assert not executor.busy


def test_failures_reach_failed_and_raise_without_it():
    executor, clock, failures = InlineExecutor(), Clock(), []

    def broken(job):
        raise OSError("disk on fire")

    executor.submit(broken, clock.token(), failed=failures.append)
    assert [str(error) for error in failures] == ["disk on fire"]
    with pytest.raises(OSError):
        executor.submit(broken, clock.token())


class _Held(LaneExecutor):
    """An executor whose runners and deliveries wait until the test releases them."""

    def __init__(self) -> None:
        super().__init__()
        self.runners, self.deliveries = [], []

    def _spawn(self, runner, lane):
        self.runners.append(threading.Thread(target=runner, daemon=True))
        self.runners[-1].start()

    def _post(self, callback):
        self.deliveries.append(callback)


def test_progress_is_coalesced_only_the_latest_pending_report_is_delivered():
    executor, clock = _Held(), Clock()
    seen, reported = [], threading.Event()

    def work(job):
        for value in range(100):
            job.report(value)
        reported.set()
        return "done"

    executor.submit(work, clock.token(), progress=seen.append, done=seen.append, lane=SEARCH)
    assert reported.wait(5)
    executor.runners[0].join(5)
    # One delivery for all the progress (the latest), then the result.
    assert len(executor.deliveries) == 2
    for deliver in executor.deliveries:
        deliver()
    assert seen == [99, "done"]


def test_a_producer_waits_until_the_screen_took_its_report():
    executor, clock = _Held(), Clock()
    token = clock.token()
    waited = []

    def work(job):
        job.report("frame 1")
        waited.append(job.wait_delivered(0.05))  # nobody took it yet
        return None

    executor.submit(work, token, progress=lambda value: None, lane=FOLLOW)
    executor.runners[0].join(5)
    assert waited == [False]
    executor.deliveries[0]()
    executor.deliveries[1]()


def test_jobs_of_one_lane_run_one_at_a_time_lanes_side_by_side():
    executor, clock = ThreadExecutor(), Clock()
    release, started, order = threading.Event(), threading.Event(), []

    def slow(job):
        started.set()
        release.wait(5)
        order.append("nav 1")

    executor.submit(slow, clock.token(), lane=NAV)
    executor.submit(lambda job: order.append("nav 2"), clock.token(), lane=NAV)
    assert started.wait(5)
    counted = threading.Event()
    executor.submit(lambda job: order.append("count"), clock.token(), lane=COUNT,
                    done=lambda _: counted.set())
    assert counted.wait(5)  # another lane did not wait for the slow job
    assert executor.busy
    release.set()
    assert executor.wait_idle(5)
    assert order == ["count", "nav 1", "nav 2"]


def test_inline_long_jobs_run_in_threads_and_deliver_when_pumped():
    executor, clock = InlineExecutor(), Clock()
    seen = []
    executor.submit(lambda job: "followed", clock.token(), done=seen.append, lane=FOLLOW)
    executor.wait_until(lambda: seen == ["followed"], 5)
    assert threading.current_thread() is threading.main_thread()
