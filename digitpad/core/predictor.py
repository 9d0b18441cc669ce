"""Fast inference for one drawing at a time (and batches, for tests and galleries)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitpad.core.backend import BACKEND_LOCK, freeze_long_lived_objects
from digitpad.core.models import build_model, input_shape_for
from digitpad.core.paths import weights_dir
from digitpad.core.specs import RunSpec


class WeightsError(RuntimeError):
    """A weights file is missing, damaged, or made for another architecture."""


@dataclass(frozen=True)
class ModelSource:
    """Where a predictor's network comes from: a name for people, a spec and a weights file."""

    name: str
    spec: RunSpec
    weights: Path
    accuracy: float | None = None

    @classmethod
    def shipped(cls, name: str, folder: Path | None = None) -> ModelSource:
        """A pretrained model from ``weights/`` (``mlp``, ``cnn`` or ``best``)."""
        folder = folder or weights_dir()
        info_path = folder / f"{name}.json"
        if not info_path.exists():
            raise WeightsError(f"{info_path} is missing: cannot tell which network '{name}' is")
        try:
            info = json.loads(info_path.read_text())
            spec = RunSpec.from_dict(info["spec"])
        except (ValueError, KeyError) as exc:
            raise WeightsError(f"{info_path} is damaged ({exc})") from exc
        return cls(name, spec, folder / f"{name}.weights.h5", info.get("test_accuracy"))


class Predictor:
    """A network ready to read 28x28 images.

    A single image goes through a compiled function with a fixed input signature: a plain
    ``model.predict`` call costs tens of milliseconds of overhead per image on a CPU, the
    compiled call well under one.
    """

    def __init__(self, source: ModelSource):
        with BACKEND_LOCK:
            self._build(source)

    def _build(self, source: ModelSource) -> None:
        import tensorflow as tf  # tf.function: the compiled single-image path

        freeze_long_lived_objects()
        self.source = source
        self.model = load_weights_into(build_model(source.spec, compile=False), source)
        self._shape = input_shape_for(source.spec.model)
        model = self.model

        @tf.function(
            input_signature=[tf.TensorSpec((1, *self._shape), tf.float32)], reduce_retracing=True
        )
        def one(x):
            return model(x, training=False)

        self._one = one
        self._one(np.zeros((1, *self._shape), np.float32))  # trace now, not on first stroke

    @property
    def name(self) -> str:
        return self.source.name

    def predict(self, x28: np.ndarray) -> np.ndarray:
        """Ten probabilities (summing to 1) for one ``(28, 28)`` image in [0, 1]."""
        x = np.asarray(x28, dtype=np.float32).reshape((1, *self._shape))
        with BACKEND_LOCK:
            return self._one(x).numpy()[0]

    def predict_batch(self, xs: np.ndarray) -> np.ndarray:
        """``(N, 10)`` probabilities for ``(N, 28, 28)`` images in [0, 1]."""
        x = np.asarray(xs, dtype=np.float32).reshape((len(xs), *self._shape))
        with BACKEND_LOCK:
            return np.asarray(self.model.predict(x, batch_size=1000, verbose=0))


def load_weights_into(model, source: ModelSource):
    """Load ``source.weights`` into ``model``, turning every failure into one clear message."""
    path = Path(source.weights)
    if not path.exists():
        raise WeightsError(f"weights file {path} is missing")
    try:
        model.load_weights(path)
    except Exception as exc:  # h5py and Keras raise many kinds for damaged or foreign files
        raise WeightsError(
            f"{path} cannot be loaded as a {source.spec.describe()} network ({first_line(exc)}); "
            "expected weights saved from that architecture"
        ) from exc
    return model


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load_first_available(names, folder: Path | None = None) -> tuple[Predictor, list[str]]:
    """The first shipped model that loads, and a message for each one that did not."""
    problems = []
    for name in names:
        try:
            return Predictor(ModelSource.shipped(name, folder)), problems
        except WeightsError as exc:
            problems.append(f"{name}: {exc}")
    raise WeightsError("no shipped model could be loaded:\n" + "\n".join(problems))
