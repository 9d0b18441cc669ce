"""What a trained network gets wrong: confusion matrix and its most confident mistakes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NUM_CLASSES = 10


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """``(10, 10)`` counts: row = true digit, column = predicted digit."""
    labels = np.asarray(labels, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    if labels.shape != predicted.shape:
        raise ValueError(f"{labels.shape[0]} labels but {predicted.shape[0]} predictions")
    flat = np.bincount(labels * NUM_CLASSES + predicted, minlength=NUM_CLASSES**2)
    return flat.reshape(NUM_CLASSES, NUM_CLASSES)


def row_normalised(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its total (the share of each true digit read as each digit)."""
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape, float), where=totals > 0)


@dataclass(frozen=True)
class Mistake:
    """One misread test image: where it is, what it is, what the network said and how sure."""

    index: int
    label: int
    predicted: int
    probability: float


def confident_mistakes(probabilities: np.ndarray, labels: np.ndarray, count: int) -> list[Mistake]:
    """The ``count`` wrong answers given with the highest probability, most confident first."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")][:count]
    return [
        Mistake(int(i), int(labels[i]), int(predicted[i]), float(probabilities[i, predicted[i]]))
        for i in order
    ]
