"""Turn a drawing into the 28x28 image a network trained on MNIST expects.

MNIST's recipe (LeCun et al.): the digit is scaled to fit a 20x20 box keeping its aspect
ratio, with anti-aliasing (grey levels), then placed in 28x28 so that its intensity-weighted
centre of mass sits at the centre. We follow it, and also bring stroke thickness and
contrast into MNIST's range, since a pen on a canvas can be far thinner, thicker or fainter
than the pens that wrote MNIST.
"""

from __future__ import annotations

import functools

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
    array = _checked(ink)
    if array.dtype.kind == "f":
        array = np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)
    peak = float(array.max()) if array.size else 0.0
    if peak <= 0:
        return None
    # Crop before converting: the canvas is mostly empty, and this runs on every stroke.
    rows = np.flatnonzero(array.max(axis=1) > INK_FLOOR * peak)
    cols = np.flatnonzero(array.max(axis=0) > INK_FLOOR * peak)
    crop = array[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32)
    crop *= 1.0 / peak  # faint pens get full contrast, like MNIST's saturated strokes
    np.clip(crop, 0.0, 1.0, out=crop)
    work = area_resize_to_fit(crop, WORK)
    work = _normalise_thickness(work)
    digit = area_resize_to_fit(_crop(work), BOX)
    digit /= max(float(digit.max()), 1e-6)
    return _centre_by_mass(digit)


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


def _crop(image: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(image.max(axis=1) > INK_FLOOR)
    cols = np.flatnonzero(image.max(axis=0) > INK_FLOOR)
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


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


def _normalise_thickness(work: np.ndarray, max_steps: int = 4) -> np.ndarray:
    """Grow thin strokes and thin fat ones, half a final pixel per side per step."""
    for _ in range(max_steps):
        width = stroke_width(work)
        if width < MIN_WIDTH:
            work = _grey_morph(np.pad(work, 1), np.maximum)
        elif width > MAX_WIDTH:
            thinner = _grey_morph(work, np.minimum)
            if (thinner > 0.5).sum() < 0.25 * (work > 0.5).sum():
                break  # a blob: thinning would erase the digit rather than shape it
            work = thinner
        else:
            break
    return work


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


def _centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place ``digit`` in 28x28 with its centre of mass at ``CENTRE`` (sub-pixel, bilinear)."""
    h, w = digit.shape
    canvas = np.zeros((SIDE + 2 * BOX, SIDE + 2 * BOX), np.float32)  # room to shift
    top, left = BOX + (SIDE - h) // 2, BOX + (SIDE - w) // 2
    canvas[top : top + h, left : left + w] = digit
    mass = canvas.sum()
    ys, xs = np.indices(canvas.shape)
    com_y, com_x = (canvas * ys).sum() / mass, (canvas * xs).sum() / mass
    dy, dx = CENTRE[0] + BOX - com_y, CENTRE[1] + BOX - com_x
    shifted = _shift(canvas, dy, dx)
    return np.clip(shifted[BOX : BOX + SIDE, BOX : BOX + SIDE], 0.0, 1.0)


def _shift(image: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """Translate by a fractional offset with bilinear interpolation (zeros come in)."""
    out = image
    for axis, d in ((0, dy), (1, dx)):
        whole = int(np.floor(d))
        frac = d - whole
        moved = np.roll(out, whole, axis=axis)
        nxt = np.roll(out, whole + 1, axis=axis)
        out = (1 - frac) * moved + frac * nxt
    return out.astype(np.float32)


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
