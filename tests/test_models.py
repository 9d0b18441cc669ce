"""The lab's architectures, checked against the report's figures."""

from __future__ import annotations

from digitpad.core.nets.models import build_model
from digitpad.core.nets.specs import RunSpec


def layer_summary(model):
    return [
        (layer.__class__.__name__, layer.output.shape, layer.count_params())
        for layer in model.layers
    ]


def test_mlp_matches_lab_exercise_5_summary():
    model = build_model(RunSpec.for_model("mlp"))
    # Report, figure 6: dense (None, 8) 6280; dense_1 (None, 10) 90; total 6370.
    assert layer_summary(model) == [("Dense", (None, 8), 6280), ("Dense", (None, 10), 90)]
    assert model.count_params() == 6370
    assert model.loss == "categorical_crossentropy"
    assert model.optimizer.__class__.__name__ == "Adam"
    assert abs(float(model.optimizer.learning_rate) - 0.001) < 1e-9


def test_cnn_layers_and_shapes():
    model = build_model(RunSpec.for_model("cnn", kernel_size=3, neurons=128))
    assert [name for name, _, _ in layer_summary(model)] == [
        "Conv2D",
        "MaxPooling2D",
        "Dropout",
        "Flatten",
        "Dense",
        "Dense",
    ]
    conv, pool, _, flat, dense, out = layer_summary(model)
    assert conv[1] == (None, 26, 26, 8) and pool[1] == (None, 13, 13, 8)
    assert flat[1] == (None, 13 * 13 * 8)
    assert dense[2] == 13 * 13 * 8 * 128 + 128 and out[1] == (None, 10)


def test_deep_cnn_is_exercise_9():
    model = build_model(RunSpec.for_model("cnn_deep"))
    names = [name for name, _, _ in layer_summary(model)]
    assert names == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Dropout",
        "Flatten",
        "Dense",
        "Dense",
        "Dense",
    ]
    shapes = [shape for _, shape, _ in layer_summary(model)]
    assert shapes[0] == (None, 24, 24, 30) and shapes[2] == (None, 10, 10, 15)
    assert shapes[5] == (None, 5 * 5 * 15)
    assert shapes[6:] == [(None, 128), (None, 50), (None, 10)]
