"""The pretrained weights in weights/: they load, they are as good as promised, or fail clearly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from digitpad.core.data.preprocess import to_mnist
from digitpad.core.inference.predictor import (
    ModelSource,
    Predictor,
    WeightsError,
    file_sha256,
    load_first_available,
)
from digitpad.core.inference.weights import SHIPPED, export_litert
from digitpad.core.machine.paths import SHIPPED_WEIGHTS_DIR


@pytest.fixture(scope="module")
def predictors():
    return {name: Predictor(ModelSource.shipped(name)) for name in SHIPPED}


@pytest.mark.parametrize("name", list(SHIPPED))
def test_shipped_model_meets_its_accuracy_on_the_whole_test_set(name, predictors, mnist):
    info = json.loads((SHIPPED_WEIGHTS_DIR / f"{name}.json").read_text())
    probs = predictors[name].predict_batch(mnist.x_test.astype(np.float32) / 255)
    accuracy = float(np.mean(probs.argmax(1) == mnist.y_test))
    assert accuracy >= SHIPPED[name].min_accuracy
    assert accuracy == pytest.approx(info["test_accuracy"], abs=2e-4)  # what its JSON claims
    assert info["data_sha256"] == mnist.sha256 and info["spec"] == SHIPPED[name].spec.to_dict()


def test_single_image_path_matches_the_batch_path(predictors, mnist):
    x = mnist.x_test[:8].astype(np.float32) / 255
    for predictor in predictors.values():
        batch = predictor.predict_batch(x)
        one = np.stack([predictor.predict(img) for img in x])
        assert np.allclose(batch, one, atol=1e-5)
        assert np.allclose(one.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("name", list(SHIPPED))
def test_fast_engine_reads_like_keras(name, predictors, mnist):
    fast = predictors[name]
    assert fast.engine == "litert", fast.notes
    keras_path = Predictor(ModelSource.shipped(name), engine="keras")
    x = mnist.x_test[:2000].astype(np.float32) / 255
    expected = keras_path.predict_batch(x)
    got = fast.predict_batch(x)
    assert np.abs(got - expected).max() <= 1e-4
    assert np.array_equal(got.argmax(1), expected.argmax(1))


def test_canvas_engine_needs_no_tensorflow():
    """The drawing pad is ready without TensorFlow's multi-second import."""
    code = (
        "import sys, numpy as np\n"
        "from digitpad.core.inference.predictor import ModelSource, Predictor\n"
        "p = Predictor(ModelSource.shipped('best'))\n"
        "probs = p.predict(np.zeros((28, 28), np.float32))\n"
        "print(p.engine, round(float(probs.sum()), 4), 'tensorflow' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=240
    )
    assert out.stdout.split() == ["litert", "1.0", "False"]


def test_lab_code_loads_the_mlp_weights_and_reads_the_first_five_test_images(mnist):
    # Lab exercise 5, written the lab's way.
    import keras
    from keras import layers

    model = keras.models.Sequential()
    model.add(keras.Input(shape=(784,)))
    model.add(layers.Dense(8, kernel_initializer="normal", activation="relu"))
    model.add(layers.Dense(10, kernel_initializer="normal", activation="softmax"))
    model.load_weights(str(SHIPPED_WEIGHTS_DIR / "mlp.weights.h5"))
    images = mnist.x_test[:5].reshape(5, 784).astype("float32") / 255
    predicted = model.predict(images, verbose=0).argmax(axis=1)
    assert list(predicted) == [7, 2, 1, 0, 4]


def test_drawn_size_mnist_round_trip_costs_at_most_half_a_point(predictors, mnist):
    """MNIST test digits scaled 10x to canvas size, then back through to_mnist."""
    n = 2000
    cnn = predictors["cnn_deep"]
    originals = mnist.x_test[:n].astype(np.float32) / 255
    redrawn = np.stack(
        [to_mnist(np.kron(img, np.ones((10, 10), np.uint8))) for img in mnist.x_test[:n]]
    )
    labels = mnist.y_test[:n]
    direct = np.mean(cnn.predict_batch(originals).argmax(1) == labels)
    round_trip = np.mean(cnn.predict_batch(redrawn).argmax(1) == labels)
    assert round_trip >= direct - 0.005, (direct, round_trip)


def copy_weights(tmp_path):
    folder = tmp_path / "weights"
    shutil.copytree(SHIPPED_WEIGHTS_DIR, folder)
    return folder


def test_missing_weights_file_is_named(tmp_path):
    folder = copy_weights(tmp_path)
    (folder / "cnn_deep.weights.h5").unlink()
    with pytest.raises(WeightsError, match=r"cnn_deep\.weights\.h5 is missing"):
        Predictor(ModelSource.shipped("cnn_deep", folder))


