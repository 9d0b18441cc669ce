"""The report's figures as data (``document.FigureData``): a sweep's figure against its
swept value beside the lab report's, the training losses, exercise 3's two metrics."""

from __future__ import annotations

from digitpad.core.lab.stored_sweeps import SweepRuns
from digitpad.core.lab.sweeps import LabTable
from digitpad.core.report import findings as words
from digitpad.core.report.document import FigureData, Series
from digitpad.core.store.runs import RunRecord


def against_value(key: str, sweep, table: LabTable, kind: str) -> FigureData:
    """A sweep's figure (or time) against its swept value, ours beside the report's."""
    label = {"accuracy": "system accuracy", "mse": "MSE", "time": "convergence time (s)"}[kind]
    xs_ys = [(float(i), v) for i, v in enumerate(table.values.get(kind, [])) if v is not None]
    series = []
    if xs_ys:
        xs, ys = zip(*xs_ys, strict=True)
        series.append(Series("your runs", xs, ys))
    reference = sweep.reference.get(kind)
    if reference and len(reference) == len(table.columns):
        series.append(
            Series(
                "lab report", tuple(float(i) for i in range(len(reference))), reference, "report"
            )
        )
    return FigureData(
        f"{key}-{kind}",
        f"{label[0].upper()}{label[1:]} against {(sweep.param or 'run').replace('_', ' ')}",
        (sweep.param or "run").replace("_", " "),
        label,
        tuple(series),
        tuple((float(i), c) for i, c in enumerate(table.columns)),
    )


def losses_figure(key: str, runs: SweepRuns) -> FigureData:
    """Each run's training loss per epoch: one colour per swept value, named once (the
    repeats of a value share its colour, so the legend stays one line per value)."""
    series = []
    param = runs.sweep.param
    done = [r for r in runs.records if r.result is not None and r.result.history.get("loss")]
    values = sorted({getattr(r.spec, param) for r in done}) if param else []
    named: set = set()
    for i, record in enumerate(sorted(done, key=lambda r: (_value_of(r, param), r.id))):
        losses = record.result.history["loss"]
        value = _value_of(record, param)
        colour = values.index(value) if param else i
        if param:
            name = "" if value in named else words.value_label(param, str(value))
        else:
            name = f"run {record.id}" + (f", seed {record.spec.seed}" if record.spec.seed else "")
        named.add(value)
        epochs = tuple(float(e) for e in range(1, len(losses) + 1))
        series.append(Series(name, epochs, tuple(losses), "run", colour))
    return FigureData(
        f"{key}-loss", "Training loss per epoch", "epoch", "training loss", tuple(series)
    )


def _value_of(record: RunRecord, param: str | None):
    return getattr(record.spec, param) if param else 0


def metric_figure(pairs) -> FigureData:
    series = []
    for i, pair in enumerate(pairs):
        epochs = tuple(float(e) for e in range(1, len(pair.loss_mse) + 1))
        series.append(
            Series(
                f"batch {pair.batch_size}, metric accuracy",
                epochs,
                tuple(pair.loss_accuracy),
                "run",
                i,
            )
        )
        series.append(
            Series(f"batch {pair.batch_size}, metric mse", epochs, tuple(pair.loss_mse), "alt", i)
        )
    return FigureData(
        "ex3-metric",
        "Training loss with each metric (solid: accuracy, dashed: mse)",
        "epoch",
        "training loss",
        tuple(series),
    )
