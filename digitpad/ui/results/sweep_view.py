"""A sweep as the lab tabulates it: the table, its figures against the swept value, and the
loss curves of its runs; exercise 3 also gets its accuracy-versus-mse comparison."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.lab.sweeps import LabTable, Sweep, lab_table, metric_pairs
from digitpad.core.machine.files import csv_text, write_failure, write_text
from digitpad.core.store.runs import Cell, RunRecord
from digitpad.render.plots import make_plot
from digitpad.ui.common.lab_table_view import LabTableView
from digitpad.ui.common.lazy_page import LazyPage

OURS_PEN = pg.mkPen((30, 90, 200), width=3)
REPORT_PEN = pg.mkPen((120, 120, 120), width=2, style=Qt.PenStyle.DashLine)
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189)]


class SweepView(QWidget):
    """Shows one sweep; ``message(str)`` reports copies and exports."""

    message = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.sweep: Sweep | None = None
        self.table: LabTable | None = None
        self.title = QLabel("Choose a sweep in the Sweep filter above to see its lab table.")
        self.title.setObjectName("sweepTitle")
        self.title.setWordWrap(True)
        self.table_view = LabTableView("labTable")
        self.table_model = self.table_view.table_model
        self.copy_button = QPushButton("Copy as Markdown", objectName="copyMarkdownButton")
        self.copy_button.clicked.connect(self.copy_markdown)
        self.export_button = QPushButton("Export CSV…", objectName="exportTableButton")
        self.export_button.clicked.connect(lambda: self.export_csv())
        self.figure_plot = make_plot("sweepFigurePlot", "system accuracy")
        self.time_plot = make_plot("sweepTimePlot", "convergence time (s)")
        self.loss_plot = make_plot("sweepLossPlot", "training loss")
        # Built when an exercise 3 sweep is first shown: two plots fewer to build otherwise.
        self.ex3 = LazyPage(MetricComparison)

        buttons = QHBoxLayout()
        buttons.addWidget(self.title, 1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.export_button)
        plots = QHBoxLayout()
        for plot in (self.figure_plot, self.time_plot, self.loss_plot):
            plots.addWidget(plot)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.table_view)
        layout.addLayout(plots, 1)
        layout.addWidget(self.ex3, 1)
        self.show_sweep(None, [])

    def show_sweep(
        self,
        sweep: Sweep | None,
        records: list[RunRecord],
        accuracy_twins: list[RunRecord] | None = None,
        cells: list[tuple[int, Cell]] | None = None,
    ) -> None:
        """Show ``sweep`` from its runs (with curves) and its table's ``cells`` (see
        ``lab_table``); for exercise 3, ``accuracy_twins`` are the runs of an exercise 2
        sweep to compare with."""
        self.sweep = sweep
        self.table = lab_table(sweep, records, cells) if sweep is not None else None
        for plot in (self.figure_plot, self.time_plot, self.loss_plot):
            plot.clear()
        self.table_view.show_table(None)
        self.copy_button.setEnabled(self.table is not None)
        self.export_button.setEnabled(self.table is not None)
        self.ex3.setVisible(sweep is not None and sweep.measure == "mse")
        if sweep is None or self.table is None:
            return
        text = f"<b>{sweep.title}</b>"
        if sweep.question:
            text += f"<br>{sweep.question}"
        self.title.setText(text)
        self.table_view.show_table(self.table)
        self._plot_figures(sweep, self.table)
        self._plot_losses(records, self.loss_plot, sweep.param)
        if sweep.measure == "mse":
            self.ex3.content().show_pairs(accuracy_twins or [], records)

    def _plot_figures(self, sweep: Sweep, table: LabTable) -> None:
        measure = sweep.measure
        self.figure_plot.setLabel("left", "MSE" if measure == "mse" else "system accuracy")
        ticks = [[(i, name) for i, name in enumerate(table.columns)]]
        for plot, key in ((self.figure_plot, measure), (self.time_plot, "time")):
            plot.setLabel("bottom", (sweep.param or "run").replace("_", " "))
            plot.getAxis("bottom").setTicks(ticks)
            points = [(i, v) for i, v in enumerate(table.values.get(key, [])) if v is not None]
            if points:
                xs, ys = zip(*points, strict=True)
                plot.plot(list(xs), list(ys), pen=OURS_PEN, symbol="o", name="DigitPad")
            reference = sweep.reference.get(key)
            if reference and len(reference) == len(table.columns):
                plot.plot(
                    list(range(len(reference))),
                    list(reference),
                    pen=REPORT_PEN,
                    symbol="t",
                    name="lab report",
                )

    @staticmethod
    def _plot_losses(records: list[RunRecord], plot: pg.PlotWidget, param: str | None) -> None:
        for i, record in enumerate(r for r in records if r.result is not None):
            losses = record.result.history.get("loss", [])
            if losses:
                label = f"run {record.id}"
                if param:
                    label += f": {param.replace('_', ' ')} {getattr(record.spec, param)}"
                plot.plot(
                    list(range(1, len(losses) + 1)),
                    losses,
                    pen=pg.mkPen(PALETTE[i % len(PALETTE)], width=2),
                    name=f"{label}, seed {record.result.seed}",
                )

    # --- copy and export -------------------------------------------------------------------

    def copy_markdown(self) -> None:
        if self.table is not None:
            QGuiApplication.clipboard().setText(self.table.to_markdown())
            self.message.emit("The lab table is on the clipboard, as Markdown.")

    def export_csv(self, path: str | None = None) -> str | None:
        """Write the lab table as CSV (asks where when ``path`` is None)."""
        if self.table is None:
            return None
        if not path:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export the lab table", f"{self.sweep.id}.csv", "CSV files (*.csv)"
            )
            if not path:
                return None
        try:
            write_text(path, csv_text(self.table.to_rows()))
        except OSError as exc:
            self.message.emit(f"Not exported: {write_failure(path, exc)}")
            return None
        self.message.emit(f"Lab table exported to {path}")
        return path


class MetricComparison(QWidget):
    """Exercise 3's evidence: the loss curves of runs that differ only by their metric,
    side by side, and the final test MSE per batch size."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.metric_note = QLabel("", objectName="metricComparison")
        self.metric_note.setWordWrap(True)
        self.accuracy_loss_plot = make_plot("ex3AccuracyLossPlot", "loss, metric = accuracy")
        self.mse_loss_plot = make_plot("ex3MseLossPlot", "loss, metric = mse")
        plots = QHBoxLayout()
        plots.addWidget(self.accuracy_loss_plot)
        plots.addWidget(self.mse_loss_plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.metric_note)
        layout.addLayout(plots)

    def show_pairs(self, accuracy_runs: list[RunRecord], mse_runs: list[RunRecord]) -> None:
        """Pair the runs of an exercise 2 and an exercise 3 sweep and plot each pair."""
        for plot in (self.accuracy_loss_plot, self.mse_loss_plot):
            plot.clear()
        pairs = metric_pairs(accuracy_runs, mse_runs)
        if not pairs:
            self.metric_note.setText(
                "To see that the metric does not change training, also run exercise 2 with "
                "the same settings: its runs differ from these only by the metric, and their "
                "loss curves will appear here side by side."
            )
            return
        for i, pair in enumerate(pairs):
            pen = pg.mkPen(PALETTE[i % len(PALETTE)], width=2)
            epochs = list(range(1, len(pair.loss_mse) + 1))
            name = f"batch {pair.batch_size}"
            self.accuracy_loss_plot.plot(epochs, pair.loss_accuracy, pen=pen, name=name)
            self.mse_loss_plot.plot(epochs, pair.loss_mse, pen=pen, name=name)
        gap = max(p.largest_gap for p in pairs)
        finals = ", ".join(f"batch {p.batch_size}: {p.final_mse:.4f}" for p in pairs)
        self.metric_note.setText(
            f"Same runs but for the metric: the largest difference between the two loss "
            f"curves is {gap:.2g}, so the metric does not change training; it is only "
            f"reported. Final test MSE per batch size: {finals}."
        )
