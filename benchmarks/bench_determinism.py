"""What TensorFlow's deterministic kernels cost: one epoch of each lab network with them
(DigitPad's way since 0.4) and without, same session, alternating.

Determinism is process-wide and set before the first operation, so every measurement is
its own process (``--one KIND on|off`` is that child). Each trains one epoch of the full
60,000 images at the lab's settings with 2 TensorFlow threads (a single run's worker on
two cores) and reports ``fit``'s wall time; the parent alternates on, off, on, ... so drift
on a noisy machine hits both alike, and prints per kind the median of each and the ratio
on / off. It also says whether two runs with the kernels on gave the same loss to the
last digit.

    python benchmarks/bench_determinism.py [--repeats 5] [--kinds mlp,cnn3,cnn_deep]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

KINDS = {
    "mlp": {"model": "mlp"},
    "mlp128": {"model": "mlp", "neurons": 128},
    "cnn3": {"model": "cnn", "kernel_size": 3},
    "cnn_deep": {"model": "cnn_deep"},
}
THREADS = 2


def one(kind: str, deterministic: bool) -> None:
    """The child: train one epoch and print its time and figures as JSON."""
    from digitpad.core.data.mnist import load_dataset
    from digitpad.core.machine.keras_setup import start_tensorflow
    from digitpad.core.nets.specs import RunSpec
    from digitpad.core.nets.training import train

    start_tensorflow(THREADS, deterministic=deterministic)
    spec = RunSpec.for_model(**KINDS[kind], epochs=1, seed=1, precision="float32")
    result = train(spec, load_dataset())
    print(
        json.dumps(
            {
                "time": result.convergence_time,
                "loss": result.history["loss"],
                "accuracy": result.test_accuracy,
                "deterministic": result.deterministic,
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--kinds", default="mlp,mlp128,cnn3,cnn_deep")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "on|off"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one[0], args.one[1] == "on")
        return 0
    from digitpad.core.machine.environment import processor_name

    print(
        f"CPU: {processor_name()}; {THREADS} TensorFlow threads; one full-MNIST epoch per "
        f"process; {args.repeats} alternating repeats; medians of fit's wall time\n"
    )
    print(f"{'kind':10} {'on (s)':>8} {'off (s)':>8} {'on/off':>7}  same loss twice (on)")
    for kind in args.kinds.split(","):
        times: dict[str, list[float]] = {"on": [], "off": []}
        losses = []
        for _ in range(args.repeats):
            for side in ("on", "off"):
                out = (
                    subprocess.run(
                        [sys.executable, __file__, "--one", kind, side],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    .stdout.strip()
                    .splitlines()[-1]
                )
                figures = json.loads(out)
                times[side].append(figures["time"])
                if side == "on":
                    losses.append(figures["loss"])
        on, off = statistics.median(times["on"]), statistics.median(times["off"])
        same = all(loss == losses[0] for loss in losses)
        print(
            f"{kind:10} {on:8.2f} {off:8.2f} {on / off:7.2f}  {'yes' if same else 'NO'}", flush=True
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
