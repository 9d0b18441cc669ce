"""Where a network looks: saliency maps over the 28x28 input, and the sanity check.

Every map is ``(28, 28)``, for one class (by default the predicted one); positive values
raise that class's logit (or, for occlusion, its probability), negative ones lower it.

- **Gradient x input**: the target logit's gradient times the pixel.
- **Integrated gradients** (Sundararajan et al., 2017): the gradient averaged along the
  straight path from a black image to the drawing, times the drawing. Its attributions add
  up to logit(image) - logit(black), which the tests check. The steps go in batched calls,
  doubled until the sum is within 1 %.
- **Occlusion** (Zeiler & Fergus, 2014): how much the class's probability drops when a
  small patch is blacked out; every patch position goes in one call.
- **Grad-CAM** (Selvaraju et al., 2017): the last convolution's maps weighted by their
  mean gradient, ReLU'd and scaled up to 28x28. Networks with convolutions only.

The sanity check (Adebayo et al., 2018) computes the same map for the same architecture
with random weights: a method whose map hardly changes is showing the input, not the
network.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from digitpad.core.inside.layers import Inspector, LayerOutput, SoftmaxBreakdown

IG_STEPS = 32  # intervals to start with; doubled until the sum is within IG_TOLERANCE
IG_TOLERANCE = 0.01
IG_MAX_STEPS = 4096  # a small logit difference made of large cancelling terms needs this
IG_CHUNK = 512  # path images per call, to bound memory
OCCLUSION_PATCH = 4
OCCLUSION_STRIDE = 2


class Method(StrEnum):
    """A saliency method; its value is the command line's name for it."""

    GRADIENT_X_INPUT = "gradient"
    INTEGRATED_GRADIENTS = "ig"
    OCCLUSION = "occlusion"
    GRAD_CAM = "gradcam"

    @property
    def title(self) -> str:
        return METHOD_TITLES[self]


METHOD_TITLES = {
    Method.GRADIENT_X_INPUT: "Gradient × input",
    Method.INTEGRATED_GRADIENTS: "Integrated gradients",
    Method.OCCLUSION: "Occlusion",
    Method.GRAD_CAM: "Grad-CAM",
}


class SaliencyError(ValueError):
    """A method that cannot apply to this network (Grad-CAM without convolutions)."""


@dataclass(frozen=True)
class Saliency:
    """A map and what it explains."""

    method: Method
    target: int
    values: np.ndarray  # (28, 28)


@dataclass(frozen=True)
class Look:
    """Everything the "Look inside" view shows for one image and one network."""

    layers: list[LayerOutput]
    softmax: SoftmaxBreakdown
    saliency: Saliency
    random: Saliency | None  # the same map with random weights (the sanity check)


def look(inspector: Inspector, x28: np.ndarray, method: Method, sanity: bool = False) -> Look:
    """Layer outputs, softmax and ``method``'s map for the predicted class of ``x28``.

    With ``sanity``, also the map of a random-weights network of the same architecture,
    for the same class.
    """
    layers, softmax = inspector.layers(x28)
    target = softmax.predicted
    mine = saliency(inspector, x28, method, target)
    random = saliency(inspector.randomised(), x28, method, target) if sanity else None
    return Look(layers, softmax, mine, random)


def methods_for(inspector: Inspector) -> list[Method]:
    """The methods that apply to this network (Grad-CAM needs a convolution)."""
    return [m for m in Method if m is not Method.GRAD_CAM or inspector.last_conv is not None]


def saliency(inspector: Inspector, x28: np.ndarray, method: Method, target: int = -1) -> Saliency:
    """``method``'s map of ``x28`` for class ``target`` (default: the predicted class)."""
    method = Method(method)
    if target < 0:
        target = int(np.argmax(inspector.logits(x28[None])[0]))
    compute = {
        Method.GRADIENT_X_INPUT: gradient_x_input,
        Method.INTEGRATED_GRADIENTS: integrated_gradients,
        Method.OCCLUSION: occlusion,
        Method.GRAD_CAM: grad_cam,
    }[method]
    return Saliency(method, target, compute(inspector, x28, target))


def gradient_x_input(inspector: Inspector, x28: np.ndarray, target: int) -> np.ndarray:
    _, _, grads = inspector.call(x28[None], target)
    return grads[0].reshape(28, 28) * x28


