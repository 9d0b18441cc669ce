"""Train one spec and record it in the store: the path every run takes (GUI, CLI, sweeps)."""

from __future__ import annotations

import logging

from digitpad.core.data import MnistData
from digitpad.core.runs import RunRecord, RunStore, RunStoreError, now
from digitpad.core.specs import RunSpec
from digitpad.core.training import (
    ProgressCallback,
    RunResult,
    StopCheck,
    release_memory,
    train,
)

log = logging.getLogger(__name__)


def run_and_record(
    spec: RunSpec,
    data: MnistData,
    store: RunStore,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    sweep_id: str | None = None,
    release: bool = True,
) -> RunRecord:
    """Train ``spec``, saving its model and its row in ``store``; never raises for a bad run.

    The row is written as ``running`` before training starts, then completed as ``done``,
    ``stopped`` or ``failed`` (with the error message). The returned record says which.
    With ``release=False`` the caller frees Keras' memory (``release_memory()``) after it
    has reported the result, so a Stop shows up sooner.
    """
    run_id = store.start_run(spec, sweep_id)  # RunStoreError here: nothing trained yet
    try:
        result = train(
            spec, data, on_progress, should_stop, save_dir=store.model_dir(run_id), release=False
        )
    except Exception as exc:  # out of memory, bad data...: the run fails, the app goes on
        log.exception("run %s failed", run_id)
        store.fail_run(run_id, describe_error(exc))
        record = store.get(run_id)
    else:
        try:
            store.finish_run(run_id, result)
            record = store.get(run_id)
        except RunStoreError as exc:
            # The database cannot take it now (locked, read-only, disk full): the finished
            # run is kept beside its model and goes into the database at the next start.
            record = _kept_aside(store, run_id, spec, result, sweep_id, exc)
    if release:
        release_memory()
    assert record is not None  # written just above; deleting it meanwhile is not supported
    return record


def _kept_aside(
    store: RunStore,
    run_id: int,
    spec: RunSpec,
    result: RunResult,
    sweep_id: str | None,
    exc: RunStoreError,
) -> RunRecord:
    try:
        path = store.keep_pending_result(run_id, result)
        result.notes.append(
            f"{exc} This run's result was kept in {path}; DigitPad adds it to the run "
            "list the next time it opens the database."
        )
    except OSError as write_error:
        result.notes.append(
            f"{exc} Its result could not be kept on disk either ({write_error}): the "
            "figures above are the only copy."
        )
    return RunRecord(run_id, now(), now(), result.status, spec, result, None, sweep_id)


def describe_error(exc: BaseException) -> str:
    """A one-line message for a failed run, with the remedy where we know one."""
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
    if isinstance(exc, MemoryError) or "OOM" in text or "out of memory" in text.lower():
        return text + " (out of memory: try a smaller batch size, fewer neurons, or a subset)"
    return text
