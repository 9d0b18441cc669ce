"""Training from the window vs the same run headless (``digitpad train``'s path); and GUI
stalls.

Alternates headless runs (the engine driven from this process, no window) and GUI runs
(the window's engine) of the same spec (same seed); both train in an engine worker. Prints
the median convergence times, their ratio, and the longest gap between 10 ms QTimer ticks
on the GUI thread during the GUI runs (a stall the user would feel).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui_training.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("DIGITPAD_HOME", tempfile.mkdtemp(prefix="digitpad-bench-"))

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from digitpad.core.data.mnist import shared_mnist
from digitpad.core.engine import Engine, Job
from digitpad.core.nets.specs import RunSpec
from digitpad.ui import MainWindow


def gui_run(window: MainWindow, spec: RunSpec) -> tuple[float, float]:
    window.train_tab.form.set_spec(spec)
    ticks: list[float] = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    finished = []
    loop = QEventLoop()
    window.train_tab.runFinished.connect(finished.append)
    window.train_tab.trainingEnded.connect(loop.quit)
    timer.start()
    window.train_tab.start_training()
    loop.exec()  # the GUI thread idles in its event loop, as in the app
    timer.stop()
    window.train_tab.runFinished.disconnect(finished.append)
    window.train_tab.trainingEnded.disconnect(loop.quit)
    gap = max(b - a for a, b in itertools.pairwise(ticks))
    return finished[0].result.convergence_time, gap


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # kept alive till exit
    window = MainWindow()
    window.show()
    # Measure training, not the canvas' network loading in the background at start-up.
    window.wait_until_ready(120)
    data = shared_mnist()
    spec = RunSpec.for_model("mlp", seed=1)  # the lab's defaults: 60k images, 10 epochs
    headless, gui, gaps = [], [], []
    engine = Engine(window.store)  # as `digitpad train` makes it
    for _ in range(args.repeats):
        job = Job.single(spec)
        for _event in engine.run(job, data):
            pass
        headless.append(job.runs[0].record.result.convergence_time)
        seconds, gap = gui_run(window, spec)
        gui.append(seconds)
        gaps.append(gap)
    engine.close()
    window.close()
    h, g = statistics.median(headless), statistics.median(gui)
    print(f"spec: {spec.describe()}; {args.repeats} alternating repeats, medians")
    print(f"headless (engine) {h:7.2f} s")
    print(
        f"from the window    {g:7.2f} s   ratio window/headless {g / h:.3f} "
        f"({(g / h - 1) * 100:+.1f} %)"
    )
    print(
        f"longest GUI-thread gap during training: {max(gaps) * 1000:.0f} ms "
        f"(per run: {', '.join(f'{x * 1000:.0f}' for x in gaps)} ms)"
    )
    sys.stdout.flush()
    os._exit(0)  # skip TensorFlow/Qt teardown, which can crash after the figures are out


if __name__ == "__main__":
    sys.exit(main())
