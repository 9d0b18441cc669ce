"""Results tab: every stored run, sortable and filterable, with curves and specs; a
sweep's lab table; what a run gets wrong; a run exported as code or as a checked network
file, trained again to compare (Reproduce), or its weights read back (exercise 5)."""

from __future__ import annotations

import threading

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.engine.reproduce import CannotReproduce, reproduce, reproducible_spec
from digitpad.core.export.code_plan import plan_for
from digitpad.core.export.formats import CODE_FORMATS, FORMATS, SUFFIXES, write_code
from digitpad.core.export.networks import export_network
from digitpad.core.lab.stored_sweeps import load_sweep
from digitpad.core.lab.sweep_ids import sweep_key
from digitpad.core.machine.files import csv_text, write_failure, write_text
from digitpad.core.nets.specs import MODEL_KINDS
from digitpad.core.nets.status import RunStatus
from digitpad.core.store.run_columns import csv_rows
from digitpad.core.store.run_summary import describe_record
from digitpad.core.store.runs import RunRecord, RunRow, RunStore, RunStoreError
from digitpad.render.plots import make_plot
from digitpad.ui.common.background import run_in_background
from digitpad.ui.common.lazy_page import LazyPage
from digitpad.ui.common.widgets import add_shortcuts, button
from digitpad.ui.results.first_five_dialog import FirstFiveDialog
from digitpad.ui.results.results_model import ROW_ROLE, RunTableModel
from digitpad.ui.results.run_inspector import RunInspector
from digitpad.ui.results.sweep_view import SweepView

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


# Export as…'s choices for the selected run, in its menu's order.
EXPORT_CHOICES = {
    "script": "A plain Keras script (.py)…",
    "notebook": "A Jupyter notebook (.ipynb)…",
    "keras": "The network as .keras…",
    "weights": "The lab's weights file (.weights.h5)…",
    "tflite": "LiteRT (.tflite)…",
    "onnx": "ONNX (.onnx)…",
}
SIZE_PRECISION_ROWS = 15  # rows read to size a column to its content (each costs ~0.4 ms)


