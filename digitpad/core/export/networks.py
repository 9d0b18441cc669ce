"""A run's network exported as ``.keras``, the lab's ``.weights.h5``, LiteRT ``.tflite`` or
ONNX, each checked before it is called done.

The exported file is loaded by its own runtime (Keras, LiteRT, ONNX Runtime) and reads
MNIST's 10,000 test images and every drawing in My digits; its probabilities are compared
with the run's own network. Above the format's tolerance the export is refused: nothing is
put in place, and an earlier file at the path is left as it was.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitpad.core.data.mnist import MnistData, shared_mnist
from digitpad.core.export.code_plan import NothingToExport, finished
from digitpad.core.export.formats import FORMATS, with_suffix
from digitpad.core.inference.predictor import LiteRtRunner
from digitpad.core.inference.weights import LITERT_TOLERANCE
from digitpad.core.machine.errors import first_line
from digitpad.core.machine.keras_setup import BACKEND_LOCK, import_keras
from digitpad.core.nets.models import build_model, prepare_images
from digitpad.core.nets.training import predict_eagerly
from digitpad.core.store.my_digits import MyDigitsError
from digitpad.core.store.runs import RunStore

# Largest difference in any probability an export may show against the run's network.
# Keras files hold the same float32 weights run by the same kernels; LiteRT and ONNX
# Runtime run other kernels, which sum in another order.
TOLERANCE = {"keras": 1e-6, "weights": 1e-6, "tflite": LITERT_TOLERANCE, "onnx": 1e-4}
RUNTIME = {"keras": "Keras", "weights": "Keras", "tflite": "LiteRT", "onnx": "ONNX Runtime"}
ONNX_PACKAGES = "onnx, tf2onnx and onnxruntime"


class ExportRefused(RuntimeError):
    """The export was not put in place (one line says why, and that nothing changed)."""


@dataclass(frozen=True)
class Agreement:
    """How an export reads a set of images against the run's own network."""

    name: str  # "MNIST test set", "My digits"
    images: int
    same_digit: int  # images both read as the same digit
    largest_gap: float  # largest difference in any of the ten probabilities

    def line(self, tolerance: float) -> str:
        return (
            f"  {self.name}, {self.images:,} images: the same digit for {self.same_digit:,}; "
            f"largest probability difference {self.largest_gap:.2g} (tolerance {tolerance:g})"
        )


@dataclass(frozen=True)
class ExportReport:
    """What was written and how it was checked."""

    path: Path
    fmt: str
    checks: tuple[Agreement, ...]

    def lines(self) -> list[str]:
        tolerance = TOLERANCE[self.fmt]
        return [
            f"wrote {self.path} ({FORMATS[self.fmt]}), checked with {RUNTIME[self.fmt]} "
            "against the run's network:",
            *(check.line(tolerance) for check in self.checks),
        ]


def export_network(
    store: RunStore, run_id: int, fmt: str, out: str | Path, data: MnistData | None = None
) -> ExportReport:
    """Export run ``run_id``'s network as ``fmt`` to ``out``, checked; raises
    ``ExportRefused`` (nothing written) when the export does not read as the run does."""
    if fmt not in TOLERANCE:
        raise ValueError(f"format must be one of {', '.join(TOLERANCE)}; got {fmt!r}")
    record = store.get(run_id)
    if record is None:
        raise NothingToExport(f"there is no run {run_id} (digitpad runs lists them)")
    result = finished(record)
    if not record.has_model:
        raise NothingToExport(
            f"run {run_id}'s network is not on disk (its folder was deleted or moved): train "
            "it again (digitpad reproduce, or Results → Reproduce) to export it"
        )
    target = with_suffix(out, fmt)
    data = data or shared_mnist()
    keras = import_keras()
    with BACKEND_LOCK:
        model = keras.models.load_model(result.model_path, compile=False)
    sets = _image_sets(store, data, result.spec.model)
    expected = [predict_eagerly(model, x) for _, x, _ in sets]
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as folder:
        written = Path(folder) / target.name
        _WRITERS[fmt](model, written)
        reader = _READERS[fmt](written, result.spec)
        checks = tuple(
            _agreement(name, want, reader(x))
            for (name, x, _), want in zip(sets, expected, strict=True)
        )
        worst = max(check.largest_gap for check in checks)
        if not np.isfinite(worst) or worst > TOLERANCE[fmt]:
            raise ExportRefused(
                f"the {fmt} export of run {run_id} does not read as the run does (largest "
                f"probability difference {worst:.2g}, tolerance {TOLERANCE[fmt]:g}); nothing was "
                f"written, and any earlier {target} is unchanged"
            )
        from digitpad.core.machine.files import copy_file

        copy_file(written, target)
    return ExportReport(target, fmt, checks)


