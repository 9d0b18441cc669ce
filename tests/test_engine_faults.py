"""Whatever ends a job, no run is left ``running``: an error inside the engine or a backend,
a worker gone between its check and the send, a worker that cannot be started, a caller
that drops the job."""

from __future__ import annotations

import os
import signal

import pytest

from conftest import drive, fake_result, tiny_mnist
from digitpad.core.engine import (
    Engine,
    Job,
    JobDone,
    JobFailed,
    RunFinished,
    RunProgress,
    RunStarted,
)
from digitpad.core.engine import local as local_module
from digitpad.core.engine.events import WorkerResult
from digitpad.core.engine.local import LocalBackend
from digitpad.core.engine.recording import record_outcome
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.status import RunStatus
from digitpad.core.store.runs import RunStore


def small(neurons: int, epochs: int = 1, limit: int = 600) -> RunSpec:
    return RunSpec(neurons=neurons, epochs=epochs, batch_size=50, train_limit=limit)


class BreakingBackend:
    """Takes two runs, then fails the way an unexpected bug would, on its first poll."""

    name = "a backend that breaks"
    shares_files = True
    warning = None

    def __init__(self):
        self.stopped = False
        self.submitted: list[int] = []

    def slots(self) -> int:
        return 2

    def start_job(self, runs: int) -> None:
        pass

    def submit(self, order, data) -> None:
        self.submitted.append(order.run_id)

    def poll(self, timeout: float):
        raise RuntimeError("something nobody expected")

    def skip(self, run_id: int) -> None:
        pass

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        pass


def test_an_unexpected_error_ends_every_running_run_as_interrupted_with_the_reason(tmp_path):
    store = RunStore(tmp_path)
    backend = BreakingBackend()
    job = Job.plan([(small(8), None), (small(9), None), (small(10), None)])
    events = drive(Engine(store, backend), job, tiny_mnist())
    assert backend.stopped
    finished = [e for e in events if isinstance(e, RunFinished)]
    assert sorted(e.record.id for e in finished) == sorted(backend.submitted)
    assert all(e.record.status == RunStatus.INTERRUPTED for e in finished)
    assert all("something nobody expected" in e.record.error for e in finished)
    (failed,) = [e for e in events if isinstance(e, JobFailed)]
    assert "something nobody expected" in failed.message
    assert isinstance(events[-1], JobDone)
    statuses = [r.status for r in store.list_runs()]
    assert statuses == [RunStatus.INTERRUPTED] * 2  # the third was never started


def test_a_run_its_backend_refuses_unexpectedly_is_failed_not_running(tmp_path):
    store = RunStore(tmp_path)
    backend = BreakingBackend()

    def refuse(order, data):
        raise TypeError("cannot pickle 'generator' object")

    backend.submit = refuse
    events = drive(Engine(store, backend), Job.plan([(small(8), None)]), tiny_mnist())
    assert any(isinstance(e, JobFailed) and "cannot pickle" in e.message for e in events)
    (record,) = store.list_runs()
    assert record.status == RunStatus.FAILED
    assert record.error == "not started: TypeError: cannot pickle 'generator' object"


def test_a_caller_that_drops_the_job_leaves_no_run_running(tmp_path):
    store = RunStore(tmp_path)
    backend = BreakingBackend()
    backend.poll = lambda timeout: []  # the runs train on, silently
    events = Engine(store, backend).run(Job.plan([(small(8), None)]), tiny_mnist())
    assert isinstance(next(events), RunStarted)
    events.close()  # the window or a script stops listening mid-job
    assert backend.stopped
    (record,) = store.list_runs()
    assert record.status == RunStatus.INTERRUPTED
    assert "closed before this run finished" in record.error


def test_a_worker_gone_between_its_check_and_the_send_is_replaced(tmp_path, mnist):
    backend = LocalBackend(jobs=1)
    engine = Engine(RunStore(tmp_path), backend)
    try:
        first = drive(engine, Job.single(small(8)), mnist)
        (idle,) = backend._workers
        idle.process.kill()
        idle.process.join(10)
        idle.process.is_alive = lambda: True  # it looked alive when checked: the race
        again = drive(engine, Job.single(small(9)), mnist)
    finally:
        engine.close()
    records = [e.record for e in first + again if isinstance(e, RunFinished)]
    assert [r.status for r in records] == [RunStatus.DONE, RunStatus.DONE]
    assert not any(isinstance(e, JobFailed) for e in again)


