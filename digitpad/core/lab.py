"""The whole lab in one go: every exercise's runs, each distinct run once, and one report.

Two kinds of sharing keep the lab short without changing a single figure's meaning:

- Identical specs run once. Exercise 4 is exercise 1's 8-neuron run; exercise 7's
  128-neuron column is exercise 6's 3x3 column.
- A run that differs from a longer one only by its epochs is read from the longer one's
  epoch. The lab's networks keep a constant learning rate and draw their shuffles epoch
  by epoch, so with the same seed the first k epochs of a 20-epoch run are a k-epoch run;
  its per-epoch validation on the test set is the same evaluation as ``model.evaluate``
  after a k-epoch run, and its fit time up to epoch k is that run's convergence time.
  Exercise 8's five runs (1, 2, 5, 10 and 20 epochs) are one 20-epoch run this way.

Runs go to ``parallel`` worker processes. On this project's 2 cores a 3x3 CNN epoch took
12.9 s with two threads in one process and 18 s with one thread, so two one-thread
trainings side by side get through about 1.4 times as many epochs (the lab's small layers
use a second thread poorly). Each run's convergence time is then its time on one core,
which the report says.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from digitpad.core.data import MnistData, load_same
from digitpad.core.runs import RunRecord, RunStore
from digitpad.core.specs import RunSpec
from digitpad.core.sweeps import (
    PRESETS,
    LabTable,
    Sweep,
    estimated_cost,
    format_table,
    metric_pairs,
)

# Exercise 5 reads exercise 4's weights.
EX4, EX5 = "ex4", "ex5"


@dataclass(frozen=True)
class Cell:
    """One place in a lab table: an exercise's column, read at an epoch of a run or its end."""

    sweep_id: str
    value: Any
    at_epoch: int | None = None


@dataclass
class LabJob:
    """One training the lab needs, and every table cell it fills."""

    spec: RunSpec
    cells: list[Cell] = field(default_factory=list)
    record: RunRecord | None = None
    error: str = ""  # why there is no record (a worker process died)

    @property
    def cost(self) -> float:
        return estimated_cost(self.spec)


def lab_jobs(
    sweeps: list[Sweep] | None = None,
    train_limit: int | None = None,
    epochs: int | None = None,
    repeats: int = 1,
) -> list[LabJob]:
    """The distinct trainings the lab's sweeps need, longest first (see the module doc).

    With ``repeats`` every cell is trained with seeds 0 to repeats - 1 (mean ± std).
    """
    sweeps = sweeps if sweeps is not None else list(PRESETS.values())
    by_spec: dict[RunSpec, LabJob] = {}
    for sweep in sweeps:
        for spec in sweep.specs(repeats, train_limit=train_limit, epochs=epochs):
            value = getattr(spec, sweep.param) if sweep.param else None
            by_spec.setdefault(spec, LabJob(spec)).cells.append(Cell(sweep.id, value))
    jobs = list(by_spec.values())
    for job in list(jobs):
        longer = _longest_extension(job.spec, jobs)
        if longer is not None and longer is not job:
            longer.cells.extend(
                Cell(c.sweep_id, c.value, at_epoch=job.spec.epochs) for c in job.cells
            )
            jobs.remove(job)
    return sorted(jobs, key=lambda j: j.cost, reverse=True)


def _longest_extension(spec: RunSpec, jobs: list[LabJob]) -> LabJob | None:
    """The job training ``spec`` for the most epochs, if reading it at an epoch is exact."""
    if spec.model == "cnn_best":  # its learning rate decays over the whole run
        return None
    candidates = [j for j in jobs if j.spec == spec.with_changes(epochs=j.spec.epochs)]
    return max(candidates, key=lambda j: j.spec.epochs, default=None)


def cell_figures(record: RunRecord, cell: Cell, measure: str) -> tuple[float, float] | None:
    """(accuracy or MSE, convergence time) of ``cell`` from a finished run, or None."""
    result = record.result
    if result is None or record.status != "done":
        return None
    if cell.at_epoch is None or cell.at_epoch == result.epochs_run:
        figure = result.test_mse if measure == "mse" else result.test_accuracy
        return figure, result.convergence_time
    key = "val_mse" if measure == "mse" else "val_accuracy"
    figures, times = result.history.get(key, []), result.history.get("epoch_time", [])
    if len(figures) < cell.at_epoch or len(times) < cell.at_epoch:
        return None
    return figures[cell.at_epoch - 1], times[cell.at_epoch - 1]


