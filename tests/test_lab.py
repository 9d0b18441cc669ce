"""The whole lab headless: which runs it needs, reading shorter runs from longer ones,
exercise 5 on the shipped weights, confusion matrices, and the report command."""

from __future__ import annotations

import re

import numpy as np
import pytest
from pypdf import PdfReader

from conftest import fake_result, record_run
from digitpad.cli import main
from digitpad.core.engine import Job
from digitpad.core.inference.predictor import WeightsError
from digitpad.core.lab.first_five import first_five
from digitpad.core.lab.sweep_ids import sweep_key
from digitpad.core.lab.sweeps import PRESETS, cell_figures, lab_table, metric_pairs, sweep_for_id
from digitpad.core.machine.paths import SHIPPED_WEIGHTS_DIR
from digitpad.core.nets.evaluation import confident_mistakes, confusion_matrix, row_normalised
from digitpad.core.nets.specs import RunSpec
from digitpad.core.report.findings import overall_direction
from digitpad.core.store.runs import Cell, RunStore


def cells_of(jobs, exercise):
    """{(value, epoch read at): the spec trained} for one exercise."""
    return {
        (c.value, c.at_epoch): job.spec
        for job in jobs
        for c in job.cells
        if sweep_key(c.sweep_id) == exercise
    }


def test_the_lab_trains_each_distinct_run_once():
    jobs = Job.lab().runs
    # By hand from LAB.md: ex1 5, ex2 5, ex3 5, ex6 5 + ex7 5 (3x3/128 shared), ex8 5, ex9 1,
    # with ex4 = ex1's 8 neurons and every 5-epoch 3x3/128 CNN and ex8 read from one
    # 20-epoch run: 5 + 5 + 5 + 4 + 4 + 1 + 1.
    assert len(jobs) == 25
    assert len({job.spec for job in jobs}) == 25
    ex8 = cells_of(jobs, "ex8")
    longest = ex8[(20, None)]
    assert longest.epochs == 20 and longest.kernel_size == 3 and longest.neurons == 128
    assert all(ex8[(e, e)] is longest for e in (1, 2, 5, 10))
    assert cells_of(jobs, "ex6")[(3, 5)] is longest
    assert cells_of(jobs, "ex7")[(128, 5)] is longest
    assert cells_of(jobs, "ex4")[(None, None)] is cells_of(jobs, "ex1")[(8, None)]
    # Every cell of every exercise is filled by exactly one job.
    for sweep in PRESETS.values():
        filled = [value for value, _ in cells_of(jobs, sweep.id)]
        assert sorted(filled, key=str) == sorted(sweep.values, key=str)
    assert jobs[0].spec.model in ("cnn", "cnn_deep")  # the longest go first


def test_repeats_train_every_cell_with_each_seed():
    jobs = Job.lab([PRESETS["ex8"], PRESETS["ex1"]], repeats=3).runs
    assert len(jobs) == 3 * (1 + 5)  # per seed: one 20-epoch CNN, five MLPs
    for epochs in (1, 2, 5, 10):
        seeds = sorted(
            job.spec.seed
            for job in jobs
            for c in job.cells
            if sweep_key(c.sweep_id) == "ex8" and c.value == epochs
        )
        assert seeds == [0, 1, 2]


def test_reading_a_longer_run_at_an_epoch_gives_the_shorter_run(mnist, tmp_path):
    store = RunStore(tmp_path)
    base = RunSpec.for_model("mlp", neurons=16, train_limit=3000, seed=3)
    short = record_run(base.with_changes(epochs=1), mnist, store)
    long = record_run(base.with_changes(epochs=3), mnist, store)
    accuracy, seconds = cell_figures(long, Cell("ex8", 1, at_epoch=1), "accuracy")
    # Same seed, constant learning rate: the first epoch is the same training.
    assert accuracy == pytest.approx(short.result.test_accuracy, abs=0.002)
    assert 0 < seconds < long.result.convergence_time
    assert cell_figures(long, Cell("ex8", 3), "accuracy") == (
        long.result.test_accuracy,
        long.result.convergence_time,
    )


def test_trends_allow_noise_but_not_a_reversal():
    assert overall_direction([0.92, 0.94, 0.93, 0.96, 0.97]) == +1
    assert overall_direction([0.97, 0.96, 0.95, 0.94, 0.93]) == -1
    assert overall_direction([120.0, 67.0, 25.0, 17.0, 11.0]) == -1
    assert overall_direction([0.95, 0.97, 0.94, 0.96, 0.95]) == 0


def test_exercise_5_reads_the_first_five_test_images_with_the_shipped_weights(mnist):
    five = first_five(RunSpec.for_model("mlp"), SHIPPED_WEIGHTS_DIR / "mlp.weights.h5", mnist)
    # The report: labels 7 2 1 0 4, all right, error 0.00; 6,280 + 90 = 6,370 parameters.
    assert list(five.labels) == [7, 2, 1, 0, 4]
    assert list(five.predicted) == [7, 2, 1, 0, 4]
    assert five.error_percent == 0.0
    summary = [(r.output_shape, r.params) for r in five.layers]
    assert summary == [("(None, 8)", 6280), ("(None, 10)", 90)]
    assert five.total_params == 6370
    assert np.allclose(five.probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_exercise_5_refuses_weights_of_another_architecture(mnist):
    with pytest.raises(WeightsError, match=r"mlp\.weights\.h5 cannot be loaded as a cnn"):
        first_five(RunSpec.for_model("cnn"), SHIPPED_WEIGHTS_DIR / "mlp.weights.h5", mnist)


def test_confusion_matrix_counts_true_rows_against_predicted_columns():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 2, 0])
    matrix = confusion_matrix(labels, predicted)
    assert matrix.shape == (10, 10) and matrix.sum() == 6
    assert matrix[0, 0] == 1 and matrix[0, 1] == 1 and matrix[2, 0] == 1 and matrix[2, 2] == 2
    shares = row_normalised(matrix)
    assert shares[2, 2] == pytest.approx(2 / 3) and shares[5].sum() == 0  # no 5s: no NaN


