"""How much faster a network kind trains in bfloat16 than in float32 on this processor,
measured once and remembered.

A processor that computes bfloat16 natively does not make every network faster: on an
Intel Xeon with ``avx512_bf16`` (no AMX) the lab's CNNs trained 0.78-0.95x as fast in
bfloat16 as in float32 (``benchmarks/bench_precision.py``), the casts and the element-wise
layers costing more than the convolutions gained. So ``auto`` asks this module: the first
run of a kind on a processor times a few training steps in each precision (a few seconds)
and the answer is kept in the user's cache folder, keyed by processor, TensorFlow version
and kind: a fact about the computer, shared by every data folder on it.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import platformdirs

from digitpad.core.machine.environment import cpu_name, library_versions
from digitpad.core.machine.paths import APP_NAME

SPEEDS_FILE = "precision-speed.json"
# Steps timed per precision and round. Rounds alternate float32 and bfloat16, and each
# precision keeps its fastest round: the other worker of a lab trains beside the timing,
# and a round it slowed says nothing about the format (medians of two rounds of 12 steps
# once timed exercise 9's network 1.24x faster in bfloat16 that way; a full epoch: 0.95x).
# One warm-up call first traces the step.
STEPS = 8
ROUNDS = 5


def speed_key(model: str) -> str:
    """What a measurement holds for: this processor, this TensorFlow, this kind."""
    return f"{cpu_name()} | tensorflow {library_versions()['tensorflow']} | {model}"


def measured_speedup(model: str, folder: Path | None = None, measure=None) -> float:
    """float32 time / bfloat16 time of a training step of ``model`` on this processor
    (> 1: bfloat16 is faster), from the cache folder's record or measured now and recorded.
    ``measure`` (a kind -> speed-up function) replaces the timing, for tests."""
    path = (folder or Path(platformdirs.user_cache_dir(APP_NAME))) / SPEEDS_FILE
    known = _read(path)
    key = speed_key(model)
    if key not in known:
        known[key] = round(float((measure or time_both_precisions)(model)), 3)
        _write(path, {**_read(path), key: known[key]})  # another worker may have added one
    return float(known[key])


def time_both_precisions(model: str) -> float:
    """float32 time / bfloat16 time of ``STEPS`` training steps of ``model``'s default
    network, the fastest of ``ROUNDS`` rounds each, on random images (the arithmetic does
    not depend on what the pixels show)."""
    from digitpad.core.machine.keras_setup import BACKEND_LOCK, import_keras
    from digitpad.core.nets.models import build_model, input_shape_for
    from digitpad.core.nets.precision import keras_precision
    from digitpad.core.nets.specs import RunSpec

    keras = import_keras()
    spec = RunSpec.for_model(model)
    rng = np.random.default_rng(0)
    count = STEPS * spec.batch_size
    x = rng.random((count, *input_shape_for(model)), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, count)]
    networks = {}
    for precision in ("float32", "bfloat16"):
        with BACKEND_LOCK, keras_precision(precision):
            network = build_model(spec.with_changes(augment=False))
            network.fit(x[: spec.batch_size], y[: spec.batch_size], verbose=0)  # traced
        networks[precision] = network
    times: dict[str, list[float]] = {"float32": [], "bfloat16": []}
    for _ in range(ROUNDS):
        for precision, network in networks.items():
            started = time.perf_counter()
            network.fit(x, y, batch_size=spec.batch_size, epochs=1, verbose=0)
            times[precision].append(time.perf_counter() - started)
    with BACKEND_LOCK:
        keras.backend.clear_session(free_memory=False)
    return min(times["float32"]) / min(times["bfloat16"])


def _read(path: Path) -> dict[str, float]:
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: measure again
    if not isinstance(known, dict):
        return {}
    return {k: v for k, v in known.items() if isinstance(v, (int, float))}


def _write(path: Path, known: dict[str, float]) -> None:
    """Replace the record in one step (two workers may write it at once); a folder that
    cannot be written only means measuring again next time."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".precision-speed-")
        with os.fdopen(fd, "w") as out:
            json.dump(known, out, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