def _image_sets(store: RunStore, data: MnistData, kind: str) -> list[tuple[str, np.ndarray, int]]:
    sets = [("MNIST test set", prepare_images(data.x_test, kind), len(data.x_test))]
    try:
        images, _ = store.my_digits().arrays()
    except (MyDigitsError, OSError):  # My digits unreadable: the test set still checks it
        images = np.zeros((0, 28, 28), np.uint8)
    if len(images):
        sets.append(("My digits", prepare_images(images, kind), len(images)))
    return sets


def _agreement(name: str, expected: np.ndarray, got: np.ndarray) -> Agreement:
    got = np.asarray(got, dtype=np.float32).reshape(expected.shape)
    same = int(np.sum(np.argmax(got, axis=1) == np.argmax(expected, axis=1)))
    gap = float(np.abs(got - expected).max()) if len(got) else 0.0
    return Agreement(name, len(expected), same, gap)


# --- writers: the run's model to a file ------------------------------------------------------


def _write_keras(model, path: Path) -> None:
    with BACKEND_LOCK:
        model.save(path)


def _write_weights(model, path: Path) -> None:
    with BACKEND_LOCK:
        model.save_weights(path)


def _write_tflite(model, path: Path) -> None:
    with BACKEND_LOCK, contextlib.redirect_stdout(io.StringIO()):  # "Saved artifact at"
        model.export(str(path), format="litert")


def _write_onnx(model, path: Path) -> None:
    try:
        import onnxruntime  # noqa: F401  (checked before the long conversion)
        import tf2onnx  # noqa: F401
    except ImportError as exc:
        raise ExportRefused(
            f"ONNX export needs {ONNX_PACKAGES} ({first_line(exc)}): pip install "
            "'digitpad[onnx]'; nothing was written"
        ) from exc
    with BACKEND_LOCK, warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # tf2onnx's own numpy deprecations
        model.export(str(path), format="onnx", verbose=False)


_WRITERS: dict[str, Callable] = {
    "keras": _write_keras,
    "weights": _write_weights,
    "tflite": _write_tflite,
    "onnx": _write_onnx,
}


# --- readers: the written file in its own runtime, as a function of a batch -------------------


def _read_keras(path: Path, spec) -> Callable[[np.ndarray], np.ndarray]:
    keras = import_keras()
    try:
        with BACKEND_LOCK:
            model = keras.models.load_model(path, compile=False)
    except Exception as exc:
        raise ExportRefused(
            f"Keras cannot load the export ({first_line(exc)}); nothing was written"
        ) from exc
    return lambda x: predict_eagerly(model, x)


def _read_weights(path: Path, spec) -> Callable[[np.ndarray], np.ndarray]:
    try:
        with BACKEND_LOCK:
            model = build_model(spec, compile=False)
            model.load_weights(path)
    except Exception as exc:
        raise ExportRefused(
            f"the weights do not load into a fresh {spec.describe()} network "
            f"({first_line(exc)}); nothing was written"
        ) from exc
    return lambda x: predict_eagerly(model, x)


def _read_tflite(path: Path, spec) -> Callable[[np.ndarray], np.ndarray]:
    try:
        runner = LiteRtRunner(path, threads=1)
    except Exception as exc:
        raise ExportRefused(
            f"LiteRT cannot load the export ({first_line(exc)}); nothing was written"
        ) from exc
    return lambda x: np.concatenate([runner(x[i : i + 1000]) for i in range(0, len(x), 1000)])


def _read_onnx(path: Path, spec) -> Callable[[np.ndarray], np.ndarray]:
    import onnxruntime

    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ExportRefused(
            f"ONNX Runtime cannot load the export ({first_line(exc)}); nothing was written"
        ) from exc
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})[0]


_READERS: dict[str, Callable] = {
    "keras": _read_keras,
    "weights": _read_weights,
    "tflite": _read_tflite,
    "onnx": _read_onnx,
}
