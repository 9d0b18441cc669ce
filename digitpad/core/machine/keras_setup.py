"""One lock around the backend's process-wide state.

``keras.backend.clear_session()`` resets TensorFlow's default graph and kernel caches for
the whole process. Run while another thread builds, traces or calls a model (the canvas
loading or using a network while a training starts or ends), it crashed the interpreter
here ("take_gil: PyMUTEX_LOCK failed"). Every such operation takes this lock; a training's
``fit`` itself does not need it, since it never runs beside a ``clear_session``.
"""

from __future__ import annotations

import gc
import threading

BACKEND_LOCK = threading.RLock()


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
    with BACKEND_LOCK:
        import keras

    return keras
