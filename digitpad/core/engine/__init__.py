"""One engine for every training: plan a job, run it on local worker processes or a Dask
cluster, record every run, and report typed events (see ``engine.Engine``)."""

from __future__ import annotations

import os

from digitpad.core.engine.backend import Backend, BackendError
from digitpad.core.engine.control import JobControl
from digitpad.core.engine.engine import Engine
from digitpad.core.engine.events import (
    EngineEvent,
    JobDone,
    JobFailed,
    RunFinished,
    RunProgress,
    RunStarted,
)
from digitpad.core.engine.plan import Job, PlannedRun

CLUSTER_ENV = "DIGITPAD_CLUSTER"

__all__ = [
    "CLUSTER_ENV",
    "Backend",
    "BackendError",
    "Engine",
    "EngineEvent",
    "Job",
    "JobControl",
    "JobDone",
    "JobFailed",
    "PlannedRun",
    "RunFinished",
    "RunProgress",
    "RunStarted",
    "make_backend",
]


def make_backend(cluster: str | None = None, jobs: int | None = None) -> Backend:
    """Local worker processes (``jobs`` of them, default one per core up to 4), or the Dask
    cluster at ``cluster`` (default: ``$DIGITPAD_CLUSTER``). Raises ``BackendError`` with
    what to do when the cluster cannot be used."""
    address = cluster if cluster is not None else os.environ.get(CLUSTER_ENV, "")
    if address.strip():
        from digitpad.core.engine.cluster import DaskBackend

        return DaskBackend(address.strip())
    from digitpad.core.engine.local import LocalBackend

    return LocalBackend(jobs)
