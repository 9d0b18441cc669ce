"""What the engine tells its callers, as small frozen dataclasses (one per kind of news).

The window turns them into Qt signals, the command line prints them, the lab report reads
the records they carry. ``index`` is the run's place in the job's plan (``Job.runs``).
"""

from __future__ import annotations

from dataclasses import dataclass

from digitpad.core.nets.results import Progress, RunResult
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.runs import RunRecord


@dataclass(frozen=True)
class RunStarted:
    """Run ``index`` of ``total`` went to a worker and is stored as running (``run_id``)."""

    index: int
    total: int
    run_id: int
    spec: RunSpec


@dataclass(frozen=True)
class RunProgress:
    """A ``Progress`` event of run ``index`` (every batch and epoch)."""

    index: int
    run_id: int
    progress: Progress


@dataclass(frozen=True)
class RunFinished:
    """Run ``index`` ended (done, stopped, failed or interrupted) and is stored."""

    index: int
    record: RunRecord


@dataclass(frozen=True)
class JobFailed:
    """The job cannot go on (no MNIST, the store cannot be written, the cluster is gone);
    finished runs are kept."""

    message: str


@dataclass(frozen=True)
class JobDone:
    """The job is over: every run that was started has ended and is stored."""

    stopped: bool  # the user stopped it before every run had started


EngineEvent = RunStarted | RunProgress | RunFinished | JobFailed | JobDone


# --- between a backend and the engine ----------------------------------------------------


@dataclass(frozen=True)
class WorkerProgress:
    """``Progress`` events of ``run_id``, in order, from the worker training it (sent in
    bundles: a message per batch cost the caller more time than the batch took)."""

    run_id: int
    events: tuple[Progress, ...]


@dataclass(frozen=True)
class WorkerResult:
    """A worker finished ``run_id``: its result, or why training raised (``error``)."""

    run_id: int
    result: RunResult | None = None
    error: str = ""
    files: dict[str, bytes] | None = None  # a remote worker's model files, by name
    retiring: bool = False  # the worker has grown too much and ends after this message


@dataclass(frozen=True)
class WorkerLost:
    """The worker training ``run_id`` died or was cut off: the run is interrupted."""

    run_id: int
    message: str


BackendMessage = WorkerProgress | WorkerResult | WorkerLost
