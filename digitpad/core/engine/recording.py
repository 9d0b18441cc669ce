"""Putting what a worker sends back into the store, without ever losing a finished run."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from digitpad.core.engine.events import WorkerResult
from digitpad.core.machine.errors import first_line
from digitpad.core.machine.files import write_bytes
from digitpad.core.nets.results import MODEL_FILE, MODEL_FILES, WEIGHTS_FILE, RunResult
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.status import RunStatus
from digitpad.core.store.runs import RunRecord, RunStore, RunStoreError, now

log = logging.getLogger(__name__)


def record_outcome(
    store: RunStore, message: WorkerResult, spec: RunSpec | None = None
) -> RunRecord:
    """Store a worker's outcome for its run (started with ``store.start_run``): ``done`` or
    ``stopped`` with its result, or ``failed`` with the error. A remote worker's model
    files are written into the run's folder here first. ``spec`` (the planned run's) names
    a failed run that is no longer in the store."""
    run_id = message.run_id
    if message.result is None:
        store.fail_run(run_id, message.error)
        return store.get(run_id) or unstored_record(
            run_id, spec or RunSpec(), None, RunStatus.FAILED, message.error
        )
    result = message.result
    if message.files is not None:
        result = _write_model_files(store.model_dir(run_id), result, message.files)
    try:
        store.finish_run(run_id, result)
        return store.get(run_id) or unstored_record(run_id, result.spec, result, result.status)
    except RunStoreError as exc:
        # The database cannot take it now (locked, read-only, disk full): the finished
        # run is kept beside its model and goes into the database at the next start.
        return _kept_aside(store, run_id, result, exc)


def describe_error(exc: BaseException) -> str:
    """A one-line message for a failed run, with the remedy where we know one."""
    text = first_line(exc, with_kind=True)
    if isinstance(exc, MemoryError) or "OOM" in text or "out of memory" in text.lower():
        return text + " (out of memory: try a smaller batch size, fewer neurons, or a subset)"
    return text


def unstored_record(
    run_id: int,
    spec: RunSpec,
    result: RunResult | None,
    status: RunStatus,
    error: str | None = None,
) -> RunRecord:
    """The record of a run that is not in the store (deleted while it trained, or kept
    aside): built from what the worker sent, so its caller still sees its figures."""
    created = now()
    return RunRecord(run_id, created, created, status, spec, result, error, None)


def _write_model_files(folder: Path, result: RunResult, files: dict[str, bytes]) -> RunResult:
    """A remote run's model, written where a local run's would be; paths made local.

    Only the file names training itself saves are written: a worker's result is not
    trusted to name a path (``../../x``, ``/etc/x``) outside the run's folder."""
    paths = {}
    foreign = sorted(name for name in files if name not in MODEL_FILES)
    if foreign:
        result.notes.append(
            f"the worker sent files DigitPad does not save ({', '.join(map(repr, foreign))}); "
            "they were not written"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name in MODEL_FILES:
            if name in files:
                write_bytes(folder / name, files[name])
                paths[name] = str(folder / name)
    except OSError as exc:
        result.notes.append(
            f"could not save the model to {folder}: {exc}; the run's figures are kept, "
            "but it cannot be used on the canvas"
        )
        return replace(result, model_path=None, weights_path=None)
    return replace(
        result,
        model_path=paths.get(MODEL_FILE),
        weights_path=paths.get(WEIGHTS_FILE),
    )


def _kept_aside(store: RunStore, run_id: int, result: RunResult, exc: RunStoreError) -> RunRecord:
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
    return unstored_record(run_id, result.spec, result, result.status)
