"""The shipped ``best`` network against another build of it (by default the one in git's
HEAD), on what the canvas meets: the MNIST test set, digits drawn on the real canvas at
every size, place, pen and slant, whole hands of slanted digits, and the README's sample
picture. Both read through LiteRT, as the canvas does.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_best.py [--against DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from PySide6.QtWidgets import QApplication

from digitpad.core.data.mnist import load_mnist
from digitpad.core.data.preprocess import image_to_ink, to_mnist
from digitpad.core.inference.predictor import ModelSource, Predictor
from digitpad.core.machine.environment import cpu_name
from digitpad.core.machine.paths import PACKAGE_DIR, weights_dir
from digitpad.render.pictures import read_grey
from digitpad.ui.draw.canvas import DrawingCanvas
from digitpad.ui.draw.sample_digits import DIGITS, place, styled_images

ROOT = PACKAGE_DIR.parent
SAMPLE = ROOT / "assets" / "digit-3.png"
SLANTS = (-35.0, -25.0, 0.0, 15.0, 30.0)  # whole hands leaning left, upright, leaning right


def head_weights() -> Path:
    """``best``'s files as committed in git's HEAD, in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="best-head-"))
    for name in ("best.json", "best.weights.h5", "best.tflite"):
        blob = subprocess.run(
            ["git", "show", f"HEAD:weights/{name}"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        (folder / name).write_bytes(blob)
    return folder


def drawn_variants() -> tuple[list[np.ndarray], list[int]]:
    """Each sample digit drawn at the sizes, places, pens and slants of the Draw tab's
    robustness test, as the 28x28 images the network reads."""
    canvas = DrawingCanvas()
    canvas.resize(280, 280)
    images, labels = [], []
    for digit, strokes in DIGITS.items():
        variants = [(0.6, (0.5, 0.5), 0, 16)]
        for angle in (-15, 0, 15):
            variants += [(0.9, (0.5, 0.5), angle, 40), (0.9, (0.5, 0.5), angle, 8)]
            for corner in ((0.18, 0.2), (0.82, 0.2), (0.18, 0.8), (0.82, 0.8)):
                variants += [(0.25, corner, angle, pen) for pen in (4, 10)]
        for size, centre, angle, pen in variants:
            canvas.clear()
            for stroke in place(strokes, size, centre, angle):
                canvas.add_stroke(stroke, pen / 280)
            images.append(to_mnist(canvas.ink_array()))
            labels.append(digit)
    return images, labels


def read(predictor: Predictor, images: np.ndarray, labels: np.ndarray) -> str:
    """Share read right, and the mean probability given to the right digit."""
    probs = predictor.predict_batch(images)
    right = probs[np.arange(len(labels)), labels]
    return f"{(probs.argmax(1) == labels).mean():.1%} right, mean p(right) {right.mean():.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another weights folder (default: HEAD's)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841
    folders = {"this build": weights_dir(), "against": args.against or head_weights()}
    (_, _), (x_test, y_test) = load_mnist()
    x_test = x_test.astype(np.float32) / 255
    drawn, drawn_labels = drawn_variants()
    hands = [styled_images(30, seed=7, slant_deg=slant) for slant in SLANTS]
    sample = to_mnist(image_to_ink(read_grey(str(SAMPLE))))
    print(f"{cpu_name()}, {os.cpu_count()} cores")
    for label, folder in folders.items():
        predictor = Predictor(ModelSource.shipped("best", folder), engine="litert")
        mnist = (predictor.predict_batch(x_test).argmax(1) == y_test).mean()
        drawn_read = read(predictor, np.array(drawn), np.array(drawn_labels))
        hands_read = [read(predictor, images.astype(np.float32) / 255, y) for images, y in hands]
        probs = predictor.predict(sample)
        print(f"{label} ({folder}): MNIST test {mnist:.2%}")
        print(f"  drawn digits ({len(drawn)}): {drawn_read}")
        for slant, hand in zip(SLANTS, hands_read, strict=True):
            print(f"  a hand slanted {slant:+.0f} deg ({len(hands[0][1])}): {hand}")
        print(f"  {SAMPLE.name}: {int(probs.argmax())} ({probs.max():.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
