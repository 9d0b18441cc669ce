"""Pretrained weights shipped in ``weights/``: what they are, how to rebuild and load them."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from digitpad.core.data.mnist import MnistData
from digitpad.core.inference.predictor import ModelSource, Predictor, file_sha256
from digitpad.core.machine.files import copy_file, write_text
from digitpad.core.machine.keras_setup import BACKEND_LOCK
from digitpad.core.machine.paths import weights_dir
from digitpad.core.nets.results import RunResult
from digitpad.core.nets.specs import RunSpec


@dataclass(frozen=True)
class ShippedModel:
    """One pretrained network: its name, spec, and the accuracy it must reach on MNIST."""

    name: str
    title: str
    spec: RunSpec
    min_accuracy: float

    def weights_path(self, folder: Path | None = None) -> Path:
        return (folder or weights_dir()) / f"{self.name}.weights.h5"

    def info_path(self, folder: Path | None = None) -> Path:
        return (folder or weights_dir()) / f"{self.name}.json"

    def litert_path(self, folder: Path | None = None) -> Path:
        return (folder or weights_dir()) / f"{self.name}.tflite"


SHIPPED = {
    m.name: m
    for m in (
        # Lab exercise 4 exactly: loadable by the lab's own code with model.load_weights.
        ShippedModel("mlp", "MLP, lab exercise 4", RunSpec.for_model("mlp", seed=4), 0.91),
        # Lab exercise 9's deeper CNN; the report reached 0.9917.
        ShippedModel(
            "cnn_deep",
            "Deeper CNN, lab exercise 9",
            RunSpec.for_model("cnn_deep", seed=9),
            0.9917,
        ),
        ShippedModel(
            "best",
            "Strong CNN trained on augmented digits",
            # 30 epochs of a cosine schedule: 99.70 % at epoch 22, 99.69 % at the end.
            RunSpec.for_model("cnn_best", seed=1, epochs=30),
            0.9965,
        ),
    )
}
# Largest difference in any probability allowed between a LiteRT export and Keras.
LITERT_TOLERANCE = 1e-4
# The canvas tries these in order when one cannot be loaded.
FALLBACK_ORDER = ("best", "cnn_deep", "mlp")
# Names the shipped networks had before, with what to say: "cnn" named exercise 9's network
# while ``--model cnn`` trains application 2's, two networks under one word.
RENAMED = {
    "cnn": (
        "cnn_deep",
        "the shipped network of lab exercise 9 is now named cnn_deep ('cnn' is the lab's "
        "application-2 CNN, which 'digitpad train --model cnn' trains)",
    )
}


def shipped_name(name: str) -> str:
    """A shipped network's name as it is now (an older name, such as a saved setting, is
    read as its new one)."""
    return RENAMED.get(name, (name, ""))[0]


def install_shipped(
    name: str, result: RunResult, data: MnistData, folder: Path | None = None
) -> dict[str, Any]:
    """Make a finished training of ``SHIPPED[name].spec`` (trained by the engine, like any
    run) the shipped network: its weights and JSON, then its LiteRT export.

    Raises ``RuntimeError`` (and writes nothing) if it misses its accuracy target.
    """
    shipped = SHIPPED[name]
    if result.test_accuracy < shipped.min_accuracy:
        raise RuntimeError(
            f"{name}: test accuracy {result.test_accuracy:.4f} is below the target "
            f"{shipped.min_accuracy}; nothing was written"
        )
    if not result.weights_path:
        raise RuntimeError(f"{name}: the weights could not be saved: {result.notes}")
    shipped.weights_path(folder).parent.mkdir(parents=True, exist_ok=True)
    copy_file(result.weights_path, shipped.weights_path(folder))
    info = {
        "name": name,
        "title": shipped.title,
        "spec": shipped.spec.to_dict(),
        "test_accuracy": result.test_accuracy,
        "test_loss": result.test_loss,
        "training_time_s": round(result.convergence_time, 2),
        "precision": result.precision,
        "params": result.params,
        "data_source": data.source,
        "data_sha256": data.sha256,
        "weights_sha256": file_sha256(shipped.weights_path(folder)),  # checked at every load
        "versions": result.versions,
        "device": result.device,
        "date": date.today().isoformat(),
    }
    write_text(shipped.info_path(folder), json.dumps(info, indent=2) + "\n")
    return export_litert(name, data, folder)


def export_litert(name: str, data: MnistData, folder: Path | None = None) -> dict[str, Any]:
    """Export a shipped model's Keras weights to LiteRT (``NAME.tflite``), the canvas' engine.

    The export is checked against Keras on 1,000 test images before it replaces anything,
    and the JSON records which weights file it came from, so a predictor can tell a stale
    export from a current one. Returns the updated JSON.
    """
    shipped = SHIPPED[name]
    info_path = shipped.info_path(folder)
    info = json.loads(info_path.read_text())
    weights = shipped.weights_path(folder)
    keras_only = Predictor(ModelSource.shipped(name, folder), engine="keras")
    target = shipped.litert_path(folder)
    with tempfile.TemporaryDirectory() as tmp:
        exported = Path(tmp) / target.name
        with BACKEND_LOCK, contextlib.redirect_stdout(io.StringIO()):  # "Saved artifact at"
            keras_only.keras_model().export(str(exported), format="litert")
        sample = data.x_test[:1000].astype(np.float32) / 255
        expected = keras_only.predict_batch(sample)
        digest = file_sha256(weights)
        source = ModelSource(name, shipped.spec, weights, litert=exported, litert_from=digest)
        got = Predictor(source, engine="litert").predict_batch(sample)
        gap = float(np.abs(got - expected).max())
        if gap > LITERT_TOLERANCE:
            raise RuntimeError(
                f"{name}: the LiteRT export differs from Keras by {gap:.2g} "
                f"(tolerance {LITERT_TOLERANCE}); nothing was written"
            )
        copy_file(exported, target)
    info["litert"] = {
        "file": target.name,
        "sha256": file_sha256(target),  # checked at every load: a damaged copy is not used
        "from_weights_sha256": digest,
        "max_gap_vs_keras": gap,
    }
    write_text(info_path, json.dumps(info, indent=2) + "\n")
    return info
