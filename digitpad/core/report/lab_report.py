"""The lab's reproduction report: per exercise its table, the report's row and the
difference, exercise 5's reading, whether the report's trends hold, and the machine.

The runs come from the engine (``Job.lab``: each distinct training once, shorter runs read
from longer ones); this module only reads their records.
"""

from __future__ import annotations

import os
import platform
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from digitpad.core.data.mnist import MnistData
from digitpad.core.engine.plan import Job, PlannedRun
from digitpad.core.lab.sweep_ids import sweep_key
from digitpad.core.lab.sweeps import PRESETS, LabTable, Sweep, cells_table, metric_pairs
from digitpad.core.nets.status import RunStatus
from digitpad.core.store.runs import RunStore

# Exercise 5 reads exercise 4's weights.
EX4, EX5 = "ex4", "ex5"


def lab_tables(job: Job, sweeps: list[Sweep] | None = None) -> dict[str, LabTable]:
    """Each exercise's table in the lab's layout, from the job's finished runs."""
    sweeps = sweeps if sweeps is not None else list(PRESETS.values())
    return {
        sweep.id: cells_table(
            sweep,
            [
                (cell, run.record)
                for run in job.runs
                if run.record is not None
                for cell in run.cells
                if sweep_key(cell.sweep_id) == sweep.id
            ],
        )
        for sweep in sweeps
    }


def exercise_4_run(job: Job) -> PlannedRun | None:
    """The run that fills exercise 4 (the lab's defaults, weights saved)."""
    return next((r for r in job.runs if any(sweep_key(c.sweep_id) == EX4 for c in r.cells)), None)


def exercise_5(job: Job, store: RunStore, data: MnistData) -> Any:
    """Exercise 5: exercise 4's saved weights in a fresh network, the first five test
    images (None when exercise 4 has no saved model)."""
    run = exercise_4_run(job)
    if run is None or run.record is None or not run.record.has_model:
        return None
    from digitpad.core.lab.first_five import first_five

    weights = store.model_dir(run.record.id) / "model.weights.h5"
    return first_five(run.spec, weights, data)


@dataclass
class LabOutcome:
    """What a lab job did: the job with its records, the data, the wall time, where."""

    job: Job
    data: MnistData
    seconds: float
    workers: str  # "2 worker processes on this computer", "Dask cluster tcp://…"
    first_five: Any = None
    overrides: str = ""
    repeats: int = 1


# --- the report --------------------------------------------------------------------------


def report_markdown(outcome: LabOutcome, sweeps: list[Sweep] | None = None) -> str:
    """The reproduction report: per exercise the table, the report's row and the difference."""
    sweeps = sweeps if sweeps is not None else list(PRESETS.values())
    tables = lab_tables(outcome.job, sweeps)
    data = outcome.data
    lines = [
        "# The MNIST lab, reproduced by DigitPad",
        "",
        f"Made by `digitpad lab` on {datetime.now():%Y-%m-%d %H:%M}, in "
        f"**{outcome.seconds / 60:.1f} minutes** of wall time for the whole lab "
        f"({len(outcome.job.runs)} trainings on {outcome.workers}).",
        "",
        "## Machine",
        "",
        *[f"- {line}" for line in machine_lines()],
        f"- Precision: {precision_text(outcome.job)}",
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
        f"- Runs trained side by side on {outcome.workers}; with one worker process per "
        "core, each has one thread for TensorFlow's operations, so each convergence time "
        "is that run's time on one core. The report's times come from a student laptop, "
        "so only their trends compare.",
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
    broken = [r for r in outcome.job.runs if r.record is None or r.record.status != RunStatus.DONE]
    for run in broken:
        why = "not run" if run.record is None else (run.record.error or run.record.status)
        lines.append(f"- Not finished: {run.spec.describe()} ({why}); its cells show —.")
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
    records = outcome.job.records
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
        f"over {len(pairs)} pairs of runs ({len({p.batch_size for p in pairs})} batch sizes), "
        f"is {gap:.2g}: no, the loss drives training and the "
        "metric is only reported.",
        "",
    ]


def _ex4_section(outcome: LabOutcome) -> list[str]:
    sweep = PRESETS[EX4]
    run = exercise_4_run(outcome.job)
    record = run.record if run else None
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


def precision_text(job) -> str:
    """What the lab's runs trained in, e.g. "float32 (all 25 runs)"."""
    used = Counter(
        run.record.result.precision
        for run in job.runs
        if run.record is not None and run.record.result is not None
    )
    if not used:
        return "no run finished"
    if len(used) == 1:
        ((only, count),) = used.items()
        return f"{only} (all {count} runs)"
    return ", ".join(f"{name} for {count} runs" for name, count in used.most_common())


def machine_lines() -> list[str]:
    """CPU, cores, GPU and library versions, for the report."""
    from digitpad.core.machine.environment import cpu_name, device_name, library_versions

    cpu = cpu_name()
    versions = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores; device used: {device_name()}",
        f"{platform.system()} {platform.release()}; {versions}",
    ]
