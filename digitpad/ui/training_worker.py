"""Runs core training in a QThread and forwards its progress, throttled, to the GUI thread."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from digitpad.core.backend import import_keras
from digitpad.core.data import MnistData, MnistUnavailable, load_dataset
from digitpad.core.runner import run_and_record
from digitpad.core.runs import RunStore, RunStoreError
from digitpad.core.specs import RunSpec
from digitpad.core.training import Progress, release_memory

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
    """Trains a list of specs one after another (one spec for a single run).

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

    def __init__(self, specs: list[RunSpec], store: RunStore, sweep_id: str | None = None):
        super().__init__()
        self.specs = specs
        self.store = store
        self.sweep_id = sweep_id
        self._stop_all = threading.Event()
        self._skip_current = threading.Event()
        self._pending: list[Progress] = []
        self._last_emit = 0.0

    def stop(self) -> None:
        """Stop the current run after its current batch, and run nothing more."""
        self._stop_all.set()

    def skip(self) -> None:
        """Stop the current run after its current batch, then go on with the next."""
        self._skip_current.set()

    def _should_stop(self) -> bool:
        return self._stop_all.is_set() or self._skip_current.is_set()

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
            data = shared_mnist()
        except MnistUnavailable as exc:
            self.failed.emit(str(exc))
            self.done.emit()
            return
        import_keras()  # the canvas does not need TensorFlow: its import happens here, once
        for index, spec in enumerate(self.specs):
            if self._stop_all.is_set():
                break
            self._skip_current.clear()
            self.runStarted.emit(index, len(self.specs))
            try:
                record = run_and_record(
                    spec,
                    data,
                    self.store,
                    self._on_progress,
                    self._should_stop,
                    self.sweep_id,
                    release=False,
                )
            except RunStoreError as exc:  # the run could not even be recorded as started
                self.failed.emit(f"Training not started: {exc}")
                break
            self._flush()
            self.runFinished.emit(record)
            release_memory()  # after the report, so a Stop shows at once
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
