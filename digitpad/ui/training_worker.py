"""Runs core training (in the window's trainer process) from a QThread and forwards its
progress, throttled, to the GUI thread."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from digitpad.core.data import MnistData, MnistUnavailable, load_dataset
from digitpad.core.specs import RunSpec
from digitpad.core.trainer_process import TrainerProcess
from digitpad.core.training import Progress

# Batch events cross threads in bundles, at most this often (epoch events go at once).
EMIT_INTERVAL_S = 0.05

_data_lock = threading.Lock()
_data_cache: list[MnistData] = []


def shared_mnist() -> MnistData:
    """MNIST, loaded once per process and shared by every training in it."""
    with _data_lock:
        if not _data_cache:
            _data_cache.append(load_dataset())
        return _data_cache[0]


class TrainingWorker(QObject):
    """Trains a list of specs one after another (one spec for a single run), in the window's
    ``TrainerProcess``, and relays what that process reports as signals.

    Signals
    -------
    progress(list[Progress]): bundles of events, in order.
    runStarted(int, int): index of the spec starting, number of specs.
    runFinished(object): the stored ``RunRecord`` of each run that ended.
    failed(str): a problem that stopped everything before training (no MNIST, ...).
    done(): the worker has nothing left to do.
    """

    progress = Signal(list)
    runStarted = Signal(int, int)
    runFinished = Signal(object)
    failed = Signal(str)
    done = Signal()

    def __init__(self, specs: list[RunSpec], trainer: TrainerProcess, sweep_id: str | None = None):
        super().__init__()
        self.specs = specs
        self.trainer = trainer
        self.sweep_id = sweep_id
        self._pending: list[Progress] = []
        self._last_emit = 0.0
        self._stop_requested = False
        self._in_run = False  # between a run's "started" and "finished"
        self._skip_pending = False  # asked for before the next run had started

    def stop(self) -> None:
        """Stop the current run after its current batch, and run nothing more."""
        self._stop_requested = True
        self.trainer.stop()

    def skip(self) -> None:
        """Stop the current run after its current batch, then go on with the next."""
        if self._in_run:
            self.trainer.skip()
        else:  # the process would forget it when the run starts: tell it then
            self._skip_pending = True

    def _on_progress(self, event: Progress) -> None:
        self._pending.append(event)
        now = time.monotonic()
        if event.kind != "batch" or now - self._last_emit >= EMIT_INTERVAL_S:
            self._flush(now)

    def _flush(self, now: float | None = None) -> None:
        if self._pending:
            self.progress.emit(self._pending)
            self._pending = []
        self._last_emit = now or time.monotonic()

    @Slot()
    def run(self) -> None:
        try:
            data = shared_mnist()  # here too: the inspector and exercise 5 read it
        except MnistUnavailable as exc:
            self.failed.emit(str(exc))
            self.done.emit()
            return
        if self._stop_requested:
            self.done.emit()
            return
        for kind, payload in self.trainer.run_job(self.specs, self.sweep_id, data):
            if self._stop_requested:  # again: a Stop from before the job began was cleared
                self.trainer.stop()
            if kind == "started":
                self._in_run = True
                if self._skip_pending:
                    self._skip_pending = False
                    self.trainer.skip()
            elif kind == "finished":
                self._in_run = False
            if kind == "progress":
                self._on_progress(payload)
                continue
            self._flush()
            if kind == "started":
                self.runStarted.emit(*payload)
            elif kind == "finished":
                self.runFinished.emit(payload)
            elif kind == "failed":
                self.failed.emit(payload)
        self.done.emit()


class TrainingJob(QObject):
    """A ``TrainingWorker`` in its own ``QThread``, wired so both are cleaned up after."""

    def __init__(self, worker: TrainingWorker, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("training")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        # Direct: quit() is thread-safe, and a queued call would wait for the GUI thread,
        # which may itself be waiting for this thread (window closing).
        worker.done.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(worker.deleteLater)

    def start(self) -> None:
        self.thread.start()

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def stop_and_wait(self, timeout_ms: int = 120_000) -> bool:
        """Ask the run to stop and wait for the thread; True if it ended in time."""
        if not self.thread.isRunning():
            return True
        self.worker.stop()
        return self.thread.wait(timeout_ms)
