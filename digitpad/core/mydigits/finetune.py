"""Teach a network My digits: fine-tune it, with replay of MNIST or without.

Replay (the default) mixes each batch: ``MINE_PER_BATCH`` of my drawings, randomly
shifted, rotated and scaled (Keras preprocessing layers), and ``REPLAY_PER_BATCH``
class-balanced MNIST training images. Without replay the network sees only my drawings,
and forgets MNIST (catastrophic forgetting): the forgetting meter shows how much, as MNIST
test accuracy and held-back My digits accuracy before, after and epoch by epoch.

Runs in the training workers, like any training (``engine.worker.train_order``).
"""

from __future__ import annotations

import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitpad.core.data.mnist import MnistData
from digitpad.core.inference.predictor import ModelSource
from digitpad.core.machine.keras_setup import BACKEND_LOCK, freeze_long_lived_objects, import_keras
from digitpad.core.mydigits.personal import split_held_out
from digitpad.core.nets.models import build_model, prepare_images
from digitpad.core.nets.precision import keras_precision
from digitpad.core.nets.precision import resolve as resolve_precision
from digitpad.core.nets.results import FineTuneFigures, RunResult
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.training import (
    ProgressCallback,
    StopCheck,
    bridge_class,
    keep_model,
    measured_result,
    predict_eagerly,
    release_memory,
)

LEARNING_RATE = 3e-4  # small: nudge the network towards my hand, do not retrain it
EPOCHS = 5
MINE_PER_BATCH = 8
REPLAY_PER_BATCH = 120
STEPS_PER_EPOCH = 40
REPLAY_PER_CLASS = 1000  # MNIST training images per digit the replay draws from
# My drawings vary like this while teaching (smaller than a from-scratch augmentation: the
# drawings are already centred by the preprocessing).
ROTATION_DEGREES, ZOOM, SHIFT = 10, 0.1, 0.08


@dataclass(frozen=True)
class FineTuneOrder:
    """Everything a worker needs to fine-tune, sent with the run (no file paths: a Dask
    worker may be another machine). Images are uint8 ``(n, 28, 28)``."""

    base: str
    base_spec: RunSpec
    weights: bytes  # the starting network's .weights.h5 file
    mine_x_train: np.ndarray
    mine_y_train: np.ndarray
    mine_x_test: np.ndarray
    mine_y_test: np.ndarray
    replay: bool = True
    freeze_conv: bool = False


def finetune_spec(
    base_spec: RunSpec,
    epochs: int = EPOCHS,
    learning_rate: float = LEARNING_RATE,
    replay: bool = True,
    seed: int | None = None,
) -> RunSpec:
    """The spec a fine-tune of ``base_spec`` is recorded with: same layers, its own epochs,
    learning rate and batch (my drawings, plus the replayed MNIST images)."""
    batch = MINE_PER_BATCH + (REPLAY_PER_BATCH if replay else 0)
    return base_spec.with_changes(
        epochs=epochs,
        learning_rate=learning_rate,
        batch_size=batch,
        optimizer="adam",
        augment=False,
        train_limit=None,
        seed=seed,
    )


def plan_finetune(
    source: ModelSource,
    images: np.ndarray,
    labels: np.ndarray,
    replay: bool = True,
    epochs: int = EPOCHS,
    learning_rate: float = LEARNING_RATE,
    freeze_conv: bool = False,
) -> tuple[RunSpec, FineTuneOrder]:
    """A fine-tune of ``source`` on My digits (uint8 ``images``, ``labels``): its spec and
    order, with a quarter of each digit held back (always the same quarter for the same
    set, so runs with and without replay are judged on the same drawings).

    Raises ``MyDigitsError`` when the set cannot be taught, ``ValueError`` for bad numbers.
    """
    train, test = split_held_out(labels)
    spec = finetune_spec(source.spec, epochs, learning_rate, replay)
    order = FineTuneOrder(
        base=source.name,
        base_spec=source.spec,
        weights=Path(source.weights).read_bytes(),
        mine_x_train=images[train],
        mine_y_train=labels[train],
        mine_x_test=images[test],
        mine_y_test=labels[test],
        replay=replay,
        freeze_conv=freeze_conv and source.spec.is_cnn,
    )
    return spec, order


