"""The tree's jobs: a token is stale once its generation is gone or it is
cancelled; what a stale job brings is dropped; a failed job's error is
delivered; the inline executor keeps the order of jobs submitted while one
is delivered."""

from __future__ import annotations

from inspector.core.tree.jobs import Clock, InlineExecutor


def test_a_new_generation_cancels_every_older_token():
    clock = Clock()
    first, second = clock.token(), clock.token()
    second.cancel()
    assert not first.cancelled and second.cancelled and second.is_set()
    clock.advance()
    assert first.cancelled
    assert not clock.token().cancelled


def test_what_a_stale_job_brings_is_dropped_and_a_failure_is_delivered():
    clock, executor, got = Clock(), InlineExecutor(), []
    stale = clock.token()
    stale.cancel()
    executor.submit(lambda job: 1, stale, done=got.append)
    executor.submit(lambda job: 1 / 0, clock.token(), done=got.append,
                    failed=lambda exc: got.append(type(exc).__name__))
    assert got == ["ZeroDivisionError"]


def test_jobs_submitted_while_one_is_delivered_run_after_it():
    clock, executor, order = Clock(), InlineExecutor(), []

    def first_done(_result):
        executor.submit(lambda job: "second", clock.token(), done=order.append)
        order.append("first")

    executor.submit(lambda job: None, clock.token(), done=first_done)
    assert order == ["first", "second"] and executor.submitted == 2
