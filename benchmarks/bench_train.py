"""Time DigitPad's train() against the lab report's own Keras code, in one process.

Both sides get the same MNIST arrays, the same machine and the same moment; runs alternate
(lab, ours, lab, ours, ...) so that drift on a noisy machine hits both alike. Printed per
case: median whole-call time (data prep + build + fit + evaluation), median fit time
("convergence time"), and the ratio lab / ours (>= 1.0: ours is no slower).

    python benchmarks/bench_train.py [--repeats 3] [--cases mlp,cnn_deep]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from digitpad.core.data.mnist import load_dataset
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.training import train


# --- the lab report's code, written its way (numpy arrays, to_categorical, verbose=2) ---------
def lab_mlp(train_images, train_labels, test_images, test_labels, neurons, batch_size, epochs):
    import keras
    from keras import layers
    from keras.utils import to_categorical

    num_pixels = train_images.shape[1] * train_images.shape[2]
    train_images = train_images.reshape((train_images.shape[0], num_pixels)).astype("float32")
    test_images = test_images.reshape((test_images.shape[0], num_pixels)).astype("float32")
    train_images = train_images / 255
    test_images = test_images / 255
    train_labels = to_categorical(train_labels)
    test_labels = to_categorical(test_labels)
    num_classes = test_labels.shape[1]

    model = keras.models.Sequential()
    model.add(
        layers.Dense(neurons, input_dim=num_pixels, kernel_initializer="normal", activation="relu")
    )
    model.add(layers.Dense(num_classes, kernel_initializer="normal", activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

    start_time = time.time()
    model.fit(
        train_images,
        train_labels,
        validation_data=(test_images, test_labels),
        epochs=epochs,
        batch_size=batch_size,
        verbose=2,
    )
    end_time = time.time()
    scores = model.evaluate(test_images, test_labels, verbose=2)
    print(f"Baseline Error: {100 - scores[1] * 100:.2f}")
    return end_time - start_time, scores[1]


def lab_cnn_ex9(train_images, train_labels, test_images, test_labels, size, neurons, epochs):
    import keras
    from keras import layers
    from keras.utils import to_categorical

    train_images = train_images.reshape((train_images.shape[0], 28, 28, 1)).astype("float32")
    test_images = test_images.reshape((test_images.shape[0], 28, 28, 1)).astype("float32")
    train_images = train_images / 255
    test_images = test_images / 255
    train_labels = to_categorical(train_labels)
    test_labels = to_categorical(test_labels)

    model = keras.models.Sequential()
    model.add(layers.Conv2D(30, size, activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(layers.Conv2D(15, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(layers.Dropout(rate=0.2))
    model.add(layers.Flatten())
    model.add(layers.Dense(neurons, activation="relu"))
    model.add(layers.Dense(50, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

    start_time = time.time()
    model.fit(
        train_images,
        train_labels,
        validation_data=(test_images, test_labels),
        epochs=epochs,
        batch_size=200,
        verbose=2,
    )
    end_time = time.time()
    scores = model.evaluate(test_images, test_labels, verbose=2)
    print(f"Baseline Error: {100 - scores[1] * 100:.2f}")
    return end_time - start_time, scores[1]


# --------------------------------------------------------------------------------------------

CASES = {
    "mlp": (
        "MLP lab defaults (8 neurons, 10 epochs, batch 200)",
        lambda d: lab_mlp(d.x_train, d.y_train, d.x_test, d.y_test, 8, 200, 10),
        RunSpec.for_model("mlp"),
    ),
    "cnn_deep": (
        "Ex 9 deeper CNN, 1 epoch",
        lambda d: lab_cnn_ex9(d.x_train, d.y_train, d.x_test, d.y_test, (5, 5), 128, 1),
        RunSpec.for_model("cnn_deep", epochs=1),
    ),
}


def timed(fn):
    start = time.perf_counter()
    fit_time, accuracy = fn()
    return time.perf_counter() - start, fit_time, accuracy


def run_ours(spec, data):
    result = train(spec, data)
    return result.convergence_time, result.test_accuracy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    import keras

    warnings.filterwarnings("ignore", message=".*input_shape.*")  # the lab's style, on purpose
    data = load_dataset()
    print(
        f"MNIST from {data.source}; keras {keras.__version__}; {os.cpu_count()} cores; "
        f"{args.repeats} alternating repeats, medians\n"
    )
    lines = []
    for name in args.cases.split(","):
        title, lab_fn, spec = CASES[name]
        lab, ours = [], []
        for _ in range(args.repeats):
            keras.backend.clear_session()
            lab.append(timed(lambda fn=lab_fn: fn(data)))
            ours.append(timed(lambda spec=spec: run_ours(spec, data)))
        lab_total = statistics.median(t for t, _, _ in lab)
        our_total = statistics.median(t for t, _, _ in ours)
        lab_fit = statistics.median(f for _, f, _ in lab)
        our_fit = statistics.median(f for _, f, _ in ours)
        lines.append(
            f"{title}:\n"
            f"  whole call  lab {lab_total:7.2f} s   ours {our_total:7.2f} s   "
            f"ratio lab/ours {lab_total / our_total:.2f}\n"
            f"  fit only    lab {lab_fit:7.2f} s   ours {our_fit:7.2f} s   "
            f"ratio lab/ours {lab_fit / our_fit:.2f}\n"
            f"  accuracy    lab {statistics.median(a for _, _, a in lab):.4f}     "
            f"ours {statistics.median(a for _, _, a in ours):.4f}"
        )
    print("\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
