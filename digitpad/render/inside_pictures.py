"""The pictures of "Look inside", made once for the view and for ``digitpad explain``'s files:
the preprocessing stages, a mosaic per layer, the first layer's weights, saliency overlays."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from digitpad.core.data.preprocess import BOX, CENTRE, Stages
from digitpad.core.inside.descriptions import NOTES
from digitpad.core.inside.layers import LayerOutput, WeightPictures, tile
from digitpad.render.pictures import grey_image, overlay, signed_image

STAGE_SIDE = 72
MOSAIC_WIDTH = 380  # pixels a layer's mosaic may take
MIN_TILE = 16  # pixels a map or unit takes at least


# Layers that change nothing worth a picture when reading, and why.
@dataclass(frozen=True)
class Mosaic:
    """Small images side by side (``image``, one pixel per value), each with a tip."""

    image: QImage
    tips: list[str]
    tile_shape: tuple[int, int]
    columns: int
    zoom: int  # how many screen pixels per value fit ``MOSAIC_WIDTH``


def stage_pictures(stages: Stages, side: int = STAGE_SIDE) -> list[tuple[QImage, str]]:
    """The five steps of ``to_mnist`` as ``side``-pixel pictures, each with a caption."""
    ink = np.asarray(stages.ink, np.float32)
    ink_image = grey_image(ink, high=float(ink.max()) or 1.0).scaled(side, side)
    zoom = side / ink.shape[0]
    boxed = ink_image.convertToFormat(QImage.Format.Format_RGB32)
    painter = QPainter(boxed)
    top, bottom, left, right = stages.box
    painter.setPen(QPen(QColor("#ff5050"), 1))
    painter.drawRect(QRectF(left * zoom, top * zoom, (right - left) * zoom, (bottom - top) * zoom))
    painter.end()
    fitted = np.zeros((BOX, BOX), np.float32)
    h, w = stages.scaled.shape
    fitted[(BOX - h) // 2 : (BOX - h) // 2 + h, (BOX - w) // 2 : (BOX - w) // 2 + w] = stages.scaled
    placed = (
        grey_image(stages.placed).scaled(side, side).convertToFormat(QImage.Format.Format_RGB32)
    )
    painter = QPainter(placed)
    zoom = side / 28
    my, mx = stages.mass_before
    painter.setPen(QPen(QColor("#ff5050"), 2))
    _cross(painter, (mx + 0.5) * zoom, (my + 0.5) * zoom)
    painter.setPen(QPen(QColor("#50c0ff"), 2))
    _cross(painter, (CENTRE[1] + 0.5) * zoom, (CENTRE[0] + 0.5) * zoom)
    painter.end()
    shift = math.hypot(CENTRE[0] - my, CENTRE[1] - mx)
    return [
        (ink_image, "1. your ink"),
        (boxed, "2. cropped to the ink"),
        (grey_image(fitted).scaled(side, side), f"3. fitted in {BOX}x{BOX} px"),
        (placed, f"4. centre of mass (red) moved {shift:.1f} px to the centre (blue)"),
        (grey_image(stages.final).scaled(side, side), "5. the 28x28 it reads"),
    ]


def layer_mosaic(layer: LayerOutput) -> Mosaic | None:
    """A layer's feature maps (or units) as a mosaic; ``None`` for layers in ``NOTES``.

    One scale for the whole layer, so its maps compare: black 0 to white at the layer's
    largest value, or blue-white-red when the layer has negative values.
    """
    if layer.kind in NOTES:
        return None
    values = layer.values
    high = float(values.max())
    if layer.is_maps:
        images = np.moveaxis(values, -1, 0)
        h, w = images.shape[1:]
        flat = images.reshape(len(images), -1)
        tips = [
            f"{layer.name} · map {i} of {layer.count} · {h}×{w} · values {lo:.3g} to {hi:.3g}"
            for i, (lo, hi) in enumerate(zip(flat.min(axis=1), flat.max(axis=1), strict=True))
        ]
    else:
        images = values[:, None, None]
        tips = [
            f"{layer.name} · unit {i} of {layer.count} · value {v:.3g}"
            for i, v in enumerate(values)
        ]
    if values.min() < 0:
        return _mosaic(images, tips, signed_image)
    return _mosaic(images, tips, lambda m: grey_image(m, high=high or 1.0))


def weights_mosaic(weights: WeightPictures) -> Mosaic:
    """The first layer's weight pictures, each scaled to its own largest magnitude."""
    n = len(weights.images)
    what = "filter" if weights.kind == "conv" else "hidden unit"
    limits = np.abs(weights.images).reshape(n, -1).max(axis=1)
    scaled = weights.images / np.maximum(limits, 1e-12)[:, None, None]
    tips = [
        f"{weights.layer} · {what} {i} of {n} · weights {image.min():.3g} to {image.max():.3g}"
        for i, image in enumerate(weights.images)
    ]
    return _mosaic(scaled, tips, lambda m: signed_image(m, limit=1.0))


def saliency_picture(final: np.ndarray, values: np.ndarray) -> QImage:
    """A saliency map over the 28x28 the network read (28x28 pixels)."""
    return overlay(grey_image(final), signed_image(values, alpha=True))


def _mosaic(images: np.ndarray, tips: list[str], image_for) -> Mosaic:
    n, h, w = images.shape
    least = max(2, math.ceil(MIN_TILE / w))  # small maps and single units blown up more
    columns = max(1, min(n, MOSAIC_WIDTH // (least * (w + 1))))
    zoom = max(1, MOSAIC_WIDTH // (columns * (w + 1)))
    return Mosaic(image_for(tile(images, columns)), tips, (h, w), columns, zoom)


def _cross(painter: QPainter, x: float, y: float, arm: float = 5) -> None:
    painter.drawLine(QPointF(x - arm, y), QPointF(x + arm, y))
    painter.drawLine(QPointF(x, y - arm), QPointF(x, y + arm))
