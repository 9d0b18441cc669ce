"""Engine: the one way every caller trains (the window, ``digitpad train|sweep|lab``, the
shipped weights). It plans nothing itself (see ``plan``): it hands a job's runs to a
backend's workers, records every run in the store as it starts and as it ends, and tells
its caller what happens as typed events."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from digitpad.core.data.mnist import MnistData
from digitpad.core.engine.backend import Backend, BackendError
from digitpad.core.engine.control import JobControl
from digitpad.core.engine.events import (
    EngineEvent,
    JobDone,
    JobFailed,
    RunFinished,
    RunProgress,
    RunStarted,
    WorkerLost,
    WorkerProgress,
    WorkerResult,
)
from digitpad.core.engine.plan import Job, PlannedRun
from digitpad.core.engine.recording import describe_error, record_outcome, unstored_record
from digitpad.core.engine.worker import RunOrder
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.status import RunStatus
from digitpad.core.store.runs import RunRecord, RunStore, RunStoreError

POLL_S = 0.05  # how often the engine looks at its control when no worker speaks


class Engine:
    """Trains jobs on ``backend`` (default: local worker processes) and records their runs
    in ``store``. One job at a time; ``run`` from one thread, ``control`` from any."""

    def __init__(self, store: RunStore, backend: Backend | None = None):
        if backend is None:
            from digitpad.core.engine.local import LocalBackend

            backend = LocalBackend()
        self.store = store
        self.backend = backend

    def run(
        self, job: Job, data: MnistData, control: JobControl | None = None
    ) -> Iterator[EngineEvent]:
        """Train ``job`` on ``data``, yielding events until every started run has ended.

        Each planned run gets its ``record`` as it ends. A run whose worker dies is
        ``interrupted`` and the job goes on with the others. Whatever ends the job (an
        unexpected error here or in a backend, or the caller dropping this iterator), no
        run is left ``running``: the backend is stopped and every unfinished run is
        ``interrupted`` with the reason.
        """
        control = control or JobControl()
        running: dict[int, int] = {}  # run id -> plan index; shared with the clean-up
        try:
            yield from self._run(job, data, control, running)
        except Exception as exc:
            if isinstance(exc, BackendError):  # a cluster gone, or without workers
                reason = str(exc)
            else:
                reason = f"the job ended on an unexpected error ({describe_error(exc)})"
            for index, record in self._abandon(running, reason):
                job.runs[index].record = record
                yield RunFinished(index, record)
            yield JobFailed(f"Training ended: {reason}. Finished runs are kept.")
            yield JobDone(stopped=True)
        finally:
            # Only left non-empty when the caller closed this iterator mid-job.
            self._abandon(running, "the job was closed before this run finished")

    def _run(
        self, job: Job, data: MnistData, control: JobControl, running: dict[int, int]
    ) -> Iterator[EngineEvent]:
        backend = self.backend
        backend.start_job(len(job.runs))
        waiting = list(range(len(job.runs)))
        skips_sent: set[int] = set()
        stop_sent = False
        while waiting or running:
            if control.stopped:
                waiting.clear()
                if not stop_sent:
                    backend.stop()
                    stop_sent = True
            for run_id, index in running.items():
                if run_id not in skips_sent and control.skipped(index):
                    backend.skip(run_id)
                    skips_sent.add(run_id)
            while waiting and len(running) < backend.slots():
                index = waiting.pop(0)
                if control.skipped(index):
                    continue
                planned = job.runs[index]
                try:
                    run_id = self._start(planned, data)
                except (RunStoreError, BackendError) as exc:
                    yield JobFailed(f"Training not started: {exc}")
                    waiting.clear()
                    break
                running[run_id] = index
                yield RunStarted(index, len(job.runs), run_id, planned.spec)
            if not running:
                continue
            for message in backend.poll(POLL_S):
                index = running.get(message.run_id)
                if index is None:
                    continue  # a late message of a run already ended
                if isinstance(message, WorkerProgress):
                    for progress in message.events:
                        yield RunProgress(index, message.run_id, progress)
                    continue
                del running[message.run_id]
                try:
                    record = self._record(message, job.runs[index].spec)
                except RunStoreError as exc:
                    yield JobFailed(f"Run {message.run_id} could not be recorded: {exc}")
                    continue
                job.runs[index].record = record
                yield RunFinished(index, record)
        yield JobDone(stopped=control.stopped)

    def _abandon(self, running: dict[int, int], reason: str) -> list[tuple[int, RunRecord]]:
        """Stop the backend and mark every run in ``running`` interrupted with ``reason``;
        their (plan index, record) pairs. ``running`` is emptied."""
        if not running:
            return []
        with contextlib.suppress(Exception):  # a broken backend must not hide the runs
            self.backend.stop()
        ended = []
        for run_id, index in list(running.items()):
            try:
                self.store.mark_interrupted(run_id, reason)
                record = self.store.get(run_id)
            except RunStoreError:
                # Locked now: the next start marks it interrupted (its process is gone).
                record = None
            if record is not None:
                ended.append((index, record))
        running.clear()
        return ended

    def _start(self, planned: PlannedRun, data: MnistData) -> int:
        """Record ``planned`` as running and hand it to a worker; its run id."""
        run_id = self.store.start_run(planned.spec, planned.sweep_id)
        try:
            self.store.add_cells(run_id, planned.cells)
            save_dir = str(self.store.model_dir(run_id)) if self.backend.shares_files else None
            self.backend.submit(RunOrder(run_id, planned.spec, save_dir, planned.finetune), data)
        except Exception as exc:
            # Recorded but never trained: failed, not left "running" for this session.
            known = isinstance(exc, RunStoreError | BackendError)  # their messages say all
            why = str(exc) if known else describe_error(exc)
            with contextlib.suppress(RunStoreError):
                self.store.fail_run(run_id, f"not started: {why}")
            raise
        return run_id

    def _record(self, message: WorkerResult | WorkerLost, spec: RunSpec) -> RunRecord:
        if isinstance(message, WorkerLost):
            self.store.mark_interrupted(message.run_id, message.message)
            return self.store.get(message.run_id) or unstored_record(
                message.run_id, spec, None, RunStatus.INTERRUPTED, message.message
            )
        return record_outcome(self.store, message, spec)

    def close(self) -> None:
        """End the backend's workers (the window closing, a command ending)."""
        self.backend.close()
