"""The lab from the window: preset sweeps with their tables, skip and stop, exercise 5,
what a run gets wrong, saving weights. Driven like a user would (offscreen)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTableView,
)

from conftest import child, record_run
from digitpad.core.inference.predictor import ModelSource, Predictor, run_source
from digitpad.core.nets.specs import RunSpec


def choose_preset(win, preset_id: str) -> None:
    combo = child(win, QComboBox, "presetCombo")
    combo.setCurrentIndex(combo.findData(preset_id))


def table_cells(view: QTableView) -> dict[str, list[str]]:
    model = view.model()
    return {
        model.headerData(row, Qt.Orientation.Vertical): [
            model.index(row, col).data() for col in range(model.columnCount())
        ]
        for row in range(model.rowCount())
    }


def test_preset_sweep_runs_from_the_train_tab_and_gives_the_lab_table(window, qtbot):
    window.select_tab("train")
    choose_preset(window, "ex1")
    # The preset filled the form with exercise 1's settings and shows its values.
    assert child(window, QSpinBox, "epochsSpin").value() == 10
    assert child(window, QLineEdit, "sweepValuesEdit").text() == "8, 16, 32, 64, 128"
    assert "neurons in the hidden layer" in child(window, QLabel, "presetDescription").text()
    # A quick pass: subset and epochs typed in the form apply to the whole sweep.
    child(window, QSpinBox, "trainLimitSpin").setValue(1500)
    child(window, QSpinBox, "epochsSpin").setValue(1)
    status = child(window, QLabel, "sweepProgress")
    with qtbot.waitSignal(window.train_tab.sweepEnded, timeout=180_000) as ended:
        run_button = child(window, QPushButton, "runSweepButton")
        assert run_button.text() == "Run sweep (5 runs)"
        qtbot.mouseClick(run_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "run 2 of 5" in status.text(), timeout=120_000)
    sweep_id = ended.args[0]
    runs = [r for r in window.store.list_runs() if r.sweep_id == sweep_id]
    assert sorted(r.spec.neurons for r in runs) == [8, 16, 32, 64, 128]
    assert all(r.status == "done" and r.spec.train_limit == 1500 for r in runs)
    # The results tab now shows that sweep's table, in the lab's layout.
    assert window.results_tab.details.currentWidget() is window.results_tab.sweep_page
    cells = table_cells(child(window, QTableView, "labTable"))
    in_order = [next(r.result for r in runs if r.spec.neurons == n) for n in (8, 16, 32, 64, 128)]
    assert cells["System accuracy"] == [f"{r.test_accuracy:.4f}" for r in in_order]
    assert cells["Convergence time (s)"] == [f"{r.convergence_time:.1f}" for r in in_order]
    assert cells["Report: system accuracy"] == ["0.9261", "0.9417", "0.9576", "0.9689", "0.9750"]
    window.results_tab.sweep_view.copy_markdown()
    from PySide6.QtGui import QGuiApplication

    markdown = QGuiApplication.clipboard().text()
    assert markdown.splitlines()[2] == "| | 8 | 16 | 32 | 64 | 128 |"


def test_the_whole_lab_is_one_choice_planned_as_the_lab_command_plans_it(window):
    window.select_tab("train")
    choose_preset(window, "lab")
    run_button = child(window, QPushButton, "runSweepButton")
    assert run_button.text() == "Run the lab (25 trainings)" and run_button.isEnabled()
    assert not child(window, QLineEdit, "sweepValuesEdit").isEnabled()
    child(window, QSpinBox, "repeatsSpin").setValue(2)
    assert run_button.text() == "Run the lab (50 trainings)"
    job = window.train_tab.sweep_panel.job()
    assert len(job.sweep_ids) == 8  # every exercise but 5 (which reads exercise 4) a table
    (longest,) = [r for r in job.runs if r.spec.epochs == 20 and r.spec.seed == 0]
    assert len(longest.cells) == 7  # ex8 at 1, 2, 5, 10, 20 epochs; ex6 3x3, ex7 128


def test_skip_ends_one_running_run_and_stop_ends_the_sweep(window, qtbot):
    window.select_tab("train")
    child(window, QComboBox, "modelKindCombo").setCurrentIndex(0)
    child(window, QSpinBox, "epochsSpin").setValue(50)
    child(window, QSpinBox, "batchSizeSpin").setValue(50)
    child(window, QSpinBox, "trainLimitSpin").setValue(5000)
    param = child(window, QComboBox, "sweepParamCombo")
    param.setCurrentIndex(param.findData("neurons"))
    child(window, QLineEdit, "sweepValuesEdit").setText("8, 16, 32, 64")
    tab = window.train_tab
    running = child(window, QListWidget, "runningList")

    def training(count: int) -> bool:
        batches = [p for p in tab.tracker.last.values() if p.kind == "batch"]
        return tab.tracker.started == count and len(batches) >= 2

    qtbot.mouseClick(child(window, QPushButton, "runSweepButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: training(2), timeout=60_000)  # two workers: two runs at once
    assert running.count() == 2 and child(window, QPushButton, "skipButton").isEnabled()
    running.setCurrentRow(1)  # the user picks the second running run
    picked = running.item(1).text()
    with qtbot.waitSignal(tab.runFinished, timeout=60_000) as first:
        qtbot.mouseClick(child(window, QPushButton, "skipButton"), Qt.MouseButton.LeftButton)
    assert first.args[0].status == "stopped" and f"run {first.args[0].id}:" in picked
    qtbot.waitUntil(lambda: tab.tracker.started == 3 and running.count() == 2, timeout=60_000)
    with qtbot.waitSignal(tab.trainingEnded, timeout=60_000):
        qtbot.mouseClick(child(window, QPushButton, "stopButton"), Qt.MouseButton.LeftButton)
    runs = window.store.list_runs()
    assert [r.status for r in runs] == ["stopped"] * 3
    assert 8 not in {r.spec.neurons for r in runs}  # the fourth run (cheapest) never began


def test_first_five_view_reads_the_shipped_exercise_4_weights(window, qtbot):
    window.select_tab("results")
    dialog = window.results_tab.open_first_five()
    qtbot.addWidget(dialog)
    assert child(dialog, QLineEdit, "weightsPathEdit").text().endswith("mlp.weights.h5")
    with qtbot.waitSignal(dialog.finished_reading, timeout=60_000):
        qtbot.mouseClick(
            child(dialog, QPushButton, "predictFirstFiveButton"), Qt.MouseButton.LeftButton
        )
    assert "5 of 5 right" in child(dialog, QLabel, "firstFiveStatus").text()
    assert "error on these five: 0.00 %" in child(dialog, QLabel, "firstFiveStatus").text()
    texts = [child(dialog, QLabel, f"firstFiveText{i}").text() for i in range(5)]
    assert [t.split("\n")[0] for t in texts] == ["true 7", "true 2", "true 1", "true 0", "true 4"]
    assert all(t.split("\n")[1].startswith("read " + t[5]) for t in texts)
    summary = child(dialog, QTableView, "modelSummaryTable").model()
    rows = [[summary.index(r, c).data() for c in range(3)] for r in range(summary.rowCount())]
    assert rows[-1] == ["Total params", "", "6,370"]
    assert [row[1:] for row in rows[:2]] == [["(None, 8)", "6,280"], ["(None, 10)", "90"]]
    # The same weights in the wrong architecture: refused, plainly.
    architecture = child(dialog, QComboBox, "architectureCombo")
    architecture.setCurrentIndex(architecture.findText("lab cnn", Qt.MatchFlag.MatchStartsWith))
    with qtbot.waitSignal(dialog.finished_reading, timeout=60_000):
        dialog.predict()
    status = child(dialog, QLabel, "firstFiveStatus").text()
    assert "mlp.weights.h5 cannot be loaded as a cnn" in status and dialog.result_data is None


def test_a_runs_mistakes_go_to_the_canvas_and_its_weights_can_be_saved(
    window, qtbot, mnist, tmp_path
):
    record = record_run(
        RunSpec.for_model("mlp", neurons=16, epochs=1, train_limit=3000, seed=1),
        mnist,
        window.store,
    )
    results = window.results_tab
    results.reload()
    window.select_tab("results")
    results.table.selectRow(0)
    with qtbot.waitSignal(results.inspector.inspected, timeout=60_000):
        results.details.setCurrentWidget(results.inspector_page)
    matrix = results.inspector.matrix
    assert matrix.sum() == 10_000
    assert np.trace(matrix) / 10_000 == pytest.approx(record.result.test_accuracy, abs=1e-4)
    assert (matrix.sum(axis=1) == np.bincount(mnist.y_test, minlength=10)).all()
    gallery = child(window, QListWidget, "mistakesGallery")
    assert gallery.count() == 40
    first = results.inspector.mistakes[0]
    assert first.label != first.predicted
    item = gallery.item(0)
    assert item.text().startswith(f"{first.label} → {first.predicted}")
    gallery.itemClicked.emit(item)
    assert window.tabs.currentWidget() is window.draw_tab
    assert not window.draw_tab.canvas.is_empty()

    target = tmp_path / "mine"
    with qtbot.waitSignal(results.exported, timeout=60_000) as written:
        results.export_as("weights", str(target))
    assert written.args == [str(target) + ".weights.h5"]
    copy = Predictor(ModelSource("copy", record.spec, tmp_path / "mine.weights.h5"))
    original = Predictor(run_source(record))
    x = mnist.x_test[:50].astype(np.float32) / 255
    assert np.allclose(copy.predict_batch(x), original.predict_batch(x), atol=1e-6)


def test_exercise_3_view_shows_the_metric_does_not_change_training(window, qtbot, mnist):
    store = window.store
    for metric, sweep_id in (("accuracy", "ex2-20261128-000001"), ("mse", "ex3-20261128-000002")):
        for batch in (64, 256):
            spec = RunSpec.for_model(
                "mlp", batch_size=batch, metric=metric, epochs=2, train_limit=1500, seed=0
            )
            record_run(spec, mnist, store, sweep_id=sweep_id)
    results = window.results_tab
    results.reload()
    results.show_sweep("ex3-20261128-000002")
    cells = table_cells(child(window, QTableView, "labTable"))
    assert "MSE" in cells and cells["MSE"][0] == "—"  # batch 32 was not run
    mse_runs = {r.spec.batch_size: r for r in store.list_runs() if r.spec.metric == "mse"}
    assert cells["MSE"][1] == f"{mse_runs[64].result.test_mse:.4f}"
    note = child(window, QLabel, "metricComparison").text()
    gap = float(note.split("curves is ")[1].split(",")[0])
    assert gap < 1e-3, note  # same seeds: the same training whatever the metric
    assert "batch 64: " in note and "batch 256: " in note
