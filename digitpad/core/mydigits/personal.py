"""Networks on My digits: scores, and the checks and split a fine-tune needs."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from digitpad.core.inference.predictor import ModelSource, Predictor, file_sha256
from digitpad.core.nets.evaluation import NUM_CLASSES, confusion_matrix
from digitpad.core.store.my_digits import Drawing, MyDigitsError
from digitpad.core.store.run_refs import run_ref

HELD_OUT = 0.25  # share of each digit's drawings a fine-tune keeps for testing
COLLECT_HINT = (
    "draw some on the Draw tab (Collect my digits) or import a folder "
    "(digitpad mydigits import DIR)"
)


@dataclass(frozen=True)
class PersonalScore:
    """A network on My digits: accuracy, per digit (None: no drawing of it), confusion."""

    accuracy: float
    count: int
    per_digit: list[float | None]
    confusion: np.ndarray  # (10, 10) counts, row = true digit


def score(probabilities: np.ndarray, labels: np.ndarray) -> PersonalScore:
    """How right ``probabilities`` ``(n, 10)`` are about ``labels``."""
    return score_readings(np.asarray(probabilities).argmax(axis=1), labels)


def score_readings(predicted: np.ndarray, labels: np.ndarray) -> PersonalScore:
    """How right the digits a network read (``predicted``, ``(n,)``) are about ``labels``."""
    labels = np.asarray(labels, np.int64)
    predicted = np.asarray(predicted, np.int64)
    confusion = confusion_matrix(labels, predicted)
    totals = confusion.sum(axis=1)
    per_digit = [
        float(confusion[d, d] / totals[d]) if totals[d] else None for d in range(NUM_CLASSES)
    ]
    accuracy = float(np.mean(predicted == labels)) if len(labels) else 0.0
    return PersonalScore(accuracy, len(labels), per_digit, confusion)


def score_network(predictor: Predictor, images: np.ndarray, labels: np.ndarray) -> PersonalScore:
    """``predictor`` on uint8 ``(n, 28, 28)`` ``images``; ``MyDigitsError`` if there are none."""
    if len(labels) == 0:
        raise MyDigitsError(f"My digits is empty: {COLLECT_HINT}")
    probabilities = predictor.predict_batch(np.asarray(images, np.float32) / 255.0)
    return score(probabilities, labels)


READ_CHUNK = 256  # drawings read per call; a stop is seen between two calls
KEPT_PREDICTORS = 8  # networks kept loaded between passes (a Keras one holds ~13 MiB)


class Readings:
    """What each network read in each drawing of My digits, by drawing id, so that a
    changed set costs only its new drawings (a relabel or a delete costs no reading at
    all), and the last few networks stay loaded between passes. One thread at a time."""

    def __init__(self, keep: int = KEPT_PREDICTORS):
        self.keep = keep
        self._read: dict[str, dict[int, int]] = {}  # network key -> {drawing id: digit}
        self._predictors: OrderedDict[str, Predictor] = OrderedDict()

    def known(self, key: str) -> bool:
        """Whether ``key`` was read this session (its figures can be recomputed)."""
        return key in self._read

    def score(
        self,
        key: str,
        source: ModelSource,
        drawings: Sequence[Drawing],
        should_stop: Callable[[], bool] = lambda: False,
    ) -> PersonalScore | None:
        """``source`` (cached as ``key``) on ``drawings``; None if stopped first."""
        if not drawings:
            raise MyDigitsError(f"My digits is empty: {COLLECT_HINT}")
        read = self._read.setdefault(key, {})
        new = [d for d in drawings if d.id not in read]
        for start in range(0, len(new), READ_CHUNK):
            if should_stop():
                return None
            chunk = new[start : start + READ_CHUNK]
            images = np.stack([d.image for d in chunk]).astype(np.float32) / 255.0
            digits = self._predictor(key, source).predict_batch(images).argmax(axis=1)
            read.update(zip((d.id for d in chunk), digits.tolist(), strict=True))
        present = {d.id for d in drawings}
        for gone in [i for i in read if i not in present]:
            del read[gone]
        return score_readings(
            np.array([read[d.id] for d in drawings]), np.array([d.label for d in drawings])
        )

    def _predictor(self, key: str, source: ModelSource) -> Predictor:
        predictor = self._predictors.pop(key, None) or Predictor(source)
        self._predictors[key] = predictor  # the newest used last
        while len(self._predictors) > self.keep:
            self._predictors.popitem(last=False)
        return predictor


def network_key(source: ModelSource) -> str:
    """The name a network's cached score is kept under: ``run:N`` for a run, the shipped
    name and its weights' fingerprint otherwise (rebuilt weights are another network)."""
    if source.run_id is not None:
        return run_ref(source.run_id)
    return f"{source.name}:{file_sha256(source.weights)[:12]}"


def check_teachable(labels: np.ndarray, held_out: float = HELD_OUT) -> None:
    """Raise ``MyDigitsError`` (one line: the problem and the fix) unless a fine-tune can
    learn from these labels and still keep some of each digit back for testing."""
    labels = np.asarray(labels, np.int64)
    if len(labels) == 0:
        raise MyDigitsError(f"My digits is empty, so there is nothing to teach: {COLLECT_HINT}")
    digits, counts = np.unique(labels, return_counts=True)
    if len(digits) == 1:
        raise MyDigitsError(
            f"all {len(labels)} of your drawings are {digits[0]}s: teaching needs at least "
            "two different digits, or the network just learns to say "
            f"{digits[0]}; {COLLECT_HINT}"
        )
    few = [f"{d} ({n})" for d, n in zip(digits, counts, strict=True) if n < 2]
    if few:
        raise MyDigitsError(
            f"a quarter of each digit's drawings is held back to test the result, so each "
            f"digit needs at least 2 drawings; these have 1: {', '.join(few)}. Draw one more "
            "of each (or delete them in My digits)"
        )


def split_held_out(
    labels: np.ndarray, held_out: float = HELD_OUT, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices to teach with and to test on: ``held_out`` of each digit (at least one) is
    kept back, chosen at random with ``seed``."""
    check_teachable(labels, held_out)
    labels = np.asarray(labels, np.int64)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for digit in np.unique(labels):
        indices = rng.permutation(np.flatnonzero(labels == digit))
        keep = max(1, round(len(indices) * held_out))
        test.extend(indices[:keep])
        train.extend(indices[keep:])
    return np.sort(np.array(train, np.int64)), np.sort(np.array(test, np.int64))
