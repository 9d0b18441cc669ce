"""A data folder stands on its own: model paths are stored relative to it, so a copied or
moved folder reads its own models, and deleting a run in one copy never touches another."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from conftest import fake_result
from digitpad.core.machine.paths import data_home
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.runs import RunStore


def run_with_model(store: RunStore) -> int:
    """A finished run whose model files are on disk where a worker saves them."""
    run_id = store.start_run(RunSpec())
    folder = store.model_dir(run_id)
    folder.mkdir(parents=True)
    (folder / "model.keras").write_bytes(b"model")
    (folder / "model.weights.h5").write_bytes(b"weights")
    result = fake_result(RunSpec(), 0.9)
    result.model_path = str(folder / "model.keras")
    result.weights_path = str(folder / "model.weights.h5")
    store.finish_run(run_id, result)
    return run_id


def test_a_copied_data_folder_reads_and_deletes_only_its_own_models(tmp_path):
    original = RunStore(tmp_path / "original")
    run_id = run_with_model(original)
    shutil.copytree(tmp_path / "original", tmp_path / "copy")
    copy = RunStore(tmp_path / "copy")
    (record,) = copy.list_runs()
    assert record.has_model
    assert record.result.model_path == str(copy.model_dir(run_id) / "model.keras")
    assert record.result.weights_path == str(copy.model_dir(run_id) / "model.weights.h5")
    (row,) = copy.rows([run_id]).values()
    assert row.model_path == record.result.model_path and row.has_model
    copy.delete([run_id])
    assert not copy.model_dir(run_id).exists()
    assert (original.model_dir(run_id) / "model.keras").exists()  # the original's untouched
    assert original.get(run_id).has_model


def test_absolute_paths_of_older_versions_are_made_relative_at_the_next_start(tmp_path):
    original = RunStore(tmp_path / "original")
    run_id = run_with_model(original)
    absolute = str(original.model_dir(run_id) / "model.keras")
    with sqlite3.connect(original.path) as db:  # as an earlier version wrote it
        values = json.loads(db.execute("SELECT result_json FROM runs").fetchone()[0])
        values["model_path"] = absolute
        values["weights_path"] = str(original.model_dir(run_id) / "model.weights.h5")
        db.execute("UPDATE runs SET model_path=?, result_json=?", (absolute, json.dumps(values)))
    db.close()
    shutil.copytree(tmp_path / "original", tmp_path / "copy")
    copy = RunStore(tmp_path / "copy")
    assert copy.get(run_id).result.model_path == str(copy.model_dir(run_id) / "model.keras")
    with sqlite3.connect(copy.path) as db:
        (stored,) = db.execute("SELECT model_path FROM runs").fetchone()
    db.close()
    assert stored == f"runs/run-{run_id:06d}/model.keras"
    copy.delete([run_id])
    assert (original.model_dir(run_id) / "model.keras").exists()


def test_deleting_a_run_without_a_model_removes_its_folder(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.start_run(RunSpec())
    store.model_dir(run_id).mkdir(parents=True)
    (store.model_dir(run_id) / "model.keras.partial").write_bytes(b"cut off")
    store.fail_run(run_id, "MemoryError")
    keep = run_with_model(store)
    store.delete([run_id])
    assert not store.model_dir(run_id).exists()
    assert store.get(keep).has_model and [r.id for r in store.list_runs()] == [keep]


def test_a_relative_data_home_is_resolved_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGITPAD_HOME", "my-lab")
    home = data_home()
    assert home == tmp_path / "my-lab" and home.is_absolute()
    store = RunStore(home)
    run_id = run_with_model(store)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the window's working folder changed later
    assert store.get(run_id).has_model
    assert RunStore("../my-lab").folder == home  # a relative folder, read once too


def test_a_file_written_for_the_user_is_whole_or_the_earlier_one_stays(tmp_path):
    """core.machine.files, under every export: a write that fails half-way (a full disk,
    a crash) leaves the earlier file as it was and nothing beside it; a read-only file is
    refused, whoever runs DigitPad."""
    from digitpad.core.machine.files import WriteRefused, replacing, write_text

    target = tmp_path / "runs.csv"
    write_text(target, "the earlier export")
    with pytest.raises(OSError, match="No space left"), replacing(target) as partial:
        partial.write_text("half of the new ")
        raise OSError(28, "No space left on device")
    assert target.read_text() == "the earlier export"
    assert [p.name for p in tmp_path.iterdir()] == ["runs.csv"]
    write_text(target, "the new export")
    assert target.read_text() == "the new export"
    target.chmod(0o444)
    with pytest.raises(WriteRefused, match="read-only"):
        write_text(target, "over a file made read-only")
    assert target.read_text() == "the new export"
