"""Time from a stroke to an updated "Look inside" view, for each network and method.

Drives the real window (offscreen): opens the view, then for each network and saliency
method adds strokes to the canvas one at a time and waits for the view to show each new
drawing (the canvas' prediction, preprocessing, every layer, the weights and the saliency
map, drawn). Meanwhile a 5 ms QTimer records the longest gap on the GUI thread.

The lab's networks are its exercise-6 MLP and CNN and exercise 9's deeper CNN (the shipped
``mlp``, an untrained exercise-6 CNN, since timing does not depend on the weights, and the
shipped ``cnn``); ``best`` is the app's own stronger CNN.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_inside.py [--strokes 40]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("DIGITPAD_HOME", tempfile.mkdtemp(prefix="bench-inside-"))

from gui_timing import Ticks, report, time_strokes, wait
from PySide6.QtWidgets import QApplication

from digitpad.core.inference.predictor import ModelSource
from digitpad.core.inside.saliency import Method
from digitpad.core.machine.environment import cpu_name
from digitpad.core.nets.models import build_model
from digitpad.core.nets.specs import RunSpec
from digitpad.ui import MainWindow
from digitpad.ui.draw.sample_digits import DIGITS, place

TARGET_MS = 50


def untrained_lab_cnn(folder: str) -> ModelSource:
    spec = RunSpec(model="cnn")  # exercise 6's network, the lab's defaults
    path = os.path.join(folder, "lab-cnn.weights.h5")
    build_model(spec, compile=False).save_weights(path)
    return ModelSource("lab CNN (ex. 6)", spec, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=40, help="timed strokes per cell")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841
    # Made before the window, while no other thread uses TensorFlow.
    lab_cnn = untrained_lab_cnn(tempfile.mkdtemp())
    window = MainWindow()
    window.show()
    window.wait_until_ready(60)
    draw = window.draw_tab
    draw.message.connect(lambda text: print(f"  (window says: {text})"))
    ticks = Ticks()

    strokes = [
        stroke
        for digit in itertools.islice(itertools.cycle(range(10)), 200)
        for stroke in place(DIGITS[digit], 0.7, (0.5, 0.5), angle_deg=digit - 5)
    ]
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; {args.strokes} strokes per cell")
    print(f"{'network':24s} {'method':22s} {'p50 ms':>7s} {'p95 ms':>7s} {'max gap ms':>10s}")

    # Baseline: the view closed, a stroke to the canvas' prediction (what it costs when
    # nobody looks inside).
    predicted: list[object] = []
    draw.predicted.connect(predicted.append)
    ticks.start()
    latencies = time_strokes(draw.canvas, strokes[: args.strokes], predicted)
    report(draw.predictor.name, "(view closed)", latencies, ticks.stop())

    draw.show_inside(True)
    view = draw.inside
    sources = [
        ModelSource.shipped("mlp"),
        lab_cnn,
        ModelSource.shipped("cnn_deep"),
        ModelSource.shipped("best"),
    ]
    shown: list[float] = []
    view.shown.connect(shown.append)
    worst_gap = 0.0
    for source in sources:
        if draw._index_of(source) < 0:
            draw.model_selector.addItem(source.name, source)
        draw.model_selector.setCurrentIndex(draw._index_of(source))
        wait(lambda s=source: draw.predictor is not None and draw.predictor.source == s)
        for method in Method:
            if method is Method.GRAD_CAM and source.spec.model == "mlp":
                continue
            view.choose_method(method)
            stroke_iter = iter(strokes)
            draw.canvas.clear()
            # Warm up: the first drawing builds the network's inspector and traces it.
            draw.canvas.add_stroke(next(stroke_iter), 0.06)
            wait(lambda s=source: view.settled() and view.look and view.source == s)
            latencies = []
            ticks.start()
            for _ in range(args.strokes):
                before = len(shown)
                start = time.perf_counter()
                draw.canvas.add_stroke(next(stroke_iter), 0.06)
                wait(lambda before=before: len(shown) > before and view.settled())
                latencies.append((time.perf_counter() - start) * 1000)
                if len(draw.canvas._items) > 3:
                    draw.canvas.clear()
                    wait(view.settled)
            worst_gap = max(worst_gap, report(source.name, method.title, latencies, ticks.stop()))
    print(f"longest GUI-thread gap: {worst_gap:.1f} ms (target {TARGET_MS} ms)")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
