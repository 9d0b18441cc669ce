"""The machine a run trains on: library versions, device, host and process."""

from __future__ import annotations

import os
import platform
import socket
from pathlib import Path

from digitpad.core.machine.keras_setup import start_tensorflow


def library_versions() -> dict[str, str]:
    from importlib import metadata  # imported here: it costs 50 ms at start-up

    out = {"python": platform.python_version()}
    for name in ("tensorflow", "keras", "numpy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def device_name() -> str:
    """``"GPU: <name>"`` when TensorFlow sees a GPU, else ``"CPU (<n> cores)"``."""
    start_tensorflow()  # its start-up lines hidden
    import tensorflow as tf  # keras has no public device query

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return "GPU: " + ", ".join(g.name for g in gpus)
    return f"CPU ({os.cpu_count()} cores)"


def host_name() -> str:
    """This machine's name, as the run store records it."""
    return socket.gethostname()


def cpu_name() -> str:
    """The processor's model name (Linux: /proc/cpuinfo), for benchmark and lab reports."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
