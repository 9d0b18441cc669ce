"""Look inside: each picture the view shows is checked against what it claims to be."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.core.data.preprocess import mnist_stages, to_mnist
from digitpad.core.inference.predictor import ModelSource, Predictor
from digitpad.core.inside.layers import Inspector, tile, tile_at
from digitpad.core.inside.saliency import (
    Method,
    SaliencyError,
    methods_for,
    occlusion,
    saliency,
    spearman,
)
from digitpad.core.nets.specs import RunSpec

SHIPPED = ("mlp", "cnn_deep", "best")


@pytest.fixture(scope="module")
def inspectors() -> dict[str, Inspector]:
    out = {}
    for name in SHIPPED:
        predictor = Predictor(ModelSource.shipped(name), engine="keras")
        out[name] = Inspector.for_spec(predictor.source.spec, predictor.keras_model())
    return out


@pytest.fixture(scope="module")
def digits(mnist) -> tuple[np.ndarray, np.ndarray]:
    """Ten test digits, one of each class, as the networks read them."""
    picks = [int(np.flatnonzero(mnist.y_test == d)[0]) for d in range(10)]
    return mnist.x_test[picks].astype(np.float32) / 255.0, mnist.y_test[picks]


def keras_layer_by_layer(model, x: np.ndarray) -> list[np.ndarray]:
    """Each layer's output, by calling the Keras layers one after the other."""
    outputs, h = [], x
    for layer in model.layers:
        h = layer(h, training=False)
        outputs.append(np.asarray(h))
    return outputs


def logits_by_hand(model, x: np.ndarray) -> np.ndarray:
    """Logits: the last hidden output times the output layer's kernel, plus its bias."""
    hidden = keras_layer_by_layer(model, x)[-2]
    output = model.layers[-1]
    return hidden @ np.asarray(output.kernel) + np.asarray(output.bias)


