"""The lab's exercises as data (shared/lab/LAB.md), custom sweeps, and lab-style tables."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace
from typing import Any

from digitpad.core.lab.sweep_ids import parse_sweep_id
from digitpad.core.machine.markdown import markdown_table
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.status import RunStatus
from digitpad.core.store.runs import Cell, RunRecord

SWEEPABLE = (
    "neurons",
    "filters",
    "kernel_size",
    "epochs",
    "batch_size",
    "learning_rate",
    "dropout",
)


@dataclass(frozen=True)
class Sweep:
    """A base spec and one hyperparameter taking a list of values.

    ``reference`` holds the lab report's rows for comparison, keyed like the table's rows
    (``"accuracy"``, ``"mse"``, ``"time"``), one value per swept value.
    """

    id: str
    title: str
    base: RunSpec
    param: str | None
    values: tuple[Any, ...]
    question: str = ""
    note: str = ""
    reference: dict[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def measure(self) -> str:
        """The figure the lab tabulates: ``mse`` for exercise 3, else ``accuracy``."""
        return "mse" if self.base.metric == "mse" else "accuracy"

    def specs(
        self,
        repeats: int = 1,
        train_limit: int | None = None,
        epochs: int | None = None,
        seed: int = 0,
    ) -> list[RunSpec]:
        """One spec per value and repeat (repeats differ by seed), with optional overrides.

        An ``epochs`` override applies to every run except when epochs is what is swept.
        """
        if repeats < 1:
            raise ValueError(f"repeats must be at least 1; got {repeats}")
        base = self.base
        if train_limit is not None:
            base = base.with_changes(train_limit=train_limit)
        if epochs is not None and self.param != "epochs":
            base = base.with_changes(epochs=epochs)
        out = []
        for value in self.values:
            for repeat in range(repeats):
                changes = {"seed": seed + repeat}
                if self.param:
                    changes[self.param] = value
                out.append(base.with_changes(**changes))
        return out


def custom_sweep(base: RunSpec, param: str, values: list[Any]) -> Sweep:
    """A user's sweep of ``param`` over ``values``, validated before anything runs."""
    if param not in SWEEPABLE:
        raise ValueError(f"cannot sweep {param!r}; choose one of {', '.join(SWEEPABLE)}")
    if not values:
        raise ValueError("give at least one value to sweep")
    for value in values:
        base.with_changes(**{param: value})  # raises ValueError naming the bad value
    label = ", ".join(map(str, values))
    return Sweep(f"custom-{param}", f"{param} = {label}", base, param, tuple(values))


_MLP = RunSpec.for_model("mlp")
_CNN = RunSpec.for_model("cnn")
_FIVE_EPOCHS = (
    "The report's code says 10 epochs, but its logs show 5 for every run of "
    "this exercise, so its table was made with 5: this preset uses 5."
)

PRESETS: dict[str, Sweep] = {
    s.id: s
    for s in (
        Sweep(
            "ex1",
            "Exercise 1: hidden neurons (MLP)",
            _MLP,
            "neurons",
            (8, 16, 32, 64, 128),
            "How do the system accuracy and the convergence time change with the number of "
            "neurons in the hidden layer?",
            reference={
                "accuracy": (0.9261, 0.9417, 0.9576, 0.9689, 0.9750),
                "time": (8.15, 7.27, 8.59, 10.01, 13.44),
            },
        ),
        Sweep(
            "ex2",
            "Exercise 2: batch size (MLP, 8 neurons)",
            _MLP,
            "batch_size",
            (32, 64, 128, 256, 512),
            "What can be observed regarding the system accuracy when the batch size changes?",
            reference={
                "accuracy": (0.9225, 0.9262, 0.9212, 0.9231, 0.9161),
                "time": (119.9, 67.1, 25.4, 17.5, 11.0),
            },
        ),
        Sweep(
            "ex3",
            "Exercise 3: mse as the metric (MLP, 8 neurons)",
            _MLP.with_changes(metric="mse"),
            "batch_size",
            (32, 64, 128, 256, 512),
            "Does the metric (accuracy or mse) influence the training process?",
            note="The loss drives training; the metric is only reported, so it does not "
            "change training. The report's table reads .0114 .0117 .0120 .0121 .0127; its "
            "printed run values were .01223 .01178 .01147 .01208 .01296.",
            reference={
                "mse": (0.0114, 0.0117, 0.0120, 0.0121, 0.0127),
                "time": (29.40, 15.96, 9.13, 5.50, 4.96),
            },
        ),
        Sweep(
            "ex4",
            "Exercise 4: train the defaults and save the weights",
            _MLP,
            None,
            (None,),
            "Train with 8 neurons, 10 epochs, batch 200 and save the weights.",
            note="Every run keeps its weights (model.weights.h5) in the data folder.",
        ),
        Sweep(
            "ex6",
            "Exercise 6: convolution kernel size (CNN, 128 neurons)",
            _CNN.with_changes(epochs=5),
            "kernel_size",
            (1, 3, 5, 7, 9),
            "How is the system accuracy influenced by the size of the convolution kernel?",
            note=_FIVE_EPOCHS,
            reference={
                "accuracy": (0.9562, 0.9819, 0.9851, 0.9865, 0.9873),
                "time": (44.8, 55.7, 64.8, 69.4, 76.3),
            },
        ),
        Sweep(
            "ex7",
            "Exercise 7: dense neurons (CNN, 3x3 kernel)",
            _CNN.with_changes(epochs=5),
            "neurons",
            (16, 64, 128, 256, 512),
            "How do the system accuracy and the convergence time change with the neurons of "
            "the dense hidden layer?",
            note=_FIVE_EPOCHS,
            reference={
                "accuracy": (0.9712, 0.9796, 0.9794, 0.9814, 0.9853),
                "time": (52.4, 54.0, 56.3, 67.2, 79.7),
            },
        ),
        Sweep(
            "ex8",
            "Exercise 8: epochs (CNN, 3x3 kernel, 128 neurons)",
            _CNN,
            "epochs",
            (1, 2, 5, 10, 20),
            "How do the system accuracy and the convergence time change with the epochs?",
            reference={
                "accuracy": (0.9553, 0.9717, 0.9802, 0.9861, 0.9876),
                "time": (17.2, 23.3, 61.1, 122.3, 246.8),
            },
        ),
        Sweep(
            "ex9",
            "Exercise 9: deeper CNN",
            RunSpec.for_model("cnn_deep"),
            None,
            (None,),
            "Add convolution, pooling and dense layers: what accuracy does the deeper CNN reach?",
            reference={"accuracy": (0.9917,), "time": (263.4,)},
        ),
    )
}


