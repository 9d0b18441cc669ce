"""Live training curves of the running runs (one set each, labelled, in its own colour):
loss per batch and per epoch, and the metric, with pyqtgraph."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from digitpad.core.nets.results import Progress
from digitpad.render.plots import RUN_COLOURS, make_plot


class RunCurves:
    """One run's curves: batch loss (thin), epoch loss (bold), validation loss (dashed),
    and its metric on train and validation. Updated in place with ``setData``."""

    def __init__(self, loss_plot, metric_plot, label: str, metric: str, colour):
        self.metric = metric
        thin = pg.mkPen((*colour, 90), width=1)
        bold = pg.mkPen(colour, width=3)
        dashed = pg.mkPen(colour, width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
        mark = {"symbol": "o", "symbolSize": 6, "symbolBrush": colour}
        self.batch_curve = loss_plot.plot([], [], pen=thin)
        self.epoch_curve = loss_plot.plot([], [], pen=bold, name=f"{label}: train", **mark)
        self.val_curve = loss_plot.plot([], [], pen=dashed, name=f"{label}: validation", **mark)
        self.metric_curve = metric_plot.plot([], [], pen=bold, name=f"{label}: train", **mark)
        self.val_metric_curve = metric_plot.plot(
            [], [], pen=dashed, name=f"{label}: validation", **mark
        )
        self.batch_x: list[float] = []
        self.batch_y: list[float] = []
        self.epoch_x: list[float] = []
        self.series: dict[str, list[float]] = {}

    def add(self, event: Progress) -> None:
        if event.kind == "batch" and event.loss is not None:
            self.batch_x.append(event.epoch + (event.batch + 1) / max(event.batches, 1))
            self.batch_y.append(event.loss)
        elif event.kind == "epoch":
            self.epoch_x.append(event.epoch + 1)
            for key, value in event.logs.items():
                self.series.setdefault(key, []).append(value)

    def redraw(self) -> None:
        self.batch_curve.setData(self.batch_x, self.batch_y)
        for curve, key in (
            (self.epoch_curve, "loss"),
            (self.val_curve, "val_loss"),
            (self.metric_curve, self.metric),
            (self.val_metric_curve, f"val_{self.metric}"),
        ):
            values = self.series.get(key, [])
            curve.setData(self.epoch_x[: len(values)], values)

    def items(self) -> list:
        return [
            self.batch_curve,
            self.epoch_curve,
            self.val_curve,
            self.metric_curve,
            self.val_metric_curve,
        ]


class TrainingCurves(QWidget):
    """The loss and metric plots with the curves of the runs training now. A run's curves
    stay until the next job starts; ``runs`` holds them by the run's place in the job."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.loss_plot = make_plot("lossPlot", "loss")
        self.metric_plot = make_plot("metricPlot", "metric")
        self.runs: dict[int, RunCurves] = {}
        self._started = 0  # runs started since the last clear: picks each one's colour
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.metric_plot, 2)

    def clear(self) -> None:
        """Remove every run's curves (a new job starts)."""
        for key in list(self.runs):
            self._remove(key)
        self._started = 0

    def start_run(self, key: int, label: str, metric: str) -> RunCurves:
        """Curves for a run that starts; finished runs' curves beyond the last few go."""
        live = [k for k in self.runs if k != key]
        while len(live) >= len(RUN_COLOURS) - 1:
            self._remove(live.pop(0))
        colour = RUN_COLOURS[self._started % len(RUN_COLOURS)]
        self._started += 1
        self.metric_plot.setLabel("left", metric)
        self.runs[key] = RunCurves(self.loss_plot, self.metric_plot, label, metric, colour)
        return self.runs[key]

    def add_events(self, key: int, events: list[Progress]) -> None:
        """Append a bundle of one run's events, then redraw it once."""
        run = self.runs.get(key)
        if run is None:
            return
        for event in events:
            run.add(event)
        run.redraw()

    def _remove(self, key: int) -> None:
        run = self.runs.pop(key)
        for item in run.items():
            for plot in (self.loss_plot, self.metric_plot):
                if item in plot.listDataItems():
                    plot.removeItem(item)
