"""How close the student's accuracy cells must land to the lab report's, and the summary
that says which do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from digitpad.core.lab.exercises import FIRST_FIVE

if TYPE_CHECKING:
    from digitpad.core.report.sections import Section

# Accuracy cells must land this close to the report (percentage points), by network kind:
# about the seed-to-seed noise of each application (LAB.md).
TOLERANCE_PP = {"mlp": 1.0, "cnn": 0.5, "cnn_deep": 0.5}


def tolerance_text() -> str:
    """The tolerance in words: "±1.0 points MLP, ±0.5 CNN"."""
    cnn = sorted({v for k, v in TOLERANCE_PP.items() if k != "mlp"})
    return f"±{TOLERANCE_PP['mlp']} points MLP, " + ", ".join(f"±{v} CNN" for v in cnn)


def reference_summary(sections: list[Section]) -> list[str]:
    """Which accuracy cells are within the lab's tolerance of the report's, per exercise."""
    lines = []
    checked = 0
    misses = []
    for section in sections:
        if section.key == FIRST_FIVE.id or section.table is None:
            continue
        sweep, table = section.runs.sweep, section.table
        reference = sweep.reference.get("accuracy")
        if not reference or sweep.measure != "accuracy":
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
                    f"{section.key} {column}: {mine:.4f} vs {theirs:.4f} (limit ±{tolerance} pp)"
                )
    if checked:
        lines.append(
            f"Accuracy cells within tolerance of the lab report's ({tolerance_text()}): "
            f"{checked - len(misses)} of {checked}."
            + ("" if not misses else " Outside: " + "; ".join(misses) + ".")
        )
    return lines
