"""The number format a run trains in: float32, or bfloat16 where the processor computes it
natively (Keras' ``mixed_bfloat16``: layers compute in bfloat16, weights and the output
layer stay float32, so saved networks are the same float32 files).

``auto`` is decided by the process that trains (a local worker, or a Dask worker on its
own processor), by the processor's flags and by a once-per-processor measurement of each
kind's speed in both formats (``precision_speed``); the run records what it used.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from digitpad.core.machine.environment import cpu_flags

PRECISIONS = ("auto", "float32", "bfloat16")
PRECISION_ENV = "DIGITPAD_PRECISION"  # the default of --precision and the Train form
# What the choice does: --precision's help and the Train form's tip.
PRECISION_HELP = (
    "number format to train in: bfloat16 can be faster where the processor computes it "
    "(AVX512-BF16, AMX, ARM BF16), and is emulated, slower, elsewhere; auto (the default, "
    f"or ${PRECISION_ENV}) picks it for a CNN only where it is native and a few seconds' "
    "timing, once per processor, found it faster, else float32; each worker decides for its "
    "processor, and the run records what it used"
)
# Keras' policy for each precision a run can use.
KERAS_POLICY = {"float32": "float32", "bfloat16": "mixed_bfloat16"}
# Kinds whose steps are too small for bfloat16 to pay: the MLP's layers are overhead-bound
# (one epoch of the lab's MLP: 0.88-1.11x in bfloat16 on a Xeon with avx512_bf16, noise
# either way); auto keeps them float32 without measuring.
FLOAT32_KINDS = ("mlp",)
# How much faster a kind must train in bfloat16, as measured here, for auto to choose it:
# a margin over the noise of a few seconds' timing beside another training (kinds 0.9-0.95x
# in bfloat16 over whole epochs timed up to 1.13x that way on an Intel Xeon); where
# bfloat16 really pays, it is 1.5-2x.
MIN_SPEEDUP = 1.3


def native_bfloat16(flags: set[str], machine: str) -> bool:
    """Whether the processor computes bfloat16 itself: AVX512-BF16 or AMX on x86, the
    BF16 extension on ARM. Elsewhere bfloat16 is emulated, and slower than float32."""
    if machine.lower() in ("x86_64", "amd64"):
        return bool({"avx512_bf16", "amx_bf16"} & flags)
    if machine.lower() in ("aarch64", "arm64"):
        return "bf16" in flags
    return False


def resolve(
    asked: str,
    model: str,
    flags: set[str] | None = None,
    machine: str | None = None,
    speedup: Callable[[str], float] | None = None,
) -> str:
    """What a run asking for ``asked`` trains in on this processor: ``float32`` or
    ``bfloat16``. ``auto`` picks bfloat16 for a CNN only where the processor computes it
    natively *and* the kind was measured to train at least ``MIN_SPEEDUP`` times faster in
    it here (``speedup``: kind -> float32 time / bfloat16 time, measured once per processor
    by ``precision_speed``); nothing is measured where bfloat16 is not native."""
    if asked not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {asked!r}")
    if asked != "auto":
        return asked
    flags = cpu_flags() if flags is None else flags
    machine = platform.machine() if machine is None else machine
    if model in FLOAT32_KINDS or not native_bfloat16(flags, machine):
        return "float32"
    if speedup is None:
        from digitpad.core.nets.precision_speed import measured_speedup as speedup
    try:
        faster = speedup(model) >= MIN_SPEEDUP
    except Exception:  # a failed measurement must not fail the run: the safe choice
        faster = False
    return "bfloat16" if faster else "float32"


def default_precision() -> str:
    """``$DIGITPAD_PRECISION`` when it names a precision, else ``auto``."""
    given = os.environ.get(PRECISION_ENV, "").strip().lower()
    return given if given in PRECISIONS else "auto"


@contextmanager
def keras_precision(used: str) -> Iterator[None]:
    """Build and train in ``used`` (from ``resolve``); float32 again afterwards, since a
    worker trains many runs in one process."""
    import keras

    keras.mixed_precision.set_global_policy(KERAS_POLICY[used])
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")