@pytest.mark.parametrize("name", SHIPPED)
def test_layer_outputs_are_the_keras_models_intermediate_outputs(inspectors, digits, name):
    inspector = inspectors[name]
    images, _ = digits
    for x in images[:3]:
        layers, softmax = inspector.layers(x)
        expected = keras_layer_by_layer(inspector.model, inspector.batch(x[None]))
        assert [layer.name for layer in layers] == [layer.name for layer in inspector.model.layers]
        for layer, want in zip(layers, expected, strict=True):
            np.testing.assert_allclose(layer.values, want[0], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(softmax.probabilities, expected[-1][0], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(
            softmax.logits,
            logits_by_hand(inspector.model, inspector.batch(x[None]))[0],
            rtol=1e-4,
            atol=1e-4,
        )


@pytest.mark.parametrize("name", SHIPPED)
def test_integrated_gradients_add_up_to_the_logit_difference(inspectors, mnist, name):
    inspector = inspectors[name]
    # The first 30 test digits hold a hard case for `best`: a logit difference of -0.6
    # made of large terms that cancel, which 512 steps missed by 5.5 %.
    images = mnist.x_test[:30].astype(np.float32) / 255.0
    for x in images:
        result = saliency(inspector, x, Method.INTEGRATED_GRADIENTS)
        logits = logits_by_hand(inspector.model, inspector.batch(np.stack([x, np.zeros_like(x)])))
        difference = logits[0, result.target] - logits[1, result.target]
        assert result.values.sum() == pytest.approx(difference, rel=0.02)


@pytest.mark.parametrize("name", SHIPPED)
def test_occluding_the_ink_moves_the_probability_more_than_occluding_background(
    inspectors, digits, name
):
    inspector = inspectors[name]
    images, labels = digits
    for x, label in zip(images, labels, strict=True):
        drops = occlusion(inspector, x, int(label))
        ink, blank = x > 0.5, x == 0
        # blank: pixels whose whole neighbourhood is blank, so a patch there hides nothing
        far = blank.copy()
        for dy in range(-3, 4):
            for dx in range(-3, 4):
                far &= np.roll(np.roll(blank, dy, 0), dx, 1)
        assert np.abs(drops[ink]).mean() > np.abs(drops[far]).mean()


def test_saliency_maps_of_random_weights_are_unlike_the_trained_ones(inspectors, digits):
    """The sanity check (Adebayo et al.): the same architecture with random weights must
    give a different map, or the map shows the input rather than the network."""
    images, _ = digits
    for name, inspector in inspectors.items():
        random = inspector.randomised()
        for method in methods_for(inspector):
            rhos = []
            for x in images:
                trained = saliency(inspector, x, method)
                untrained = saliency(random, x, method, trained.target)
                rhos.append(spearman(trained.values, untrained.values))
            assert np.median(rhos) < 0.5, (name, method, rhos)


def test_mlp_weight_pictures_are_the_dense_kernels_columns(inspectors):
    inspector = inspectors["mlp"]
    kernel = np.asarray(inspector.model.layers[0].kernel)  # (784, 8)
    pictures = inspector.weight_pictures()
    assert pictures.kind == "dense" and pictures.images.shape == (kernel.shape[1], 28, 28)
    for unit in range(kernel.shape[1]):
        np.testing.assert_array_equal(pictures.images[unit], kernel[:, unit].reshape(28, 28))
        # row-major: pixel (row 10, column 3) is input 10 * 28 + 3
        assert pictures.images[unit][10, 3] == kernel[10 * 28 + 3, unit]


def test_cnn_weight_pictures_are_its_first_filters(inspectors):
    inspector = inspectors["cnn_deep"]
    kernel = np.asarray(inspector.model.layers[0].kernel)  # (k, k, 1, filters)
    pictures = inspector.weight_pictures()
    assert pictures.images.shape == (kernel.shape[3], kernel.shape[0], kernel.shape[1])
    np.testing.assert_array_equal(pictures.images[5], kernel[:, :, 0, 5])


def test_grad_cam_needs_a_convolution_and_says_so(inspectors, digits):
    images, _ = digits
    assert Method.GRAD_CAM not in methods_for(inspectors["mlp"])
    with pytest.raises(SaliencyError, match="convolution"):
        saliency(inspectors["mlp"], images[0], Method.GRAD_CAM)
    cam = saliency(inspectors["cnn_deep"], images[0], Method.GRAD_CAM).values
    assert cam.shape == (28, 28) and cam.min() >= 0 and cam.max() > 0


def test_an_untrained_network_of_every_kind_can_be_inspected():
    for kind in ("mlp", "cnn", "cnn_deep", "cnn_best"):
        inspector = Inspector.for_spec(RunSpec(model=kind))
        x = np.zeros((28, 28), np.float32)
        x[5:23, 12:16] = 1.0
        layers, softmax = inspector.layers(x)
        assert layers[-1].kind == "output" and softmax.probabilities.sum() == pytest.approx(1.0)
        for method in methods_for(inspector):
            assert saliency(inspector, x, method).values.shape == (28, 28)


def test_grad_cam_weighs_the_last_maps_that_are_still_a_picture():
    for kind in ("cnn", "cnn_deep", "cnn_best"):
        inspector = Inspector.for_spec(RunSpec(model=kind))
        maps = inspector.model.layers[inspector.last_conv].output.shape
        assert min(maps[1:3]) > 1, kind  # a map to point at, not one number per channel
        later = inspector.model.layers[inspector.last_conv + 1 :]
        # Any convolution after it is down to 1x1 (no picture left to point at) ...
        assert all(
            tuple(layer.output.shape[1:3]) == (1, 1)
            for layer in later
            if type(layer).__name__ == "Conv2D"
        ), kind
        # ... and its maps are taken normalised and activated, as the next layer reads them.
        assert inspector.layer_kinds[inspector.last_conv + 1] not in ("norm", "activation")


def test_stages_map_the_drawing_onto_the_28x28_image():
    ink = np.zeros((280, 280), np.uint8)
    ink[40:230, 150:175] = 255  # a 1, right of centre
    ink[40:60, 110:175] = 255
    stages = mnist_stages(ink)
    np.testing.assert_array_equal(stages.final, to_mnist(ink))
    assert stages.box == (40, 230, 110, 175)
    rows, cols = np.nonzero(stages.final > 0.05)
    # The box's corners land on the 28x28 digit's corners (thickness changes them by a pixel).
    assert stages.rows.scale * 40 + stages.rows.offset == pytest.approx(rows.min(), abs=1.5)
    assert stages.rows.scale * 230 + stages.rows.offset == pytest.approx(rows.max() + 1, abs=1.5)
    assert stages.cols.scale * 110 + stages.cols.offset == pytest.approx(cols.min(), abs=1.5)
    assert stages.cols.scale * 175 + stages.cols.offset == pytest.approx(cols.max() + 1, abs=1.5)
    # The centre of mass moved to the centre.
    ys, _ = np.indices((28, 28))
    mass = stages.final.sum()
    assert (stages.final * ys).sum() / mass == pytest.approx(14.0, abs=0.1)
    assert stages.mass_before[1] != pytest.approx(14.0, abs=0.5)  # it was off-centre


def test_spearman_is_a_rank_correlation():
    a = np.arange(20, dtype=float)
    assert spearman(a, a**3) == pytest.approx(1.0)
    assert spearman(a, -a) == pytest.approx(-1.0)
    assert spearman(np.array([1.0, 2, 2, 3]), np.array([1.0, 2, 2, 3])) == pytest.approx(1.0)


def test_mosaic_tiles_are_found_under_the_mouse():
    images = np.arange(7 * 3 * 2, dtype=np.float32).reshape(7, 3, 2)
    mosaic = tile(images, columns=3)
    assert mosaic.shape == (3 * 4 - 1, 3 * 3 - 1)
    np.testing.assert_array_equal(mosaic[4:7, 3:5], images[4])
    assert tile_at((3, 2), 3, 5, 4) == 4
    assert tile_at((3, 2), 3, 3, 0) is None  # a gap
    assert np.isnan(mosaic[3, 0])
