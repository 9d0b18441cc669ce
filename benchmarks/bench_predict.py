"""Latency from an updated drawing to ten probabilities (preprocessing included).

Renders drawn digits on the real canvas at canvas resolution, then times
``to_mnist(canvas.ink_array())`` + ``Predictor.predict`` for each shipped model, and the
two halves apart, on both engines (LiteRT, the canvas' default for shipped models, and
TensorFlow's compiled call). Prints p50/p95/max in milliseconds.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_predict.py [--model best] [--n 400]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from PySide6.QtWidgets import QApplication

from digitpad.core.data.preprocess import to_mnist
from digitpad.core.inference.predictor import ModelSource, Predictor
from digitpad.core.machine.environment import cpu_name
from digitpad.core.machine.threads import one_blas_thread
from digitpad.ui.draw.canvas import DrawingCanvas
from digitpad.ui.draw.sample_digits import DIGITS, place


def percentiles(samples: list[float]) -> str:
    ms = np.array(samples) * 1000
    return (
        f"p50 {np.percentile(ms, 50):6.2f}  p95 {np.percentile(ms, 95):6.2f}  "
        f"max {ms.max():6.2f} ms"
    )


def time_to_mnist(inks: list[np.ndarray]) -> list[float]:
    out = []
    for ink in inks:
        start = time.perf_counter()
        to_mnist(ink)
        out.append(time.perf_counter() - start)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="best,cnn_deep,mlp")
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--engine", default="litert,keras")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841
    canvas = DrawingCanvas()
    canvas.resize(400, 400)
    rng = np.random.default_rng(0)
    inks = []
    for i in range(args.n):
        digit = i % 10
        canvas.clear()
        for stroke in place(DIGITS[digit], rng.uniform(0.3, 0.9), (0.5, 0.5), rng.uniform(-15, 15)):
            canvas.add_stroke(stroke, rng.uniform(6, 30) / 400)
        inks.append(canvas.ink_array())
    print(f"{args.n} drawn digits, canvas {inks[0].shape}, {cpu_name()}, {os.cpu_count()} cores")
    print(f"to_mnist, BLAS default  {percentiles(time_to_mnist(inks))}")
    one_blas_thread()  # as the window does once it is shown
    print(f"to_mnist alone          {percentiles(time_to_mnist(inks))}")
    for name, engine in [(n, e) for n in args.model.split(",") for e in args.engine.split(",")]:
        predictor = Predictor(ModelSource.shipped(name), engine=engine)
        label = f"{name:4s} {engine:6s}"
        for ink in inks[:20]:  # warm up
            predictor.predict(to_mnist(ink))
        total, model_only = [], []
        for ink in inks:
            start = time.perf_counter()
            x = to_mnist(ink)
            middle = time.perf_counter()
            predictor.predict(x)
            end = time.perf_counter()
            total.append(end - start)
            model_only.append(end - middle)
        print(f"{label} predict alone      {percentiles(model_only)}")
        print(f"{label} drawing -> probs   {percentiles(total)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
