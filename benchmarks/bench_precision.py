"""Time one epoch of each network kind in float32 and in bfloat16, on one core.

This is how ``auto`` was chosen per kind (``digitpad.core.nets.precision.FLOAT32_KINDS``):
each kind trains one full-MNIST epoch at the lab's settings in both precisions,
alternating (float32, bfloat16, float32, ...) so that drift on a noisy machine hits both
alike, in one process with one TensorFlow thread, as a lab worker on two cores has.
Printed per kind: median fit time of each, the speed-up float32 / bfloat16 and both
accuracies. On a processor without native bfloat16 (no ``avx512_bf16``/AMX) the
bfloat16 side is emulated and slower; the script says which it is.

    python benchmarks/bench_precision.py [--repeats 3] [--kinds mlp,cnn3,cnn9,cnn_deep]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from digitpad.core.data.mnist import load_dataset
from digitpad.core.machine.environment import cpu_flags, cpu_name
from digitpad.core.machine.keras_setup import start_tensorflow
from digitpad.core.nets.precision import native_bfloat16
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.training import train

# The lab's networks at the lab's settings, one epoch each (cnn_best: DigitPad's own).
KINDS = {
    "mlp": RunSpec.for_model("mlp", epochs=1),
    "mlp128": RunSpec.for_model("mlp", neurons=128, epochs=1),
    "cnn3": RunSpec.for_model("cnn", kernel_size=3, epochs=1),
    "cnn9": RunSpec.for_model("cnn", kernel_size=9, epochs=1),
    "cnn_deep": RunSpec.for_model("cnn_deep", epochs=1),
    "cnn_best": RunSpec.for_model("cnn_best", epochs=1),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kinds", default="mlp,mlp128,cnn3,cnn9,cnn_deep")
    parser.add_argument(
        "--threads", type=int, default=1, help="TensorFlow threads (1: a lab worker)"
    )
    args = parser.parse_args()
    start_tensorflow(args.threads)
    import keras

    native = native_bfloat16(cpu_flags(), platform.machine())
    data = load_dataset()
    print(
        f"CPU: {cpu_name()}; bfloat16 {'native' if native else 'emulated'}; "
        f"{args.threads} TensorFlow thread(s); keras {keras.__version__}; "
        f"{args.repeats} alternating repeats, medians of the fit time of one epoch\n"
    )
    for name in args.kinds.split(","):
        times: dict[str, list[float]] = {"float32": [], "bfloat16": []}
        accuracy: dict[str, list[float]] = {"float32": [], "bfloat16": []}
        for seed in range(args.repeats):
            for precision in times:
                keras.backend.clear_session()
                result = train(KINDS[name].with_changes(precision=precision, seed=seed), data)
                times[precision].append(result.convergence_time)
                accuracy[precision].append(result.test_accuracy)
        f32, bf16 = (statistics.median(times[p]) for p in ("float32", "bfloat16"))
        print(
            f"{name:9s} float32 {f32:6.2f} s  bfloat16 {bf16:6.2f} s  speed-up {f32 / bf16:4.2f}x  "
            f"accuracy {statistics.median(accuracy['float32']):.4f} / "
            f"{statistics.median(accuracy['bfloat16']):.4f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
