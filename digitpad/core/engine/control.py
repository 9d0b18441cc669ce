"""JobControl: the one object through which anyone stops a job or skips one of its runs."""

from __future__ import annotations

import threading


class JobControl:
    """Stop the whole job, or skip one run; safe from any thread (a button, a signal
    handler, a test).

    The engine reads it between runs and passes what it says on to the workers, which end
    a running run after its current batch (kept as ``stopped``). A skipped run that has
    not started yet is not started.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopped = False
        self._skipped: set[int] = set()

    def stop(self) -> None:
        """End the running runs after their batch and start no more."""
        with self._lock:
            self._stopped = True

    def skip(self, index: int) -> None:
        """End run ``index`` of the plan after its batch (or never start it); go on."""
        with self._lock:
            self._skipped.add(index)

    @property
    def stopped(self) -> bool:
        with self._lock:
            return self._stopped

    def skipped(self, index: int) -> bool:
        with self._lock:
            return index in self._skipped
