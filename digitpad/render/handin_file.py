"""The hand-in file: the report drawn as HTML and PDF, then packed with the runs, answers,
code and weights by ``core.classroom.handin``."""

from __future__ import annotations

import tempfile
from pathlib import Path

from digitpad.core.classroom.handin import write_handin
from digitpad.core.nets.results import WEIGHTS_FILE
from digitpad.core.report.sections import StudentReport
from digitpad.core.store.runs import RunStore
from digitpad.render.report_files import export


def hand_in(store: RunStore, report: StudentReport, name: str, out: Path) -> Path:
    """Draw ``report``'s HTML and PDF (Qt, no window; a QApplication must exist) and
    write the hand-in of ``name`` to ``out``: the command line's and the Report tab's."""
    doc = report.document()
    files = {}
    with tempfile.TemporaryDirectory() as folder:
        for kind in ("html", "pdf"):
            files[f"report.{kind}"] = export(doc, Path(folder) / f"report.{kind}").read_bytes()
    answers = {section.key: section.answer for section in report.sections}  # as shown
    record = report.exercise_4_record()
    weights = store.model_dir(record.id) / WEIGHTS_FILE if record and record.has_model else None
    return write_handin(out, name, report, answers, files, weights)
