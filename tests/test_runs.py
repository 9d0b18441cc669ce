"""RunStore: persistence, crashed runs, corrupt databases."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import fake_result
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.runs import RunRow, RunStore


def test_runs_persist_across_store_instances(tmp_path):
    store = RunStore(tmp_path)
    spec = RunSpec(neurons=16)
    run_id = store.start_run(spec, sweep_id="ex1")
    assert store.get(run_id).status == "running"
    store.finish_run(run_id, fake_result(spec, 0.94))

    reopened = RunStore(tmp_path)
    (record,) = reopened.list_runs()
    assert record.status == "done" and record.spec == spec and record.sweep_id == "ex1"
    assert record.result.test_accuracy == 0.94
    assert record.result.history == {}  # listing leaves curves out...
    assert reopened.get(run_id).result.history["val_loss"] == [0.4, 0.35]  # ...get has them
    assert reopened.list_runs(model="cnn") == []
    assert len(reopened.list_runs(sweep_id="ex1")) == 1


def _varied_store(tmp_path) -> RunStore:
    """A store with a finished MLP, a finished CNN with a learning rate and a subset, a
    failed run, a running one, and a run written before RunSpec had its newer fields."""
    store = RunStore(tmp_path)
    mlp = RunSpec(neurons=16, metric="mse")
    cnn = RunSpec.for_model("cnn", kernel_size=5, learning_rate=0.002, train_limit=3000)
    for spec, accuracy in ((mlp, 0.93), (cnn, 0.985)):
        store.finish_run(store.start_run(spec, sweep_id="s1"), fake_result(spec, accuracy))
    store.fail_run(store.start_run(RunSpec(neurons=4)), "MemoryError: out of memory")
    store.start_run(RunSpec(epochs=3))
    old = store.start_run(RunSpec(neurons=32))
    with sqlite3.connect(store.path) as db:  # as an early version wrote it
        db.execute(
            "UPDATE runs SET spec_json=? WHERE id=?", ('{"model": "mlp", "neurons": 32}', old)
        )
    return store


def test_table_rows_match_the_records_parsed_from_json(tmp_path):
    store = _varied_store(tmp_path)
    records = store.list_runs()
    by_id = store.rows(r.id for r in records)
    assert [by_id[r.id] for r in records] == [RunRow.from_record(r) for r in records]
    cnn = by_id[records[1].id]
    assert (cnn.kernel_size, cnn.learning_rate, cnn.train_size) == (5, 0.002, 3000)
    assert cnn.baseline_error == pytest.approx(1.5)
    assert by_id[records[2].id].test_accuracy is None and by_id[records[2].id].error
    assert by_id[records[4].id].epochs == RunSpec().epochs  # missing field: the default


def test_newest_runs_with_their_model_still_on_disk(tmp_path):
    store = RunStore(tmp_path)
    ids = []
    for neurons in (8, 16, 32, 64):
        spec = RunSpec(neurons=neurons)
        run_id = store.start_run(spec)
        result = fake_result(spec, 0.9)
        if neurons != 64:  # the newest run saved no model
            model = store.model_dir(run_id) / "model.keras"
            model.parent.mkdir(parents=True)
            model.write_bytes(b"a model")
            result.model_path = str(model)
        store.finish_run(run_id, result)
        ids.append(run_id)
    (store.model_dir(ids[1]) / "model.keras").unlink()  # deleted by hand since
    assert [row.id for row in store.newest_with_models(5)] == [ids[2], ids[0]]
    assert [row.id for row in store.newest_with_models(1)] == [ids[2]]


def test_a_database_of_the_first_layout_is_upgraded_without_losing_anything(tmp_path):
    store = _varied_store(tmp_path)
    records = store.get_many(r.id for r in store.list_runs())
    with sqlite3.connect(store.path) as db:  # back to the first layout: curves in runs, and
        for record_id, curves in db.execute("SELECT run_id, curves_json FROM run_curves"):
            db.execute("UPDATE runs SET curves_json=? WHERE id=?", (curves, record_id))
        db.execute("DROP TABLE run_curves")
        for column in ("neurons", "params", "model_path"):  # columns it did not have
            db.execute(f"ALTER TABLE runs DROP COLUMN {column}")

    reopened = RunStore(tmp_path)
    assert reopened.get_many(r.id for r in records) == records
    rows = reopened.rows(r.id for r in records)
    assert [rows[r.id] for r in records] == [RunRow.from_record(r) for r in records]
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT count(*) FROM runs WHERE curves_json IS NOT NULL").fetchone() == (
            0,
        )
        assert db.execute("SELECT count(*) FROM run_curves").fetchone() == (2,)
    assert reopened.integrity() == "ok"


def test_failed_run_keeps_its_message(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.start_run(RunSpec())
    store.fail_run(run_id, "MemoryError: out of memory")
    record = store.get(run_id)
    assert record.status == "failed" and "out of memory" in record.error


def test_delete_removes_rows_and_model_files(tmp_path):
    store = RunStore(tmp_path)
    spec = RunSpec()
    run_id = store.start_run(spec)
    folder = store.model_dir(run_id)
    folder.mkdir(parents=True)
    (folder / "model.keras").write_text("x")
    result = fake_result(spec, 0.9)
    result.model_path = str(folder / "model.keras")
    store.finish_run(run_id, result)
    store.delete([run_id])
    assert store.list_runs() == [] and not folder.exists()


def test_killed_training_leaves_earlier_runs_and_an_interrupted_row(tmp_path, mnist):
    store = RunStore(tmp_path)
    spec = RunSpec()
    done_id = store.start_run(spec)
    store.finish_run(done_id, fake_result(spec, 0.92))

    env = {**os.environ, "DIGITPAD_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "digitpad", "train", "--model", "cnn", "--epochs", "50"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(r.status == "running" for r in store.list_runs()):
            assert proc.poll() is None, "the training process ended early"
            assert time.monotonic() < deadline, "training never started"
            time.sleep(0.2)
        # Killed as soon as the run is recorded as running: whatever it is doing then
        # (starting TensorFlow, or training), it must end up interrupted.
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    after = RunStore(tmp_path)
    statuses = {r.id: r.status for r in after.list_runs()}
    assert statuses[done_id] == "done"
    assert sorted(statuses.values()) == ["done", "interrupted"]
    assert after.get(done_id).result.test_accuracy == 0.92
    assert after.integrity() == "ok"


def test_corrupt_database_is_moved_aside_and_a_new_one_started(tmp_path):
    (tmp_path / "runs.db").write_bytes(b"this is not a database" * 100)
    store = RunStore(tmp_path)
    assert store.recovery_message and "moved to runs.corrupt-" in store.recovery_message
    assert list(tmp_path.glob("runs.corrupt-*.db"))
    run_id = store.start_run(RunSpec())  # and it works
    assert store.get(run_id).status == "running"


def test_runs_after_a_damaged_database_never_reuse_an_old_runs_folder(tmp_path):
    store = RunStore(tmp_path)
    old_id = store.start_run(RunSpec())
    old_model = store.model_dir(old_id) / "model.keras"
    old_model.parent.mkdir(parents=True)
    old_model.write_bytes(b"the student's network")
    (tmp_path / "runs.db").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"runs.db{suffix}").unlink(missing_ok=True)

    after = RunStore(tmp_path)
    assert "model.keras" in after.recovery_message and "kept" in after.recovery_message
    new_id = after.start_run(RunSpec())
    assert new_id > old_id
    after.delete([new_id])
    assert old_model.read_bytes() == b"the student's network"


def test_a_database_deleted_by_hand_numbers_runs_after_the_saved_folders(tmp_path):
    (tmp_path / "runs" / "run-000007").mkdir(parents=True)
    (tmp_path / "runs" / "run-notes").mkdir()  # not a run's folder: ignored
    assert RunStore(tmp_path).start_run(RunSpec()) == 8


def test_a_session_kept_aside_joins_once_and_only_when_its_window_has_ended(tmp_path):
    from digitpad.core.store.session import end_session, new_session_folder

    main = RunStore(tmp_path)
    main.start_run(RunSpec())
    folder = new_session_folder(tmp_path)
    aside = RunStore(folder)
    run_id = aside.start_run(RunSpec(epochs=2))
    aside.finish_run(run_id, fake_result(RunSpec(epochs=2), 0.91))
    aside.my_digits().add(5, np.zeros((28, 28), np.uint8) + 9)
    assert RunStore(tmp_path).merged_message is None  # its window (this process) is open
    end_session(folder)
    again = RunStore(tmp_path)
    assert "1 run(s), 1 drawing(s)" in again.merged_message and not folder.exists()
    assert sorted((r.id, r.spec.epochs) for r in again.list_runs()) == [(1, 10), (2, 2)]
    assert RunStore(tmp_path).merged_message is None  # not a second time
    assert len(again.list_runs()) == 2 and len(again.my_digits()) == 1


def test_a_session_that_cannot_be_merged_whole_stays_whole(tmp_path, monkeypatch):
    from digitpad.core.store import session
    from digitpad.core.store.session import end_session, new_session_folder

    RunStore(tmp_path)
    folder = new_session_folder(tmp_path)
    aside = RunStore(folder)
    for _ in range(2):
        run_id = aside.start_run(RunSpec())
        aside.model_dir(run_id).mkdir(parents=True)
        (aside.model_dir(run_id) / "model.keras").write_bytes(b"a network")
    end_session(folder)
    real_replace, calls = os.replace, []

    def second_move_fails(source, target):
        calls.append(source)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(session.os, "replace", second_move_fails)
    store = RunStore(tmp_path)
    assert store.merged_message is None and store.list_runs() == []
    assert sorted(p.name for p in (folder / "runs").iterdir()) == ["run-000001", "run-000002"]
    monkeypatch.undo()
    again = RunStore(tmp_path)
    assert "2 run(s)" in again.merged_message and len(again.list_runs()) == 2
    for record in again.list_runs():  # each network moved to its run's new folder
        assert (again.model_dir(record.id) / "model.keras").read_bytes() == b"a network"
