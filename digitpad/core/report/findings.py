"""Findings written from the numbers: short sentences that each carry their figures.

Each template reads one kind of evidence (a sweep's row, its row against the report's, the
metric pairs of exercise 3, exercise 9 against the others) and says only what the numbers
show: a rise is called a rise only when the values rise, "flat" only when their spread is
below what the lab calls noise-free, and a missing value is named, never guessed.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# A spread smaller than this is "flat": a tenth of a point of accuracy, or 5 % in time.
FLAT_ACCURACY = 0.001
FLAT_MSE = 0.0002
FLAT_TIME_RATIO = 1.05


@dataclass(frozen=True)
class Figure:
    """How a row of a lab table reads in words."""

    name: str  # "accuracy", "MSE", "time"
    kind: str  # "accuracy", "mse", "time"

    def value(self, v: float) -> str:
        return f"{v:.1f} s" if self.kind == "time" else f"{v:.4f}"

    def change(self, first: float, last: float) -> str:
        """How much ``last`` differs from ``first``: points, raw MSE or a time ratio."""
        if self.kind == "accuracy":
            return f"{(last - first) * 100:+.1f} points"
        if self.kind == "mse":
            return f"{last - first:+.4f}"
        if first <= 0 or last <= 0:
            return "from zero" if first <= 0 else "to zero"
        return f"{last / first:.1f}× longer" if last >= first else f"{first / last:.1f}× shorter"

    def is_flat(self, values: Sequence[float]) -> bool:
        low, high = min(values), max(values)
        if self.kind == "time":
            return low > 0 and high / low < FLAT_TIME_RATIO
        return high - low < (FLAT_MSE if self.kind == "mse" else FLAT_ACCURACY)


ACCURACY = Figure("accuracy", "accuracy")
MSE = Figure("MSE", "mse")
TIME = Figure("time", "time")
FIGURES = {"accuracy": ACCURACY, "mse": MSE, "time": TIME}


def value_label(param: str | None, column: str) -> str:
    """A table column in words: ``8`` of neurons is "8 neurons", ``3x3`` "3x3 kernel"."""
    words = {
        "neurons": "{} neurons",
        "filters": "{} filters",
        "kernel_size": "{} kernel",
        "batch_size": "batch {}",
        "learning_rate": "learning rate {}",
        "dropout": "dropout {}",
    }
    if param == "epochs":
        return f"{column} epoch" + ("" if column == "1" else "s")
    return words.get(param or "", "{}").format(column)


def _present(columns: Sequence[str], values: Sequence[float | None]) -> list[tuple[str, float]]:
    return [(c, v) for c, v in zip(columns, values, strict=False) if v is not None]


def trend_sentence(
    figure: Figure, param: str | None, columns: Sequence[str], values: Sequence[float | None]
) -> str:
    """How ``values`` (one per column, None where no run finished) move along the sweep."""
    present = _present(columns, values)
    missing = [c for c, v in zip(columns, values, strict=False) if v is None]
    gap = (
        f" ({', '.join(value_label(param, c) for c in missing)}: no finished run)"
        if missing
        else ""
    )
    name = figure.name[0].upper() + figure.name[1:]
    if not present:
        return f"{name}: no finished run yet, so nothing to read."
    label = {c: value_label(param, c) for c, _ in present}
    if len(present) == 1:
        ((column, only),) = present
        return (
            f"{name} is {figure.value(only)} ({label[column]}); one value, no trend to read{gap}."
        )
    ys = [v for _, v in present]
    (first_c, first), (last_c, last) = present[0], present[-1]
    span = (
        f"from {figure.value(first)} ({label[first_c]}) to {figure.value(last)} ({label[last_c]})"
    )
    if figure.is_flat(ys):
        low, high = min(ys), max(ys)
        return (
            f"{name} stays flat: between {figure.value(low)} and {figure.value(high)} "
            f"over {len(ys)} values{gap}."
        )
    steps = [b - a for a, b in itertools.pairwise(ys)]
    up, down = ("grows", "falls") if figure.kind == "time" else ("rises", "falls")
    change = figure.change(first, last)
    if all(s > 0 for s in steps):
        return f"{name} {up} at every step, {span}, {change}{gap}."
    if all(s < 0 for s in steps):
        return f"{name} {down} at every step, {span}, {change}{gap}."
    direction = overall_direction(ys)
    against = [
        (present[i], present[i + 1]) for i, s in enumerate(steps) if direction and s * direction < 0
    ]
    if direction:
        word = up if direction > 0 else down
        back = down if direction > 0 else up
        where = "; ".join(
            f"{back} from {label[a]} to {label[b]} ({figure.value(va)} to {figure.value(vb)})"
            for (a, va), (b, vb) in against[:2]
        )
        return f"{name} {word} overall, {span}, {change}, but not at every step: it {where}{gap}."
    best_c, best = max(present, key=lambda p: p[1])
    low_c, low = min(present, key=lambda p: p[1])
    return (
        f"{name} has no steady direction: highest {figure.value(best)} at {label[best_c]}, "
        f"lowest {figure.value(low)} at {label[low_c]}{gap}."
    )


def overall_direction(values: Sequence[float]) -> int:
    """+1 when ``values`` rise overall (the last above the first and a straight-line fit
    rising), -1 when they fall the same way, 0 otherwise."""
    if len(values) < 2:
        return 0
    slope = np.polyfit(np.arange(len(values)), np.asarray(values, float), 1)[0]
    net = values[-1] - values[0]
    if net > 0 and slope > 0:
        return 1
    if net < 0 and slope < 0:
        return -1
    return 0


def against_report_sentence(
    figure: Figure, values: Sequence[float | None], reference: Sequence[float]
) -> str | None:
    """Whether each step of ``values`` goes the way the report's goes, and (for accuracy and
    MSE) how far above or below the report's the values lie on average; None without a
    report row or without a value to compare."""
    rows = list(zip(values, reference, strict=False))
    pairs = [(mine, theirs) for mine, theirs in rows if mine is not None]
    if not pairs:
        return None
    parts = []
    # Steps between neighbouring columns that both have a value.
    steps = [(a, b) for a, b in itertools.pairwise(rows) if None not in (a[0], b[0])]
    if steps:
        same = sum(1 for a, b in steps if (b[0] - a[0]) * (b[1] - a[1]) > 0)
        parts.append(f"same direction as the report's at {same} of {len(steps)} steps")
    if figure.kind != "time":
        mean_gap = float(np.mean([mine - theirs for mine, theirs in pairs]))
        side = "above" if mean_gap >= 0 else "below"
        size = (
            f"{abs(mean_gap) * 100:.2f} points"
            if figure.kind == "accuracy"
            else f"{abs(mean_gap):.4f}"
        )
        parts.append(f"{size} {side} it on average")
    if not parts:
        return None
    return f"Against the lab report, {figure.name}: {'; '.join(parts)}."


def metric_sentence(largest_gap: float | None, pairs: int, batch_sizes: int) -> str:
    """Exercise 3's finding from the runs that differ only by their metric."""
    if largest_gap is None or pairs == 0:
        return (
            "No run of exercise 2 matches these runs but for the metric, so the two loss "
            "curves cannot be compared yet: run exercise 2 with the same settings."
        )
    head = (
        f"The largest gap between the two metrics' loss curves is {largest_gap:.2g}, over "
        f"{pairs} pair{'s' if pairs != 1 else ''} of runs ({batch_sizes} batch "
        f"size{'s' if batch_sizes != 1 else ''})"
    )
    if largest_gap == 0:
        return (
            f"{head}: training is identical, so the metric does not change it; it is only reported."
        )
    return f"{head}: the loss curves are not identical."


@dataclass(frozen=True)
class Best:
    """The best accuracy of one exercise: where it was reached."""

    exercise: str  # "exercise 8"
    where: str  # "20 epochs"
    accuracy: float
    family: str  # "mlp" or "cnn"


def versus_others_sentence(accuracy: float | None, others: Sequence[Best]) -> str:
    """Exercise 9 against the best network of each family in the other exercises."""
    if accuracy is None:
        return "The deeper CNN has no finished run yet."
    parts = []
    for family, words in (("cnn", "one-convolution CNN"), ("mlp", "MLP")):
        found = [b for b in others if b.family == family]
        if not found:
            continue
        best = max(found, key=lambda b: b.accuracy)
        diff = (accuracy - best.accuracy) * 100
        parts.append(
            f"{diff:+.2f} points against the best {words} here "
            f"({best.accuracy:.4f}, {best.exercise} at {best.where})"
        )
    if not parts:
        return f"The deeper CNN reaches {accuracy:.4f}; no other exercise has a result to compare."
    return f"The deeper CNN reaches {accuracy:.4f}: " + "; ".join(parts) + "."