def test_confident_mistakes_come_most_confident_first():
    probabilities = np.full((4, 10), 0.01)
    probabilities[0, 3] = 0.91  # right
    probabilities[1, 5] = 0.60  # wrong (label 1)
    probabilities[2, 7] = 0.95  # wrong (label 2)
    probabilities[3, 0] = 0.50  # wrong (label 9)
    mistakes = confident_mistakes(probabilities, np.array([3, 1, 2, 9]), 2)
    assert [(m.index, m.label, m.predicted) for m in mistakes] == [(2, 2, 7), (1, 1, 5)]
    assert mistakes[0].probability == pytest.approx(0.95)


def test_sweep_ids_lead_back_to_their_sweep(tmp_path):
    store = RunStore(tmp_path)
    spec = RunSpec.for_model("mlp", neurons=24)
    run_id = store.start_run(spec, "custom-neurons-20261128-101010")
    store.finish_run(run_id, fake_result(spec, 0.93))
    records = store.list_runs()
    custom = sweep_for_id("custom-neurons-20261128-101010", records)
    assert custom.param == "neurons" and custom.values == (24,)
    off_preset = sweep_for_id("ex1-20261128-101010", records)  # 24 is not one of ex1's
    assert off_preset.values == (24,) and off_preset.reference == {}
    assert sweep_for_id("ex1-20261128-101010", []).values == PRESETS["ex1"].values
    assert sweep_for_id("lab-20261128-101010", records) is None


def test_metric_pairs_match_runs_that_differ_only_by_metric(tmp_path):
    store = RunStore(tmp_path)
    for metric, losses in (("accuracy", [0.5, 0.3]), ("mse", [0.5, 0.3])):
        spec = RunSpec.for_model("mlp", batch_size=64, metric=metric, seed=0)
        run_id = store.start_run(spec)
        result = fake_result(spec, 0.92)
        result.history["loss"] = losses
        store.finish_run(run_id, result)
    other = RunSpec.for_model("mlp", batch_size=128, metric="mse", seed=0)
    store.finish_run(store.start_run(other), fake_result(other, 0.9))
    records = store.get_many([r.id for r in store.list_runs()])
    accuracy = [r for r in records if r.spec.metric == "accuracy"]
    mse = [r for r in records if r.spec.metric == "mse"]
    pairs = metric_pairs(accuracy, mse)
    assert [p.batch_size for p in pairs] == [64]  # batch 128 has no accuracy twin
    assert pairs[0].largest_gap == 0.0


def test_lab_command_writes_the_report(tmp_path, capsys, digitpad_home):
    report = tmp_path / "lab.md"
    code = main(
        ["lab", "--only", "ex1,ex4", "--train-limit", "600", "--epochs", "1"]
        + ["--report", str(report)]
    )
    assert code == 0
    # Each exercise is a table of its own in the store, as the Results tab shows it; the
    # 8-neuron run trained once and fills both.
    store = RunStore(digitpad_home)
    assert sorted(sweep_key(s) for s in store.sweep_ids()) == ["ex1", "ex4"]
    assert len(store.list_runs()) == 5
    for sweep_id in store.sweep_ids():
        cells = store.cells(sweep_id)
        records = store.get_many(run_id for run_id, _ in cells)
        table = lab_table(sweep_for_id(sweep_id, records, [c for _, c in cells]), records, cells)
        assert all(v is not None for v in table.values["accuracy"])
    text = report.read_text()
    assert "Exercise 4" in text and "Exercise 5" in text
    assert "| 1 | 7 |" in text and "| 5 | 4 |" in text  # true labels of the first five
    assert "Not the lab's settings**: train limit 600, epochs 1" in text
    assert "CPU:" in text and "tensorflow" in text
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert figures and all((tmp_path / link).is_file() for link in figures)
    assert "The whole lab took" in capsys.readouterr().out
    # The same runs, reported again by `digitpad report`: every exercise has its page,
    # those not run saying what to run.
    assert main(["report", "--out", str(tmp_path / "r.pdf")]) == 0
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(tmp_path / "r.pdf").pages]
    whole = " ".join(pages)
    assert all(f"Exercise {n}:" in whole for n in range(1, 10))
    assert "Not run yet" in whole and "digitpad sweep ex6" in whole
    assert "3 of 9 exercises with runs" in capsys.readouterr().out  # ex1, ex4 and ex5


def test_lab_command_names_an_unknown_exercise(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["lab", "--only", "ex12"])
    assert exit_info.value.code == 2
    assert "unknown exercise(s) ex12" in capsys.readouterr().err
