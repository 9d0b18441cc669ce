"""The results table with 10,000 stored runs: open, sort and filter times (target < 200 ms).

Fills a fresh store through RunStore's public API, then times, in the real Results tab:
opening it (the run list, the rows on screen, the table shown and painted), sorting by
accuracy, filtering by model kind, then by a sweep (which also builds and fills the sweep
table's page, the first time in each new tab). Prints the median and the maximum of
several repeats.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_results_table.py [--runs 10000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from digitpad.core.nets.results import RunResult
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.runs import RunStore
from digitpad.ui.results.results_model import COLUMN_INDEX
from digitpad.ui.results.results_tab import ResultsTab


def fill(store: RunStore, count: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    kinds = ("mlp", "cnn", "cnn_deep")
    for i in range(count):
        kind = kinds[i % 3]
        spec = RunSpec.for_model(kind, neurons=int(rng.choice([8, 16, 32, 64, 128])), seed=i)
        run_id = store.start_run(spec, f"ex{1 + i % 9}-bench-{i // 50}")
        if i % 20 == 19:
            store.fail_run(run_id, "bench: a failed run")
            continue
        epochs = spec.epochs
        store.finish_run(
            run_id,
            RunResult(
                spec=spec,
                status="done",
                seed=i,
                test_accuracy=float(rng.uniform(0.85, 0.995)),
                test_loss=float(rng.uniform(0.02, 0.5)),
                test_mse=float(rng.uniform(0.001, 0.02)),
                convergence_time=float(rng.uniform(5, 300)),
                params=int(rng.integers(6000, 300000)),
                epochs_run=epochs,
                train_size=spec.train_size,
                history={"loss": list(rng.uniform(0.1, 1, epochs))},
                batch_losses=list(rng.uniform(0.1, 2, 300)),
            ),
        )


def timed(action) -> float:
    app = QApplication.instance()
    start = time.perf_counter()
    action()
    app.processEvents()
    return time.perf_counter() - start


def measure_once(store: RunStore) -> tuple[dict[str, float], int]:
    """Open a Results tab on ``store``, sort it, filter it; seconds for each step."""
    holder: list[ResultsTab] = []

    def open_tab() -> None:
        tab = ResultsTab(store)
        tab.resize(1100, 700)
        tab.show()
        holder.append(tab)

    out = {"open": timed(open_tab)}
    tab = holder[0]
    out["sort"] = timed(
        lambda: tab.table.sortByColumn(COLUMN_INDEX["Accuracy"], Qt.SortOrder.AscendingOrder)
    )
    out["filter"] = timed(lambda: tab.kind_filter.setCurrentIndex(tab.kind_filter.findData("cnn")))
    sweep = "ex2-bench-0"  # a sweep of CNN runs, so both filters leave rows
    out["sweep"] = timed(lambda: tab.sweep_filter.setCurrentIndex(tab.sweep_filter.findData(sweep)))
    rows = tab.model.rowCount()
    tab.close()
    tab.deleteLater()
    QApplication.instance().processEvents()
    return out, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 (kept alive)
    folder = tempfile.mkdtemp(prefix="digitpad-bench-")
    store = RunStore(folder)
    start = time.perf_counter()
    fill(store, args.runs)
    print(f"filled a store with {args.runs:,} runs in {time.perf_counter() - start:.1f} s")

    figures: dict[str, list[float]] = {"open": [], "sort": [], "filter": [], "sweep": []}
    for _ in range(args.repeats):
        once, rows = measure_once(store)
        for name, seconds in once.items():
            figures[name].append(seconds)
    print(f"rows shown after both filters: {rows}")
    for name, values in figures.items():
        ms = [v * 1000 for v in values]
        print(f"{name:7s} median {statistics.median(ms):7.1f} ms   max {max(ms):7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