def sweep_for_id(
    sweep_id: str, records: list[RunRecord], cells: list[Cell] | None = None
) -> Sweep | None:
    """The sweep a stored sweep id came from (``ex1-…`` or ``custom-neurons-…``), with the
    values its runs (or its ``cells``) actually took; None for ids that are not one sweep
    (``lab-…``, written by earlier versions for a whole lab)."""
    parsed = parse_sweep_id(sweep_id)
    if parsed is None:
        return None
    if parsed.kind in PRESETS:
        sweep = PRESETS[parsed.kind]
    elif parsed.kind == "custom":
        if parsed.param not in SWEEPABLE or not records:
            return None
        param = parsed.param
        sweep = Sweep(f"custom-{param}", f"Custom sweep: {param}", records[0].spec, param, ())
    else:
        return None
    if sweep.param is None:
        return sweep
    ran = {c.value for c in cells} if cells else {getattr(r.spec, sweep.param) for r in records}
    if not ran or ran <= set(sweep.values):
        return sweep
    values = tuple(sorted(ran))
    return replace(sweep, values=values, reference={})  # other values: no report to compare


def estimated_cost(spec: RunSpec) -> float:
    """Rough relative training time of ``spec``, for ETAs and for scheduling the longest first."""
    per_epoch = {"mlp": 1.0, "cnn": 12.0, "cnn_deep": 24.0, "cnn_best": 100.0}[spec.model]
    if spec.model == "mlp":
        per_epoch *= (1 + spec.neurons / 64) * (1 + 60 / spec.batch_size)
    elif spec.model == "cnn":
        per_epoch *= 1 + spec.kernel_size**2 / 40 + spec.neurons / 1024
    return per_epoch * spec.epochs * spec.train_size / 60000


@dataclass
class LabTable:
    """A sweep's results in the lab's layout: one column per value, rows of figures.

    ``values`` keeps the numbers behind the rows (the mean per column, None when empty),
    keyed ``"accuracy"`` or ``"mse"``, and ``"time"``, for plots and comparisons.
    """

    title: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]
    values: dict[str, list[float | None]] = field(default_factory=dict)

    def to_markdown(self, heading: bool = True) -> str:
        head, *rows = self.to_rows()
        lines = markdown_table(head, rows)
        return "\n".join([*([f"**{self.title}**", ""] if heading else []), *lines])

    def to_rows(self) -> list[list[str]]:
        """Header then rows, for CSV."""
        return [["", *self.columns], *[[name, *cells] for name, cells in self.rows]]


def lab_table(
    sweep: Sweep, records: list[RunRecord], cells: list[tuple[int, Cell]] | None = None
) -> LabTable:
    """The lab-style table of ``sweep`` from its runs (finished ones only): from its
    ``cells`` (run id, cell) when it has them, else one cell per run at its end (sweeps
    stored by earlier versions)."""
    if cells:
        by_id = {r.id: r for r in records}
        return cells_table(sweep, [(cell, by_id[i]) for i, cell in cells if i in by_id])
    done = [r for r in records if r.result is not None and r.status == RunStatus.DONE]
    figures, times = [], []
    for value in sweep.values:
        runs = [r for r in done if sweep.param is None or getattr(r.spec, sweep.param) == value]
        figures.append([_figure(r, sweep.measure) for r in runs])
        times.append([r.result.convergence_time for r in runs])
    return format_table(sweep, figures, times)


