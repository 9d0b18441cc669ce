"""One lock around the backend's process-wide state.

``keras.backend.clear_session()`` resets TensorFlow's default graph and kernel caches for
the whole process. Run while another thread builds, traces or calls a model (the canvas
loading or using a network while a training starts or ends), it crashed the interpreter
here ("take_gil: PyMUTEX_LOCK failed"). Every such operation takes this lock; a training's
``fit`` itself does not need it, since it never runs beside a ``clear_session``.
"""

from __future__ import annotations

import threading

BACKEND_LOCK = threading.RLock()
