"""The report's figures drawn with pyqtgraph: a live plot for the Report tab, and the same
plot rendered to PNG (at print resolution) for the exports."""

from __future__ import annotations

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

from digitpad.core.report.document import FigureData, Series
from digitpad.render.plots import RUN_COLOURS, make_plot

OURS = (30, 90, 200)
REPORT = (120, 120, 120)
# On screen a figure is this big; exported it is drawn SCALE times larger, fonts and all,
# so 2.5 × 480 px = 1200 px fill half an A4 page's text column at about 380 dpi.
SIZE = (480, 300)
POINTS = ("points", "picked")
SCALE = 2.5


def _pen(series: Series, scale: float):
    if series.style == "report":
        return pg.mkPen(REPORT, width=2 * scale, style=Qt.PenStyle.DashLine)
    if series.style == "ours":
        return pg.mkPen(OURS, width=3 * scale)
    colour = RUN_COLOURS[series.colour % len(RUN_COLOURS)]
    dashed = Qt.PenStyle.DashLine if series.style == "alt" else Qt.PenStyle.SolidLine
    return pg.mkPen(colour, width=2 * scale, style=dashed)


def figure_plot(figure: FigureData, scale: float = 1.0) -> pg.PlotWidget:
    """A plot widget showing ``figure``; ``scale``: pens, marks and legend text that much
    larger (lines and the legend keep their pixel size when the plot is painted larger)."""
    plot = make_plot(f"figure-{figure.key}", figure.y_label)
    plot.setTitle(figure.title, size="10pt", color="#222")
    plot.setLabel("bottom", figure.x_label)
    plot.plotItem.legend.setLabelTextSize(f"{8 * scale:g}pt")
    plot.plotItem.legend.setLabelTextColor("#333")
    for side in ("bottom", "left"):
        plot.getAxis(side).setTextPen("#333")
    if figure.ticks:
        plot.getAxis("bottom").setTicks([list(figure.ticks)])
    for series in figure.series:
        add_series(plot, series, scale)
    if not figure.series:
        text = pg.TextItem("no finished run to plot", color=(120, 120, 120), anchor=(0.5, 0.5))
        plot.addItem(text)
    plot.resize(*SIZE)
    return plot


def add_series(plot: pg.PlotWidget, series: Series, scale: float = 1.0):
    """Draw one series of a figure in ``plot``, in its style; returns its data item."""
    if series.style in POINTS:  # a strip of points, no line: a class's students
        big = series.style == "picked"
        return plot.plot(
            list(series.xs),
            list(series.ys),
            pen=None,
            name=series.name or None,
            symbol="o",
            symbolSize=(11 if big else 6) * scale,
            symbolBrush=OURS if big else (90, 90, 90, 110),
            symbolPen=pg.mkPen(OURS if big else (90, 90, 90, 160), width=scale),
        )
    marks = {}
    if series.style in ("ours", "report"):
        colour = OURS if series.style == "ours" else REPORT
        marks = {"symbol": "o" if series.style == "ours" else "t", "symbolBrush": colour}
        marks["symbolSize"] = 8 * scale
        marks["symbolPen"] = pg.mkPen(colour, width=scale)
    else:  # marked too: a one-epoch run's curve is a single point
        colour = RUN_COLOURS[series.colour % len(RUN_COLOURS)]
        marks = {"symbol": "o", "symbolSize": 5 * scale, "symbolBrush": colour}
        marks["symbolPen"] = pg.mkPen(colour, width=scale)
    pen = _pen(series, scale)
    name = series.name or None  # unnamed: no legend line (a repeat of a value)
    return plot.plot(list(series.xs), list(series.ys), pen=pen, name=name, **marks)


def render_png(figure: FigureData) -> bytes:
    """``figure`` as PNG bytes: the plot laid out at its screen size, painted SCALE times
    denser (lines and text stay sharp; nothing appears on screen)."""
    plot = figure_plot(figure, SCALE)
    plot.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    plot.show()  # lays out axes, title and legend as on screen
    QApplication.processEvents()
    try:
        image = QImage(int(SIZE[0] * SCALE), int(SIZE[1] * SCALE), QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.white)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        # The scene painted into the whole image: its vectors and text are drawn at the
        # image's resolution, not scaled up from a screen-sized picture.
        source = plot.mapToScene(plot.viewport().rect()).boundingRect()
        plot.scene().render(painter, QRectF(image.rect()), source)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        buffer.close()
        return bytes(data.data())
    finally:
        # Deleted now, scene and items with it, while their Python side is whole. Not
        # close(): it takes the plot's view box out of the scene, and that orphaned tree
        # of items, left to the garbage collector, was taken apart in Python first; Qt,
        # deleting it afterwards, called pyqtgraph's sizeHint on half-gone objects.
        shiboken6.delete(plot)