def lab_tables(jobs: list[LabJob], sweeps: list[Sweep] | None = None) -> dict[str, LabTable]:
    """Each exercise's table in the lab's layout, from the jobs' finished runs."""
    sweeps = sweeps if sweeps is not None else list(PRESETS.values())
    tables = {}
    for sweep in sweeps:
        figures: dict[Any, list[float]] = {v: [] for v in sweep.values}
        times: dict[Any, list[float]] = {v: [] for v in sweep.values}
        for job in jobs:
            for cell in job.cells:
                if cell.sweep_id != sweep.id or job.record is None:
                    continue
                got = cell_figures(job.record, cell, sweep.measure)
                if got is not None:
                    figures[cell.value].append(got[0])
                    times[cell.value].append(got[1])
        tables[sweep.id] = format_table(
            sweep, [figures[v] for v in sweep.values], [times[v] for v in sweep.values]
        )
    return tables


@dataclass
class LabOutcome:
    """What ``run_lab`` did: the jobs with their records, the data, and the wall time."""

    jobs: list[LabJob]
    data: MnistData
    seconds: float
    jobs_in_parallel: int
    lab_id: str
    first_five: Any = None
    overrides: str = ""
    repeats: int = 1


def run_lab(
    store: RunStore,
    data: MnistData,
    jobs: list[LabJob],
    parallel: int = 2,
    on_event: Callable[[str], None] | None = None,
) -> LabOutcome:
    """Train every job (``parallel`` at a time, each in its own process) and record them.

    ``on_event`` gets a line of text as each run starts and ends.
    """
    say = on_event or (lambda line: None)
    lab_id = "lab-" + datetime.now().strftime("%Y%m%d-%H%M%S")
    started = time.perf_counter()
    threads = max(1, (os.cpu_count() or 1) // max(parallel, 1))
    context = get_context("spawn")  # a fresh interpreter: TensorFlow does not survive fork
    with ProcessPoolExecutor(
        parallel, mp_context=context, initializer=_init_worker, initargs=(threads,)
    ) as pool:
        pending: dict[Future, LabJob] = {}
        queue = list(jobs)
        while queue or pending:
            while queue and len(pending) < parallel:
                job = queue.pop(0)
                say(f"start  {job.spec.describe()}  ({_cells_text(job)})")
                try:
                    future = pool.submit(
                        _train_in_worker,
                        job.spec.to_json(),
                        str(store.folder),
                        lab_id,
                        data.origin,
                    )
                except RuntimeError as exc:  # the pool broke (a worker was killed)
                    job.error = f"not run: {exc}"
                    continue
                pending[future] = job
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                try:
                    job.record = store.get(future.result())
                except Exception as exc:  # a worker died: its run shows as interrupted
                    job.error = f"{type(exc).__name__}: {exc}"
                    say(f"failed {job.spec.describe()}: {job.error}")
                    continue
                r = job.record
                figure = f"accuracy {r.result.test_accuracy:.4f}" if r.result else r.error
                say(
                    f"done   {job.spec.describe()}: {r.status}, {figure}, "
                    f"{time.perf_counter() - started:.0f} s into the lab"
                )
    outcome = LabOutcome(jobs, data, 0.0, parallel, lab_id)
    ex4 = next((j for j in jobs if any(c.sweep_id == EX4 for c in j.cells)), None)
    if ex4 is not None and ex4.record is not None and ex4.record.has_model:
        from digitpad.core.first_five import first_five

        weights = store.model_dir(ex4.record.id) / "model.weights.h5"
        outcome.first_five = first_five(ex4.spec, weights, data)
    outcome.seconds = time.perf_counter() - started  # exercise 5 included
    return outcome


def _init_worker(threads: int) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def _train_in_worker(
    spec_json: str, store_folder: str, lab_id: str, data_origin: tuple[str, str, str]
) -> int:
    from digitpad.core.runner import run_and_record

    data = _worker_data(data_origin)
    store = RunStore(store_folder)
    return run_and_record(RunSpec.from_json(spec_json), data, store, sweep_id=lab_id).id


_WORKER_DATA: list[MnistData] = []


def _worker_data(origin: tuple[str, str, str]) -> MnistData:
    """The parent's MNIST in a worker process, loaded once (from the cache: well under 1 s)."""
    if not _WORKER_DATA:
        _WORKER_DATA.append(load_same(origin))
    return _WORKER_DATA[0]


def _cells_text(job: LabJob) -> str:
    return ", ".join(
        f"{c.sweep_id}" + ("" if c.value is None else f"={c.value}")
        for c in job.cells
        if c.at_epoch is None
    ) + "".join(f", {c.sweep_id}={c.value} at epoch {c.at_epoch}" for c in job.cells if c.at_epoch)


# --- the report --------------------------------------------------------------------------


def report_markdown(outcome: LabOutcome, sweeps: list[Sweep] | None = None) -> str:
    """The reproduction report: per exercise the table, the report's row and the difference."""
    sweeps = sweeps if sweeps is not None else list(PRESETS.values())
    tables = lab_tables(outcome.jobs, sweeps)
    data = outcome.data
    lines = [
        "# The MNIST lab, reproduced by DigitPad",
        "",
        f"Made by `digitpad lab` on {datetime.now():%Y-%m-%d %H:%M}, in "
        f"**{outcome.seconds / 60:.1f} minutes** of wall time for the whole lab "
        f"({len(outcome.jobs)} trainings, {outcome.jobs_in_parallel} at a time).",
        "",
        "## Machine",
        "",
        *[f"- {line}" for line in machine_lines()],
        f"- MNIST: {data.source} ({len(data.x_train):,} train / {len(data.x_test):,} test "
        f"images), sha256 `{data.sha256[:16]}…`",
        "",
        "## How the runs were made",
        "",
        "- Every run follows the lab's protocol: `/255` scaling, one-hot labels, "
        "categorical cross-entropy, Adam with Keras defaults, validation on the test set "
        "each epoch; accuracy from the test set after training; convergence time is the "
        "wall time of `fit` (validation included). "
        + (
            "Seed 0 for every run."
            if outcome.repeats == 1
            else f"Each cell: seeds 0 to {outcome.repeats - 1}, shown as mean ± std."
        ),
        *([f"- **Not the lab's settings**: {outcome.overrides}."] if outcome.overrides else []),
        "- Identical runs ran once: exercise 4 is exercise 1's 8-neuron run, and exercise "
        "7's 128-neuron column is exercise 6's 3x3 column.",
        "- Runs that differ only by their epochs were read from the longest one at each "
        "epoch (exact for these networks: constant learning rate, same seed): exercise 8 "
        "is one 20-epoch run read after epochs 1, 2, 5, 10 and 20, and it also gives "
        "exercise 6's 3x3 and exercise 7's 128-neuron columns at epoch 5.",
        f"- {outcome.jobs_in_parallel} runs trained side by side, each in its own process "
        "with one thread for TensorFlow's operations, so each convergence time is that "
        "run's time on one core of this machine. The report's times come from a student "
        "laptop, so only their trends compare.",
        "",
    ]
    for sweep in sweeps:
        if sweep.id == EX4:
            lines += _ex4_section(outcome)
            lines += _ex5_section(outcome)
            continue
        table = tables[sweep.id]
        lines += [f"## {sweep.title}", "", f"*{sweep.question}*", ""]
        if sweep.note:
            lines += [sweep.note, ""]
        lines += [table.to_markdown(heading=False), ""]
        if sweep.measure == "mse":
            lines += _metric_evidence(outcome)
        gap = difference_row(sweep, table)
        if gap is not None:
            lines += [f"Difference to the report ({gap[0]}): " + ", ".join(gap[1]), ""]
    lines += ["## Summary", "", *summary_lines(outcome, sweeps, tables), ""]
    return "\n".join(lines)


def difference_row(sweep: Sweep, table: LabTable) -> tuple[str, list[str]] | None:
    """Ours minus the report's, per column: percentage points for accuracy, raw for MSE."""
    reference = sweep.reference.get(sweep.measure)
    ours = table.values.get(sweep.measure)
    if not reference or not ours:
        return None
    cells = []
    for mine, theirs in zip(ours, reference, strict=False):
        if mine is None:
            cells.append("—")
        elif sweep.measure == "mse":
            cells.append(f"{mine - theirs:+.4f}")
        else:
            cells.append(f"{(mine - theirs) * 100:+.2f} pp")
    return ("MSE" if sweep.measure == "mse" else "accuracy", cells)


# Accuracy cells must land this close to the report (percentage points), by application.
TOLERANCE_PP = {"mlp": 1.0, "cnn": 0.5, "cnn_deep": 0.5}
# The report's trends: (exercise, figure, direction) with +1 rising, -1 falling.
TRENDS = (
    ("ex1", "accuracy", +1),
    ("ex1", "time", +1),
    ("ex6", "accuracy", +1),
    ("ex8", "accuracy", +1),
    ("ex8", "time", +1),
    ("ex2", "time", -1),
)


def summary_lines(
    outcome: LabOutcome, sweeps: list[Sweep], tables: dict[str, LabTable]
) -> list[str]:
    """Which cells are within tolerance of the report, and whether its trends hold."""
    lines = []
    misses = []
    checked = 0
    for sweep in sweeps:
        table = tables.get(sweep.id)
        reference = sweep.reference.get("accuracy")
        if table is None or not reference or sweep.measure != "accuracy":
            continue
        tolerance = TOLERANCE_PP[sweep.base.model]
        for column, mine, theirs in zip(
            table.columns, table.values["accuracy"], reference, strict=False
        ):
            if mine is None:
                continue
            checked += 1
            if abs(mine - theirs) * 100 > tolerance:
                misses.append(
                    f"{sweep.id} {column}: {mine:.4f} vs {theirs:.4f} (limit ±{tolerance} pp)"
                )
    lines.append(
        f"- Accuracy cells within tolerance (±1.0 pp MLP, ±0.5 pp CNN): "
        f"{checked - len(misses)} of {checked}."
        + ("" if not misses else " Outside: " + "; ".join(misses) + ".")
    )
    for sweep_id, figure, direction in TRENDS:
        table = tables.get(sweep_id)
        values = table.values.get(figure) if table else None
        if not values or any(v is None for v in values):
            continue
        holds = trend_holds(values, direction)
        word = "rises" if direction > 0 else "falls"
        lines.append(
            f"- {sweep_id}: {figure} {word} with {PRESETS[sweep_id].param}: "
            f"{'yes' if holds else 'no'} ({', '.join(_short(v, figure) for v in values)})"
        )
    broken = [j for j in outcome.jobs if j.record is None or j.record.status != "done"]
    for job in broken:
        why = job.error if job.record is None else (job.record.error or job.record.status)
        lines.append(f"- Not finished: {job.spec.describe()} ({why}); its cells show —.")
    lines.append(f"- Whole lab: {outcome.seconds / 60:.1f} minutes of wall time.")
    return lines


def trend_holds(values: list[float], direction: int) -> bool:
    """True when ``values`` move in ``direction`` overall: the last beats the first, and a
    straight-line fit has that sign (single noisy steps against it are allowed)."""
    slope = np.polyfit(np.arange(len(values)), np.asarray(values, float), 1)[0]
    return (values[-1] - values[0]) * direction > 0 and slope * direction > 0


def _short(value: float, figure: str) -> str:
    return f"{value:.1f}" if figure == "time" else f"{value:.4f}"


def _metric_evidence(outcome: LabOutcome) -> list[str]:
    """Exercise 3's answer, measured: its runs against exercise 2's twins (metric apart)."""
    records = [j.record for j in outcome.jobs if j.record is not None]
    pairs = metric_pairs(
        [r for r in records if r.spec.metric == "accuracy"],
        [r for r in records if r.spec.metric == "mse"],
    )
    if not pairs:
        return []
    gap = max(p.largest_gap for p in pairs)
    return [
        f"Does the metric change training? Exercise 3's runs and exercise 2's differ only by "
        f"the metric (same seeds); the largest gap between their per-epoch training losses, "
        f"over {len(pairs)} batch sizes, is {gap:.2g}: no, the loss drives training and the "
        "metric is only reported.",
        "",
    ]


def _ex4_section(outcome: LabOutcome) -> list[str]:
    sweep = PRESETS[EX4]
    job = next((j for j in outcome.jobs if any(c.sweep_id == EX4 for c in j.cells)), None)
    record = job.record if job else None
    lines = [f"## {sweep.title}", "", f"*{sweep.question}*", ""]
    if record is None or record.result is None:
        return [*lines, "Not run.", ""]
    return [
        *lines,
        f"Run {record.id}: test accuracy {record.result.test_accuracy:.4f}, "
        f"{record.result.convergence_time:.1f} s; weights saved as "
        f"`runs/run-{record.id:06d}/model.weights.h5` in the data folder (Keras 3's "
        "`.weights.h5`; the report used `application1.h5`).",
        "",
    ]


def _ex5_section(outcome: LabOutcome) -> list[str]:
    lines = [
        "## Exercise 5: load the weights and predict the first five test images",
        "",
    ]
    five = outcome.first_five
    if five is None:
        return [*lines, "Not run (exercise 4 has no saved weights).", ""]
    return [*lines, *five.markdown_lines(), ""]


def machine_lines() -> list[str]:
    """CPU, cores, GPU and library versions, for the report."""
    from digitpad.core.training import device_name, library_versions

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores; device used: {device_name()}",
        f"{platform.system()} {platform.release()}; {versions}",
    ]
