"""Train one spec and record it in the store: the path every run takes (GUI, CLI, sweeps)."""

from __future__ import annotations

import logging

from digitpad.core.data import MnistData
from digitpad.core.runs import RunRecord, RunStore
from digitpad.core.specs import RunSpec
from digitpad.core.training import ProgressCallback, StopCheck, release_memory, train

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
    run_id = store.start_run(spec, sweep_id)
    try:
        result = train(
            spec, data, on_progress, should_stop, save_dir=store.model_dir(run_id), release=False
        )
    except Exception as exc:  # out of memory, bad data...: the run fails, the app goes on
        log.exception("run %s failed", run_id)
        store.fail_run(run_id, describe_error(exc))
    else:
        store.finish_run(run_id, result)
    record = store.get(run_id)
    if release:
        release_memory()
    assert record is not None  # written just above; deleting it meanwhile is not supported
    return record


def describe_error(exc: BaseException) -> str:
    """A one-line message for a failed run, with the remedy where we know one."""
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
    if isinstance(exc, MemoryError) or "OOM" in text or "out of memory" in text.lower():
        return text + " (out of memory: try a smaller batch size, fewer neurons, or a subset)"
    return text
