"""Turn a drawing into the 28x28 image a network trained on MNIST expects.

MNIST's recipe (LeCun et al.): the digit is scaled to fit a 20x20 box keeping its aspect
ratio, with anti-aliasing (grey levels), then placed in 28x28 so that its intensity-weighted
centre of mass sits at the centre. We follow it, and also bring stroke thickness and
contrast into MNIST's range, since a pen on a canvas can be far thinner, thicker or fainter
than the pens that wrote MNIST.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

SIDE = 28
BOX = 20  # MNIST's size-normalisation box
WORK = 2 * BOX  # thickness is adjusted at twice the final scale, in half-pixel steps
# Where MNIST's centres of mass are (mean over the test set, row/column index coordinates).
CENTRE = (14.0, 14.0)
# MNIST stroke widths at the 20-pixel scale (5th and 95th percentiles, estimated as
# 2 * area / perimeter of the strokes), doubled for the working scale.
MIN_WIDTH, MAX_WIDTH = 2 * 2.1, 2 * 4.1
INK_FLOOR = 0.02  # fainter than this (relative to the darkest ink) counts as background


@dataclass(frozen=True)
class Axis:
    """One axis of the map from drawing pixels to the 28x28 image: ``out = in * scale + offset``
    (continuous coordinates, pixel ``i`` spanning ``[i, i + 1)``)."""

    scale: float
    offset: float

    def then(self, scale: float, offset: float) -> Axis:
        return Axis(self.scale * scale, self.offset * scale + offset)

    def inverse(self, value: float) -> float:
        return (value - self.offset) / self.scale


@dataclass(frozen=True)
class Stages:
    """Every step of ``to_mnist`` for one drawing, to show why the network sees what it sees.

    ``ink`` is the drawing as given (any scale) and ``box`` its ink's bounding box (top,
    bottom, left, right; exclusive ends). ``scaled`` is the digit fitted into the 20-pixel
    box; ``placed`` the 28x28 with that box in the middle, before the shift that brings its
    centre of mass (``mass_before``, row/column) to ``CENTRE``; ``final`` what the network
    reads. ``rows``/``cols`` map drawing coordinates to ``final``'s.
    """

    ink: np.ndarray
    box: tuple[int, int, int, int]
    scaled: np.ndarray
    placed: np.ndarray
    mass_before: tuple[float, float]
    final: np.ndarray
    rows: Axis
    cols: Axis


def to_mnist(ink: np.ndarray) -> np.ndarray | None:
    """Make an MNIST-like image from a drawing.

    Parameters
    ----------
    ink
        2-D array of any size; 0 is background, 255 (or 1.0) full ink.

    Returns
    -------
    A ``(28, 28)`` float32 array in [0, 1] (white digit on black), or ``None`` when the
    drawing has no ink.

    Raises
    ------
    ValueError
        If ``ink`` is not a 2-D array of numbers.
    """
    stages = mnist_stages(ink)
    return None if stages is None else stages.final


def mnist_stages(ink: np.ndarray) -> Stages | None:
    """``to_mnist``, keeping each step (``None`` when the drawing has no ink)."""
    array = _checked(ink)
    if array.dtype.kind == "f":
        array = np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)
    if not array.size:
        return None
    # Crop before converting: the canvas is mostly empty, and this runs on every stroke.
    # One pass over the whole drawing (its rows' maxima), then only the inked rows.
    row_peaks = array.max(axis=1)
    peak = float(row_peaks.max())
    if peak <= 0:
        return None
    rows = np.flatnonzero(row_peaks > INK_FLOOR * peak)
    cols = np.flatnonzero(array[rows[0] : rows[-1] + 1].max(axis=0) > INK_FLOOR * peak)
    box = (int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)
    crop = array[box[0] : box[1], box[2] : box[3]].astype(np.float32)
    crop *= 1.0 / peak  # faint pens get full contrast, like MNIST's saturated strokes
    np.clip(crop, 0.0, 1.0, out=crop)
    y, x = Axis(1.0, -box[0]), Axis(1.0, -box[2])
    work = area_resize_to_fit(crop, WORK)
    y, x = y.then(work.shape[0] / crop.shape[0], 0), x.then(work.shape[1] / crop.shape[1], 0)
    work, grown = _normalise_thickness(work)
    y, x = y.then(1, grown), x.then(1, grown)  # each growth step pads one pixel all round
    trimmed, (top, left) = _crop(work)
    digit = area_resize_to_fit(trimmed, BOX)
    y = y.then(digit.shape[0] / trimmed.shape[0], -top * digit.shape[0] / trimmed.shape[0])
    x = x.then(digit.shape[1] / trimmed.shape[1], -left * digit.shape[1] / trimmed.shape[1])
    digit /= max(float(digit.max()), 1e-6)
    placed, (dy, dx), mass = _centre_by_mass(digit)
    h, w = digit.shape
    y = y.then(1, (SIDE - h) // 2 + dy)
    x = x.then(1, (SIDE - w) // 2 + dx)
    return Stages(
        array,
        box,
        digit,
        placed[BOX : BOX + SIDE, BOX : BOX + SIDE],
        mass,
        _shifted_into_view(placed, dy, dx),
        y,
        x,
    )


def _checked(ink: np.ndarray) -> np.ndarray:
    array = np.asarray(ink)
    if array.ndim != 2:
        raise ValueError(f"a drawing must be a 2-D array; got {array.ndim} dimension(s)")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise ValueError(f"a drawing must hold numbers; got {array.dtype}")
    if np.iscomplexobj(array):
        raise ValueError("a drawing must hold real numbers, not complex ones")
    return array


def _as_ink(ink: np.ndarray) -> np.ndarray:
    """Any 2-D numeric array -> float32 in [0, 1] (0..255 scales are divided by 255)."""
    array = _checked(ink)
    image = np.nan_to_num(array.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if image.size and image.max() > 1.0:
        image /= 255.0
    return np.clip(image, 0.0, 1.0)


def _crop(image: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The inked part of ``image``, and where its top-left corner was."""
    floor = INK_FLOOR
    darkest = float(image.max())
    if darkest <= floor:
        # A few lone dots far apart (a 286x7 picture with two faint pixels): shrunk to the
        # working scale, each was averaged below the floor. The floor follows them down.
        floor = INK_FLOOR * darkest
    rows = np.flatnonzero(image.max(axis=1) > floor)
    cols = np.flatnonzero(image.max(axis=0) > floor)
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], (int(rows[0]), int(cols[0]))


