"""The ten class probabilities as a pyqtgraph bar chart."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

BAR_COLOUR = (110, 140, 190)
TOP_COLOUR = (46, 160, 67)


class ProbabilityBars(pg.PlotWidget):
    """Bars for digits 0-9; the most likely one is highlighted. Empty means no prediction."""

    def __init__(self, parent=None):
        # No context menu (nothing to set on ten fixed bars); not building it saves start-up.
        super().__init__(parent, enableMenu=False)
        self.setObjectName("probabilityBars")
        self.setBackground(None)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setYRange(0, 1, padding=0.02)
        self.setXRange(-0.6, 9.6, padding=0)
        self.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)]])
        self.getAxis("left").setTicks([[(v, f"{v:.0%}") for v in (0, 0.5, 1.0)]])
        self.setLabel("left", "probability")
        self._bars = pg.BarGraphItem(
            x=np.arange(10), height=np.zeros(10), width=0.7, brush=BAR_COLOUR
        )
        self.addItem(self._bars)
        self.setMinimumHeight(140)
        self.setToolTip("How sure the network is of each digit (the ten outputs of its softmax)")
        self.probabilities = np.zeros(10)

    def set_probabilities(self, probs: np.ndarray | None) -> None:
        """Show ``probs`` (ten values summing to 1), or nothing with ``None``."""
        values = np.zeros(10) if probs is None else np.asarray(probs, dtype=float)
        brushes = [pg.mkBrush(BAR_COLOUR)] * 10
        if probs is not None:
            brushes[int(np.argmax(values))] = pg.mkBrush(TOP_COLOUR)
        self._bars.setOpts(height=values, brushes=brushes)
        self.probabilities = values
