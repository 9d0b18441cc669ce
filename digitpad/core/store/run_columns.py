"""A run's columns, one list for every place that shows runs as rows: the Results table,
its CSV export, and ``digitpad runs`` (text, CSV and JSON)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from digitpad.core.store.runs import RunRow


class RunColumn(NamedTuple):
    """One column: its ``header``, the ``RunRow`` field it shows, how a value is written
    (``fmt``) and what it means (``tip``)."""

    header: str
    field: str
    fmt: str
    tip: str

    def text(self, row: RunRow) -> str:
        """The value as people read it (blank when there is none)."""
        value = getattr(row, self.field)
        return "" if value is None else self.fmt.format(value)


# What people compare first, then the spec, then where and how it ran.
COLUMNS: list[RunColumn] = [
    RunColumn("ID", "id", "{}", "Run number"),
    RunColumn("Model", "model", "{}", "Network kind"),
    RunColumn("Status", "status", "{}", "done, stopped, failed, interrupted or running"),
    RunColumn("Accuracy", "test_accuracy", "{:.4f}", "Test accuracy (lab: system accuracy)"),
    RunColumn(
        "My digits",
        "my_digits",
        "{:.1%}",
        "Accuracy on your own digits (My digits tab), as the set is now",
    ),
    RunColumn(
        "Time (s)",
        "convergence_time",
        "{:.1f}",
        "Convergence time: wall time of training, validation included",
    ),
    RunColumn("Neurons", "neurons", "{}", "Hidden dense units"),
    RunColumn("Filters", "filters", "{}", "Filters of the first convolution"),
    RunColumn("Kernel", "kernel_size", "{0}x{0}", "Convolution kernel size"),
    RunColumn("Epochs", "epochs", "{}", "Epochs asked for"),
    RunColumn("Batch", "batch_size", "{}", "Batch size"),
    RunColumn("Metric", "metric", "{}", "Metric reported during training"),
    RunColumn("Images", "train_size", "{:,}", "Training images used"),
    RunColumn("LR", "learning_rate", "{:g}", "Learning rate (blank: Keras default)"),
    RunColumn("Fine-tune of", "finetune_of", "{}", "The network it taught your digits to"),
    RunColumn("Error %", "baseline_error", "{:.2f}", "Lab's baseline error: 100 - accuracy x 100"),
    RunColumn("MSE", "test_mse", "{:.4f}", "Mean squared error of the test probabilities"),
    RunColumn("Seed", "seed", "{}", "Random seed used"),
    RunColumn("Params", "params", "{:,}", "Trainable and other parameters"),
    RunColumn("Epochs run", "epochs_run", "{}", "Epochs completed"),
    RunColumn("Sweep", "sweep_id", "{}", "Sweep the run belongs to"),
    RunColumn("Trained on", "trained_host", "{}", "Machine that trained it"),
    RunColumn("PID", "trained_pid", "{}", "Process that trained it"),
    RunColumn("Device", "device", "{}", "CPU or GPU it trained on"),
    RunColumn("Precision", "precision", "{}", "Number format it trained in: float32 or bfloat16"),
    RunColumn("When", "created_at", "{}", "When the run started"),
]


def row_dict(row: RunRow) -> dict[str, Any]:
    """A run as plain values keyed by field (``digitpad runs --json``, ``--csv``), with
    the error message last."""
    out = {column.field: getattr(row, column.field) for column in COLUMNS}
    out["error"] = row.error
    return out


def csv_rows(rows: Iterable[RunRow]) -> list[list[Any]]:
    """Runs as CSV rows: a header of field names, then each run's plain values (numbers at
    full precision, the error last). The one runs CSV: Results' export and ``runs --csv``."""
    return [[*(column.field for column in COLUMNS), "error"]] + [
        list(row_dict(row).values()) for row in rows
    ]
