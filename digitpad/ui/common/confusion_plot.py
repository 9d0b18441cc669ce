"""A confusion matrix as a pyqtgraph plot: rows the true digit, columns the predicted one,
coloured by the share of each row, with the counts written in."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from digitpad.core.nets.evaluation import NUM_CLASSES, row_normalised


class ConfusionPlot(pg.PlotWidget):
    """``set_matrix(counts)`` shows a (10, 10) matrix; ``clear_matrix()`` empties it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("confusionPlot")
        self.setBackground("w")
        self.setAspectLocked(True)
        self.invertY(True)
        self.setLabel("left", "true digit")
        self.setLabel("bottom", "predicted digit")
        ticks = [[(i + 0.5, str(i)) for i in range(NUM_CLASSES)]]
        for side in ("left", "bottom"):
            self.getAxis(side).setTicks(ticks)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("CET-L18"))  # white (none) to deep red (all)
        self.addItem(self.image)
        self._labels: list[pg.TextItem] = []
        self.matrix: np.ndarray | None = None

    def set_matrix(self, matrix: np.ndarray) -> None:
        self.clear_matrix()
        self.matrix = matrix
        shares = row_normalised(matrix)
        self.image.setImage(shares, levels=(0.0, 1.0))
        self.image.setRect(0, 0, NUM_CLASSES, NUM_CLASSES)
        for true in range(NUM_CLASSES):
            for guess in range(NUM_CLASSES):
                colour = "w" if shares[true, guess] > 0.5 else (40, 40, 40)
                label = pg.TextItem(str(matrix[true, guess]), color=colour, anchor=(0.5, 0.5))
                label.setPos(guess + 0.5, true + 0.5)
                self.addItem(label)
                self._labels.append(label)

    def clear_matrix(self) -> None:
        self.matrix = None
        self.image.clear()
        for label in self._labels:
            self.removeItem(label)
        self._labels = []