def area_resize_to_fit(image: np.ndarray, longest: int) -> np.ndarray:
    """Scale so the longer side is ``longest`` pixels, keeping the aspect ratio."""
    h, w = image.shape
    scale = longest / max(h, w)
    return area_resize(image, max(1, round(h * scale)), max(1, round(w * scale)))


def area_resize(image: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Resize by area averaging: each output pixel is the mean of the input area it covers.

    Done as two matrix products with exact overlap weights, which anti-aliases like
    MNIST's grey levels for any ratio, up or down.
    """
    rows = _overlap_weights(image.shape[0], out_h)
    cols = _overlap_weights(image.shape[1], out_w)
    return rows @ image.astype(np.float32, copy=False) @ cols.T


@functools.lru_cache(maxsize=256)
def _overlap_weights(n_in: int, n_out: int) -> np.ndarray:
    # Output pixel i covers input coordinates [i*s, (i+1)*s) with s = n_in / n_out.
    edges = np.arange(n_out + 1) * (n_in / n_out)
    lo, hi = edges[:-1, None], edges[1:, None]
    pixel = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, pixel + 1) - np.maximum(lo, pixel), 0, None)
    # float32: the image is float32, and mixed types would make numpy copy it to float64.
    weights = (overlap / overlap.sum(axis=1, keepdims=True)).astype(np.float32)
    weights.flags.writeable = False  # cached and shared
    return weights


def stroke_width(image: np.ndarray) -> float:
    """Estimated stroke width in pixels: 2 * area / perimeter of the ink (above half grey)."""
    mask = image > 0.5
    area = int(mask.sum())
    if area == 0:
        return 0.0
    inner = mask.copy()
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    perimeter = int((mask & ~inner).sum())
    return 2.0 * area / max(perimeter, 1)


def _normalise_thickness(work: np.ndarray, max_steps: int = 4) -> tuple[np.ndarray, int]:
    """Grow thin strokes and thin fat ones, half a final pixel per side per step.

    Returns the image and how many growth steps padded it (one pixel a side each).
    """
    grown = 0
    for _ in range(max_steps):
        width = stroke_width(work)
        if width < MIN_WIDTH:
            work = _grey_morph(np.pad(work, 1), np.maximum)
            grown += 1
        elif width > MAX_WIDTH:
            thinner = _grey_morph(work, np.minimum)
            if (thinner > 0.5).sum() < 0.25 * (work > 0.5).sum():
                break  # a blob: thinning would erase the digit rather than shape it
            work = thinner
        else:
            break
    return work, grown


def _grey_morph(image: np.ndarray, op) -> np.ndarray:
    """3x3 grey dilation (``np.maximum``) or erosion (``np.minimum``)."""
    fill = 0.0 if op is np.maximum else 1.0
    padded = np.pad(image, 1, constant_values=fill)
    h, w = image.shape
    out = padded[1 : h + 1, 1 : w + 1].copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            out = op(out, padded[dy : dy + h, dx : dx + w])
    return out


# Row and column index of every pixel of _centre_by_mass' canvas (made once, not per drawing).
_ROWS, _COLS = np.indices((SIDE + 2 * BOX, SIDE + 2 * BOX))


def _centre_by_mass(
    digit: np.ndarray,
) -> tuple[np.ndarray, tuple[float, float], tuple[float, float]]:
    """Place ``digit`` in the middle of a 28x28 (with room around it to shift).

    Returns that roomy canvas, the shift (rows, columns) that brings its centre of mass to
    ``CENTRE``, and the centre of mass before the shift (28x28 coordinates).
    """
    h, w = digit.shape
    canvas = np.zeros((SIDE + 2 * BOX, SIDE + 2 * BOX), np.float32)  # room to shift
    top, left = BOX + (SIDE - h) // 2, BOX + (SIDE - w) // 2
    canvas[top : top + h, left : left + w] = digit
    mass = canvas.sum()
    com_y, com_x = (canvas * _ROWS).sum() / mass, (canvas * _COLS).sum() / mass
    shift = (CENTRE[0] + BOX - com_y, CENTRE[1] + BOX - com_x)
    return canvas, (float(shift[0]), float(shift[1])), (float(com_y - BOX), float(com_x - BOX))


def _shifted_into_view(canvas: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """The final 28x28: ``_centre_by_mass``'s canvas moved by (dy, dx) (sub-pixel, bilinear,
    zeros coming in), computed on the 29 rows and columns that reach the view only.

    The digit fits the 20-pixel box in the middle of the view, so its centre of mass is at
    most 10 pixels from ``CENTRE`` and the shift stays inside the canvas' ``BOX`` margin.
    """
    wy, wx = int(np.floor(dy)), int(np.floor(dx))
    rows = canvas[BOX - wy - 1 : BOX - wy + SIDE]
    rows = (1 - (dy - wy)) * rows[1:] + (dy - wy) * rows[:-1]
    cols = rows[:, BOX - wx - 1 : BOX - wx + SIDE]
    view = ((1 - (dx - wx)) * cols[:, 1:] + (dx - wx) * cols[:, :-1]).astype(np.float32)
    return np.clip(view, 0.0, 1.0)


def image_to_ink(grey: np.ndarray) -> np.ndarray:
    """A grey photo or scan (0 black .. 255 white) -> ink array for ``to_mnist``.

    Dark ink on light paper is inverted; light ink on a dark background is kept. The
    background is judged by the image's border, which a digit rarely fills.
    """
    image = _as_ink(grey)
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    if np.median(border) > 0.5:
        image, border = 1.0 - image, 1.0 - border
    # Take the paper's own grey (shadows, JPEG noise) off, so it does not count as ink.
    background = float(np.median(border))
    return np.clip((image - background - 0.05) / max(1.0 - background - 0.05, 1e-6), 0.0, 1.0)


def digit_from_picture(grey: np.ndarray) -> np.ndarray:
    """A picture of one digit (0 black .. 255 white) as the 28x28 uint8 image a network
    reads. A 28x28 picture is taken as it is, its grey levels unchanged (an exported set
    comes back the same), turned light-on-dark when drawn dark on light; any other size
    goes through a drawing's preprocessing. ``ValueError`` when it is blank."""
    grey = np.asarray(grey)
    if grey.shape == (SIDE, SIDE):
        border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
        image = 255 - grey if np.median(border) > 127 else grey
        if image.max() == 0:
            raise ValueError("the picture is blank")
        return image.astype(np.uint8)
    digit = to_mnist(image_to_ink(grey))
    if digit is None:
        raise ValueError("the picture is blank")
    return np.rint(np.clip(digit, 0.0, 1.0) * 255).astype(np.uint8)
