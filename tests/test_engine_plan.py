"""Planning a job, sweep ids, the shared control, and the progress the window shows: the
engine's plain parts, without a worker."""

from __future__ import annotations

from digitpad.core.engine import Job, JobControl, RunFinished, RunProgress, RunStarted
from digitpad.core.engine.progress import JobProgress
from digitpad.core.lab.sweep_ids import make_sweep_id, parse_sweep_id, sweep_key
from digitpad.core.lab.sweeps import PRESETS
from digitpad.core.nets.results import Progress
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.status import RunStatus
from digitpad.core.store.runs import Cell, RunRecord


def test_the_window_exercise_8_preset_costs_one_20_epoch_run():
    sweep = PRESETS["ex8"]
    job = Job.sweep(sweep, sweep.specs())
    (run,) = job.runs
    assert run.spec.epochs == 20
    assert sorted((c.value, c.at_epoch) for c in run.cells) == [
        (1, 1),
        (2, 2),
        (5, 5),
        (10, 10),
        (20, None),
    ]
    assert {sweep_key(c.sweep_id) for c in run.cells} == {"ex8"}


def test_runs_with_a_random_seed_are_never_merged():
    spec = RunSpec(neurons=8, epochs=3)  # seed None: drawn when it trains
    job = Job.plan([(spec, None), (spec, None), (spec.with_changes(epochs=1), None)])
    assert len(job.runs) == 3


def test_identical_runs_of_two_sweeps_train_once_and_fill_both():
    ex6, ex7 = PRESETS["ex6"], PRESETS["ex7"]
    job = Job.lab([ex6, ex7], stamp="20261128-120000")
    shared = [r for r in job.runs if r.spec.kernel_size == 3 and r.spec.neurons == 128]
    (run,) = shared
    assert sorted(c.sweep_id for c in run.cells) == ["ex6-20261128-120000", "ex7-20261128-120000"]
    assert len(job.runs) == 9  # 5 + 5, one shared
    assert job.sweep_ids == ["ex6-20261128-120000", "ex7-20261128-120000"]


def test_sweep_ids_are_made_and_read_in_one_place():
    made = make_sweep_id("custom-learning_rate", "20261128-101010")
    assert made == "custom-learning_rate-20261128-101010"
    parsed = parse_sweep_id(made)
    assert (parsed.kind, parsed.param, parsed.stamp) == (
        "custom",
        "learning_rate",
        "20261128-101010",
    )
    assert str(parsed) == made
    assert sweep_key("ex6-20261128-101010") == "ex6"
    assert parse_sweep_id("lab-20261128-101010").kind == "lab"
    for not_an_id in ("ex6", "custom-20261128-101010", "ex6-2026-11-28", ""):
        assert parse_sweep_id(not_an_id) is None


def test_control_is_shared_stop_for_the_job_and_skip_per_run():
    control = JobControl()
    control.skip(2)
    assert control.skipped(2) and not control.skipped(1) and not control.stopped
    control.stop()
    assert control.stopped


def test_progress_counts_runs_and_estimates_the_time_left():
    now = [100.0]
    sweep = PRESETS["ex1"]
    job = Job.sweep(sweep, sweep.specs())
    tracker = JobProgress(job, clock=lambda: now[0])
    tracker.update(RunStarted(0, 5, 1, job.runs[0].spec))
    tracker.update(RunStarted(1, 5, 2, job.runs[1].spec))
    assert tracker.text() == "run 2 of 5 (2 running)"  # no time left before a batch
    assert tracker.seconds_left() is None
    batch = Progress("batch", epoch=2, epochs=10, batch=149, batches=300)
    tracker.update(RunProgress(0, 1, batch))  # run 0 is a quarter done
    now[0] += 30
    tracker.update(RunProgress(1, 2, batch))
    done_share = 0.25 * (job.runs[0].cost + job.runs[1].cost) / sum(r.cost for r in job.runs)
    assert abs(tracker.fraction() - done_share) < 1e-9
    assert abs(tracker.seconds_left() - 30 / done_share * (1 - done_share)) < 1e-6
    record = RunRecord(1, "t", "t", RunStatus.DONE, job.runs[0].spec, None, None, None)
    tracker.update(RunFinished(0, record))
    assert tracker.finished == 1 and list(tracker.running) == [1]
    assert "run 2 of 5" in tracker.text() and "left" in tracker.text()


def test_cells_remember_their_sweep_value_and_epoch():
    cell = Cell("ex8-20261128-000000", 5, at_epoch=5)
    assert cell._replace(at_epoch=None) == Cell("ex8-20261128-000000", 5)
