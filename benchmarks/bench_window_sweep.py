"""The exercise 6 preset from the window against ``digitpad lab --only ex6``, and against
the window training one run at a time (one worker, as before the engine).

All three go through the engine from a cold start (fresh workers), on the same subset, and
alternate within each repeat; medians of wall time from the click (or the command) to the
end of the job. Targets: window / lab at most 1.05; one-at-a-time / window at least 1.3.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_window_sweep.py \
        [--repeats 3] [--train-limit 2000 (0: all 60,000)] [--epochs 1]

On small subsets starting the workers (TensorFlow's import) is most of the time, and one
worker starts as fast as two: measure the side-by-side speed-up on the exercise as the lab
has it (``--train-limit 0 --epochs 5``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("DIGITPAD_HOME", tempfile.mkdtemp(prefix="digitpad-bench-"))

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication

from digitpad import cli
from digitpad.core.engine.local import JOBS_ENV
from digitpad.core.report.machine_text import machine_lines
from digitpad.ui import MainWindow


def cpu_seconds() -> float:
    """CPU time this process (not its workers) has used: what it takes from the training."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def window_sweep(train_limit: int, epochs: int, jobs: int | None) -> float:
    """Seconds from Run sweep to the job's end, in a new window (cold workers)."""
    if jobs is None:
        os.environ.pop(JOBS_ENV, None)
    else:
        os.environ[JOBS_ENV] = str(jobs)
    window = MainWindow()
    window.show()
    window.wait_until_ready(120)  # the canvas' network: not what is measured
    panel = window.train_tab.sweep_panel
    panel.preset.setCurrentIndex(panel.preset.findData("ex6"))
    values = window.train_tab.form.values()
    limit = train_limit or None  # 0: all 60,000 images
    window.train_tab.form.set_values({**values, "train_limit": limit, "epochs": epochs})
    loop = QEventLoop()
    window.train_tab.trainingEnded.connect(loop.quit)
    started, cpu = time.perf_counter(), cpu_seconds()
    panel.run_button.click()
    loop.exec()
    seconds = time.perf_counter() - started
    CPU["window" if jobs is None else "one at a time"].append(cpu_seconds() - cpu)
    window.close()
    os.environ.pop(JOBS_ENV, None)
    return seconds


def lab_ex6(train_limit: int, epochs: int) -> float:
    argv = ["lab", "--only", "ex6", "--epochs", str(epochs)]
    argv += ["--train-limit", str(train_limit)] if train_limit else []
    started, cpu = time.perf_counter(), cpu_seconds()
    with contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(argv)
    seconds = time.perf_counter() - started
    CPU["lab"].append(cpu_seconds() - cpu)
    assert code == 0, "digitpad lab failed"
    return seconds


CPU: dict[str, list[float]] = {"window": [], "lab": [], "one at a time": []}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-limit", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # kept alive till exit
    times: dict[str, list[float]] = {"window": [], "lab": [], "one at a time": []}
    for repeat in range(args.repeats):
        times["window"].append(window_sweep(args.train_limit, args.epochs, None))
        times["lab"].append(lab_ex6(args.train_limit, args.epochs))
        times["one at a time"].append(window_sweep(args.train_limit, args.epochs, 1))
        print(
            f"repeat {repeat + 1}: "
            + ", ".join(f"{name} {values[-1]:.1f} s" for name, values in times.items()),
            flush=True,
        )
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"\n{machine_lines()[0]}")
    print(
        f"exercise 6, {args.train_limit or 60000} images, {args.epochs} epoch(s); "
        f"medians of {args.repeats} alternating repeats"
    )
    for name, seconds in median.items():
        print(
            f"  {name:14s} {seconds:6.1f} s   (this process' own CPU: "
            f"{statistics.median(CPU[name]):.1f} s)"
        )
    print(f"window / lab:            {median['window'] / median['lab']:.3f} (target <= 1.05)")
    print(
        f"one at a time / window:  {median['one at a time'] / median['window']:.2f}x "
        "(target >= 1.3)"
    )
    sys.stdout.flush()
    os._exit(0)  # skip TensorFlow/Qt teardown, which can crash after the figures are out


if __name__ == "__main__":
    sys.exit(main())