class ResultsTab(QWidget):
    """Signals: ``useOnCanvas(RunRecord)``; ``imageToCanvas(image)`` with a (28, 28) uint8
    test image; ``message(str)``."""

    useOnCanvas = Signal(object)
    pinToDraw = Signal(object)  # a RunRecord to add to the Draw tab's network table
    imageToCanvas = Signal(object)
    message = Signal(str)
    exported = Signal(str)  # the file written, once checked
    reproduced = Signal(int, object)  # run id, its fingerprint.Comparison

    def __init__(self, store: RunStore, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self._reproducing: int | None = None
        self._stop_reproducing = threading.Event()
        self.model = RunTableModel(store, self)

        self.table = QTableView(objectName="resultsTable")
        self.table.setModel(self.model)
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

        refresh = button(
            "Refresh",
            "refreshButton",
            "Read the store again (runs from the command line or another window) (F5)",
            self.reload,
        )
        self.delete_button = button(
            "Delete…",
            "deleteButton",
            "Delete the selected runs and their saved models",
            self.delete_selected,
        )
        self.export_button = button(
            "Export CSV…",
            "exportButton",
            "Save the rows shown to a CSV file (Ctrl+E)",
            self.export_csv,
        )
        self.use_button = button(
            "Use on canvas",
            "useOnCanvasButton",
            "Draw against this run's network",
            self._use_on_canvas,
        )
        self.pin_button = button(
            "Pin to Draw",
            "pinButton",
            "Add the selected runs' networks to the Draw tab's table of every "
            "network on your drawing",
            self._pin_selected,
        )
        self.export_as_button = QToolButton(objectName="exportAsButton", text="Export as…")
        self.export_as_button.setToolTip(
            "The selected run as a plain Keras script or a notebook that prints its numbers "
            "(the shown sweep's runs too), or its network as a file, checked before it is "
            "called done"
        )
        self.export_as_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_as_button)
        for fmt, what in EXPORT_CHOICES.items():
            action = menu.addAction(what)
            action.setObjectName(f"exportAs-{fmt}")
            action.triggered.connect(lambda _=False, fmt=fmt: self.export_as(fmt))
        sweep_action = menu.addAction("The shown sweep as a script…")
        sweep_action.setObjectName("exportAs-sweep")
        sweep_action.triggered.connect(lambda: self.export_as("script", sweep=True))
        self.export_as_button.setMenu(menu)
        self.reproduce_button = button(
            "Reproduce",
            "reproduceButton",
            "Train the selected run again from its settings and seed, and compare every "
            "figure: same, within tolerance (another processor), or what differs",
            lambda: self.reproduce_selected(),
        )
        self.first_five_button = button(
            "First five…",
            "firstFiveButton",
            "Exercise 5: load weights into a fresh network and read the first five "
            "test images (the selected run's, else the shipped exercise 4 weights)",
            self.open_first_five,
        )

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Model"))
        bar.addWidget(self.kind_filter)
        bar.addWidget(QLabel("Sweep"))
        bar.addWidget(self.sweep_filter)
        bar.addStretch(1)
        for widget in (
            refresh,
            self.use_button,
            self.pin_button,
            self.export_as_button,
            self.reproduce_button,
            self.first_five_button,
            self.delete_button,
            self.export_button,
        ):
            bar.addWidget(widget)

        self.overlay = make_plot("resultsLossPlot", "loss")
        self.spec_view = QPlainTextEdit(objectName="runSpecView", readOnly=True)
        self.spec_view.setPlaceholderText(
            "Select a run to see its full spec and figures; "
            "select several to overlay their loss curves."
        )
        run_view = QSplitter(Qt.Orientation.Horizontal)
        run_view.addWidget(self.overlay)
        run_view.addWidget(self.spec_view)
        run_view.setSizes([600, 300])
        self.sweep_page = LazyPage(self._make_sweep_view)
        self.inspector_page = LazyPage(self._make_inspector)
        self.details = QTabWidget(objectName="resultsDetails")
        self.details.addTab(run_view, "Runs")
        self.details.addTab(self.sweep_page, "Sweep table")
        self.details.addTab(self.inspector_page, "Mistakes")
        self.details.currentChanged.connect(self._on_details_tab)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setSizes([300, 440])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)

        add_shortcuts(self, [("F5", self.reload), ("Ctrl+E", self.export_csv)])
        QShortcut(
            QKeySequence.StandardKey.Delete,
            self.table,
            self.delete_selected,
            context=Qt.ShortcutContext.WidgetShortcut,
        )
        self.reload()

    # --- data ------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the run list from the store again."""
        self.model.reload()
        self._refresh_sweeps()
        self._on_selection()
        self.fit_columns()

    def fit_columns(self) -> None:
        """Size the columns to their content (the rows on screen), so that what people
        compare first fits in the window."""
        header = self.table.horizontalHeader()
        header.setResizeContentsPrecision(SIZE_PRECISION_ROWS)
        self.table.resizeColumnsToContents()

    def add_record(self, record: RunRecord) -> None:
        self.model.upsert(record)
        if record.sweep_id and self.sweep_filter.findData(record.sweep_id) < 0:
            self._refresh_sweeps()

    def _refresh_sweeps(self) -> None:
        current = self.sweep_filter.currentData()
        sweeps = self.store.sweep_ids()
        self.sweep_filter.blockSignals(True)
        self.sweep_filter.clear()
        self.sweep_filter.addItem("all runs", None)
        for sweep in sweeps:
            self.sweep_filter.addItem(sweep, sweep)
        self.sweep_filter.setCurrentIndex(max(self.sweep_filter.findData(current), 0))
        self.sweep_filter.blockSignals(False)

    def _apply_filters(self) -> None:
        sweep_id = self.sweep_filter.currentData()
        self.model.set_filters(self.kind_filter.currentData(), sweep_id)
        self._show_sweep_table(sweep_id)

    @property
    def sweep_view(self) -> SweepView:
        return self.sweep_page.content()

    @property
    def inspector(self) -> RunInspector:
        return self.inspector_page.content()

    def _make_sweep_view(self) -> SweepView:
        view = SweepView()
        view.message.connect(self.message)
        return view

    def _make_inspector(self) -> RunInspector:
        inspector = RunInspector()
        inspector.message.connect(self.message)
        inspector.mistakeChosen.connect(self.imageToCanvas)
        return inspector

    def show_sweep(self, sweep_id: str) -> None:
        """Filter on a sweep's runs and show its lab table."""
        self._refresh_sweeps()
        index = self.sweep_filter.findData(sweep_id)
        if index >= 0:
            self.sweep_filter.setCurrentIndex(index)
            self.details.setCurrentWidget(self.sweep_page)

    def _show_sweep_table(self, sweep_id: str | None) -> None:
        if not sweep_id:
            if self.sweep_page.is_built():
                self.sweep_view.show_sweep(None, [])
            return
        runs = load_sweep(self.store, sweep_id)
        if runs is None:
            self.sweep_view.show_sweep(None, [])
            self.sweep_view.title.setText(
                f"{sweep_id} holds runs of several exercises (an earlier version's "
                "digitpad lab), or none left: its tables are in the report that command wrote."
            )
            return
        sweep = runs.sweep
        twins = None
        if sweep.measure == "mse":  # exercise 3: compare with exercise 2's runs
            ex2 = [s for s in self.store.sweep_ids() if sweep_key(s) == "ex2"]
            twins = self.store.get_many(i for s in ex2 for i in self.store.ordered_ids(sweep_id=s))
        cells = [(record.id, cell) for cell, record in runs.cells]
        self.sweep_view.show_sweep(sweep, runs.records, twins, cells)

    def selected_rows(self) -> list[RunRow]:
        rows = self.table.selectionModel().selectedRows()
        found = (self.model.index(i.row(), 0).data(ROW_ROLE) for i in rows)
        return [row for row in found if row is not None]

    def selected_records(self) -> list[RunRecord]:
        """The selected runs in full (curves included), read from the store."""
        return self.store.get_many(row.id for row in self.selected_rows())

    # --- selection: curves and spec --------------------------------------------------------

    def _on_details_tab(self, *_args) -> None:
        if self.details.currentWidget() is self.inspector_page:
            self._inspect_selection()

    def _inspect_selection(self) -> None:
        selected = self.selected_rows()
        row = selected[0] if len(selected) == 1 else None
        shown = self.inspector.record
        if row is not None and shown is not None and row.id == shown.id:
            return  # already shown (or on its way)
        self.inspector.inspect(self.store.get(row.id) if row else None)

    def _on_selection(self, *_args) -> None:
        selected = self.selected_rows()
        self.overlay.clear()
        one_model = len(selected) == 1 and selected[0].has_model
        self.use_button.setEnabled(one_model)
        self.pin_button.setEnabled(any(row.has_model for row in selected))
        one_done = len(selected) == 1 and selected[0].status == RunStatus.DONE
        self.export_as_button.setEnabled(one_done or bool(self.sweep_filter.currentData()))
        self.reproduce_button.setEnabled(one_done and self._reproducing is None)
        if self.details.currentWidget() is self.inspector_page:
            self._inspect_selection()
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

    def _pin_selected(self) -> None:
        for record in self.selected_records():
            if record.has_model:
                self.pinToDraw.emit(record)

    def _use_on_canvas(self) -> None:
        selected = self.selected_records()
        if len(selected) == 1 and selected[0].has_model:
            self.useOnCanvas.emit(selected[0])

    # --- actions ---------------------------------------------------------------------------

    def export_as(self, fmt: str, path: str | None = None, sweep: bool = False) -> None:
        """Export the selected run (or, with ``sweep``, the sweep shown) as ``fmt`` to
        ``path`` (asked when None), in the background; ``exported(path)`` when it is
        written and checked, a message either way."""
        sweep_id = self.sweep_filter.currentData() if sweep else None
        selected = self.selected_rows()
        if sweep and not sweep_id:
            self.message.emit("Choose a sweep in the Sweep filter first.")
            return
        if not sweep and len(selected) != 1:
            self.message.emit("Select one finished run first.")
            return
        what = sweep_id or str(selected[0].id)
        if not path:
            suffix = SUFFIXES[fmt]
            path, _ = QFileDialog.getSaveFileName(
                self,
                f"Export {what} as",
                f"{what if sweep_id else 'run-' + what}{suffix}",
                f"{FORMATS[fmt]} (*{suffix})",
            )
            if not path:
                return
        store = self.store

        def work():
            if fmt in CODE_FORMATS:
                plan = plan_for(store, what)
                written = write_code(plan, fmt, path)
                return [f"Exported {plan.title} to {written}"], str(written)
            report = export_network(store, int(what), fmt, path)
            return report.lines(), str(report.path)

        def done(outcome) -> None:
            lines, written = outcome
            self.message.emit(" ".join(line.strip() for line in lines))
            self.exported.emit(written)

        run_in_background(work, done, lambda why: self.message.emit(f"Not exported: {why}"), self)

    def reproduce_selected(self) -> None:
        """Train the selected run again in the background and say how its numbers compare;
        ``reproduced(run id, comparison)`` when done."""
        selected = self.selected_records()
        if len(selected) != 1 or selected[0].result is None:
            self.message.emit("Select one finished run first.")
            return
        record = selected[0]
        try:
            reproducible_spec(record.result, f"run {record.id}")
        except CannotReproduce as exc:
            self.message.emit(str(exc))
            return
        self._reproducing = record.id
        self.reproduce_button.setEnabled(False)
        self.message.emit(f"Training run {record.id} again to compare its numbers…")

        def done(outcome) -> None:
            comparison, _ = outcome
            self._reproducing = None
            self._on_selection()
            self.message.emit(f"Run {record.id} trained again: " + "; ".join(comparison.lines()))
            self.reproduced.emit(record.id, comparison)

        def failed(why: str) -> None:
            self._reproducing = None
            self._on_selection()
            self.message.emit(f"Run {record.id} could not be trained again: {why}")

        stop = self._stop_reproducing.is_set
        run_in_background(
            lambda: reproduce(record.result, run_name=f"run {record.id}", stop=stop),
            done,
            failed,
            self,
        )

    def shutdown(self) -> None:
        """Closing: a run being trained again stops after its current batch."""
        self._stop_reproducing.set()

    def open_first_five(self) -> FirstFiveDialog:
        """Exercise 5 on the selected run's weights, or the shipped exercise 4 weights."""
        selected = self.selected_records()
        if len(selected) == 1 and selected[0].has_model:
            record = selected[0]
            dialog = FirstFiveDialog(
                self,
                record.result.weights_path,
                record.spec,
                f"run {record.id}: {record.spec.describe()}",
            )
        else:
            dialog = FirstFiveDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def delete_selected(self) -> None:
        selected = self.selected_rows()
        if not selected:
            return
        if any(r.status == RunStatus.RUNNING for r in selected):
            self.message.emit("A running run cannot be deleted; stop it first.")
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
        try:
            self.store.delete(ids)
        except RunStoreError as exc:
            self.message.emit(f"Not deleted: {exc}")
            return
        self.model.remove_ids(set(ids))

    def export_csv(self, path: str | None = None) -> str | None:
        """Write the visible rows, in the order shown, to a CSV file (asks where when ``path``
        is None): the same columns and values as ``digitpad runs --csv``."""
        if not path:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export runs", "runs.csv", "CSV files (*.csv)"
            )
            if not path:
                return None
        shown = (self.model.row_at(row) for row in range(self.model.rowCount()))
        try:
            write_text(path, csv_text(csv_rows(row for row in shown if row is not None)))
        except OSError as exc:
            self.message.emit(f"Not exported: {write_failure(path, exc)}")
            return None
        self.message.emit(f"Exported {self.model.rowCount()} run(s) to {path}")
        return path
