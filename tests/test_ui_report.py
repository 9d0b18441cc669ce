"""The Report tab, driven as a student would: run an exercise preset, open Report, see its
section filled from the run, write an answer, export PDF and HTML."""

from __future__ import annotations

import html
import re

from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableView,
    QTextBrowser,
)
from test_ui_lab import choose_preset, table_cells

from conftest import child


def test_an_exercise_run_in_the_window_fills_its_report_section_and_exports(
    window, qtbot, tmp_path
):
    window.select_tab("train")
    choose_preset(window, "ex4")
    child(window, QSpinBox, "trainLimitSpin").setValue(1000)
    child(window, QSpinBox, "epochsSpin").setValue(1)
    with qtbot.waitSignal(window.train_tab.sweepEnded, timeout=180_000):
        qtbot.mouseClick(child(window, QPushButton, "runSweepButton"), Qt.MouseButton.LeftButton)
    (run,) = window.store.list_runs()

    window.select_tab("report")
    tab = window.report_tab
    qtbot.waitUntil(lambda: tab.report is not None, timeout=10_000)  # filled once shown
    cells = table_cells(child(window, QTableView, "reportTable-ex4"))
    assert cells["System accuracy"] == [f"{run.result.test_accuracy:.4f}"]
    assert cells["Convergence time (s)"] == [f"{run.result.convergence_time:.1f}"]
    picker = child(window, QComboBox, "sweepPicker-ex4")
    assert picker.currentData() == run.sweep_id and "complete" in picker.currentText()
    # Exercise 5 reads exercise 4's weights off the GUI thread; export waits for it.
    pdf_button = child(window, QPushButton, "exportPdfButton")
    qtbot.waitUntil(pdf_button.isEnabled, timeout=120_000)
    assert pdf_button.toolTip() == "A4 pages"  # its own tip again, once exercise 5 is read
    extra = child(window, QLabel, "extra-ex5").text()
    assert f"Run {run.id}" in extra and "true label" in extra
    # Exercise 5's own script, highlighted, and what it prints; application 1's code (the
    # script that made exercise 4's run) above exercise 1; no code for application 2 yet.
    words = html.unescape(re.sub(r"<[^>]+>", "", extra))  # without the highlighting's tags
    assert "model.load_weights(WEIGHTS_FILE)" in words
    assert f"test accuracy {run.result.test_accuracy:.4f}" in words
    code = child(window, QTextBrowser, "code-1")
    assert code.isVisible() and not child(window, QTextBrowser, "code-2").isVisible()
    shown = code.toPlainText()
    assert "def baseline_model(neurons):" in shown and "model.save_weights(WEIGHTS_FILE)" in shown
    assert f'"seed": {run.result.seed}' in shown and f"# run {run.id}" in shown
    # An exercise without runs says so and offers to set it up.
    assert "Not run yet" in child(window, QLabel, "status-ex2").text()
    tab.sections["ex4"].answer.setPlainText("The weights are in runs/.")

    pdf = tab.export_to(tmp_path / "report.pdf")
    page = tab.export_to(tmp_path / "report.html")
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(pdf).pages)
    assert f"Run {run.id} reached a test accuracy of {run.result.test_accuracy:.4f}" in text
    assert "The weights are in runs/." in text  # the answer as typed, saved on export
    assert "Code for application 1" in text and "defbaseline_model(neurons):" in "".join(
        text.split()
    )
    assert f"{run.result.test_accuracy:.4f}" in page.read_text()
    assert window.store.answers().all()["ex4"] == "The weights are in runs/."

    # Hand in: one file with this report, the run, the answer as typed and the weights.
    from digitpad.core.classroom.handin import EX4_WEIGHTS, read_handin

    handed = read_handin(tab.hand_in_to(tmp_path / "mine", "Ana Lopes"))
    assert handed.digest_ok and handed.name == "Ana Lopes"
    assert [(r.exercise, r.run_id) for r in handed.runs] == [("ex4", run.id)]
    assert handed.runs[0].result.test_accuracy == run.result.test_accuracy
    assert handed.answers["ex4"] == "The weights are in runs/."
    assert EX4_WEIGHTS in handed.manifest["files"]

    qtbot.mouseClick(child(window, QPushButton, "setUp-ex2"), Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.train_page
    assert child(window, QComboBox, "presetCombo").currentData() == "ex2"
