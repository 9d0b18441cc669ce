"""Look inside a network: every layer's output, its logits and its first layer's weights.

Works for every network DigitPad builds (``models.build_model``), shipped or trained in the
app. Where each pixel matters to the answer is in ``saliency``, over the same ``Inspector``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitpad.core.machine.keras_setup import BACKEND_LOCK, import_keras
from digitpad.core.nets.models import build_model, input_shape_for
from digitpad.core.nets.specs import RunSpec

# Keras layer classes -> what the view draws for them.
LAYER_KINDS = {
    "Conv2D": "conv",
    "MaxPooling2D": "pool",
    "BatchNormalization": "norm",
    "Activation": "activation",
    "Dropout": "dropout",
    "Flatten": "flatten",
    "Dense": "dense",
}


@dataclass(frozen=True)
class LayerOutput:
    """One layer's output for one image (no batch axis): maps ``(h, w, c)`` or units ``(n,)``."""

    name: str
    kind: str
    values: np.ndarray

    @property
    def is_maps(self) -> bool:
        return self.values.ndim == 3

    @property
    def count(self) -> int:
        """How many feature maps (or units) the layer has."""
        return int(self.values.shape[-1])


@dataclass(frozen=True)
class SoftmaxBreakdown:
    """How the output layer turns its logits into probabilities: ``exp(z) / sum(exp(z))``."""

    logits: np.ndarray
    exp: np.ndarray  # exp(z - max z): the same ratios, without overflow
    probabilities: np.ndarray

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.probabilities))


@dataclass(frozen=True)
class WeightPictures:
    """The first layer's weights as small images: a convolution's filters, or each hidden
    unit's 784 input weights as a 28x28 picture (the MLP)."""

    layer: str
    kind: str  # "conv" or "dense"
    images: np.ndarray  # (n, h, w)


class Inspector:
    """A network opened up: layer outputs, logits and gradients for 28x28 images.

    Calls hold the backend lock (see ``backend``) and may run on any one thread at a time.
    """

    def __init__(self, model, spec: RunSpec):
        keras = import_keras()
        import tensorflow as tf

        self.spec = spec
        self.model = model
        self._shape = input_shape_for(spec.model)
        layers = list(model.layers)
        self.layer_names = tuple(layer.name for layer in layers)
        self.layer_kinds = tuple(
            _kind(layer, last=i == len(layers) - 1) for i, layer in enumerate(layers)
        )
        output = layers[-1]
        if type(output).__name__ != "Dense":
            raise ValueError(
                f"{model.name}: the last layer must be Dense, not {type(output).__name__}"
            )
        self.last_conv = grad_cam_layer(layers, self.layer_kinds)
        # Everything up to the output layer; its logits are computed here, so that the
        # gradients are those of the logits (softmax saturates, logits do not).
        with BACKEND_LOCK:
            probe = keras.Model(model.inputs[0], [layer.output for layer in layers[:-1]])
        kernel, bias = output.kernel, output.bias
        conv = self.last_conv

        # One trace per network: any batch size, any target.
        @tf.function(
            input_signature=[
                tf.TensorSpec((None, *self._shape), tf.float32),
                tf.TensorSpec((), tf.int32),
            ]
        )
        def run(x, target):
            with tf.GradientTape() as tape:
                tape.watch(x)
                outs = probe(x, training=False)
                if not isinstance(outs, (list, tuple)):  # a one-output probe (the MLP)
                    outs = [outs]
                logits = tf.matmul(outs[-1], kernel) + bias
                # target < 0: each image's own prediction.
                chosen = tf.where(
                    target >= 0, target, tf.argmax(logits, axis=1, output_type=tf.int32)
                )
                score = tf.reduce_sum(tf.gather(logits, chosen, axis=1, batch_dims=1))
            watched = [x] if conv is None else [x, outs[conv]]
            grads = tape.gradient(score, watched)
            return outs, logits, grads

        self._run = run

    @classmethod
    def for_spec(cls, spec: RunSpec, model=None) -> Inspector:
        """An inspector of ``model``, or of a freshly initialised ``spec`` network."""
        with BACKEND_LOCK:
            return cls(model if model is not None else build_model(spec, compile=False), spec)

    def randomised(self) -> Inspector:
        """The same architecture with fresh random weights (the saliency sanity check)."""
        cached = getattr(self, "_random", None)
        if cached is None:
            cached = self._random = Inspector.for_spec(self.spec)
        return cached

    # --- forward ----------------------------------------------------------------------------

    def batch(self, images: np.ndarray) -> np.ndarray:
        """``(n, 28, 28)`` images in [0, 1] -> the network's input shape."""
        x = np.asarray(images, np.float32)
        return x.reshape((len(x), *self._shape))

    def call(self, images: np.ndarray, target: int = -1):
        """Layer outputs (all but the last), logits, and gradients of the target logit with
        respect to the input (and the last convolution's output, when there is one).

        ``target < 0`` takes each image's own predicted class.
        """
        import tensorflow as tf

        with BACKEND_LOCK:
            outs, logits, grads = self._run(
                tf.constant(self.batch(images)), tf.constant(target, tf.int32)
            )
        return [o.numpy() for o in outs], logits.numpy(), [g.numpy() for g in grads]

    def layers(self, x28: np.ndarray) -> tuple[list[LayerOutput], SoftmaxBreakdown]:
        """Every layer's output for one image, and the output layer's softmax breakdown."""
        outs, logits, _ = self.call(x28[None])
        return self._describe(outs, logits[0])

    def _describe(self, outs, logits: np.ndarray) -> tuple[list[LayerOutput], SoftmaxBreakdown]:
        breakdown = softmax_breakdown(logits)
        named = zip(self.layer_names[:-1], self.layer_kinds[:-1], strict=True)
        layers = [
            LayerOutput(name, kind, out[0]) for (name, kind), out in zip(named, outs, strict=True)
        ]
        layers.append(LayerOutput(self.layer_names[-1], "output", breakdown.probabilities))
        return layers, breakdown

    def logits(self, images: np.ndarray) -> np.ndarray:
        """``(n, 10)`` logits."""
        return self.call(images)[1]

    # --- weights ----------------------------------------------------------------------------

    def weight_pictures(self) -> WeightPictures:
        """The first layer's weights as images (see ``WeightPictures``)."""
        first = self.model.layers[0]
        kernel = np.asarray(first.kernel.numpy())
        kind = self.layer_kinds[0]
        if kind == "conv":  # (kh, kw, 1, filters) -> one kh x kw picture per filter
            return WeightPictures(first.name, kind, np.moveaxis(kernel[:, :, 0, :], -1, 0))
        # (784, units): column j holds unit j's weight for each pixel, row-major.
        return WeightPictures(first.name, kind, kernel.T.reshape(-1, 28, 28))


