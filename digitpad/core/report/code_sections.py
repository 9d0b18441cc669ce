"""The report's code: the script that made each application's runs (the lab report opens
each application with "Code for this part"), and exercise 5's script with what it prints.

The scripts are those ``digitpad export`` writes, made from the very sweeps the report
shows, so the code and the tables come from the same runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from digitpad.core.export.code_plan import (
    CodePlan,
    NothingToExport,
    first_five_part,
    sweep_part,
)
from digitpad.core.export.script import script_text
from digitpad.core.lab.exercises import APPLICATIONS, FIRST_FIVE
from digitpad.core.lab.first_five import READING_HEADER
from digitpad.core.machine.markdown import markdown_table
from digitpad.core.report.document import Code
from digitpad.core.store.runs import RunRecord

if TYPE_CHECKING:
    from digitpad.core.report.sections import Section


def application_code(sections: list[Section]) -> dict[int, Code]:
    """Each application's script, from the sweeps its sections report (none when none of
    its exercises has runs)."""
    by_key = {section.key: section for section in sections}
    out: dict[int, Code] = {}
    for number, (title, keys) in APPLICATIONS.items():
        parts = []
        for key in keys:
            section = by_key.get(key)
            if section is None or section.runs is None:
                continue
            try:
                if key == FIRST_FIVE.id:
                    ex4 = next((r for _, r in section.runs.cells if r.result is not None), None)
                    if ex4 is not None:
                        parts.append(first_five_part(ex4))
                else:
                    parts.append(sweep_part(section.runs))
            except NothingToExport:  # a sweep without a finished run: no code for it
                continue
        if parts:
            plan = CodePlan(
                f"application{number}", title, "the runs this report shows", tuple(parts)
            )
            out[number] = Code(script_text(plan), f"{plan.name}.py")
    return out


def first_five_code(record: RunRecord, five: Any) -> Code | None:
    """Exercise 5's own script (it loads run ``record``'s weights) and what it prints
    after Keras' model summary: the reading DigitPad made of the same weights."""
    try:
        plan = CodePlan(
            FIRST_FIVE.id,
            FIRST_FIVE.title,
            f"run {record.id}'s weights",
            (first_five_part(record),),
        )
    except NothingToExport:
        return None
    printed = [
        *markdown_table(READING_HEADER, five.rows()),
        f"Error on these five: {five.error_percent:.2f} %",
        f"test accuracy {record.result.test_accuracy:.4f}",
    ]
    return Code(script_text(plan), "ex5.py", "\n".join(printed))
