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


# Instruction sets that change which kernels TensorFlow's oneDNN picks, so its float sums.
_KERNEL_FLAGS = ("amx_bf16", "avx512_bf16", "avx512f", "avx2")


def processor_name() -> str:
    """The processor as a run's fingerprint records it: its model name and the widest
    instruction set TensorFlow's kernels use there (``Intel Xeon (avx512_bf16)``)."""
    flags = cpu_flags()
    widest = next((flag for flag in _KERNEL_FLAGS if flag in flags), platform.machine())
    return f"{cpu_name()} ({widest})"


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The processor's feature flags (Linux: /proc/cpuinfo's ``flags``, or ``Features``
    on ARM); empty where they cannot be read."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return set()
    for line in cpuinfo.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("flags", "Features"):
            return set(value.split())
    return set()