def softmax_breakdown(logits: np.ndarray) -> SoftmaxBreakdown:
    """Logits -> exp -> probabilities, step by step (float64, so nothing rounds away)."""
    z = np.asarray(logits, np.float64)
    exp = np.exp(z - z.max())
    return SoftmaxBreakdown(z, exp, exp / exp.sum())


def grad_cam_layer(layers, kinds: tuple[str, ...]) -> int | None:
    """Index of the layer whose maps Grad-CAM weighs: the last convolution that still has
    a picture (larger than 1x1; a convolution down to 1x1 is a dense layer in disguise),
    taken after its batch normalisation and activation when they follow it, as the next
    layer reads it. None for a network without convolutions."""
    spatial = [
        i
        for i, (layer, kind) in enumerate(zip(layers, kinds, strict=True))
        if kind == "conv" and min(layer.output.shape[1:3]) > 1
    ]
    if not spatial:
        return None
    index = spatial[-1]
    while kinds[index + 1] in ("norm", "activation"):  # the output layer ends the walk
        index += 1
    return index


def _kind(layer, last: bool) -> str:
    if last:
        return "output"
    return LAYER_KINDS.get(type(layer).__name__, type(layer).__name__.lower())


def tile(images: np.ndarray, columns: int, gap: int = 1) -> np.ndarray:
    """``(n, h, w)`` images side by side in rows of ``columns``, ``gap`` NaN pixels apart.

    NaN marks the gaps, so each caller can colour them as it likes.
    """
    n, h, w = images.shape
    rows = -(-n // columns)
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan, np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = image
    return out


def tile_at(shape: tuple[int, int], columns: int, y: float, x: float, gap: int = 1) -> int | None:
    """Which image of a ``tile`` mosaic (of ``(h, w)`` images) pixel (y, x) falls on."""
    h, w = shape
    r, dy = divmod(int(y), h + gap)
    c, dx = divmod(int(x), w + gap)
    if y < 0 or x < 0 or dy >= h or dx >= w or c >= columns:
        return None
    return r * columns + c
