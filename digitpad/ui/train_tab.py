"""Train tab: exercise presets and sweeps, the form, Train/Stop/Skip, progress with ETA,
and live curves."""

from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.runs import RunRecord, RunStore
from digitpad.core.specs import RunSpec
from digitpad.core.sweeps import Sweep, estimated_cost
from digitpad.core.trainer_process import TrainerProcess
from digitpad.core.training import Progress
from digitpad.ui.curves import TrainingCurves
from digitpad.ui.sweep_panel import SweepPanel
from digitpad.ui.train_form import TrainForm
from digitpad.ui.training_worker import TrainingJob, TrainingWorker


class TrainTab(QWidget):
    """One run, or a sweep's runs one after another, in a worker thread; the form and the
    sweep panel are locked meanwhile.

    Signals: ``runFinished(RunRecord)`` for every run that ended; ``sweepEnded(str)`` with
    the sweep id once a sweep's last run has ended; ``message(str)``.
    """

    runFinished = Signal(object)
    trainingEnded = Signal()
    sweepEnded = Signal(str)
    message = Signal(str)

    def __init__(self, store: RunStore, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        # Trainings run in a child process, started by the first one and kept for the next
        # (see core.trainer_process): the window's memory does not grow with every run.
        self.trainer = TrainerProcess(store.folder)
        self.job: TrainingJob | None = None
        self._running = False
        self.form = TrainForm()
        self.form.changed.connect(self._update_buttons)
        self.train_button = QPushButton("Train", objectName="trainButton")
        self.train_button.setToolTip("Train this network (Ctrl+Return)")
        self.train_button.clicked.connect(self.start_training)
        self.stop_button = QPushButton("Stop", objectName="stopButton")
        self.stop_button.setToolTip(
            "Stop after the current batch and keep the partial run (Ctrl+.)"
        )
        self.stop_button.clicked.connect(self.stop_training)
        self.skip_button = QPushButton("Skip run", objectName="skipButton")
        self.skip_button.setToolTip(
            "End the sweep's current run after this batch (kept as stopped) and go on"
        )
        self.skip_button.clicked.connect(self.skip_run)
        self.sweep_panel = SweepPanel(self.form)
        self.sweep_panel.runRequested.connect(self.run_sweep)
        self.sweep_status = QLabel("", objectName="sweepProgress")
        self.progress = QProgressBar(objectName="progressBar")
        self.progress.setTextVisible(True)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.status = QLabel("", objectName="trainStatus")
        self.status.setWordWrap(True)
        self.curves = TrainingCurves()

        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.skip_button)
        left = QVBoxLayout()
        left.addWidget(self.sweep_panel)
        left.addWidget(self.form)
        left.addLayout(buttons)
        left.addWidget(self.sweep_status)
        left.addWidget(self.progress)
        left.addWidget(self.status)
        left.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 2)
        layout.addWidget(self.curves, 5)

        QShortcut(
            QKeySequence("Ctrl+Return"),
            self,
            self.start_training,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        QShortcut(
            QKeySequence("Ctrl+."),
            self,
            self.stop_training,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        self._total_steps = 1
        self._started = 0.0
        self._sweep_id: str | None = None
        self._costs: list[float] = []  # estimated cost of each run of the current batch
        self._run_index = 0
        self._batch_started = 0.0
        self._update_buttons()

    # --- running ---------------------------------------------------------------------------

    def is_training(self) -> bool:
        return self.job is not None and self.job.is_running()

    def start_training(self) -> None:
        """Train the form's spec (ignored while a run is going or the form is invalid)."""
        if self.is_training():
            return
        try:
            spec = self.form.spec()
        except ValueError as exc:
            self.message.emit(str(exc))
            return
        self.run_specs([spec])

    def run_sweep(self, sweep: Sweep, specs: list[RunSpec]) -> TrainingWorker | None:
        """Run a sweep's specs; every run is stored with the sweep's id."""
        if self.is_training():
            return None
        return self.run_specs(specs, f"{sweep.id}-{datetime.now():%Y%m%d-%H%M%S}")

    def run_specs(self, specs: list[RunSpec], sweep_id: str | None = None) -> TrainingWorker:
        """Start training ``specs`` one after another; returns the worker (for its signals)."""
        self._sweep_id = sweep_id
        self._costs = [estimated_cost(spec) for spec in specs]
        self._batch_started = time.monotonic()
        self.sweep_status.setText(f"{len(specs)} runs queued" if len(specs) > 1 else "")
        worker = TrainingWorker(specs, self.trainer, sweep_id)
        worker.progress.connect(self._on_progress)
        worker.runStarted.connect(self._on_run_started)
        worker.runFinished.connect(self._on_run_finished)
        worker.failed.connect(self._on_failed)
        worker.done.connect(self._on_done)
        self.job = TrainingJob(worker, self)
        self._set_running(True)
        self.status.setText("Loading MNIST and TensorFlow (a few seconds the first time)…")
        self.job.start()
        return worker

    def stop_training(self) -> None:
        if self.is_training():
            self.job.worker.stop()
            self.status.setText("Stopping after this batch…")

    def skip_run(self) -> None:
        """End the current run after its batch (kept as ``stopped``) and go on with the next."""
        if self.is_training():
            self.job.worker.skip()
            self.status.setText("Skipping to the next run after this batch…")

    def shutdown(self) -> None:
        """Stop any run, wait for its thread and end the trainer process (window closing)."""
        if self.job is not None:
            self.job.stop_and_wait()
        self.trainer.close()

    # --- worker signals (GUI thread) -------------------------------------------------------

    def _on_run_started(self, index: int, count: int) -> None:
        spec = self.job.worker.specs[index]
        self.curves.reset(spec.metric)
        batches = -(-spec.train_size // spec.batch_size)
        self._total_steps = spec.epochs * batches
        self._started = time.monotonic()
        self.progress.setRange(0, self._total_steps)
        self.progress.setValue(0)
        self.progress.setFormat("starting…")
        self._run_index = index
        if index == 0:  # the sweep's clock starts once MNIST and TensorFlow are loaded
            self._batch_started = time.monotonic()
        prefix = f"Run {index + 1} of {count}: " if count > 1 else ""
        self.status.setText(f"{prefix}{spec.describe()}")
        self._update_buttons()

    def _on_progress(self, events: list[Progress]) -> None:
        self.curves.add_events(events)
        last = events[-1]
        if last.kind in ("batch", "epoch"):
            done = last.epoch * last.batches + last.batch + 1
            self.progress.setValue(min(done, self._total_steps))
            elapsed = time.monotonic() - self._started
            eta = elapsed / done * (self._total_steps - done) if done else 0
            self.progress.setFormat(
                f"epoch {last.epoch + 1}/{last.epochs}, batch "
                f"{last.batch + 1}/{last.batches}, ETA {_clock(eta)}"
            )
            if len(self._costs) > 1:
                self._show_sweep_eta(done / self._total_steps)
        elif last.kind == "evaluating":
            self.progress.setFormat("evaluating on the test set…")

    def _on_run_finished(self, record: RunRecord) -> None:
        if record.result is not None:
            r = record.result
            self.status.setText(
                f"Run {record.id} {record.status}: test accuracy {r.test_accuracy:.4f} "
                f"(error {r.baseline_error:.2f} %), {r.convergence_time:.1f} s"
            )
            for note in r.notes:
                self.message.emit(note)
        else:
            self.status.setText(f"Run {record.id} failed: {record.error}")
            self.message.emit(f"Run {record.id} failed: {record.error}")
        self.runFinished.emit(record)

    def _on_failed(self, message: str) -> None:
        self.status.setText(message)
        self.message.emit(message)

    def _show_sweep_eta(self, run_fraction: float) -> None:
        """Run k of n and the time left for the whole sweep, from the runs' estimated costs
        scaled by how fast this machine has gone through them so far."""
        done_cost = sum(self._costs[: self._run_index]) + self._costs[self._run_index] * min(
            run_fraction, 1.0
        )
        elapsed = time.monotonic() - self._batch_started
        left = elapsed / done_cost * (sum(self._costs) - done_cost) if done_cost > 0 else 0
        self.sweep_status.setText(
            f"Sweep: run {self._run_index + 1} of {len(self._costs)}, "
            f"about {_clock(left)} left for the sweep"
        )

    def _on_done(self) -> None:
        self._set_running(False)
        self.progress.setFormat("idle" if self.progress.value() == 0 else "finished")
        if len(self._costs) > 1:
            self.sweep_status.setText(
                f"Sweep ended after {_clock(time.monotonic() - self._batch_started)}: "
                "its table is in Results."
            )
        self.trainingEnded.emit()
        if self._sweep_id:
            self.sweepEnded.emit(self._sweep_id)

    # --- widgets state ---------------------------------------------------------------------

    def _set_running(self, running: bool) -> None:
        self.form.setEnabled(not running)
        self.sweep_panel.set_busy(running)
        self._running = running
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.train_button.setEnabled(not self._running and not self.form.problems_list())
        self.stop_button.setEnabled(self._running)
        self.skip_button.setEnabled(self._running and self._run_index + 1 < len(self._costs))


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"
