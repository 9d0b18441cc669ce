"""Every network on My digits, in the background: a changed set costs only its new
drawings, a network that cannot be read is skipped with its reason, and closing the
window stops a pass within a second."""

from __future__ import annotations

import time
from typing import ClassVar

import numpy as np
import pytest
from test_store_paths import run_with_model

from digitpad.core.inference.predictor import WeightsError
from digitpad.core.mydigits import personal
from digitpad.core.store.runs import RunStore
from digitpad.ui.mydigits.my_digits_scorer import MyDigitsScorer


class FakePredictor:
    """Reads every drawing as a 7, after ``delay`` seconds a call; notes each call."""

    calls: ClassVar[list[tuple[str, int]]] = []
    delay = 0.0
    broken: ClassVar[set[str]] = set()

    def __init__(self, source):
        if source.name in self.broken:
            raise WeightsError(f"{source.weights} is damaged (truncated file)")
        self.name = source.name

    def predict_batch(self, images: np.ndarray) -> np.ndarray:
        time.sleep(self.delay)
        FakePredictor.calls.append((self.name, len(images)))
        out = np.zeros((len(images), 10), np.float32)
        out[:, 7] = 1
        return out


@pytest.fixture
def fake_networks(monkeypatch):
    FakePredictor.calls, FakePredictor.delay, FakePredictor.broken = [], 0.0, set()
    monkeypatch.setattr(personal, "Predictor", FakePredictor)
    return FakePredictor


def a_scorer(tmp_path, qtbot, runs: int, drawings: int) -> MyDigitsScorer:
    store = RunStore(tmp_path)
    for _ in range(runs):
        run_with_model(store)
    mine = store.my_digits()
    rng = np.random.default_rng(0)
    for i in range(drawings):
        mine.add(7 if i % 2 else 1, rng.integers(0, 256, (28, 28), dtype=np.uint8))
    scorer = MyDigitsScorer(store, mine)
    return scorer


def score_all(scorer, qtbot) -> None:
    with qtbot.waitSignal(scorer.finished, timeout=30_000):
        scorer.refresh()


def test_a_changed_set_costs_only_its_new_drawings(tmp_path, qtbot, fake_networks):
    scorer = a_scorer(tmp_path, qtbot, runs=2, drawings=6)
    score_all(scorer, qtbot)
    networks = {name for name, _ in fake_networks.calls}
    assert len(networks) == 5  # three shipped, two runs
    assert all(count == 6 for _, count in fake_networks.calls)
    assert {s.accuracy for s in scorer.scores.values()} == {0.5}
    fake_networks.calls.clear()
    scorer.my_digits.add(7, np.full((28, 28), 200, np.uint8))
    score_all(scorer, qtbot)
    assert sorted(fake_networks.calls) == sorted((name, 1) for name in networks)
    assert {s.accuracy for s in scorer.scores.values()} == {4 / 7}
    fake_networks.calls.clear()
    first = scorer.my_digits.drawings()[0]  # a 1, read as a 7
    scorer.my_digits.relabel(first.id, 7)
    score_all(scorer, qtbot)
    assert fake_networks.calls == []  # a relabel reads nothing again
    assert {s.accuracy for s in scorer.scores.values()} == {5 / 7}
    scorer.shutdown()


def test_a_network_that_cannot_be_read_is_skipped_with_its_reason(tmp_path, qtbot, fake_networks):
    scorer = a_scorer(tmp_path, qtbot, runs=3, drawings=4)
    fake_networks.broken = {"run 2"}
    score_all(scorer, qtbot)
    assert "damaged" in scorer.scores["run:2"].problem
    assert scorer.scores["run:2"].accuracy is None
    others = [s for key, s in scorer.scores.items() if key != "run:2"]
    assert len(others) == 5 and all(s.accuracy == 0.5 for s in others)
    scorer.shutdown()


def test_a_change_during_a_pass_is_scored_after_it(tmp_path, qtbot, fake_networks):
    scorer = a_scorer(tmp_path, qtbot, runs=2, drawings=4)
    fake_networks.broken = {"run 1"}
    fake_networks.delay = 0.05
    with qtbot.waitSignal(scorer.scored, timeout=30_000):
        scorer.refresh()
    scorer.my_digits.add(7, np.full((28, 28), 200, np.uint8))
    scorer.refresh()  # asked again while busy: a second pass follows
    revision = scorer.my_digits.revision()
    qtbot.waitUntil(
        lambda: all(s.revision == revision for s in scorer.scores.values()), timeout=30_000
    )
    scorer.shutdown()


def test_shutdown_ends_a_long_pass_within_a_second(tmp_path, qtbot, fake_networks):
    scorer = a_scorer(tmp_path, qtbot, runs=12, drawings=4)
    fake_networks.delay = 0.4  # 15 networks: six seconds for the whole pass
    with qtbot.waitSignal(scorer.scored, timeout=30_000):
        scorer.refresh()
    assert scorer.shutdown()  # it had ended when shutdown returned (it waits 1 s at most)
    assert len(fake_networks.calls) < 15
