"""The look of every pyqtgraph plot: white, gridded, legend, plain numbers; one colour per
run (the live curves, the results' overlays and the report's figures)."""

from __future__ import annotations

import pyqtgraph as pg

# One colour per run shown at once (workers rarely exceed four).
RUN_COLOURS = ((30, 90, 200), (200, 80, 30), (40, 150, 70), (150, 60, 170), (120, 120, 120))


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
