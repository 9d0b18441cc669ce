"""The lab's networks, layer for layer (see shared/lab/LAB.md), built from a RunSpec."""

from __future__ import annotations

import numpy as np

from digitpad.core.machine.keras_setup import import_keras
from digitpad.core.nets.specs import RunSpec

# The probabilities stay float32 whatever the run trains in (bfloat16 softmax and loss lose
# digits that the lab's figures show).
OUT_DTYPE = "float32"

NUM_CLASSES = 10
NUM_PIXELS = 28 * 28
IMAGE_SHAPE = (28, 28, 1)
# Lab exercise 9's extra layers, fixed by the report's final code.
DEEP_SECOND_FILTERS = 15
DEEP_SECOND_DENSE = 50
BEST_LEARNING_RATE = 0.002


def build_model(spec: RunSpec, steps_per_epoch: int | None = None, compile: bool = True):
    """Build and compile the lab's architecture for ``spec`` (a ``keras.Sequential``).

    ``steps_per_epoch`` lets ``cnn_best`` decay its learning rate over the whole run.
    ``compile=False`` gives an inference-only model (no optimizer to load state into).
    """
    keras = import_keras()  # TensorFlow started quietly, whoever builds a network first
    from keras import layers

    if spec.model == "mlp":
        # Application 1, baseline_model: 784 inputs -> Dense(neurons) -> Dense(10).
        stack = [
            keras.Input(shape=(NUM_PIXELS,)),
            layers.Dense(spec.neurons, kernel_initializer="normal", activation="relu"),
            layers.Dense(
                NUM_CLASSES, kernel_initializer="normal", activation="softmax", dtype=OUT_DTYPE
            ),
        ]
    elif spec.model == "cnn":
        # Application 2, CNN_model.
        stack = [
            keras.Input(shape=IMAGE_SHAPE),
            layers.Conv2D(spec.filters, spec.kernel_size, activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Dropout(spec.dropout),
            layers.Flatten(),
            layers.Dense(spec.neurons, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax", dtype=OUT_DTYPE),
        ]
    elif spec.model == "cnn_deep":
        # Exercise 9: two conv/pool stages and two hidden dense layers.
        stack = [
            keras.Input(shape=IMAGE_SHAPE),
            layers.Conv2D(spec.filters, spec.kernel_size, activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(DEEP_SECOND_FILTERS, (3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Dropout(spec.dropout),
            layers.Flatten(),
            layers.Dense(spec.neurons, activation="relu"),
            layers.Dense(DEEP_SECOND_DENSE, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax", dtype=OUT_DTYPE),
        ]
    elif spec.model == "cnn_best":
        # Not in the lab: an all-convolutional network for the canvas, every convolution
        # batch-normalised; strided 5x5 convolutions learn the down-sampling that pooling
        # fixes, and the last 5x5 convolution is the dense layer over the 5x5 maps.
        def conv(filters, size, **kwargs):
            return [
                layers.Conv2D(filters, size, use_bias=False, **kwargs),
                layers.BatchNormalization(),
                layers.Activation("relu"),
            ]

        wide = 2 * spec.filters
        stack = [
            keras.Input(shape=IMAGE_SHAPE),
            *conv(spec.filters, spec.kernel_size, padding="same"),  # 28x28
            *conv(spec.filters, 3),  # 26x26
            *conv(spec.filters, 5, strides=2, padding="same"),  # 13x13
            layers.Dropout(2 * spec.dropout),
            *conv(wide, 3),  # 11x11
            *conv(wide, 3),  # 9x9
            *conv(wide, 5, strides=2, padding="same"),  # 5x5
            layers.Dropout(2 * spec.dropout),
            *conv(spec.neurons, 5),  # 1x1: a dense layer of `neurons`
            layers.Flatten(),
            layers.Dropout(2 * spec.dropout),
            layers.Dense(NUM_CLASSES, activation="softmax", dtype=OUT_DTYPE),
        ]
    else:  # RunSpec validation makes this unreachable; kept for callers bypassing it.
        raise ValueError(f"unknown model kind {spec.model!r}")
    model = keras.Sequential(stack, name=spec.model)
    if not compile:
        return model
    model.compile(
        loss="categorical_crossentropy",
        optimizer=make_optimizer(spec, steps_per_epoch),
        metrics=[spec.metric],
        steps_per_execution=steps_per_execution(spec, steps_per_epoch),
    )
    return model


# Training steps Keras runs per call for the MLP; see steps_per_execution().
MAX_STEPS_PER_CALL = 64
MIN_POINTS_PER_EPOCH = 20


def steps_per_execution(spec: RunSpec, steps_per_epoch: int | None) -> int:
    """How many training steps one compiled call runs.

    An MLP step is a fraction of a millisecond of arithmetic and about a millisecond of
    per-call overhead: at batch 32 the lab's MLP trained 3x faster with 50 steps a call
    (5.5 -> 1.8 s an epoch here). Keras then reports progress once a call, so the calls
    are kept short enough for 20 loss points an epoch and a Stop within a few ms. CNN
    steps are long already: one a call, as the lab ran them.
    """
    if spec.model != "mlp" or not steps_per_epoch:
        return 1
    by_size = max(1, 4096 // spec.batch_size)
    return max(1, min(MAX_STEPS_PER_CALL, by_size, steps_per_epoch // MIN_POINTS_PER_EPOCH))


def make_optimizer(spec: RunSpec, steps_per_epoch: int | None = None):
    """The optimizer named in ``spec``; Keras defaults unless a learning rate is given.

    The lab's models keep a constant rate, as the lab did. ``cnn_best`` follows a cosine
    decay to zero over the run, which gains it the last tenth of a percent.
    """
    import keras

    kwargs = {} if spec.learning_rate is None else {"learning_rate": spec.learning_rate}
    if spec.model == "cnn_best" and steps_per_epoch:
        kwargs["learning_rate"] = keras.optimizers.schedules.CosineDecay(
            spec.learning_rate or BEST_LEARNING_RATE, decay_steps=spec.epochs * steps_per_epoch
        )
    return {
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }[spec.optimizer](**kwargs)


def input_shape_for(model_kind: str) -> tuple[int, ...]:
    """Shape of one input example for a model kind (the MLP takes flat 784-vectors)."""
    return (NUM_PIXELS,) if model_kind == "mlp" else IMAGE_SHAPE


def prepare_images(images: np.ndarray, model_kind: str) -> np.ndarray:
    """uint8 (N, 28, 28) images -> float32 inputs in [0, 1] shaped for ``model_kind``.

    This is the lab's recipe: reshape, ``astype('float32')``, ``/ 255``.
    """
    x = np.asarray(images).reshape((len(images), *input_shape_for(model_kind)))
    out = x.astype(np.float32)
    out /= 255.0  # in place: one 188 MB array for the full training set, not two
    return out
