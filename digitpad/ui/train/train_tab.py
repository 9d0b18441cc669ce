"""Train tab: exercise presets, sweeps and the whole lab, the form, where to train,
Train/Stop/Skip, progress with ETA, and the live curves of the running runs."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.data.mnist import shared_mnist
from digitpad.core.engine import (
    CLUSTER_ENV,
    Engine,
    EngineEvent,
    Job,
    JobControl,
    JobDone,
    JobFailed,
    RunFinished,
    RunProgress,
    RunStarted,
    make_backend,
)
from digitpad.core.engine.local import default_jobs
from digitpad.core.engine.progress import JobProgress, clock_text
from digitpad.core.engine.worker import ProgressBundler
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.run_summary import summary_line
from digitpad.core.store.runs import RunRecord, RunStore
from digitpad.ui.common.background import run_in_background, serial_pool
from digitpad.ui.common.curves import TrainingCurves
from digitpad.ui.common.saved_values import SavedGroup
from digitpad.ui.common.widgets import add_shortcuts
from digitpad.ui.train.sweep_panel import SweepPanel
from digitpad.ui.train.train_form import TrainForm

# Batch events cross threads in bundles, at most this often (other events go at once).
EMIT_INTERVAL_S = 0.05


class TrainTab(QWidget):
    """A job (one run, a sweep, the whole lab) on the engine's workers, driven from a
    background thread; the form and the sweep panel are locked meanwhile.

    Signals: ``runFinished(RunRecord)`` for every run that ended; ``trainingEnded()`` when
    the job is over; ``sweepEnded(str)`` with the job's first table (sweep id), if any;
    ``message(str)``.
    """

    runFinished = Signal(object)
    trainingEnded = Signal()
    sweepEnded = Signal(str)
    message = Signal(str)

    def __init__(self, store: RunStore, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        # Trainings run in worker processes, started by the first one and kept for the next
        # (see core.engine.local): the window's memory does not grow with every run.
        self.engine: Engine | None = None
        self._engine_address: str | None = None
        self._pool = serial_pool()  # the thread that drives jobs, one at a time
        self.job: Job | None = None
        self.control: JobControl | None = None
        self.tracker: JobProgress | None = None
        self._running = False

        self.form = TrainForm()
        self.form.changed.connect(self._update_buttons)
        self.cluster = QLineEdit(os.environ.get(CLUSTER_ENV, ""), objectName="clusterEdit")
        self.cluster.setPlaceholderText(
            f"this computer ({default_jobs()} workers); or a Dask scheduler: tcp://HOST:8786"
        )
        self.cluster.setToolTip(
            "Where trainings run. Empty: worker processes on this computer. A Dask "
            "scheduler's address: its workers train, and every run comes back here."
        )
        self.train_button = QPushButton("Train", objectName="trainButton")
        self.train_button.setToolTip("Train this network (Ctrl+Return)")
        self.train_button.clicked.connect(self.start_training)
        self.stop_button = QPushButton("Stop", objectName="stopButton")
        self.stop_button.setToolTip(
            "Stop after the current batch and keep the partial runs (Ctrl+.)"
        )
        self.stop_button.clicked.connect(self.stop_training)
        self.skip_button = QPushButton("Skip run", objectName="skipButton")
        self.skip_button.setToolTip(
            "End the chosen running run after this batch (kept as stopped); the job goes on"
        )
        self.skip_button.clicked.connect(self.skip_run)
        self.running_list = QListWidget(objectName="runningList")
        self.running_list.setToolTip("Runs training now; pick one, then Skip run")
        self.running_list.setMaximumHeight(90)
        self.sweep_panel = SweepPanel(self.form)
        self.sweep_panel.runRequested.connect(self.run_job)
        self.sweep_status = QLabel("", objectName="sweepProgress")
        self.progress = QProgressBar(objectName="progressBar")
        self.progress.setTextVisible(True)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.status = QLabel("", objectName="trainStatus")
        self.status.setWordWrap(True)
        self.curves = TrainingCurves()

        where = QHBoxLayout()
        where.addWidget(QLabel("Train on"))
        where.addWidget(self.cluster, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.skip_button)
        left = QVBoxLayout()
        left.addWidget(self.sweep_panel)
        left.addWidget(self.form)
        left.addLayout(where)
        left.addLayout(buttons)
        left.addWidget(self.sweep_status)
        left.addWidget(self.progress)
        left.addWidget(self.running_list)
        left.addWidget(self.status)
        left.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 2)
        layout.addWidget(self.curves, 5)

        add_shortcuts(self, [("Ctrl+Return", self.start_training), ("Ctrl+.", self.stop_training)])
        self._update_buttons()

    # --- running ---------------------------------------------------------------------------

    def saved_state(self) -> dict[str, object]:
        """The tab's state for ``settings.ini``: the form's values and the cluster."""
        return {"form": json.dumps(self.form.values()), "cluster": self.cluster.text()}

    def restore_state(self, saved: SavedGroup) -> None:
        """Take back a ``saved_state``; a form that is not valid JSON of a run's settings
        keeps the defaults, and is noted in ``saved``."""
        form = saved.text("form")
        if form:
            try:
                values = json.loads(form)
                if not isinstance(values, dict):
                    raise ValueError("not a mapping")
            except ValueError:
                saved.ignored.append("[train] form: not the JSON of a run's settings")
            else:
                self.form.set_values(values)
        cluster = saved.text("cluster")
        if cluster and not self.cluster.text():  # $DIGITPAD_CLUSTER comes first
            self.cluster.setText(cluster)

    def is_training(self) -> bool:
        return self._running

    def start_training(self) -> None:
        """Train the form's spec (ignored while a job is going or the form is invalid)."""
        if self.is_training():
            return
        try:
            spec = self.form.spec()
        except ValueError as exc:
            self.message.emit(str(exc))
            return
        self.run_job(Job.single(spec))

    def run_specs(self, specs: list[RunSpec]) -> JobControl | None:
        """Train ``specs`` as one job (in no sweep); returns its control."""
        return self.run_job(Job.plan((spec, None) for spec in specs))

    def run_job(self, job: Job) -> JobControl | None:
        """Start ``job`` on the engine; returns its control (None while another runs)."""
        if self.is_training():
            return None
        self.job, self.control, self.tracker = job, JobControl(), JobProgress(job)
        self.curves.clear()
        self.running_list.clear()
        self.progress.setValue(0)
        self.progress.setFormat("starting…")
        self.sweep_status.setText(f"{len(job.runs)} trainings queued" if len(job.runs) > 1 else "")
        self._set_running(True)
        self.status.setText("Loading MNIST and starting the workers (a few seconds at first)…")
        address = self.cluster.text().strip()
        control = self.control
        run_in_background(
            lambda report: _drive(lambda: self._engine_for(address), job, control, report),
            self._on_done,
            self._on_error,
            self,
            on_item=self._on_item,
            pool=self._pool,
        )
        return control

    def _engine_for(self, address: str) -> Engine:
        """The engine on the chosen backend, kept between jobs (in the driving thread)."""
        if self.engine is None or address != self._engine_address:
            if self.engine is not None:
                self.engine.close()
                self.engine = None
            backend = make_backend(address)
            if backend.warning:
                self.message.emit(backend.warning)  # queued to the GUI thread
            self.engine = Engine(self.store, backend)
            self._engine_address = address
        return self.engine

    def stop_training(self) -> None:
        if self.is_training() and self.control is not None:
            self.control.stop()
            self.status.setText("Stopping after this batch…")

    def skip_run(self) -> None:
        """End the chosen running run (the first one if none is chosen) after its batch,
        kept as ``stopped``; the job goes on."""
        if not self.is_training() or self.control is None:
            return
        item = self.running_list.currentItem() or self.running_list.item(0)
        if item is None:  # nothing has started yet: skip the first run of the plan
            self.control.skip(0)
        else:
            self.control.skip(item.data(Qt.ItemDataRole.UserRole))
        self.status.setText("Skipping that run after this batch…")

    def shutdown(self) -> None:
        """Stop any job, wait for it and end the workers (window closing)."""
        if self.control is not None:
            self.control.stop()
        if not self._pool.wait_for_done(120_000):
            # The job's thread still uses the engine: closing it under that thread would race
            # it. Its workers end with this process (they watch for their parent).
            return
        self._running = False  # its last report may never be read now: the window closes
        if self.engine is not None:
            self.engine.close()
            self.engine = None

    # --- from the driving thread (GUI thread) ----------------------------------------------

    def _on_item(self, item) -> None:
        if isinstance(item, list):  # a bundle of progress events
            for event in item:
                self.tracker.update(event)
            by_run: dict[int, list] = {}
            for event in item:
                by_run.setdefault(event.index, []).append(event.progress)
            for index, events in by_run.items():
                self.curves.add_events(index, events)
            self._show_progress()
            return
        self.tracker.update(item)
        if isinstance(item, RunStarted):
            self._on_run_started(item)
        elif isinstance(item, RunFinished):
            self._on_run_finished(item.record, item.index)
        elif isinstance(item, JobFailed):
            self.status.setText(item.message)
            self.message.emit(item.message)
        self._show_progress()

    def _on_run_started(self, event: RunStarted) -> None:
        label = f"run {event.run_id}"
        self.curves.start_run(event.index, label, event.spec.metric)
        entry = QListWidgetItem(f"{label}: {event.spec.describe()}")
        entry.setData(Qt.ItemDataRole.UserRole, event.index)
        self.running_list.addItem(entry)
        self.status.setText(f"Started {label}: {event.spec.describe()}")
        self._update_buttons()

    def _on_run_finished(self, record: RunRecord, index: int) -> None:
        for row in range(self.running_list.count()):
            if self.running_list.item(row).data(Qt.ItemDataRole.UserRole) == index:
                self.running_list.takeItem(row)
                break
        self.status.setText(summary_line(record).capitalize())
        if record.result is not None:
            for note in record.result.notes:
                self.message.emit(note)
        else:
            self.message.emit(f"Run {record.id} {record.status}: {record.error}")
        self.runFinished.emit(record)
        self._update_buttons()

    def _show_progress(self) -> None:
        tracker = self.tracker
        self.progress.setValue(round(tracker.fraction() * 1000))
        if tracker.total > 1:
            self.sweep_status.setText(tracker.text())
        if tracker.running:
            index = min(tracker.running)
            last = tracker.last.get(index)
            if last is None:
                self.progress.setFormat("starting…")
            elif last.kind == "evaluating":
                self.progress.setFormat("evaluating on the test set…")
            else:
                left = tracker.seconds_left()
                eta = f", ETA {clock_text(left)}" if left is not None else ""
                self.progress.setFormat(
                    f"epoch {last.epoch + 1}/{last.epochs}, batch "
                    f"{last.batch + 1}/{last.batches}{eta}"
                )

    def _on_done(self, _result) -> None:
        self._set_running(False)
        self.running_list.clear()
        tracker, job = self.tracker, self.job
        self.progress.setFormat("finished" if tracker.finished else "idle")
        if tracker.total > 1:
            elapsed = tracker.elapsed()
            took = f" after {clock_text(elapsed)}" if elapsed is not None else ""
            self.sweep_status.setText(
                f"Ended{took}: {tracker.finished} of {tracker.total} trainings; "
                "the tables are in Results."
            )
        self.trainingEnded.emit()
        if job.sweep_ids:
            self.sweepEnded.emit(job.sweep_ids[0])

    def _on_error(self, message: str) -> None:
        self.status.setText(message)
        self.message.emit(message)
        self._on_done(None)

    # --- widgets state ---------------------------------------------------------------------

    def _set_running(self, running: bool) -> None:
        self.form.setEnabled(not running)
        self.cluster.setEnabled(not running)
        self.sweep_panel.set_busy(running)
        self._running = running
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.train_button.setEnabled(not self._running and not self.form.problems_list())
        self.stop_button.setEnabled(self._running)
        several = self.job is not None and len(self.job.runs) > 1
        self.skip_button.setEnabled(self._running and several)


def _drive(
    engine_for: Callable[[], Engine],
    job: Job,
    control: JobControl,
    report: Callable[[object], None],
) -> None:
    """Run ``job`` (in the driving thread), reporting its events: progress in bundles at
    most every ``EMIT_INTERVAL_S``, the others at once, in order."""
    try:
        data = shared_mnist()
        engine = engine_for()
    except Exception as exc:  # no MNIST, an unreachable cluster: one message, no traceback
        report(JobFailed(str(exc)))
        return
    progress = ProgressBundler(
        lambda bundle: report(list(bundle)), EMIT_INTERVAL_S, lambda event: event.progress
    )
    event: EngineEvent
    for event in engine.run(job, data, control):
        if isinstance(event, RunProgress):
            progress(event)
            continue
        progress.flush()  # in order: a run's last batches before its end
        if not isinstance(event, JobDone):
            report(event)
