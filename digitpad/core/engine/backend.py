"""What the engine asks of the place where runs train (a backend), in a module of its own
so that the engine and its backends import it without importing each other."""

from __future__ import annotations

from typing import Protocol

from digitpad.core.data.mnist import MnistData
from digitpad.core.engine.events import BackendMessage
from digitpad.core.engine.worker import RunOrder


class Backend(Protocol):
    """Where runs train: ``LocalBackend`` (worker processes) or ``DaskBackend``."""

    name: str
    shares_files: bool  # True: workers write models straight into the store's folders
    warning: str | None  # one line the user should see before training here (or None)

    def slots(self) -> int: ...
    def start_job(self, runs: int) -> None: ...
    def submit(self, order: RunOrder, data: MnistData) -> None: ...
    def poll(self, timeout: float) -> list[BackendMessage]: ...
    def skip(self, run_id: int) -> None: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


class BackendError(RuntimeError):
    """The backend cannot take runs (a cluster that cannot be reached); says what to do."""