def unrecorded(source: ModelSource) -> ModelSource:
    """``source`` without the checksums a shipped network records (as a run's network)."""
    return replace(source, weights_sha256=None, litert=None)


def test_truncated_weights_file_says_which_and_what_was_expected(tmp_path):
    folder = copy_weights(tmp_path)
    path = folder / "cnn_deep.weights.h5"
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(WeightsError) as err:
        Predictor(unrecorded(ModelSource.shipped("cnn_deep", folder)))
    assert "cnn_deep.weights.h5 cannot be loaded as a cnn_deep" in str(err.value)


def test_weights_of_another_architecture_are_refused(tmp_path):
    folder = copy_weights(tmp_path)
    shutil.copyfile(folder / "mlp.weights.h5", folder / "cnn_deep.weights.h5")
    with pytest.raises(WeightsError, match="cannot be loaded as a cnn_deep"):
        Predictor(unrecorded(ModelSource.shipped("cnn_deep", folder)))


def flip_bytes(path, count: int = 20) -> None:
    """Flip ``count`` bytes spread over the middle of a file (a bad copy, a failing disk)."""
    data = bytearray(path.read_bytes())
    for i in np.linspace(len(data) // 4, 3 * len(data) // 4, count).astype(int):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_shipped_litert_file_with_flipped_bytes_is_not_used(tmp_path, mnist):
    folder = copy_weights(tmp_path)
    flip_bytes(folder / "mlp.tflite")
    predictor = Predictor(ModelSource.shipped("mlp", folder))
    assert predictor.engine == "keras"
    assert "mlp.tflite is damaged" in predictor.notes[0] and "reinstall" in predictor.notes[0]
    x = mnist.x_test[:1000].astype(np.float32) / 255
    assert np.mean(predictor.predict_batch(x).argmax(1) == mnist.y_test[:1000]) > 0.88


def test_shipped_weights_with_flipped_bytes_are_refused_and_the_next_network_used(tmp_path):
    folder = copy_weights(tmp_path)
    flip_bytes(folder / "best.weights.h5")
    with pytest.raises(WeightsError, match=r"best\.weights\.h5 is damaged"):
        Predictor(ModelSource.shipped("best", folder))
    predictor, problems = load_first_available(["best", "cnn_deep"], folder)
    assert predictor.name == "cnn_deep" and "is damaged" in problems[0]


def test_first_available_falls_back_and_reports(tmp_path):
    folder = copy_weights(tmp_path)
    (folder / "best.json").unlink()
    predictor, problems = load_first_available(["best", "cnn_deep"], folder)
    assert predictor.name == "cnn_deep"
    assert len(problems) == 1 and "best.json is missing" in problems[0]


def test_damaged_litert_file_falls_back_to_keras_and_says_so(tmp_path, mnist):
    folder = copy_weights(tmp_path)
    path = folder / "cnn_deep.tflite"
    path.write_bytes(path.read_bytes()[:5000])
    predictor = Predictor(ModelSource.shipped("cnn_deep", folder))
    assert predictor.engine == "keras"
    assert "cnn_deep.tflite is damaged" in predictor.notes[0]
    x = mnist.x_test[:200].astype(np.float32) / 255
    assert np.mean(predictor.predict_batch(x).argmax(1) == mnist.y_test[:200]) > 0.97


def test_export_from_other_weights_is_not_used(tmp_path):
    folder = copy_weights(tmp_path)
    retrained = Predictor(ModelSource.shipped("mlp", folder), engine="keras").keras_model()
    retrained.layers[0].kernel.assign(retrained.layers[0].kernel * 0.5)
    retrained.save_weights(folder / "mlp.weights.h5")  # as if retrained, export not redone
    info = json.loads((folder / "mlp.json").read_text())
    info["weights_sha256"] = file_sha256(folder / "mlp.weights.h5")  # as build-weights does
    (folder / "mlp.json").write_text(json.dumps(info))
    predictor = Predictor(ModelSource.shipped("mlp", folder))
    assert predictor.engine == "keras"
    assert "exported from other weights" in predictor.notes[0]
    assert "build-weights --export-only" in predictor.notes[0]


def test_export_rewrites_the_litert_file_and_records_its_origin(tmp_path, mnist):
    folder = copy_weights(tmp_path)
    (folder / "mlp.tflite").unlink()
    info = export_litert("mlp", mnist, folder)
    assert (folder / "mlp.tflite").stat().st_size > 0
    assert info["litert"]["max_gap_vs_keras"] <= 1e-4
    predictor = Predictor(ModelSource.shipped("mlp", folder))
    assert predictor.engine == "litert"
    assert predictor.predict(mnist.x_test[0] / 255).argmax() == mnist.y_test[0]
