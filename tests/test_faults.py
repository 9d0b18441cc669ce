"""Faults a student's computer throws at DigitPad: killed mid-sweep, a locked or read-only
database, a full disk, two windows on one data folder. No finished run may be lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import fake_result, hold_lock, read_only_connections, record_run, release, share
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.runs import PENDING_RESULT, RunStore, RunStoreError
from digitpad.ui import MainWindow


def wait_for(condition, timeout: float, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the process ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_killed_mid_sweep_keeps_finished_runs_and_marks_the_cut_one(tmp_path):
    env = {**os.environ, "DIGITPAD_HOME": str(tmp_path)}
    # Two runs side by side, a long one (5 images a batch) and a quick one (1,000): the
    # kill lands after the quick one has ended, inside the long one.
    argv = [sys.executable, "-m", "digitpad", "sweep", "--param", "batch_size", "--jobs", "2"]
    argv += ["--values", "1000,5", "--epochs", "20", "--train-limit", "3000"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = RunStore(tmp_path)
    try:
        wait_for(
            lambda: sorted(r.status for r in store.list_runs()) == ["done", "running"],
            180,
            proc,
            "the quick run ended while the long one trained",
        )
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    after = RunStore(tmp_path)
    runs = {r.spec.batch_size: r for r in after.list_runs()}
    assert {b: r.status for b, r in runs.items()} == {1000: "done", 5: "interrupted"}
    assert runs[1000].result.test_accuracy > 0.2 and runs[1000].has_model  # chance is 0.1
    assert runs[5].error == "the program ended before this run finished"
    assert after.integrity() == "ok"


def test_locked_database_is_named_and_a_finished_run_survives_it(tmp_path, mnist):
    store = RunStore(tmp_path, timeout=0.5)
    earlier = store.start_run(RunSpec())
    store.finish_run(earlier, fake_result(RunSpec(), 0.91))
    locker = None

    def lock_mid_run() -> bool:
        nonlocal locker
        if locker is None:
            locker = hold_lock(store.path)
        return False

    try:
        spec = RunSpec.for_model("mlp", epochs=1, train_limit=1000, seed=0)
        record = record_run(spec, mnist, store, should_stop=lock_mid_run)
        assert record.status == "done"  # the figures are there for the window to show
        note = " ".join(record.result.notes)
        assert "is locked by another program" in note and PENDING_RESULT in note
        with pytest.raises(RunStoreError, match="locked by another program"):
            RunStore(tmp_path, timeout=0.5)
    finally:
        release(locker)
    reopened = RunStore(tmp_path)
    assert reopened.recovered == 1
    runs = {r.id: r for r in reopened.list_runs()}
    assert runs[earlier].result.test_accuracy == 0.91
    assert runs[record.id].status == "done"
    assert runs[record.id].result.test_accuracy == record.result.test_accuracy
    assert not list(tmp_path.glob(f"runs/*/{PENDING_RESULT}"))
    assert reopened.integrity() == "ok"


def test_read_only_database_is_named_with_the_fix(tmp_path, monkeypatch):
    RunStore(tmp_path).start_run(RunSpec())
    read_only_connections(monkeypatch, tmp_path)
    with pytest.raises(RunStoreError) as error:
        RunStore(tmp_path)
    assert "is read-only" in str(error.value) and "DIGITPAD_HOME" in str(error.value)
    assert not list(tmp_path.glob("runs.corrupt-*"))  # not mistaken for a damaged file


@pytest.mark.parametrize("fault", ["locked", "read-only"])
def test_window_starts_and_draws_when_the_database_cannot_be_written(
    fault, qtbot, digitpad_home, monkeypatch
):
    RunStore(digitpad_home).start_run(RunSpec())
    locker = hold_lock(digitpad_home / "runs.db") if fault == "locked" else None
    if fault == "read-only":
        read_only_connections(monkeypatch, digitpad_home)
    try:
        win = MainWindow()
        qtbot.addWidget(win)
        win.show()
        message = win.statusBar().currentMessage()
        assert ("is locked" if fault == "locked" else "is read-only") in message
        assert "what you make in this window (runs, drawings, answers) is kept" in message
        assert win.store.folder != digitpad_home
        assert win.wait_until_ready(60)
        win.select_tab("draw")
        win.draw_tab.draw_sample(4)
        qtbot.waitUntil(lambda: win.draw_tab.prediction_label.text() == "4", timeout=5_000)
        win.close()
    finally:
        if locker is not None:
            release(locker)


def test_full_disk_while_saving_a_model_keeps_the_run(tmp_path, mnist, monkeypatch):
    import keras

    def no_space(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keras.Model, "save", no_space)
    store = RunStore(tmp_path)
    spec = RunSpec.for_model("mlp", epochs=1, train_limit=1000, seed=0)
    record = record_run(spec, mnist, store)
    assert record.status == "done" and not record.has_model
    assert "No space left on device" in " ".join(record.result.notes)
    assert "could not save the model" in " ".join(record.result.notes)
    stored = RunStore(tmp_path).get(record.id)
    assert stored.status == "done"
    assert stored.result.test_accuracy == record.result.test_accuracy
    assert not list(store.model_dir(record.id).glob("model.*"))  # no half-written file


def test_two_windows_on_one_data_folder_lose_no_run(qtbot, mnist, digitpad_home):
    share(mnist)
    first, second = MainWindow(), MainWindow()
    for win in (first, second):
        qtbot.addWidget(win)
        win.show()
    # Another DigitPad process trains into the same folder while the first window trains.
    other = subprocess.Popen(
        [sys.executable, "-m", "digitpad", "train", "--model", "mlp", "--neurons", "16"]
        + ["--epochs", "1", "--train-limit", "800"],
        env={**os.environ, "DIGITPAD_HOME": str(digitpad_home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    spec = RunSpec.for_model("mlp", epochs=1, train_limit=800, neurons=8)
    with qtbot.waitSignal(first.train_tab.trainingEnded, timeout=120_000):
        first.train_tab.run_specs([spec])
    assert other.wait(timeout=120) == 0
    for win in (first, second):
        win.results_tab.reload()
        model = win.results_tab.model
        shown = sorted((model.row_at(i) for i in range(model.rowCount())), key=lambda r: r.neurons)
        assert [(r.neurons, r.status) for r in shown] == [(8, "done"), (16, "done")]
    assert RunStore(digitpad_home).integrity() == "ok"
    first.close()
    second.close()
