"""Lab exercise 5: load saved weights into a fresh model and read the first five test images."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitpad.core.data.mnist import MnistData
from digitpad.core.inference.predictor import ModelSource, load_weights_into
from digitpad.core.machine.keras_setup import BACKEND_LOCK
from digitpad.core.nets.models import build_model, prepare_images
from digitpad.core.nets.results import baseline_error
from digitpad.core.nets.specs import RunSpec

COUNT = 5
READING_HEADER = ("image", "true label", "predicted", "probability")


@dataclass(frozen=True)
class LayerRow:
    """One line of the model summary, as Keras prints it."""

    name: str
    kind: str
    output_shape: str
    params: int


@dataclass
class FirstFive:
    """The five images, their labels, what the loaded network reads, and its summary."""

    weights: Path
    spec: RunSpec
    images: np.ndarray  # (5, 28, 28) uint8
    labels: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray  # (5, 10)
    layers: list[LayerRow]

    @property
    def error_percent(self) -> float:
        """The lab's "baseline error" on these five images: 100 - accuracy * 100."""
        return baseline_error(float(np.mean(self.predicted == self.labels)))

    @property
    def total_params(self) -> int:
        return sum(layer.params for layer in self.layers)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """The reading as a table's rows, under ``READING_HEADER``."""
        return [
            (
                str(i + 1),
                str(self.labels[i]),
                str(self.predicted[i]),
                f"{self.probabilities[i, self.predicted[i]]:.4f}",
            )
            for i in range(len(self.labels))
        ]


def first_five(spec: RunSpec, weights: str | Path, data: MnistData) -> FirstFive:
    """Build ``spec``'s network, load ``weights`` into it and predict the first 5 test images.

    Raises ``WeightsError`` naming the file and the architecture when they do not fit.
    """
    weights = Path(weights)
    with BACKEND_LOCK:
        model = build_model(spec, compile=False)
        load_weights_into(model, ModelSource(weights.stem, spec, weights))
        images = data.x_test[:COUNT]
        probabilities = np.asarray(model(prepare_images(images, spec.model), training=False))
        layers = [
            LayerRow(
                layer.name,
                type(layer).__name__,
                str(tuple(layer.output.shape)),
                int(layer.count_params()),
            )
            for layer in model.layers
        ]
    return FirstFive(
        weights,
        spec,
        images,
        data.y_test[:COUNT],
        probabilities.argmax(axis=1),
        probabilities,
        layers,
    )
