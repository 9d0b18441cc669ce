"""Fast inference for one drawing at a time (and batches, for tests and galleries).

Two engines read the same network:

- **LiteRT** (``ai-edge-litert``), for the shipped models, from the ``.tflite`` file
  exported next to their Keras weights. One drawing takes about 0.4 ms, against 1.6-2.9 ms
  for TensorFlow's compiled call, and it needs no TensorFlow at all: the canvas is ready
  in about a second instead of after TensorFlow's six-second import, and a training
  holding the backend never blocks it.
- **Keras** (a ``tf.function`` with a fixed input signature), for runs trained in the app
  and whenever the LiteRT file is missing, stale or damaged.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitpad.core.machine.errors import first_line
from digitpad.core.machine.keras_setup import (
    BACKEND_LOCK,
    freeze_long_lived_objects,
    import_keras,
    native_stderr_hidden,
)
from digitpad.core.machine.paths import weights_dir
from digitpad.core.nets.models import build_model, input_shape_for
from digitpad.core.nets.specs import RunSpec


class WeightsError(RuntimeError):
    """A weights file is missing, damaged, or made for another architecture."""


@dataclass(frozen=True)
class ModelSource:
    """Where a predictor's network comes from: a name for people, a spec and a weights file.

    ``litert`` is an exported copy of the same network for the fast engine, and
    ``litert_from`` the sha256 of the weights file it was exported from. A shipped network
    also records each file's own sha256 (``weights_sha256``, ``litert_sha256``): a damaged
    copy is then refused, as a missing one is, instead of reading digits wrongly.
    """

    name: str
    spec: RunSpec
    weights: Path
    accuracy: float | None = None
    litert: Path | None = None
    litert_from: str | None = None
    run_id: int | None = None  # the stored run it is, if it is one (not a shipped network)
    weights_sha256: str | None = None
    litert_sha256: str | None = None

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
            litert = info.get("litert") or {}
        except (ValueError, KeyError, TypeError) as exc:
            raise WeightsError(f"{info_path} is damaged ({exc})") from exc
        return cls(
            name,
            spec,
            folder / f"{name}.weights.h5",
            info.get("test_accuracy"),
            folder / litert["file"] if litert.get("file") else None,
            litert.get("from_weights_sha256"),
            weights_sha256=info.get("weights_sha256"),
            litert_sha256=litert.get("sha256"),
        )


def run_source(record) -> ModelSource:
    """The network a stored run saved (a ``RunRecord`` with a result), as a source."""
    if record.result is None or not record.result.weights_path:
        raise WeightsError(f"run {record.id} has no saved network ({record.status})")
    return ModelSource(
        f"run {record.id}",
        record.spec,
        Path(record.result.weights_path),
        record.result.test_accuracy,
        run_id=record.id,
    )


class Predictor:
    """A network ready to read 28x28 images, on the fastest engine that can load it.

    ``engine`` says which one did (``"litert"`` or ``"keras"``); ``notes`` why the fast one
    was not used, when it was not.
    """

    def __init__(self, source: ModelSource, engine: str = "auto"):
        if engine not in ("auto", "litert", "keras"):
            raise ValueError(f"engine must be 'auto', 'litert' or 'keras', not {engine!r}")
        self.source = source
        self.notes: list[str] = []
        self._shape = input_shape_for(source.spec.model)
        self._lock = threading.Lock()  # a LiteRT interpreter serves one call at a time
        self._batch_runner = None
        self._keras = None
        if not Path(source.weights).exists():
            raise WeightsError(f"weights file {source.weights} is missing")
        digest = file_sha256(source.weights) if source.weights_sha256 or source.litert else ""
        if source.weights_sha256 and digest != source.weights_sha256:
            raise WeightsError(
                f"{source.weights} is damaged: it is not the file DigitPad shipped (its sha256 "
                "differs from the one recorded beside it); reinstall DigitPad to restore it"
            )
        self._litert = self._open_litert(digest) if engine != "keras" else None
        if self._litert is None:
            if engine == "litert":
                raise WeightsError("; ".join(self.notes) or "no LiteRT file for this model")
            with BACKEND_LOCK:
                self._build_keras()

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def engine(self) -> str:
        return "litert" if self._litert is not None else "keras"

    def predict(self, x28: np.ndarray, wait: bool = True) -> np.ndarray | None:
        """Ten probabilities (summing to 1) for one ``(28, 28)`` image in [0, 1].

        With ``wait=False`` it returns ``None`` instead of waiting while a training holds
        the Keras backend (the window must never freeze for that).
        """
        x = np.asarray(x28, dtype=np.float32).reshape((1, *self._shape))
        if self._litert is not None:
            with self._lock:
                return self._litert(x)[0]
        if not BACKEND_LOCK.acquire(blocking=wait):
            return None
        try:
            return self._one(x).numpy()[0]
        finally:
            BACKEND_LOCK.release()

    def predict_batch(self, xs: np.ndarray) -> np.ndarray:
        """``(N, 10)`` probabilities for ``(N, 28, 28)`` images in [0, 1]."""
        x = np.asarray(xs, dtype=np.float32).reshape((len(xs), *self._shape))
        if self._litert is None:
            with BACKEND_LOCK:
                return np.asarray(self._keras.predict(x, batch_size=1000, verbose=0))
        with self._lock:
            if self._batch_runner is None:
                self._batch_runner = LiteRtRunner(self.source.litert, os.cpu_count() or 1)
            chunks = [self._batch_runner(x[i : i + 1000]) for i in range(0, len(x), 1000)]
        return np.concatenate(chunks) if chunks else np.zeros((0, 10), np.float32)

    def keras_model(self):
        """The network as a Keras model (built on first use when LiteRT serves predictions)."""
        if self._keras is None:
            with BACKEND_LOCK:
                self._build_keras()
        return self._keras

    def _open_litert(self, weights_digest: str):
        source = self.source
        if source.litert is None:
            return None
        try:
            from ai_edge_litert.interpreter import Interpreter  # noqa: F401
        except ImportError:
            self.notes.append("the LiteRT engine (ai-edge-litert) is not installed")
            return None
        if not source.litert.exists():
            self.notes.append(f"{source.litert} is missing")
            return None
        if source.litert_sha256 and file_sha256(source.litert) != source.litert_sha256:
            self.notes.append(
                f"{source.litert} is damaged (its sha256 differs from the one recorded for it); "
                "reinstall DigitPad to restore it"
            )
            return None
        if source.litert_from != weights_digest:
            self.notes.append(
                f"{source.litert} was exported from other weights than {source.weights}; "
                "run `digitpad build-weights --export-only` to export it again"
            )
            return None
        try:
            # One thread: for a single 28x28 image, waking a second one costs more than it saves.
            return LiteRtRunner(source.litert, threads=1)
        except (ValueError, RuntimeError) as exc:
            self.notes.append(f"{source.litert} cannot be loaded ({first_line(exc)})")
            return None

    def _build_keras(self) -> None:
        import_keras()  # TensorFlow started quietly (see keras_setup)
        import tensorflow as tf  # tf.function: the compiled single-image path

        if self._keras is not None:
            return
        freeze_long_lived_objects()
        model = load_weights_into(build_model(self.source.spec, compile=False), self.source)

        @tf.function(
            input_signature=[tf.TensorSpec((1, *self._shape), tf.float32)], reduce_retracing=True
        )
        def one(x):
            return model(x, training=False)

        one(np.zeros((1, *self._shape), np.float32))  # trace now, not on the first stroke
        self._one = one
        self._keras = model


class LiteRtRunner:
    """One LiteRT interpreter, called like a function on a float32 batch."""

    def __init__(self, path: Path, threads: int):
        from ai_edge_litert.interpreter import Interpreter

        with native_stderr_hidden():  # "INFO: Created TensorFlow Lite XNNPACK delegate"
            self._interpreter = Interpreter(model_path=str(path), num_threads=threads)
            self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = int(self._input["shape"][0])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        interpreter = self._interpreter
        if len(x) != self._batch:  # the exported signature takes any batch size
            interpreter.resize_tensor_input(self._input["index"], x.shape)
            interpreter.allocate_tensors()
            self._batch = len(x)
        interpreter.set_tensor(self._input["index"], x)
        interpreter.invoke()
        return interpreter.get_tensor(self._output)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file (``""`` when it cannot be read)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


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


def load_first_available(names, folder: Path | None = None) -> tuple[Predictor, list[str]]:
    """The first shipped model that loads, and a message for each one that did not."""
    problems = []
    for name in names:
        try:
            return Predictor(ModelSource.shipped(name, folder)), problems
        except WeightsError as exc:
            problems.append(f"{name}: {exc}")
    raise WeightsError("no shipped model could be loaded:\n" + "\n".join(problems))