def cell_figures(record: RunRecord, cell: Cell, measure: str) -> tuple[float, float] | None:
    """(accuracy or MSE, convergence time) of ``cell`` from a finished run, or None."""
    result = record.result
    if result is None or record.status != RunStatus.DONE:
        return None
    if cell.at_epoch is None or cell.at_epoch == result.epochs_run:
        figure = result.test_mse if measure == "mse" else result.test_accuracy
        return figure, result.convergence_time
    key = "val_mse" if measure == "mse" else "val_accuracy"
    figures, times = result.history.get(key, []), result.history.get("epoch_time", [])
    if len(figures) < cell.at_epoch or len(times) < cell.at_epoch:
        return None
    return figures[cell.at_epoch - 1], times[cell.at_epoch - 1]


def cells_table(sweep: Sweep, cells: list[tuple[Cell, RunRecord]]) -> LabTable:
    """The lab-style table of ``sweep`` from (cell, the run it is read from) pairs."""
    return format_table(sweep, *column_figures(sweep, cells))


def column_figures(
    sweep: Sweep, cells: list[tuple[Cell, RunRecord]]
) -> tuple[list[list[float]], list[list[float]]]:
    """Per column of ``sweep`` (in its values' order), every run's figure (accuracy or MSE)
    and every run's time: one number per finished run (several with repeats)."""
    figures: dict[Any, list[float]] = {v: [] for v in sweep.values}
    times: dict[Any, list[float]] = {v: [] for v in sweep.values}
    for cell, record in cells:
        got = cell_figures(record, cell, sweep.measure)
        if got is not None and cell.value in figures:
            figures[cell.value].append(got[0])
            times[cell.value].append(got[1])
    return [figures[v] for v in sweep.values], [times[v] for v in sweep.values]


def format_table(sweep: Sweep, figures: list[list[float]], times: list[list[float]]) -> LabTable:
    """The lab's layout from each column's figures (accuracy or MSE) and times; with
    several runs per column, mean ± standard deviation."""
    measure = sweep.measure
    digits = 4
    label = "MSE" if measure == "mse" else "System accuracy"
    rows = [
        (label, [_mean_std(v, digits) for v in figures]),
        ("Convergence time (s)", [_mean_std(v, 1) for v in times]),
    ]
    if sweep.reference:
        rows.append(
            (
                f"Report: {label.lower()}",
                [f"{v:.{digits}f}" for v in sweep.reference.get(measure, ())],
            )
        )
        rows.append(("Report: time (s)", [f"{v:g}" for v in sweep.reference.get("time", ())]))
    columns = [column_name(sweep.param, v) for v in sweep.values]
    values = {
        measure: [statistics.mean(v) if v else None for v in figures],
        "time": [statistics.mean(v) if v else None for v in times],
    }
    return LabTable(sweep.title, columns, rows, values)


def _figure(record: RunRecord, measure: str) -> float:
    return record.result.test_mse if measure == "mse" else record.result.test_accuracy


def column_name(param: str | None, value: Any) -> str:
    """A table column's heading for the swept value (``3x3`` for a kernel size)."""
    if param is None:
        return "result"
    if param == "kernel_size":
        return f"{value}x{value}"
    return str(value)


def _mean_std(values: list[float], digits: int) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


@dataclass(frozen=True)
class MetricPair:
    """Exercise 3's evidence for one batch size: the same run with each metric."""

    batch_size: int
    seed: int | None
    loss_accuracy: list[float]  # per-epoch training loss, metric "accuracy"
    loss_mse: list[float]  # per-epoch training loss, metric "mse"
    final_mse: float  # test MSE of the mse run

    @property
    def largest_gap(self) -> float:
        """Largest difference between the two loss curves (0 when training is identical)."""
        pairs = list(zip(self.loss_accuracy, self.loss_mse, strict=False))
        return max((abs(a - b) for a, b in pairs), default=float("nan"))


def metric_pairs(accuracy_runs: list[RunRecord], mse_runs: list[RunRecord]) -> list[MetricPair]:
    """Match runs that differ only by their metric (same batch size, seed and all else)."""
    by_spec = {
        r.spec.with_changes(metric="mse"): r
        for r in accuracy_runs
        if r.result is not None and r.spec.metric == "accuracy"
    }
    pairs = []
    for run in sorted(mse_runs, key=lambda r: r.spec.batch_size):
        twin = by_spec.get(run.spec)
        if run.result is None or twin is None:
            continue
        pairs.append(
            MetricPair(
                run.spec.batch_size,
                run.spec.seed,
                twin.result.history.get("loss", []),
                run.result.history.get("loss", []),
                run.result.test_mse,
            )
        )
    return pairs
