"""to_mnist(): the MNIST recipe applied to drawings and pictures."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.core.data.preprocess import (
    area_resize,
    image_to_ink,
    stroke_width,
    to_mnist,
)


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(img.shape)
    return float((img * ys).sum() / img.sum()), float((img * xs).sum() / img.sum())


def ink_box(img: np.ndarray, floor: float = 0.05) -> tuple[int, int]:
    rows = np.flatnonzero(img.max(axis=1) > floor)
    cols = np.flatnonzero(img.max(axis=0) > floor)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def bar(h=280, w=280, top=40, left=130, height=200, width=20) -> np.ndarray:
    ink = np.zeros((h, w), np.uint8)
    ink[top : top + height, left : left + width] = 255
    return ink


def test_empty_drawing_gives_none():
    assert to_mnist(np.zeros((280, 280))) is None
    assert to_mnist(np.zeros((0, 0))) is None


def test_output_is_mnist_shaped_and_centred_by_mass():
    ink = np.zeros((280, 280), np.uint8)
    ink[10:90, 190:270] = 255  # a small blob in a corner, off-centre
    out = to_mnist(ink)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() == pytest.approx(1.0)
    cy, cx = centre_of_mass(out)
    assert cy == pytest.approx(14.0, abs=0.15) and cx == pytest.approx(14.0, abs=0.15)


def test_longer_side_fits_the_20_pixel_box_keeping_aspect_ratio():
    out = to_mnist(bar(height=200, width=40))
    h, w = ink_box(out)
    assert 19 <= h <= 21  # MNIST's 20x20 box, give or take anti-aliased edges
    assert w <= 8  # a thin tall bar stays thin: the aspect ratio is kept


def test_same_shape_at_any_size_and_place_gives_the_same_image():
    big = np.zeros((280, 280), np.uint8)
    big[20:260, 60:220] = 255
    big[60:220, 100:180] = 0  # a thick ring
    small = np.zeros((280, 280), np.uint8)
    small[200:260, 10:50] = 255
    small[210:250, 20:40] = 0  # the same ring, 4x smaller, in a corner
    a, b = to_mnist(big), to_mnist(small)
    assert np.abs(a - b).mean() < 0.05


def test_faint_ink_is_brought_to_full_contrast():
    strong = to_mnist(bar())
    faint = to_mnist((bar() * 0.15).astype(np.uint8))
    assert np.abs(strong - faint).max() < 0.05


def test_hairline_strokes_are_thickened_to_mnist_width():
    ink = np.zeros((280, 280), np.uint8)
    ink[20:260, 139:141] = 255  # a 2-pixel line on a 280 canvas: 0.17 px at 20 px scale
    ink[20:22, 60:141] = 255
    out = to_mnist(ink)
    assert stroke_width(out) >= 1.5


def test_fat_strokes_are_thinned_but_not_erased():
    ink = np.zeros((280, 280), np.uint8)
    ink[20:260, 80:200] = 255  # a bar as wide as half its height
    out = to_mnist(ink)
    assert out.sum() > 20  # still there


def test_mnist_digit_scaled_up_comes_back_close(mnist):
    for i in range(20):
        original = mnist.x_test[i].astype(np.float32) / 255
        canvas = np.kron(mnist.x_test[i], np.ones((10, 10), np.uint8))
        back = to_mnist(canvas)
        assert np.abs(back - original).mean() < 0.08, i


def test_area_resize_keeps_the_mean_intensity():
    rng = np.random.default_rng(1)
    img = rng.random((97, 61)).astype(np.float32)
    for shape in ((20, 13), (40, 25), (200, 130)):
        assert area_resize(img, *shape).mean() == pytest.approx(img.mean(), rel=1e-4)


@pytest.mark.parametrize(
    "bad",
    [np.zeros((28, 28, 3)), np.zeros(10), np.array([["a", "b"], ["c", "d"]])],
)
def test_bad_arrays_are_refused_with_a_clear_message(bad):
    with pytest.raises(ValueError, match="a drawing must"):
        to_mnist(bad)


def test_nan_and_inf_count_as_background():
    ink = bar().astype(np.float64)
    ink[0:5, 0:5] = np.nan
    ink[270:, 270:] = np.inf
    assert np.allclose(to_mnist(ink), to_mnist(bar()), atol=1e-6)


def test_dark_ink_on_paper_is_inverted_and_light_ink_kept():
    paper = np.full((100, 100), 235, np.uint8)
    paper[20:80, 45:55] = 20  # dark pen
    ink = image_to_ink(paper)
    assert ink[50, 50] > 0.9 and ink[5, 5] == 0.0
    board = 255 - paper  # chalk on a blackboard
    assert np.allclose(image_to_ink(board), ink, atol=0.02)


def test_the_final_shift_moves_the_digit_by_the_sub_pixel_offset():
    """The 28x28 the network reads is the centred canvas moved by (dy, dx) with bilinear
    interpolation, for any shift the canvas' margin allows (here defined with np.roll)."""
    from digitpad.core.data.preprocess import BOX, SIDE, _shifted_into_view

    def moved(image, dy, dx):
        out = image.astype(np.float64)
        for axis, d in ((0, dy), (1, dx)):
            whole = int(np.floor(d))
            out = (1 - (d - whole)) * np.roll(out, whole, axis) + (d - whole) * np.roll(
                out, whole + 1, axis
            )
        return np.clip(out[BOX : BOX + SIDE, BOX : BOX + SIDE], 0, 1)

    rng = np.random.default_rng(3)
    for dy, dx in [*rng.uniform(-BOX + 0.01, BOX - 1.01, (200, 2)), (0.0, 0.0), (-3.0, 5.0)]:
        canvas = np.zeros((SIDE + 2 * BOX, SIDE + 2 * BOX), np.float32)
        canvas[BOX : BOX + SIDE, BOX : BOX + SIDE] = rng.random((SIDE, SIDE))
        got = _shifted_into_view(canvas, float(dy), float(dx))
        assert got.shape == (SIDE, SIDE) and got.dtype == np.float32
        np.testing.assert_allclose(got, moved(canvas, dy, dx), atol=1e-5)
