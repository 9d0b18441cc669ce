"""One lock around the backend's process-wide state.

``keras.backend.clear_session()`` resets TensorFlow's default graph and kernel caches for
the whole process. Run while another thread builds, traces or calls a model (the canvas
loading or using a network while a training starts or ends), it crashed the interpreter
here ("take_gil: PyMUTEX_LOCK failed"). Every such operation takes this lock; a training's
``fit`` itself does not need it, since it never runs beside a ``clear_session``.
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BACKEND_LOCK = threading.RLock()
VERBOSE_ENV = "DIGITPAD_VERBOSE"  # set (by --verbose): TensorFlow's start-up lines are shown


_frozen = False


def freeze_long_lived_objects() -> None:
    """Hide the objects alive now (modules, TensorFlow and Qt bindings) from the cyclic GC.

    After TensorFlow is imported the process tracks ~300,000 objects, and every full
    collection (``gc.collect()``, which ``clear_session`` also runs) scanned them all: 0.4 s
    holding the GIL, a visible freeze of the window at the end of each run. Frozen, the
    same collection takes milliseconds. Done once per process, right after the imports, so
    next to nothing that is garbage gets frozen with them.
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


def import_keras():
    """Import Keras (and TensorFlow) under the lock.

    Two threads importing TensorFlow at once (the canvas loading its network while a
    training starts) made it register its gradients twice and fail ("Registering two
    gradient with name 'ReduceDataset'").
    """
    start_tensorflow()
    with BACKEND_LOCK:
        import keras

    return keras


_started = False
_deterministic = False


def start_tensorflow(threads: int | None = None, deterministic: bool = True) -> None:
    """Import TensorFlow and let it find its devices, once per process, with its start-up
    lines hidden (see ``native_stderr_hidden``); ``threads`` sets its operations' threads,
    which only the first call, before any operation, can do.

    Op determinism is turned on here, for the whole process: with it, a seeded run trained
    again with the same threads and libraries on the same processor gives the same numbers
    to the last digit (``core.nets.fingerprint``). Its cost is measured in
    ``benchmarks/bench_determinism.py``, the one caller that passes ``deterministic=False``.
    """
    global _started, _deterministic
    with BACKEND_LOCK:
        if _started:
            return
        with native_stderr_hidden():
            import tensorflow as tf  # keras has no threading settings

            if threads is not None:
                try:
                    tf.config.threading.set_intra_op_parallelism_threads(max(1, threads))
                    tf.config.threading.set_inter_op_parallelism_threads(1)
                except RuntimeError:  # initialised already in this process: keep its threads
                    pass
            if deterministic:
                tf.config.experimental.enable_op_determinism()
                _deterministic = True
            tf.config.list_physical_devices()  # where CUDA is probed, and says so
        _started = True


def training_threads() -> int:
    """The threads one TensorFlow operation uses in this process (its results depend on
    it: a convolution split over two threads adds in another order than over one)."""
    start_tensorflow()
    import tensorflow as tf

    asked = tf.config.threading.get_intra_op_parallelism_threads()
    if asked:
        return asked
    # TensorFlow's default: every processor this process may run on.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def op_determinism() -> bool:
    """Whether TensorFlow's deterministic kernels are on in this process."""
    start_tensorflow()
    return _deterministic


@contextmanager
def native_stderr_hidden() -> Iterator[None]:
    """Keep what TensorFlow's C++ start-up writes to the process' stderr ("cuInit", CUDA
    stubs, oneDNN notices: noise on a computer without a GPU) off the terminal, unless
    ``$DIGITPAD_VERBOSE`` is set. It is shown after all if the start-up fails. The log
    level cannot do it: these lines are written before TensorFlow reads it."""
    if os.environ.get(VERBOSE_ENV):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        except BaseException:
            _restore(saved)
            caught.seek(0)
            sys.stderr.write(caught.read().decode(errors="replace"))
            raise
        _restore(saved)


def _restore(saved: int) -> None:
    sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)
