"""RunSpec: lab defaults, validation messages, JSON round trip."""

from __future__ import annotations

import pytest

from digitpad.core.nets.specs import RunSpec, problems_of


def test_lab_defaults_per_model_kind():
    assert RunSpec.for_model("mlp") == RunSpec(model="mlp", neurons=8, epochs=10, batch_size=200)
    cnn = RunSpec.for_model("cnn")
    assert (cnn.filters, cnn.kernel_size, cnn.neurons, cnn.batch_size) == (8, 3, 128, 200)
    deep = RunSpec.for_model("cnn_deep")
    assert (deep.filters, deep.kernel_size, deep.neurons, deep.epochs) == (30, 5, 128, 10)


@pytest.mark.parametrize(
    ("changes", "field", "hint"),
    [
        ({"neurons": 0}, "neurons", "from 1 to"),
        ({"batch_size": 0}, "batch_size", "from 1 to 60000"),
        ({"batch_size": 60001}, "batch_size", "from 1 to 60000"),
        ({"batch_size": 600, "train_limit": 500}, "batch_size", "from 1 to 500"),
        ({"epochs": 0}, "epochs", "from 1 to"),
        ({"model": "cnn", "kernel_size": 0}, "kernel_size", "from 1 to 27"),
        ({"model": "cnn", "kernel_size": 29}, "kernel_size", "from 1 to 27"),
        ({"model": "cnn_deep", "kernel_size": 22}, "kernel_size", "from 1 to 21"),
        ({"model": "transformer"}, "model", "mlp, cnn, cnn_deep"),
        ({"metric": "f1"}, "metric", "accuracy, mse"),
        ({"learning_rate": -1.0}, "learning_rate", "(0, 10]"),
        ({"dropout": 1.0}, "dropout", "[0, 1)"),
        ({"train_limit": 0}, "train_limit", "from 1 to 60000"),
        ({"neurons": 2.5}, "neurons", "whole number"),
    ],
)
def test_bad_values_name_the_field_and_the_range(changes, field, hint):
    with pytest.raises(ValueError) as err:
        RunSpec(**changes)
    assert field in str(err.value) and hint in str(err.value)
    assert problems_of(changes)  # the GUI's non-raising check agrees


def test_every_problem_is_reported_at_once():
    problems = problems_of({"neurons": 0, "epochs": 0, "metric": "f1"})
    assert len(problems) == 3


def test_largest_kernel_is_accepted_and_builds():
    from digitpad.core.nets.models import build_model

    for kind, k in (("cnn", 27), ("cnn_deep", 21)):
        model = build_model(RunSpec.for_model(kind, kernel_size=k))
        assert model.output_shape == (None, 10)


def test_json_round_trip():
    spec = RunSpec.for_model("cnn", kernel_size=7, learning_rate=0.01, seed=42, train_limit=2000)
    assert RunSpec.from_json(spec.to_json()) == spec


def test_unknown_json_field_is_refused():
    with pytest.raises(ValueError, match="unknown RunSpec field"):
        RunSpec.from_dict({"model": "mlp", "neuronz": 8})
