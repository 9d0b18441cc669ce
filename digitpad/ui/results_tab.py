"""Results tab: every stored run, sortable and filterable, with curves and specs."""

from __future__ import annotations

import csv
import json

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.runs import RunRecord, RunStore
from digitpad.core.specs import MODEL_KINDS
from digitpad.ui.curves import make_plot
from digitpad.ui.results_model import COLUMNS, RECORD_ROLE, RunFilterProxy, RunTableModel

OVERLAY_COLOURS = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
]


class ResultsTab(QWidget):
    """Signals: ``useOnCanvas(RunRecord)``; ``message(str)``."""

    useOnCanvas = Signal(object)
    message = Signal(str)

    def __init__(self, store: RunStore, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.model = RunTableModel(self)
        self.proxy = RunFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        self.table = QTableView(objectName="resultsTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)

        self.kind_filter = QComboBox(objectName="modelFilter")
        self.kind_filter.addItem("all models", None)
        for kind in MODEL_KINDS:
            self.kind_filter.addItem(kind, kind)
        self.sweep_filter = QComboBox(objectName="sweepFilter")
        self.sweep_filter.addItem("all runs", None)
        for combo in (self.kind_filter, self.sweep_filter):
            combo.currentIndexChanged.connect(self._apply_filters)

        refresh = QPushButton(
            "Refresh",
            objectName="refreshButton",
            toolTip="Read the store again (runs from the command line or another window) (F5)",
        )
        refresh.clicked.connect(self.reload)
        self.delete_button = QPushButton(
            "Delete…",
            objectName="deleteButton",
            toolTip="Delete the selected runs and their saved models",
        )
        self.delete_button.clicked.connect(self.delete_selected)
        self.export_button = QPushButton(
            "Export CSV…",
            objectName="exportButton",
            toolTip="Save the rows shown to a CSV file (Ctrl+E)",
        )
        self.export_button.clicked.connect(self.export_csv)
        self.use_button = QPushButton(
            "Use on canvas",
            objectName="useOnCanvasButton",
            toolTip="Draw against this run's network",
        )
        self.use_button.clicked.connect(self._use_on_canvas)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Model"))
        bar.addWidget(self.kind_filter)
        bar.addWidget(QLabel("Sweep"))
        bar.addWidget(self.sweep_filter)
        bar.addStretch(1)
        for button in (refresh, self.use_button, self.delete_button, self.export_button):
            bar.addWidget(button)

        self.overlay = make_plot("resultsLossPlot", "loss")
        self.spec_view = QPlainTextEdit(objectName="runSpecView", readOnly=True)
        self.spec_view.setPlaceholderText(
            "Select a run to see its full spec and figures; "
            "select several to overlay their loss curves."
        )
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.overlay)
        lower.addWidget(self.spec_view)
        lower.setSizes([600, 300])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setSizes([400, 260])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)

        QShortcut(
            QKeySequence("F5"),
            self,
            self.reload,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        QShortcut(
            QKeySequence("Ctrl+E"),
            self,
            self.export_csv,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        QShortcut(
            QKeySequence.StandardKey.Delete,
            self.table,
            self.delete_selected,
            context=Qt.ShortcutContext.WidgetShortcut,
        )
        self.reload()

    # --- data ------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read every run from the store."""
        records = self.store.list_runs()
        self.model.set_records(records)
        self._refresh_sweeps(records)
        self._on_selection()

    def add_record(self, record: RunRecord) -> None:
        self.model.upsert(record)
        self._refresh_sweeps(self.model.records())

    def _refresh_sweeps(self, records: list[RunRecord]) -> None:
        current = self.sweep_filter.currentData()
        sweeps = sorted({r.sweep_id for r in records if r.sweep_id})
        self.sweep_filter.blockSignals(True)
        self.sweep_filter.clear()
        self.sweep_filter.addItem("all runs", None)
        for sweep in sweeps:
            self.sweep_filter.addItem(sweep, sweep)
        self.sweep_filter.setCurrentIndex(max(self.sweep_filter.findData(current), 0))
        self.sweep_filter.blockSignals(False)

    def _apply_filters(self) -> None:
        self.proxy.set_filters(self.kind_filter.currentData(), self.sweep_filter.currentData())

    def selected_records(self) -> list[RunRecord]:
        rows = self.table.selectionModel().selectedRows()
        return [self.proxy.index(i.row(), 0).data(RECORD_ROLE) for i in rows]

    # --- selection: curves and spec --------------------------------------------------------

    def _on_selection(self, *_args) -> None:
        selected = self.selected_records()
        self.overlay.clear()
        self.use_button.setEnabled(len(selected) == 1 and selected[0].has_model)
        self.delete_button.setEnabled(bool(selected))
        if not selected:
            self.spec_view.setPlainText("")
            return
        full = self.store.get_many([r.id for r in selected])  # with their curves
        for i, record in enumerate(full):
            history = record.result.history if record.result else {}
            colour = OVERLAY_COLOURS[i % len(OVERLAY_COLOURS)]
            epochs = list(range(1, len(history.get("loss", [])) + 1))
            if epochs:
                self.overlay.plot(
                    epochs,
                    history["loss"],
                    pen=pg.mkPen(colour, width=2),
                    name=f"run {record.id} train",
                )
                self.overlay.plot(
                    epochs,
                    history.get("val_loss", []),
                    pen=pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine),
                    name=f"run {record.id} validation",
                )
        if len(full) == 1:
            self.spec_view.setPlainText(describe_record(full[0]))
        else:
            self.spec_view.setPlainText("\n".join(f"run {r.id}: {r.spec.describe()}" for r in full))

    def _use_on_canvas(self) -> None:
        selected = self.selected_records()
        if len(selected) == 1 and selected[0].has_model:
            self.useOnCanvas.emit(selected[0])

    # --- actions ---------------------------------------------------------------------------

    def delete_selected(self) -> None:
        selected = self.selected_records()
        if not selected:
            return
        ids = sorted(r.id for r in selected)
        answer = QMessageBox.question(
            self,
            "Delete runs",
            f"Delete {len(ids)} run(s) ({', '.join(map(str, ids[:10]))}"
            f"{'…' if len(ids) > 10 else ''}) and their saved models? This cannot be undone.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        if any(r.status == "running" for r in selected):
            self.message.emit("A running run cannot be deleted; stop it first.")
            return
        self.store.delete(ids)
        self.model.remove_ids(set(ids))

    def export_csv(self, path: str | None = None) -> str | None:
        """Write the visible rows, as shown, to a CSV file (asks where when ``path`` is None)."""
        if not path:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export runs", "runs.csv", "CSV files (*.csv)"
            )
            if not path:
                return None
        try:
            with open(path, "w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow([c[0] for c in COLUMNS])
                for row in range(self.proxy.rowCount()):
                    writer.writerow(
                        [self.proxy.index(row, col).data() for col in range(len(COLUMNS))]
                    )
        except OSError as exc:
            self.message.emit(f"Could not write {path}: {exc.strerror or exc}")
            return None
        self.message.emit(f"Exported {self.proxy.rowCount()} run(s) to {path}")
        return path


def describe_record(record: RunRecord) -> str:
    """The full spec and figures of one run, for people."""
    lines = [
        f"Run {record.id} — {record.status}",
        f"started {record.created_at}",
        f"ended {record.finished_at or '—'}",
        "",
    ]
    lines.append(json.dumps(record.spec.to_dict(), indent=2))
    if record.result:
        r = record.result
        lines += [
            "",
            f"test accuracy     {r.test_accuracy:.4f}",
            f"baseline error    {r.baseline_error:.2f} %",
            f"test loss         {r.test_loss:.4f}",
            f"test MSE          {r.test_mse:.4f}",
            f"convergence time  {r.convergence_time:.2f} s",
            f"parameters        {r.params:,}",
            f"epochs run        {r.epochs_run}",
            f"training images   {r.train_size:,}",
            f"seed              {r.seed}",
            f"device            {r.device}",
            f"data              {r.data_source} ({r.data_sha256[:12]}…)",
            "versions          " + ", ".join(f"{k} {v}" for k, v in r.versions.items()),
        ]
        if r.weights_path:
            lines.append(f"weights           {r.weights_path}")
        lines += [f"note: {n}" for n in r.notes]
    if record.error:
        lines += ["", f"error: {record.error}"]
    return "\n".join(lines)
