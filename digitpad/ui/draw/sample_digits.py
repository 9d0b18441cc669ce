"""Hand-drawn-style sample digits as pen strokes, for demos, screenshots and robustness tests.

Each digit is a list of strokes; a stroke is a list of (x, y) points in a unit box
(0..1, y downwards), drawn the way people usually write the digit.
"""

from __future__ import annotations

import math

Point = tuple[float, float]


def _arc(cx, cy, rx, ry, start_deg, end_deg, n=24) -> list[Point]:
    return [
        (cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
        for a in (start_deg + (end_deg - start_deg) * i / (n - 1) for i in range(n))
    ]


DIGITS: dict[int, list[list[Point]]] = {
    0: [_arc(0.5, 0.5, 0.32, 0.48, -90, 270, 40)],
    1: [[(0.35, 0.2), (0.55, 0.02), (0.55, 1.0)]],
    2: [_arc(0.5, 0.3, 0.35, 0.28, 200, 380) + [(0.12, 1.0), (0.9, 1.0)]],
    3: [_arc(0.45, 0.26, 0.35, 0.25, 200, 450) + _arc(0.45, 0.74, 0.4, 0.26, -90, 150)],
    4: [[(0.62, 0.0), (0.08, 0.68), (0.95, 0.68)], [(0.68, 0.3), (0.68, 1.0)]],
    5: [[(0.85, 0.02), (0.2, 0.02), (0.15, 0.45)] + _arc(0.48, 0.68, 0.38, 0.32, -130, 150)],
    6: [[(0.7, 0.02), (0.35, 0.3)] + _arc(0.5, 0.7, 0.32, 0.3, 200, 560)],
    7: [[(0.08, 0.02), (0.92, 0.02), (0.4, 1.0)]],
    8: [_arc(0.5, 0.26, 0.28, 0.25, 90, 450) + _arc(0.5, 0.74, 0.34, 0.26, -90, 270)],
    9: [_arc(0.5, 0.3, 0.32, 0.28, 0, 360) + [(0.82, 0.3), (0.7, 1.0)]],
}


def place(strokes: list[list[Point]], size: float, centre: Point, angle_deg: float = 0.0):
    """Scale a digit (height ``size``, canvas units), rotate it about its centre, move it."""
    a = math.radians(angle_deg)
    cos, sin = math.cos(a), math.sin(a)
    out = []
    for stroke in strokes:
        pts = []
        for x, y in stroke:
            # The unit box is taller than wide for most digits: keep its aspect ratio.
            dx, dy = (x - 0.5) * size * 0.7, (y - 0.5) * size
            pts.append((centre[0] + dx * cos - dy * sin, centre[1] + dx * sin + dy * cos))
        out.append(pts)
    return out


def styled_set(
    per_digit: int, seed: int, slant_deg: float = -22.0, pen: float = 0.11
) -> tuple[list[list[list[Point]]], list[int], list[float]]:
    """Drawings of every digit in one hand: slanted by ``slant_deg`` and with a thick pen
    (``pen``, a share of the canvas side), varied a little in size, place, angle, pen and
    tremor. Returns the strokes of each drawing, its label and its pen width, for
    ``DrawingCanvas.add_stroke`` (tests and benchmarks make a personal set with it)."""
    import random

    rng = random.Random(seed)
    drawings, labels, pens = [], [], []
    for digit in range(10):
        for _ in range(per_digit):
            strokes = place(
                DIGITS[digit],
                rng.uniform(0.55, 0.8),
                (rng.uniform(0.4, 0.6), rng.uniform(0.4, 0.6)),
                slant_deg + rng.uniform(-6, 6),
            )
            drawings.append(
                [
                    [(x + rng.gauss(0, 0.008), y + rng.gauss(0, 0.008)) for x, y in s]
                    for s in strokes
                ]
            )
            labels.append(digit)
            pens.append(pen * rng.uniform(0.85, 1.15))
    return drawings, labels, pens


def styled_images(per_digit: int, seed: int, slant_deg: float = -25.0):
    """``styled_set`` drawn on the real canvas and preprocessed as the app does: uint8
    ``(n, 28, 28)`` images and int64 labels (a personal set for tests and benchmarks)."""
    import numpy as np

    from digitpad.core.data.preprocess import to_mnist
    from digitpad.core.store.my_digits import as_image
    from digitpad.ui.draw.canvas import DrawingCanvas

    canvas = DrawingCanvas()
    drawings, labels, pens = styled_set(per_digit, seed, slant_deg)
    images = []
    for strokes, pen in zip(drawings, pens, strict=True):
        canvas.clear()
        for stroke in strokes:
            canvas.add_stroke(stroke, pen)
        images.append(as_image(to_mnist(canvas.ink_array())))
    return np.array(images), np.array(labels, np.int64)
