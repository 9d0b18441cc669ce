"""The window's Train and Results tabs, driven like a user would (offscreen)."""

from __future__ import annotations

import csv
import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QComboBox, QMessageBox, QPushButton, QSpinBox, QTableView

from conftest import child, fake_result, share
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.runs import RunStore
from digitpad.ui import MainWindow
from digitpad.ui.results.results_model import COLUMN_INDEX, RunTableModel
from digitpad.ui.tab_names import TAB_NAMES

OBJECT_NAMES = [
    "canvas",
    "clearButton",
    "predictionLabel",
    "probabilityBars",
    "modelSelector",
    "modelKindCombo",
    "neuronsSpin",
    "filtersSpin",
    "kernelSizeSpin",
    "epochsSpin",
    "batchSizeSpin",
    "metricCombo",
    "trainLimitSpin",
    "precisionCombo",
    "trainButton",
    "stopButton",
    "progressBar",
    "lossPlot",
    "metricPlot",
    "resultsTable",
    "exportButton",
    "mainTabs",
]


TICK_MS = 10  # the GUI-thread timer of test_gui_thread_keeps_working_while_training


def fill_form(win, epochs: int, train_limit: int, neurons: int = 8, batch: int = 200):
    win.select_tab("train")
    child(win, QComboBox, "modelKindCombo").setCurrentIndex(0)  # MLP
    child(win, QSpinBox, "neuronsSpin").setValue(neurons)
    child(win, QSpinBox, "epochsSpin").setValue(epochs)
    child(win, QSpinBox, "batchSizeSpin").setValue(batch)
    child(win, QSpinBox, "trainLimitSpin").setValue(train_limit)


def test_every_named_widget_exists(window):
    from PySide6.QtWidgets import QWidget

    for name in TAB_NAMES:  # each tab is built when first shown, as a user opens it
        window.select_tab(name)
    missing = [n for n in OBJECT_NAMES if window.findChild(QWidget, n) is None]
    assert missing == []


def test_train_one_epoch_through_the_form(window, qtbot):
    window.select_tab("results")  # open already: the run appears in it as it ends
    table = child(window, QTableView, "resultsTable")
    rows_before = table.model().rowCount()
    fill_form(window, epochs=1, train_limit=2000)
    tab = window.train_tab
    with qtbot.waitSignal(tab.runFinished, timeout=120_000) as finished:
        qtbot.mouseClick(child(window, QPushButton, "trainButton"), Qt.MouseButton.LeftButton)
        assert not tab.form.isEnabled()  # locked while the run goes
    record = finished.args[0]
    assert record.status == "done" and record.spec.train_size == 2000
    qtbot.waitUntil(lambda: tab.form.isEnabled(), timeout=10_000)
    # 2000 / 200 = 10 batches: ten points on the light curve, one on the bold ones.
    (curves,) = tab.curves.runs.values()
    assert len(curves.batch_curve.getData()[0]) == 10
    assert len(curves.val_curve.getData()[1]) == 1
    assert table.model().rowCount() == rows_before + 1
    assert "done" in tab.status.text()


def test_invalid_form_disables_train_and_says_why(window):
    window.select_tab("train")
    fill_form(window, epochs=1, train_limit=500, batch=600)
    assert not child(window, QPushButton, "trainButton").isEnabled()
    assert "batch_size must be from 1 to 500" in window.train_tab.form.problems.text()
    child(window, QSpinBox, "batchSizeSpin").setValue(100)
    assert child(window, QPushButton, "trainButton").isEnabled()


def test_kind_switch_loads_lab_defaults_and_enables_cnn_fields(window):
    window.select_tab("train")
    combo = child(window, QComboBox, "modelKindCombo")
    combo.setCurrentIndex(combo.findData("cnn"))
    assert child(window, QSpinBox, "neuronsSpin").value() == 128
    assert child(window, QSpinBox, "kernelSizeSpin").isEnabled()
    combo.setCurrentIndex(combo.findData("mlp"))
    assert not child(window, QSpinBox, "kernelSizeSpin").isEnabled()


def batches_seen(tab) -> bool:
    """The running job has reported a batch (the workers have loaded TensorFlow)."""
    tracker = tab.tracker
    return tracker is not None and any(p.kind == "batch" for p in tracker.last.values())


