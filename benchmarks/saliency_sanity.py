"""The saliency sanity check (Adebayo et al., 2018) on the shipped networks, in figures.

For each network and method: the median Spearman rank correlation between the map of the
trained network and the map of the same architecture with random weights, over the first
N test digits, for the signed map (what the view shows) and for its magnitude (what many
papers show). Also how far integrated gradients miss completeness (sum of attributions
against logit(image) - logit(black)), at most.

    python benchmarks/saliency_sanity.py [--n 100]
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from digitpad.core.data.mnist import load_dataset
from digitpad.core.inference.predictor import ModelSource, Predictor
from digitpad.core.inside.layers import Inspector
from digitpad.core.inside.saliency import Method, methods_for, saliency, spearman
from digitpad.core.machine.environment import cpu_name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="test digits")
    args = parser.parse_args()
    data = load_dataset()
    images = data.x_test[: args.n].astype(np.float32) / 255.0
    print(f"CPU: {cpu_name()}; first {args.n} MNIST test digits")
    print(f"{'network':8s} {'method':22s} {'signed':>7s} {'magnitude':>9s}")
    for name in ("mlp", "cnn_deep", "best"):
        predictor = Predictor(ModelSource.shipped(name), engine="keras")
        inspector = Inspector.for_spec(predictor.source.spec, predictor.keras_model())
        random = inspector.randomised()
        for method in methods_for(inspector):
            signed, magnitude, gaps = [], [], []
            for x in images:
                trained = saliency(inspector, x, method)
                untrained = saliency(random, x, method, trained.target).values
                signed.append(spearman(trained.values, untrained))
                magnitude.append(spearman(np.abs(trained.values), np.abs(untrained)))
                if method is Method.INTEGRATED_GRADIENTS:
                    logits = inspector.logits(np.stack([x, np.zeros_like(x)]))
                    difference = logits[0, trained.target] - logits[1, trained.target]
                    gaps.append(abs(trained.values.sum() - difference) / abs(difference))
            extra = f"   completeness gap at most {max(gaps):.2%}" if gaps else ""
            print(
                f"{name:8s} {method.title:22s} {np.median(signed):7.2f} "
                f"{np.median(magnitude):9.2f}{extra}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
