"""Small paths that wedged or misled: a failing prepare() of a newest-only view, closing
while a job will not end, and deleting a running run."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox, QPushButton, QTableView

from conftest import child
from digitpad.core.nets.specs import RunSpec
from digitpad.ui.common.background import NewestOnly


def test_a_failing_prepare_is_reported_and_the_next_request_still_runs(qtbot):
    owner = QObject()
    runner = NewestOnly(owner)
    errors, results = [], []

    def broken():
        raise ValueError("no network loaded")

    runner.submit(broken, results.append, errors.append)
    assert errors == ["no network loaded"] and not runner.busy
    runner.submit(lambda: lambda: 42, results.append, errors.append)
    qtbot.waitUntil(lambda: results == [42], timeout=5_000)
    runner.shutdown()


def test_closing_while_a_job_will_not_end_leaves_its_engine_to_its_thread(window, monkeypatch):
    train = window.train_tab
    closed = []

    class Engine:
        def close(self):
            closed.append(True)

    train.engine = Engine()
    monkeypatch.setattr(train._pool, "wait_for_done", lambda timeout_ms=-1: False)  # still running
    train.shutdown()
    assert closed == [] and train.engine is not None
    monkeypatch.undo()
    train.shutdown()
    assert closed == [True] and train.engine is None


def test_deleting_a_running_run_is_refused_before_asking(window, qtbot, monkeypatch):
    running = window.store.start_run(RunSpec())
    asked = []
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.Yes
    )
    window.results_tab.reload()
    window.select_tab("results")
    child(window, QTableView, "resultsTable").selectAll()
    qtbot.mouseClick(child(window, QPushButton, "deleteButton"), Qt.MouseButton.LeftButton)
    assert asked == []  # no "Delete?" for something that will not be deleted
    assert "running run cannot be deleted" in window.statusBar().currentMessage()
    assert [r.id for r in window.store.list_runs()] == [running]