def test_stop_keeps_a_stopped_run(window, qtbot):
    fill_form(window, epochs=50, train_limit=20000, neurons=64, batch=50)
    tab = window.train_tab
    qtbot.mouseClick(child(window, QPushButton, "trainButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: batches_seen(tab), timeout=60_000)
    with qtbot.waitSignal(tab.runFinished, timeout=60_000) as finished:
        qtbot.mouseClick(child(window, QPushButton, "stopButton"), Qt.MouseButton.LeftButton)
    record = finished.args[0]
    assert record.status == "stopped" and record.result.epochs_run < 50
    assert window.store.get(record.id).status == "stopped"
    qtbot.waitUntil(lambda: tab.form.isEnabled(), timeout=10_000)  # the window takes input again


def test_skip_and_stop_pressed_while_the_workers_load_are_not_lost(window, qtbot):
    """Both buttons work in the seconds before the workers have started training."""
    fill_form(window, epochs=50, train_limit=20000, neurons=64, batch=50)
    tab = window.train_tab
    finished = []
    tab.runFinished.connect(finished.append)
    with qtbot.waitSignal(tab.trainingEnded, timeout=120_000):
        tab.run_specs([tab.form.spec()] * 2)  # random seeds: two runs, one per worker
        qtbot.waitUntil(lambda: tab.running_list.count() == 2, timeout=30_000)
        tab.skip_run()  # the first run: ends at once, the other goes on
        qtbot.waitUntil(lambda: len(finished) == 1, timeout=60_000)
        assert finished[0].status == "stopped"
        tab.stop_training()
    assert [r.status for r in finished] == ["stopped", "stopped"]
    assert finished[0].result.epochs_run == 0  # skipped before its first batch
    assert finished[1].result.epochs_run < 50  # stopped while the other one ended

    finished.clear()
    with qtbot.waitSignal(tab.trainingEnded, timeout=60_000):
        tab.run_specs([tab.form.spec()])  # to the workers kept from above
        qtbot.waitUntil(lambda: tab.running_list.count() == 1, timeout=30_000)
        tab.stop_training()  # at once, before its first batch has been seen
    assert [r.status for r in finished] == ["stopped"]
    assert "running" not in {r.status for r in window.store.list_runs()}


def test_gui_thread_keeps_working_while_training(window, qtbot):
    """The window's own events (a timer here, clicks for a user) go on while a job trains
    and reports. How long the GUI thread is ever blocked: benchmarks/bench_gui_training.py."""
    qtbot.waitUntil(window.draw_tab.settled, timeout=60_000)
    fill_form(window, epochs=2, train_limit=3000, neurons=32, batch=20)
    ticks, values = [], []
    timer = QTimer(interval=TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    tab = window.train_tab
    with qtbot.waitSignal(tab.trainingEnded, timeout=120_000):
        tab.start_training()
        qtbot.waitUntil(lambda: batches_seen(tab), timeout=60_000)
        training_from = time.perf_counter()
        tab.progress.valueChanged.connect(values.append)
    training_to = time.perf_counter()
    timer.stop()
    assert len(set(values)) > 5  # the progress bar moved all along
    # And the timer kept firing meanwhile: a GUI thread blocked most of the time would let
    # through a small share of its ticks (a tenth if blocked 90 % of the time).
    fired = sum(training_from < t <= training_to for t in ticks)
    assert fired >= 0.3 * (training_to - training_from) * 1000 / TICK_MS


def test_closing_mid_run_stops_and_waits(qtbot, mnist, digitpad_home):
    share(mnist)
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    fill_form(win, epochs=50, train_limit=20000, neurons=64, batch=50)
    win.train_tab.start_training()
    qtbot.waitUntil(
        lambda: any(r.status == "running" for r in win.store.list_runs()), timeout=60_000
    )
    win.close()
    assert not win.train_tab.is_training()
    statuses = [r.status for r in win.store.list_runs()]
    assert statuses == ["stopped"]


def seed_runs(store):
    """Three stored runs: an MLP, a CNN and a failed one (no figures)."""
    mlp, cnn = RunSpec(neurons=16), RunSpec.for_model("cnn", kernel_size=5)
    ids = []
    for spec, accuracy in ((mlp, 0.92), (cnn, 0.985)):
        run_id = store.start_run(spec, sweep_id="ex1" if spec is mlp else None)
        store.finish_run(run_id, fake_result(spec, accuracy))
        ids.append(run_id)
    failed = store.start_run(RunSpec(neurons=4))
    store.fail_run(failed, "MemoryError: out of memory")
    return [*ids, failed]


def test_results_model_passes_qtmodeltester(qtmodeltester, tmp_path):
    store = RunStore(tmp_path)
    seed_runs(store)
    model = RunTableModel(store)
    model.reload()
    qtmodeltester.check(model)
    model.sort(COLUMN_INDEX["Accuracy"], Qt.SortOrder.DescendingOrder)
    model.set_filters("mlp", None)
    assert model.rowCount() == 2
    qtmodeltester.check(model)


def test_results_table_sorts_filters_exports_and_deletes(window, qtbot, tmp_path, monkeypatch):
    mlp_id, cnn_id, failed_id = seed_runs(window.store)
    results = window.results_tab
    results.reload()
    window.select_tab("results")
    table = child(window, QTableView, "resultsTable")
    model = table.model()
    accuracy_col = COLUMN_INDEX["Accuracy"]

    def ids():
        return [int(model.index(r, 0).data()) for r in range(model.rowCount())]

    table.sortByColumn(accuracy_col, Qt.SortOrder.DescendingOrder)
    assert ids() == [cnn_id, mlp_id, failed_id]  # blanks last
    table.sortByColumn(accuracy_col, Qt.SortOrder.AscendingOrder)
    assert ids() == [mlp_id, cnn_id, failed_id]  # blanks still last

    kind = child(window, QComboBox, "modelFilter")
    kind.setCurrentIndex(kind.findData("cnn"))
    assert ids() == [cnn_id]
    kind.setCurrentIndex(0)
    sweep = child(window, QComboBox, "sweepFilter")
    sweep.setCurrentIndex(sweep.findData("ex1"))
    assert ids() == [mlp_id]
    sweep.setCurrentIndex(0)

    target = tmp_path / "runs.csv"
    assert results.export_csv(str(target)) == str(target)
    with target.open() as f:
        rows = list(csv.reader(f))
    # What people compare first: after the id and the model, status, accuracy on MNIST and
    # on My digits, and time; the same columns as `digitpad runs --csv`, in the order shown
    # (sorted by accuracy, ascending), each number as stored, not as the table rounds it.
    assert rows[0][:6] == [
        "id",
        "model",
        "status",
        "test_accuracy",
        "my_digits",
        "convergence_time",
    ]
    assert [int(r[0]) for r in rows[1:]] == [mlp_id, cnn_id, failed_id]
    stored = window.store.get(cnn_id).result.test_accuracy
    assert float(rows[2][3]) == stored

    table.selectRow(0)
    assert "test accuracy" in results.spec_view.toPlainText()
    assert len(results.overlay.listDataItems()) == 2  # its train and validation loss

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    table.selectAll()
    qtbot.mouseClick(child(window, QPushButton, "deleteButton"), Qt.MouseButton.LeftButton)
    assert model.rowCount() == 0 and window.store.list_runs() == []


def test_tab_form_and_pen_persist_across_windows(qtbot):
    first = MainWindow()
    qtbot.addWidget(first)
    first.select_tab("train")
    combo = child(first, QComboBox, "modelKindCombo")
    combo.setCurrentIndex(combo.findData("cnn"))
    child(first, QSpinBox, "kernelSizeSpin").setValue(7)
    child(first, QSpinBox, "trainLimitSpin").setValue(3000)
    first.select_tab("results")
    first.draw_tab.pen_slider.setValue(30)
    first.close()

    second = MainWindow()
    qtbot.addWidget(second)
    assert second.tabs.currentIndex() == 2
    assert second.train_tab.form.values()["model"] == "cnn"
    assert child(second, QSpinBox, "kernelSizeSpin").value() == 7
    assert child(second, QSpinBox, "trainLimitSpin").value() == 3000
    assert second.draw_tab.canvas.pen_px == 30
    second.close()
