"""An allocation's card in a widget (``AllocCard``): the sizes are measured in
the background; waiting for them waits for the card shown, and a walk that
fails says so on the card."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("ipywidgets")

from allocdir import AllocDir  # noqa: E402
from allocdir.testing import temp_alloc_dir  # noqa: E402
from inspector.notebook import alloc_card  # noqa: E402
from inspector.notebook._ui import UiScheduler  # noqa: E402


class _Recorded:
    """The worker pool, keeping the futures of what the card submits."""

    def __init__(self, pool) -> None:
        self.pool = pool
        self.futures: list = []

    def submit(self, *args):
        future = self.pool.submit(*args)
        self.futures.append(future)
        return future


@pytest.fixture
def recorded(monkeypatch) -> _Recorded:
    recorded = _Recorded(alloc_card.pool())
    monkeypatch.setattr(alloc_card, "pool", lambda: recorded)
    return recorded


def test_waiting_waits_for_the_card_shown_not_one_replaced(alloc, recorded, monkeypatch):
    with temp_alloc_dir(prefix="nb-other-") as other:
        gates = {alloc.alloc_id: threading.Event(), other.alloc_id: threading.Event()}
        real = alloc_card.summarize_alloc

        def gated(target: AllocDir, **kwargs):
            if kwargs.get("measure_sizes", True):
                assert gates[target.alloc_id].wait(10)
            return real(target, **kwargs)

        monkeypatch.setattr(alloc_card, "summarize_alloc", gated)
        card = alloc_card.AllocCard(UiScheduler())
        card.show(alloc)
        card.show(other)  # the first card's walk is cancelled, and ends later
        gates[alloc.alloc_id].set()
        recorded.futures[0].result(10)
        assert not card.wait(0.2)  # the second card's sizes are still being measured
        assert "measuring…" in card.widget.value
        gates[other.alloc_id].set()
        assert card.wait(10)
        assert "measuring…" not in card.widget.value
        assert other.alloc_id in card.widget.value


def test_a_walk_that_fails_says_so_on_the_card(alloc, recorded, monkeypatch):
    real = alloc_card.summarize_alloc

    def failing(target: AllocDir, **kwargs):
        if kwargs.get("measure_sizes", True):
            raise RuntimeError("the walk broke")
        return real(target, **kwargs)

    monkeypatch.setattr(alloc_card, "summarize_alloc", failing)
    card = alloc_card.AllocCard(UiScheduler())
    card.show(alloc)
    assert card.wait(10)
    recorded.futures[0].result(10)  # raised nothing: the failure went to the card
    value = card.widget.value
    assert "measuring the sizes failed" in value and "the walk broke" in value
    assert alloc.alloc_id in value  # the summary shown before is kept
