"""The pretrained weights in weights/: they load, they are as good as promised, or fail clearly."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from digitpad.core.paths import SHIPPED_WEIGHTS_DIR
from digitpad.core.predictor import ModelSource, Predictor, WeightsError, load_first_available
from digitpad.core.preprocess import to_mnist
from digitpad.core.weights import SHIPPED


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
    cnn = predictors["cnn"]
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
    (folder / "cnn.weights.h5").unlink()
    with pytest.raises(WeightsError, match=r"cnn\.weights\.h5 is missing"):
        Predictor(ModelSource.shipped("cnn", folder))


def test_truncated_weights_file_says_which_and_what_was_expected(tmp_path):
    folder = copy_weights(tmp_path)
    path = folder / "cnn.weights.h5"
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(WeightsError) as err:
        Predictor(ModelSource.shipped("cnn", folder))
    assert "cnn.weights.h5 cannot be loaded as a cnn_deep" in str(err.value)


def test_weights_of_another_architecture_are_refused(tmp_path):
    folder = copy_weights(tmp_path)
    shutil.copyfile(folder / "mlp.weights.h5", folder / "cnn.weights.h5")
    with pytest.raises(WeightsError, match="cannot be loaded as a cnn_deep"):
        Predictor(ModelSource.shipped("cnn", folder))


def test_first_available_falls_back_and_reports(tmp_path):
    folder = copy_weights(tmp_path)
    (folder / "best.json").unlink()
    predictor, problems = load_first_available(["best", "cnn"], folder)
    assert predictor.name == "cnn"
    assert len(problems) == 1 and "best.json is missing" in problems[0]
