"""Memory over many runs: 30 small runs in a row, resident memory after each.

``--where here`` trains in this process through ``run_and_record`` (the CLI's path);
``--where child`` (the default) sends the runs to a ``TrainerProcess``, as the window does,
and prints this process' memory and the child's. Runs alternate the MLP and the CNN on a
small subset. Prints the memory after every run, then the average growth per run after
the first five (target: under 2 MiB a run).

    python benchmarks/bench_soak.py [--where child|here] [--runs 30] [--train-limit 2000]
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
from digitpad.core.trainer_process import TrainerProcess

WARM_UP = 5


def rss_mib() -> float:
    """Resident set size now, in MiB (Linux: /proc; elsewhere the peak, as a bound)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_of(pid: int) -> float:
    """Resident set size of another process, in MiB (Linux only; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def growth(memory: list[float]) -> str:
    later = np.diff(memory[WARM_UP - 1 :])
    return (
        f"mean {later.mean():.2f} MiB, median {np.median(later):.2f} MiB "
        f"(total {memory[-1] - memory[WARM_UP - 1]:.1f} MiB over {len(later)} runs)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--where", choices=("child", "here"), default="child")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--train-limit", type=int, default=2000)
    args = parser.parse_args()
    data = load_dataset()
    folder = tempfile.mkdtemp(prefix="digitpad-soak-")
    store = RunStore(folder)
    trainer = TrainerProcess(folder) if args.where == "child" else None
    kinds = ("mlp", "cnn")
    memory, child_memory = [], []
    try:
        for i in range(args.runs):
            spec = RunSpec.for_model(
                kinds[i % 2], epochs=1, train_limit=args.train_limit, seed=i, neurons=16 + i
            )
            if trainer is None:
                status = run_and_record(spec, data, store).status
            else:
                events = list(trainer.run_job([spec], None, data))
                status = next((p.status for k, p in events if k == "finished"), "lost")
                child_memory.append(rss_of(trainer.pid() or 0))
            memory.append(rss_mib())
            line = f"run {i + 1:3d} {spec.model:4s} {status:5s} RSS {memory[-1]:8.1f} MiB"
            if child_memory:
                line += f"   trainer process {child_memory[-1]:8.1f} MiB"
            print(line, flush=True)
    finally:
        if trainer is not None:
            trainer.close()
    who = "this process" if trainer is None else "the window's side (this process)"
    print(f"growth per run after the first {WARM_UP}, {who}: {growth(memory)}")
    if child_memory:
        print(f"growth per run after the first {WARM_UP}, trainer process: {growth(child_memory)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
