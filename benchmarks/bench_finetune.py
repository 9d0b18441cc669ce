"""The forgetting meter in figures: fine-tune shipped networks on a personal set in one
hand (the tests' set: 12 stroke-drawn digits of each kind, slanted 25 degrees, thick pen,
rendered on the real canvas), with MNIST replay and without, over several seeds.

Prints, per network and mode, the medians (and the worst) of: MNIST test accuracy change
and held-back My digits accuracy before and after. Trains in this process, as the
engine's workers do.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_finetune.py \
        [--networks mlp,cnn_deep] [--seeds 3]
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

from digitpad.core.data.mnist import load_dataset
from digitpad.core.inference.predictor import ModelSource
from digitpad.core.machine.environment import cpu_name
from digitpad.core.mydigits.finetune import EPOCHS, LEARNING_RATE, finetune, plan_finetune
from digitpad.ui.draw.sample_digits import styled_images


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default="mlp")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841
    images, labels = styled_images(per_digit=12, seed=0, slant_deg=-25)  # the tests' set
    data = load_dataset()
    print(
        f"CPU: {cpu_name()}; {len(labels)} drawings (a quarter held back); {EPOCHS} epochs, "
        f"Adam {LEARNING_RATE:g}; seeds 0-{args.seeds - 1}; medians (worst)"
    )
    print(f"{'network':8s} {'replay':7s} {'MNIST test':>22s} {'held-back mine':>20s} {'time':>7s}")
    for name in args.networks.split(","):
        source = ModelSource.shipped(name)
        for replay in (True, False):
            rows = []
            for seed in range(args.seeds):
                spec, order = plan_finetune(source, images, labels, replay=replay)
                started = time.perf_counter()
                f = finetune(spec.with_changes(seed=seed), order, data).finetune
                rows.append(
                    (
                        f.mnist_before,
                        f.mnist_after,
                        f.mine_before,
                        f.mine_after,
                        time.perf_counter() - started,
                    )
                )
            a = np.array(rows)
            change = (a[:, 1] - a[:, 0]) * 100
            worst = change.min()
            print(
                f"{name:8s} {'on' if replay else 'off':7s} "
                f"{np.median(a[:, 0]):.2%} -> {np.median(a[:, 1]):.2%} "
                f"({np.median(change):+.2f} pts, worst {worst:+.2f})  "
                f"{np.median(a[:, 2]):.1%} -> {np.median(a[:, 3]):.1%} (worst {a[:, 3].min():.1%})"
                f"  {np.median(a[:, 4]):5.1f} s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