def finetune(
    spec: RunSpec,
    order: FineTuneOrder,
    data: MnistData,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    save_dir: str | Path | None = None,
    release: bool = True,
) -> RunResult:
    """Fine-tune ``order.weights`` on My digits per ``spec``; see the module doc."""
    keras = import_keras()
    freeze_long_lived_objects()
    seed = spec.seed if spec.seed is not None else secrets.randbelow(2**31 - 1)
    kind = spec.model
    used = resolve_precision(spec.precision, spec.model)  # decided where it trains
    with BACKEND_LOCK, keras_precision(used):
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(seed)
        model = _starting_network(order)
        model.compile(
            optimizer=keras.optimizers.Adam(spec.learning_rate or LEARNING_RATE),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
    x_test = prepare_images(data.x_test, kind)
    y_test = keras.utils.to_categorical(data.y_test, 10).astype(np.float32)
    mine_test = prepare_images(order.mine_x_test, kind)
    mnist_before = _accuracy(model, x_test, data.y_test)
    mine_before = _accuracy(model, mine_test, order.mine_y_test)

    stream = _batches(order, data, kind, seed)
    bridge = bridge_class()(spec, STEPS_PER_EPOCH * spec.batch_size, on_progress, should_stop)
    mine_by_epoch: list[float] = []
    tracker = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: mine_by_epoch.append(
            _accuracy(model, mine_test, order.mine_y_test)
        )
    )
    started = time.perf_counter()
    model.fit(
        stream,
        shuffle=False,  # the stream shuffles itself
        steps_per_epoch=STEPS_PER_EPOCH,
        epochs=spec.epochs,
        validation_data=(x_test, y_test),
        validation_batch_size=1000,
        callbacks=[bridge, tracker],
        verbose=0,
    )
    convergence_time = time.perf_counter() - started
    result = measured_result(
        model,
        spec,
        seed,
        bridge,
        data,
        x_test,
        convergence_time,
        len(order.mine_y_train),
        used,
    )
    result.finetune = FineTuneFigures(
        base=order.base,
        replay=order.replay,
        freeze_conv=order.freeze_conv,
        mine_train=len(order.mine_y_train),
        mine_test=len(order.mine_y_test),
        mnist_before=mnist_before,
        mnist_after=result.test_accuracy,
        mine_before=mine_before,
        mine_after=_accuracy(model, mine_test, order.mine_y_test),
        mnist_by_epoch=list(bridge.history.get("val_accuracy", [])),
        mine_by_epoch=mine_by_epoch[: bridge.epochs_done],
    )
    keep_model(model, result, save_dir)
    if release:
        release_memory()
    return result


def _starting_network(order: FineTuneOrder):
    """The base network with its weights; convolutions frozen if asked, batch
    normalisation always (its statistics must stay MNIST's, not a 16-drawing batch's)."""
    model = build_model(order.base_spec, compile=False)
    with tempfile.TemporaryDirectory(prefix="digitpad-finetune-") as folder:
        path = Path(folder) / "base.weights.h5"
        path.write_bytes(order.weights)
        model.load_weights(path)
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "BatchNormalization" or (order.freeze_conv and kind == "Conv2D"):
            layer.trainable = False
    return model


def _accuracy(model, x: np.ndarray, labels: np.ndarray) -> float:
    if len(labels) == 0:
        return 0.0
    return float(np.mean(predict_eagerly(model, x).argmax(axis=1) == np.asarray(labels)))


def _batches(order: FineTuneOrder, data: MnistData, kind: str, seed: int):
    """The endless ``tf.data`` stream of training batches (see the module doc)."""
    import keras
    import tensorflow as tf  # tf.data: Keras' input pipeline on this backend

    layers = keras.layers
    geometry = keras.Sequential(
        [
            layers.RandomRotation(ROTATION_DEGREES / 360, fill_mode="constant", seed=seed),
            layers.RandomZoom(ZOOM, fill_mode="constant", seed=seed + 1),
            layers.RandomTranslation(SHIFT, SHIFT, fill_mode="constant", seed=seed + 2),
        ]
    )
    mine_x = prepare_images(order.mine_x_train, "cnn")  # (n, 28, 28, 1): layers want images
    mine_y = keras.utils.to_categorical(order.mine_y_train, 10).astype(np.float32)
    stream = (
        tf.data.Dataset.from_tensor_slices((mine_x, mine_y))
        .shuffle(len(mine_x), seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(MINE_PER_BATCH)
        .map(lambda x, y: (geometry(x, training=True), y))
    )
    if order.replay:
        rng = np.random.default_rng(seed)
        per_class = []
        for digit in range(10):
            indices = np.flatnonzero(data.y_train == digit)
            picked = rng.choice(indices, min(REPLAY_PER_CLASS, len(indices)), replace=False)
            x = prepare_images(data.x_train[picked], "cnn")
            y = keras.utils.to_categorical(np.full(len(picked), digit), 10).astype(np.float32)
            per_class.append(
                tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).repeat()
            )
        replay = tf.data.Dataset.sample_from_datasets(per_class, seed=seed).batch(REPLAY_PER_BATCH)
        stream = tf.data.Dataset.zip((stream, replay)).map(
            lambda mine, mnist: (
                tf.concat([mine[0], mnist[0]], axis=0),
                tf.concat([mine[1], mnist[1]], axis=0),
            )
        )
    if kind == "mlp":
        stream = stream.map(lambda x, y: (tf.reshape(x, (-1, 28 * 28)), y))
    return stream.prefetch(2)
