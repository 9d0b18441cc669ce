"""What a worker does with one run, wherever it is: a local worker process or a Dask
worker. Both call this, so the cluster path is the local path run elsewhere."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from digitpad.core.data.mnist import MnistData
from digitpad.core.engine.events import WorkerResult
from digitpad.core.engine.recording import describe_error
from digitpad.core.mydigits.finetune import FineTuneOrder
from digitpad.core.nets.results import Progress
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.training import ProgressCallback, StopCheck

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOrder:
    """One run for a worker: its id in the store, its spec, where to save its model
    (None: a folder of the worker's own, whose files go back with the result), and for a
    fine-tune, what to start from and teach."""

    run_id: int
    spec: RunSpec
    save_dir: str | None = None
    finetune: FineTuneOrder | None = None


def train_order(
    order: RunOrder,
    data: MnistData,
    on_progress: ProgressCallback,
    should_stop: StopCheck,
    save_dir: str | None = None,
) -> WorkerResult:
    """Train (or fine-tune) ``order`` on ``data``; a training that raises comes back as
    its error text."""
    from digitpad.core.mydigits.finetune import finetune
    from digitpad.core.nets.training import train

    folder = save_dir or order.save_dir
    try:
        # release=False: the worker frees memory after it has reported the result.
        if order.finetune is not None:
            result = finetune(
                order.spec, order.finetune, data, on_progress, should_stop, folder, release=False
            )
        else:
            result = train(order.spec, data, on_progress, should_stop, folder, release=False)
    except Exception as exc:  # out of memory, bad data...: the run fails, the worker goes on
        log.exception("run %s failed", order.run_id)
        return WorkerResult(order.run_id, error=describe_error(exc))
    return WorkerResult(order.run_id, result=result)


BUNDLE_S = 0.05  # batch progress leaves a worker in bundles at most this often


class ProgressBundler:
    """Collects progress events and hands them to ``send`` in bundles: at most every
    ``interval`` seconds for batches, at once for anything else (start, epoch, evaluating).
    ``progress_of`` reads the ``Progress`` in an event (a worker bundles ``Progress``
    itself; the window, the engine's ``RunProgress``)."""

    def __init__(
        self,
        send: Callable[[tuple[Any, ...]], None],
        interval: float = BUNDLE_S,
        progress_of: Callable[[Any], Progress] = lambda event: event,
    ):
        self.send = send
        self.interval = interval
        self.progress_of = progress_of
        self._pending: list[Any] = []
        self._last = 0.0

    def __call__(self, event: Any) -> None:
        self._pending.append(event)
        now = time.monotonic()
        if self.progress_of(event).kind != "batch" or now - self._last >= self.interval:
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        if self._pending:
            self.send(tuple(self._pending))
            self._pending = []
        self._last = now if now is not None else time.monotonic()


def rss_mib() -> float:
    """This process' resident memory in MiB: from /proc on Linux, the peak on macOS, and 0
    on Windows (whose workers are then never replaced on size)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, AttributeError, ValueError):
        pass
    try:
        import resource  # not on Windows
    except ImportError:
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB
