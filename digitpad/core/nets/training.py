"""train(): the one training function behind the GUI, the command line and the tests."""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from digitpad.core.data.augmentation import augmented_batches
from digitpad.core.data.mnist import MnistData, take_subset
from digitpad.core.machine.environment import (
    device_name,
    host_name,
    library_versions,
    processor_name,
)
from digitpad.core.machine.keras_setup import (
    BACKEND_LOCK,
    freeze_long_lived_objects,
    import_keras,
    op_determinism,
    training_threads,
)
from digitpad.core.nets.models import build_model, input_shape_for, prepare_images
from digitpad.core.nets.precision import keras_precision
from digitpad.core.nets.precision import resolve as resolve_precision
from digitpad.core.nets.results import MODEL_FILE, WEIGHTS_FILE, Progress, RunResult
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.status import RunStatus

# Stored batch-loss curves are averaged down to at most this many points.
MAX_STORED_BATCH_POINTS = 1000
# Batch size for the final test-set pass; any size gives the same numbers, larger is faster.
EVAL_BATCH = 1000
# Keras clips probabilities like this in categorical_crossentropy.
_EPSILON = 1e-7


ProgressCallback = Callable[[Progress], None]
StopCheck = Callable[[], bool]


def train(
    spec: RunSpec,
    data: MnistData,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    save_dir: str | Path | None = None,
    release: bool = True,
) -> RunResult:
    """Train the lab's model for ``spec`` on ``data`` and evaluate it on the test set.

    Parameters
    ----------
    on_progress
        Called in the training thread with ``Progress`` events (every batch and epoch).
    should_stop
        Polled after every batch; once it returns True, training ends after that batch and
        the partial result comes back with status ``"stopped"``.
    save_dir
        If given, the trained model is saved there as ``model.keras`` and ``model.weights.h5``.
        A failed save is noted in ``RunResult.notes``; the figures are still returned.
    release
        Free Keras' memory before returning (about 0.4 s). Callers that want to report the
        result first pass False and call ``release_memory()`` afterwards.
    """
    keras = import_keras()
    freeze_long_lived_objects()
    seed = spec.seed if spec.seed is not None else secrets.randbelow(2**31 - 1)
    # Decided where it trains, before the seed: auto's first decision on a processor times
    # a few steps, whose random numbers must not shift this run's.
    used = resolve_precision(spec.precision, spec.model)
    with BACKEND_LOCK:
        # Keras keeps global state per thread: clear it in the thread that trains. Without
        # its full gc.collect(): run from a worker thread, that collection also finalised
        # whatever GUI objects were waiting in cycles, off the GUI thread, and crashed the
        # process once in the test suite (a segfault "Garbage-collecting" here).
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(seed)

    x_train, y_train_1h, x_test, y_test_1h = prepared_tensors(data, spec)

    with BACKEND_LOCK, keras_precision(used):
        model = build_model(spec, steps_per_epoch=-(-int(x_train.shape[0]) // spec.batch_size))
    bridge = bridge_class()(spec, int(x_train.shape[0]), on_progress, should_stop)
    started = time.perf_counter()
    if spec.augment:
        fit_data = {
            "x": augmented_batches(x_train, y_train_1h, spec.batch_size, seed),
            "shuffle": False,
        }  # the stream shuffles itself
    else:
        fit_data = {"x": x_train, "y": y_train_1h, "batch_size": spec.batch_size}
    model.fit(
        **fit_data,
        validation_data=(x_test, y_test_1h),
        epochs=spec.epochs,
        # Same numbers as validating at the training batch size, in fewer steps.
        validation_batch_size=max(spec.batch_size, EVAL_BATCH),
        callbacks=[bridge],
        verbose=0,
    )
    convergence_time = time.perf_counter() - started

    if on_progress:
        on_progress(
            Progress("evaluating", bridge.epochs_done, spec.epochs, elapsed=convergence_time)
        )
    result = measured_result(
        model, spec, seed, bridge, data, x_test, convergence_time, int(x_train.shape[0]), used
    )
    keep_model(model, result, save_dir)
    del model
    if release:
        release_memory()
    return result


def measured_result(
    model,
    spec: RunSpec,
    seed: int,
    bridge,
    data: MnistData,
    x_test,
    convergence_time: float,
    train_size: int,
    precision: str,
) -> RunResult:
    """A training's figures once ``fit`` has returned: the test set read once, the curves
    from its ``bridge_class`` callback, and where it ran (``train`` and fine-tunes)."""
    probs = predict_eagerly(model, x_test)
    accuracy, loss, mse = evaluate_probabilities(probs, data.y_test)
    return RunResult(
        spec=spec,
        status=RunStatus.STOPPED if bridge.stopped else RunStatus.DONE,
        seed=seed,
        test_accuracy=accuracy,
        test_loss=loss,
        test_mse=mse,
        convergence_time=convergence_time,
        params=int(model.count_params()),
        epochs_run=bridge.epochs_done,
        train_size=train_size,
        history=bridge.history,
        batch_losses=downsample(bridge.batch_losses, MAX_STORED_BATCH_POINTS),
        data_source=data.source,
        data_sha256=data.sha256,
        versions=library_versions(),
        precision=precision,
        device=device_name(),
        processor=processor_name(),
        threads=training_threads(),
        deterministic=op_determinism(),
        trained_host=host_name(),
        trained_pid=os.getpid(),
    )


def keep_model(model, result: RunResult, save_dir: str | Path | None) -> None:
    """Save the model files into ``save_dir`` (when given), noting where in ``result``."""
    if save_dir is not None:
        save_model_files(model, Path(save_dir), result)


_PREPARED: dict[tuple, tuple] = {}


def prepared_tensors(data: MnistData, spec: RunSpec) -> tuple:
    """The lab's inputs for ``spec`` (scaled images, one-hot labels) as backend tensors.

    The last set is kept, so the runs of a sweep share it. Conversion goes in chunks:
    handing ``fit`` 188 MB of numpy made it hold the GIL for ~0.2 s in one copy, a visible
    freeze of the window; chunk by chunk the longest hold is ~20 ms.
    """
    import keras

    key = (
        id(data.x_train),
        id(data.x_test),
        data.sha256,
        spec.train_limit,
        input_shape_for(spec.model),
    )
    if key not in _PREPARED:
        _PREPARED.clear()  # one set at a time: a full set is ~220 MB
        x_train, y_train = take_subset(data.x_train, data.y_train, spec.train_limit)
        _PREPARED[key] = (
            _to_tensor(prepare_images(x_train, spec.model)),
            _to_tensor(keras.utils.to_categorical(y_train, 10).astype(np.float32)),
            _to_tensor(prepare_images(data.x_test, spec.model)),
            _to_tensor(keras.utils.to_categorical(data.y_test, 10).astype(np.float32)),
        )
    return _PREPARED[key]


def _to_tensor(array: np.ndarray, rows: int = 5000):
    import keras

    parts = [keras.ops.convert_to_tensor(array[i : i + rows]) for i in range(0, len(array), rows)]
    return parts[0] if len(parts) == 1 else keras.ops.concatenate(parts, axis=0)


def release_memory() -> None:
    """Drop Keras' global state and collect what the last run left behind.

    Only the young generations are collected here: a full collection holds the GIL for
    as long as the process has objects (0.1-0.4 s with Qt and TensorFlow loaded), which
    froze the window. Older cycles go at Python's next automatic full collection.
    """
    import gc

    import keras

    with BACKEND_LOCK:
        keras.backend.clear_session(free_memory=False)
    gc.collect(1)


def predict_eagerly(model, x: np.ndarray, chunk: int = EVAL_BATCH) -> np.ndarray:
    """Class probabilities for ``x`` by direct calls, in chunks.

    ``model.predict`` traces a new function first (about a second), which is most of the
    wait after a Stop for small models; direct calls need no tracing.
    """
    parts = [np.asarray(model(x[i : i + chunk], training=False)) for i in range(0, len(x), chunk)]
    return np.concatenate(parts)


def evaluate_probabilities(probs: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """Accuracy, categorical cross-entropy and MSE of predicted probabilities.

    The same figures ``model.evaluate`` reports for the lab's compile settings, from one
    prediction pass instead of one pass per metric.
    """
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    accuracy = float(np.mean(np.argmax(probs, axis=1) == labels))
    picked = np.clip(probs[np.arange(n), labels], _EPSILON, 1 - _EPSILON)
    loss = float(-np.mean(np.log(picked)))
    target = np.zeros_like(probs)
    target[np.arange(n), labels] = 1.0
    mse = float(np.mean((probs - target) ** 2))
    return accuracy, loss, mse


def save_model_files(model, folder: Path, result: RunResult) -> None:
    """Save the whole model (``.keras``) and its weights (``.weights.h5``, lab exercise 4)."""
    model_path, weights_path = folder / MODEL_FILE, folder / WEIGHTS_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
        model.save(model_path)
        model.save_weights(weights_path)
    except Exception as exc:  # disk full, read-only folder...: the run's figures still count
        for partial in (model_path, weights_path):
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
        result.notes.append(
            f"could not save the model to {folder}: {exc}; the run's figures are kept, "
            "but it cannot be used on the canvas"
        )
        return
    result.model_path, result.weights_path = str(model_path), str(weights_path)


def downsample(values: list[float], limit: int) -> list[float]:
    """Average consecutive values so that at most ``limit`` remain."""
    if len(values) <= limit:
        return list(values)
    chunks = np.array_split(np.asarray(values, dtype=np.float64), limit)
    return [float(c.mean()) for c in chunks]


_BRIDGE_CLASS = None


def bridge_class():
    """The Keras callback that turns a fit into ``Progress`` events and honours a stop
    (built at first use, so that importing this module skips Keras)."""
    global _BRIDGE_CLASS
    if _BRIDGE_CLASS is None:
        import keras

        _BRIDGE_CLASS = _makebridge_class(keras.callbacks.Callback)
    return _BRIDGE_CLASS


def _makebridge_class(base):
    class ProgressBridge(base):
        """Turns Keras callback hooks into ``Progress`` events and honours ``should_stop``."""

        def __init__(self, spec: RunSpec, n_train: int, on_progress, should_stop):
            super().__init__()
            self.spec = spec
            self.n_train = n_train
            self.batches = -(-n_train // spec.batch_size)
            self.on_progress = on_progress or (lambda event: None)
            self.should_stop = should_stop or (lambda: False)
            self.stopped = False
            self.started = time.perf_counter()
            self.epoch = 0
            self.epochs_done = 0
            self.history: dict[str, list[float]] = {}
            self.batch_losses: list[float] = []
            self._previous_total = 0.0
            self._previous_seen = 0

        def _check_stop(self) -> None:
            if not self.stopped and self.should_stop():
                self.stopped = True
                self.model.stop_training = True

        def on_train_begin(self, logs=None):
            # fit() resets stop_training to False just before this hook: a stop requested
            # earlier would be lost if we did not look again here.
            self._check_stop()
            self.on_progress(Progress("start", 0, self.spec.epochs, batches=self.batches))

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            self._previous_total = 0.0
            self._previous_seen = 0

        def on_train_batch_end(self, batch, logs=None):
            # Keras reports the epoch's running mean, once per compiled call (one batch, or
            # several with steps_per_execution): recover the mean loss of just those batches.
            seen = min((batch + 1) * self.spec.batch_size, self.n_train)
            size = seen - self._previous_seen
            total = float(logs["loss"]) * seen
            batch_loss = (total - self._previous_total) / max(size, 1)
            self._previous_total = total
            self._previous_seen = seen
            self.batch_losses.append(batch_loss)
            self.on_progress(
                Progress(
                    "batch",
                    self.epoch,
                    self.spec.epochs,
                    batch,
                    self.batches,
                    batch_loss,
                    elapsed=time.perf_counter() - self.started,
                )
            )
            self._check_stop()

        def on_test_begin(self, logs=None):
            # After a stop, skip the validation pass Keras would still run (one batch at most).
            if self.stopped:
                self.model.stop_evaluating = True

        def on_epoch_end(self, epoch, logs=None):
            if self.stopped:
                return  # a partial epoch's validation figures would be misleading
            logs = {k: float(v) for k, v in (logs or {}).items()}
            for key, value in logs.items():
                self.history.setdefault(key, []).append(value)
            # Fit time up to here (validation included): a shorter run's convergence time.
            self.history.setdefault("epoch_time", []).append(time.perf_counter() - self.started)
            self.epochs_done = epoch + 1
            self.on_progress(
                Progress(
                    "epoch",
                    epoch,
                    self.spec.epochs,
                    self.batches - 1,
                    self.batches,
                    logs.get("loss"),
                    logs,
                    time.perf_counter() - self.started,
                )
            )
            self._check_stop()

    return ProgressBridge
