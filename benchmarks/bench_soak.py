"""Memory over many runs in one process: 30 small runs in a row, RSS after each.

Trains through ``run_and_record`` (the path the window and the CLI take), alternating the
MLP and the CNN on a small subset, and prints the resident memory after every run, then
the average growth per run after the first five (target: under 2 MiB a run).

    python benchmarks/bench_soak.py [--runs 30] [--train-limit 2000]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from digitpad.core.data import load_dataset
from digitpad.core.runner import run_and_record
from digitpad.core.runs import RunStore
from digitpad.core.specs import RunSpec

WARM_UP = 5


def rss_mib() -> float:
    """Resident set size now, in MiB (Linux: /proc; elsewhere the peak, as a bound)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--train-limit", type=int, default=2000)
    args = parser.parse_args()
    data = load_dataset()
    store = RunStore(tempfile.mkdtemp(prefix="digitpad-soak-"))
    kinds = ("mlp", "cnn")
    memory = []
    for i in range(args.runs):
        spec = RunSpec.for_model(
            kinds[i % 2], epochs=1, train_limit=args.train_limit, seed=i, neurons=16 + i
        )
        record = run_and_record(spec, data, store)
        memory.append(rss_mib())
        print(f"run {i + 1:3d} {spec.model:4s} {record.status:5s} RSS {memory[-1]:8.1f} MiB")
    later = np.diff(memory[WARM_UP - 1 :])
    print(
        f"growth per run after the first {WARM_UP}: mean {later.mean():.2f} MiB, "
        f"median {np.median(later):.2f} MiB (total {memory[-1] - memory[WARM_UP - 1]:.1f} MiB "
        f"over {len(later)} runs)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
