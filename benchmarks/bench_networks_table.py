"""Time from a stroke to all five predictions of the Draw tab's network table.

Drives the real window (offscreen) with five networks in the table: the shipped best, cnn_deep
and mlp (LiteRT) and two pinned runs (an exercise-6 CNN and an exercise-1 MLP, read by
TensorFlow's compiled call; untrained weights, as timing does not depend on them). Adds
strokes one at a time and waits for the table to show every network's reading of each,
while a 5 ms QTimer records the longest gap on the GUI thread.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_networks_table.py [--strokes 200]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("DIGITPAD_HOME", tempfile.mkdtemp(prefix="bench-networks-"))


from gui_timing import Ticks, report, time_strokes, wait
from PySide6.QtWidgets import QApplication

from digitpad.core.inference.predictor import ModelSource
from digitpad.core.machine.environment import cpu_name
from digitpad.core.nets.models import build_model
from digitpad.core.nets.specs import RunSpec
from digitpad.ui import MainWindow
from digitpad.ui.draw.sample_digits import DIGITS, place

TARGET_P95_MS = 30


def untrained(kind: str, folder: str) -> ModelSource:
    spec = RunSpec.for_model(kind)
    path = os.path.join(folder, f"{kind}.weights.h5")
    build_model(spec, compile=False).save_weights(path)
    return ModelSource(f"pinned {kind}", spec, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=200)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841
    folder = tempfile.mkdtemp()
    pinned = [untrained("cnn", folder), untrained("mlp", folder)]  # before TF runs elsewhere
    window = MainWindow()
    window.show()
    window.wait_until_ready(60)
    draw = window.draw_tab
    panel = draw.networks
    for source in pinned:
        panel.pin(source)
    updated: list[float] = []
    panel.updated.connect(updated.append)
    strokes = [
        stroke
        for digit in itertools.islice(itertools.cycle(range(10)), 400)
        for stroke in place(DIGITS[digit], 0.7, (0.5, 0.5), angle_deg=digit - 5)
    ]
    # Warm up: the pinned networks load (TensorFlow) on their first reading.
    draw.canvas.add_stroke(strokes[0], 0.06)
    wait(lambda: bool(updated), timeout_s=120)
    ticks = Ticks()
    ticks.start()
    latencies = time_strokes(draw.canvas, strokes[1 : args.strokes + 1], updated)
    names = ", ".join(panel.sources[i].name for i in range(len(panel.sources)))
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; {args.strokes} strokes; {names}")
    print(f"{'':24s} {'':22s} {'p50 ms':>7s} {'p95 ms':>7s} {'max gap ms':>10s}")
    report("5 networks", "stroke -> all five", latencies, ticks.stop())
    print(f"target: p95 at most {TARGET_P95_MS} ms, GUI-thread gaps at most 50 ms")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