def integrated_gradients(
    inspector: Inspector,
    x28: np.ndarray,
    target: int,
    tolerance: float = IG_TOLERANCE,
    max_steps: int = IG_MAX_STEPS,
) -> np.ndarray:
    """Attributions along black -> ``x28`` by the trapezoid rule.

    Starts with ``IG_STEPS`` intervals and halves them (computing only the new midpoints)
    until the attributions add up to the logit difference within ``tolerance``, which
    the path's own end points give: deep networks need more steps than shallow ones.
    """
    steps = IG_STEPS
    logits, grads = _along_path(inspector, x28, target, np.linspace(0.0, 1.0, steps + 1))
    difference = float(logits[-1, target] - logits[0, target])
    total = grads[1:-1].sum(axis=0) + 0.5 * (grads[0] + grads[-1])
    while True:
        attributions = total / steps * x28
        gap = abs(float(attributions.sum()) - difference) / max(abs(difference), 1e-6)
        if gap <= tolerance or steps >= max_steps:
            return attributions
        midpoints = (np.arange(steps) + 0.5) / steps
        total = total + _along_path(inspector, x28, target, midpoints)[1].sum(axis=0)
        steps *= 2


def _along_path(inspector: Inspector, x28: np.ndarray, target: int, alphas: np.ndarray):
    """Logits and input gradients at ``alpha * x28`` for each alpha, in one call."""
    logits, grads = [], []
    for start in range(0, len(alphas), IG_CHUNK):
        path = alphas[start : start + IG_CHUNK].astype(np.float32)[:, None, None] * x28[None]
        _, chunk_logits, chunk_grads = inspector.call(path, target)
        logits.append(chunk_logits)
        grads.append(chunk_grads[0].reshape(len(path), 28, 28))
    return np.concatenate(logits), np.concatenate(grads)


def occlusion(
    inspector: Inspector,
    x28: np.ndarray,
    target: int,
    patch: int = OCCLUSION_PATCH,
    stride: int = OCCLUSION_STRIDE,
) -> np.ndarray:
    """Mean drop of the target's probability over the patches covering each pixel."""
    corners = [(r, c) for r in range(0, 29 - patch, stride) for c in range(0, 29 - patch, stride)]
    batch = np.repeat(x28[None], len(corners) + 1, axis=0)  # the last one stays whole
    for i, (r, c) in enumerate(corners):
        batch[i, r : r + patch, c : c + patch] = 0.0
    # float64: a confident network's probability moves in the sixth decimal, below float32's
    logits = inspector.logits(batch).astype(np.float64)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    drops = probs[-1, target] - probs[:-1, target]
    total = np.zeros((28, 28))
    covered = np.zeros((28, 28))
    for drop, (r, c) in zip(drops, corners, strict=True):
        total[r : r + patch, c : c + patch] += drop
        covered[r : r + patch, c : c + patch] += 1
    return (total / np.maximum(covered, 1)).astype(np.float32)


def grad_cam(inspector: Inspector, x28: np.ndarray, target: int) -> np.ndarray:
    if inspector.last_conv is None:
        raise SaliencyError(
            "Grad-CAM needs a convolution layer, and this network (an MLP) has none; "
            "choose gradient × input, integrated gradients or occlusion"
        )
    outs, _, grads = inspector.call(x28[None], target)
    maps, grad = outs[inspector.last_conv][0], grads[1][0]  # (h, w, channels)
    weights = grad.mean(axis=(0, 1))
    cam = np.maximum((maps * weights).sum(axis=-1), 0.0)
    return upsample(cam, 28)


def upsample(image: np.ndarray, side: int) -> np.ndarray:
    """Bilinear resize of a small square map to ``side`` x ``side`` (pixel centres aligned)."""
    h, w = image.shape
    ys = (np.arange(side) + 0.5) * h / side - 0.5
    xs = (np.arange(side) + 0.5) * w / side - 0.5
    rows = np.stack([np.interp(ys, np.arange(h), image[:, j]) for j in range(w)], axis=1)
    out = np.stack([np.interp(xs, np.arange(w), rows[i]) for i in range(side)], axis=0)
    return out.astype(np.float32)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (ties get their mean rank)."""
    ra, rb = _ranks(np.ravel(a)), _ranks(np.ravel(b))
    ra -= ra.mean()
    rb -= rb.mean()
    denominator = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / denominator) if denominator > 0 else 0.0


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return (np.bincount(inverse, weights=ranks) / counts)[inverse]
