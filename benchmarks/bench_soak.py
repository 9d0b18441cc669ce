"""Memory over many runs: a 30-run sweep, resident memory after each run.

``--where cli`` (the default) runs ``digitpad sweep`` as a user would, in its own process,
and reads that process' memory each time it prints a finished run (and its workers'
memory). ``--where engine`` drives the engine from this process, as the window does.
Prints the memory after every run, then the average growth per run after the first five
(target: at most 1 MiB a run for the process that asked for the trainings).

    python benchmarks/bench_soak.py [--where cli|engine] [--runs 30] [--train-limit 2000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

WARM_UP = 5


def rss_of(pid: int) -> float:
    """Resident set size of a process, in MiB (Linux: /proc)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(") ")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def growth(memory: list[float]) -> str:
    later = np.diff(memory[WARM_UP - 1 :])
    return (
        f"mean {later.mean():.2f} MiB, median {np.median(later):.2f} MiB "
        f"(total {memory[-1] - memory[WARM_UP - 1]:.1f} MiB over {len(later)} runs)"
    )


def values(runs: int) -> str:
    return ",".join(str(16 + i) for i in range(runs))


def soak_cli(args) -> tuple[list[float], list[float]]:
    env = {**os.environ, "DIGITPAD_HOME": tempfile.mkdtemp(prefix="digitpad-soak-")}
    argv = [sys.executable, "-m", "digitpad", "sweep", "--param", "neurons"]
    argv += ["--values", values(args.runs), "--epochs", "1", "--train-limit"]
    argv += [str(args.train_limit)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)
    memory, workers = [], []
    for line in proc.stdout:
        if line.startswith("  run ") and ":" in line:
            memory.append(rss_of(proc.pid))
            workers.append(sum(rss_of(child) for child in children_of(proc.pid)))
            print(
                f"run {len(memory):3d}  CLI process {memory[-1]:7.1f} MiB   "
                f"its workers {workers[-1]:8.1f} MiB   {line.strip()[:60]}",
                flush=True,
            )
    proc.wait()
    return memory, workers


def soak_engine(args) -> tuple[list[float], list[float]]:
    from digitpad.core.data.mnist import load_dataset
    from digitpad.core.engine import Engine, Job, RunFinished
    from digitpad.core.lab.sweeps import custom_sweep
    from digitpad.core.nets.specs import RunSpec
    from digitpad.core.store.runs import RunStore

    data = load_dataset()
    engine = Engine(RunStore(tempfile.mkdtemp(prefix="digitpad-soak-")))
    base = RunSpec(epochs=1, train_limit=args.train_limit)
    sweep = custom_sweep(base, "neurons", [16 + i for i in range(args.runs)])
    memory, workers = [], []
    try:
        for event in engine.run(Job.sweep(sweep, sweep.specs()), data):
            if isinstance(event, RunFinished):
                memory.append(rss_of(os.getpid()))
                workers.append(sum(rss_of(c) for c in children_of(os.getpid())))
                print(
                    f"run {len(memory):3d}  this process {memory[-1]:7.1f} MiB   "
                    f"workers {workers[-1]:8.1f} MiB",
                    flush=True,
                )
    finally:
        engine.close()
    return memory, workers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--where", choices=("cli", "engine"), default="cli")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--train-limit", type=int, default=2000)
    args = parser.parse_args()
    memory, workers = (soak_cli if args.where == "cli" else soak_engine)(args)
    if len(memory) <= WARM_UP:
        print(f"only {len(memory)} runs finished: nothing to measure")
        return 1
    who = "the CLI process" if args.where == "cli" else "this process (the engine's caller)"
    print(f"growth per run after the first {WARM_UP}, {who}: {growth(memory)}")
    print(f"growth per run after the first {WARM_UP}, its workers together: {growth(workers)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