def test_a_worker_that_cannot_be_started_fails_its_run_with_a_message(tmp_path, monkeypatch):
    def no_process(*args, **kwargs):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(local_module, "_Worker", no_process)
    store = RunStore(tmp_path)
    events = drive(Engine(store, LocalBackend(jobs=1)), Job.single(small(8)), tiny_mnist())
    (failed,) = [e for e in events if isinstance(e, JobFailed)]
    assert "cannot start a training process" in failed.message
    assert "--jobs 1" in failed.message
    (record,) = store.list_runs()
    assert record.status == RunStatus.FAILED and "not started" in record.error


@pytest.mark.parametrize("outcome", ["done", "failed"])
def test_a_run_deleted_while_it_trained_still_reports_its_outcome(tmp_path, outcome):
    from conftest import fake_result

    store = RunStore(tmp_path)
    spec = small(8)
    run_id = store.start_run(spec)
    store.delete([run_id])
    if outcome == "done":
        message = WorkerResult(run_id, fake_result(spec, 0.9))
    else:
        message = WorkerResult(run_id, error="ValueError: bad")
    record = record_outcome(store, message, spec)
    assert record.id == run_id and record.spec == spec
    assert record.status == (RunStatus.DONE if outcome == "done" else RunStatus.FAILED)


@pytest.fixture(params=["local", "dask"])
def two_workers(request):
    """Two workers of either backend: local processes, or the Dask cluster's two."""
    if request.param == "local":
        backend = LocalBackend(jobs=2)
    else:
        from digitpad.core.engine.cluster import DaskBackend

        backend = DaskBackend(request.getfixturevalue("cluster"))
    yield request.param, backend
    backend.close()


def test_a_killed_worker_marks_its_run_interrupted_and_the_others_finish(
    two_workers, tmp_path, mnist
):
    kind, backend = two_workers
    store = RunStore(tmp_path)
    engine = Engine(store, backend)
    long = RunSpec(neurons=64, epochs=300, batch_size=50, train_limit=3000)
    job = Job.plan([(long, None), (small(8, limit=2000), None), (small(9, limit=2000), None)])
    killed = []

    def kill_the_long_one(event):
        if isinstance(event, RunProgress) and event.index == 0 and not killed:
            pid = backend.pids()[event.run_id]
            os.kill(pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
            killed.append(pid)

    events = drive(engine, job, mnist, on_event=kill_the_long_one)
    records = {e.index: e.record for e in events if isinstance(e, RunFinished)}
    lost = {"local": "ended unexpectedly", "dask": "worker was lost"}[kind]
    assert records[0].status == RunStatus.INTERRUPTED and lost in records[0].error
    assert records[1].status == records[2].status == RunStatus.DONE
    assert killed[0] not in {records[1].result.trained_pid, records[2].result.trained_pid}
    assert len(RunStore(tmp_path).list_runs()) == 3


def test_a_worker_result_naming_paths_outside_the_run_folder_writes_nothing_there(tmp_path):
    """A cluster worker's result names the model files to write: only the names training
    saves are written, into the run's own folder; hostile names are refused in a note."""
    store = RunStore(tmp_path / "home")
    spec = RunSpec(epochs=1)
    run_id = store.start_run(spec)
    outside = tmp_path / "outside.txt"
    files = {
        "model.weights.h5": b"weights",
        "../../outside.txt": b"from the worker",
        str(outside): b"from the worker",
        "model.keras/../../../x": b"from the worker",
    }
    record = record_outcome(store, WorkerResult(run_id, fake_result(spec, 0.9), files=files))
    assert not outside.exists()
    assert sorted(p.name for p in store.model_dir(run_id).iterdir()) == ["model.weights.h5"]
    assert not [p for p in tmp_path.rglob("*") if p.name in ("outside.txt", "x")]
    assert any("../../outside.txt" in note for note in record.result.notes)
    assert (store.model_dir(run_id) / "model.weights.h5").read_bytes() == b"weights"
