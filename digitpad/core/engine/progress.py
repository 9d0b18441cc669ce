"""JobProgress: how far a job has gone and how long it has left, from its events.

Plain state, fed the engine's events, so the window shows it and tests drive it without
one. Runs are weighed by their estimated cost (``sweeps.estimated_cost``), and the time
left scales that by how fast this machine has gone through them so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from digitpad.core.engine.events import EngineEvent, RunFinished, RunProgress, RunStarted
from digitpad.core.engine.plan import Job
from digitpad.core.nets.results import Progress


class JobProgress:
    """Counts started and finished runs and the share done of each running one."""

    def __init__(self, job: Job, clock: Callable[[], float] = time.monotonic):
        self.job = job
        self.clock = clock
        self.started = 0
        self.finished = 0
        self.running: dict[int, float] = {}  # plan index -> share of that run done
        self.last: dict[int, Progress] = {}  # plan index -> its latest progress
        self._costs = [run.cost for run in job.runs]
        self._done_cost = 0.0
        self._since: float | None = None  # the first batch: loading is not training

    @property
    def total(self) -> int:
        return len(self.job.runs)

    def update(self, event: EngineEvent) -> None:
        if isinstance(event, RunStarted):
            self.started += 1
            self.running[event.index] = 0.0
        elif isinstance(event, RunProgress):
            p = event.progress
            if self._since is None:
                self._since = self.clock()
            if p.kind in ("batch", "epoch") and p.epochs and p.batches:
                share = (p.epoch * p.batches + p.batch + 1) / (p.epochs * p.batches)
                self.running[event.index] = min(share, 1.0)
            self.last[event.index] = p
        elif isinstance(event, RunFinished):
            self.finished += 1
            self.running.pop(event.index, None)
            self._done_cost += self._costs[event.index]

    def fraction(self) -> float:
        """Share of the job's estimated cost done, 0 to 1."""
        total = sum(self._costs)
        done = self._done_cost + sum(self._costs[i] * s for i, s in self.running.items())
        return done / total if total > 0 else 0.0

    def seconds_left(self) -> float | None:
        """Estimated time left, or None before the first batch."""
        share = self.fraction()
        if self._since is None or share <= 0:
            return None
        elapsed = self.clock() - self._since
        return elapsed / share * (1 - share)

    def elapsed(self) -> float | None:
        """Seconds since the first batch (None before it)."""
        return None if self._since is None else self.clock() - self._since

    def text(self) -> str:
        """``run 3 of 5 (2 running), about 1:20 left``."""
        parts = [f"run {max(self.started, 1)} of {self.total}"]
        if len(self.running) > 1:
            parts[0] += f" ({len(self.running)} running)"
        left = self.seconds_left()
        if left is not None:
            parts.append(f"about {clock_text(left)} left")
        return ", ".join(parts)


def clock_text(seconds: float) -> str:
    """``m:ss``."""
    seconds = round(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"
