"""Live training curves: loss (per batch and per epoch) and the metric, with pyqtgraph."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from digitpad.core.training import Progress

BATCH_PEN = pg.mkPen((120, 160, 220, 110), width=1)
TRAIN_PEN = pg.mkPen((30, 90, 200), width=3)
VAL_PEN = pg.mkPen((220, 110, 30), width=3)


def make_plot(name: str, y_label: str) -> pg.PlotWidget:
    plot = pg.PlotWidget()
    plot.setObjectName(name)
    plot.setBackground("w")
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setLabel("bottom", "epoch")
    plot.setLabel("left", y_label)
    plot.addLegend(offset=(-10, 10))
    for side in ("bottom", "left"):
        # Plain numbers: "(x0.001)" beside a loss or a neuron count only puzzles students.
        plot.getAxis(side).enableAutoSIPrefix(False)
    return plot


class TrainingCurves(QWidget):
    """Two plots updated in place with ``setData``; feed it ``Progress`` events."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.loss_plot = make_plot("lossPlot", "loss")
        self.metric_plot = make_plot("metricPlot", "metric")
        self.batch_curve = self.loss_plot.plot([], [], pen=BATCH_PEN, name="train loss (batch)")
        self.epoch_curve = self.loss_plot.plot(
            [], [], pen=TRAIN_PEN, symbol="o", symbolSize=6, name="train loss (epoch)"
        )
        self.val_curve = self.loss_plot.plot(
            [], [], pen=VAL_PEN, symbol="o", symbolSize=6, name="validation loss"
        )
        self.metric_curve = self.metric_plot.plot(
            [], [], pen=TRAIN_PEN, symbol="o", symbolSize=6, name="train"
        )
        self.val_metric_curve = self.metric_plot.plot(
            [], [], pen=VAL_PEN, symbol="o", symbolSize=6, name="validation"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.metric_plot, 2)
        self.reset("accuracy")

    def reset(self, metric: str) -> None:
        self.metric = metric
        self.batch_x: list[float] = []
        self.batch_y: list[float] = []
        self.epoch_x: list[float] = []
        self.series: dict[str, list[float]] = {}
        self.metric_plot.setLabel("left", metric)
        self._redraw()

    def add_events(self, events: list[Progress]) -> None:
        """Append a bundle of events, then redraw once."""
        for event in events:
            if event.kind == "batch" and event.loss is not None:
                self.batch_x.append(event.epoch + (event.batch + 1) / max(event.batches, 1))
                self.batch_y.append(event.loss)
            elif event.kind == "epoch":
                self.epoch_x.append(event.epoch + 1)
                for key, value in event.logs.items():
                    self.series.setdefault(key, []).append(value)
        self._redraw()

    def _redraw(self) -> None:
        self.batch_curve.setData(self.batch_x, self.batch_y)
        x = self.epoch_x
        for curve, key in (
            (self.epoch_curve, "loss"),
            (self.val_curve, "val_loss"),
            (self.metric_curve, self.metric),
            (self.val_metric_curve, f"val_{self.metric}"),
        ):
            values = self.series.get(key, [])
            curve.setData(x[: len(values)], values)
