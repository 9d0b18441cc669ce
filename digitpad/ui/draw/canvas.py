"""The drawing canvas: smooth round strokes, undo, clear, and images dropped or pasted."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from digitpad.core.data.preprocess import Stages, image_to_ink
from digitpad.render.pictures import qimage_to_grey, read_image

# Strokes are kept in canvas units (0..1 of the side), so they survive resizes and high-DPI
# scaling; the network's copy is rendered at this fixed resolution (10x MNIST's).
INK_SIDE = 280
MIN_SIDE = 280
# While drawing, predictions are asked for at most this often.
LIVE_INTERVAL_MS = 30
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


@dataclass
class Stroke:
    """A pen stroke in canvas units, with the pen width as a share of the canvas side."""

    width: float
    points: list[QPointF] = field(default_factory=list)

    def path(self, side: float) -> QPainterPath:
        """A smooth path through the points (midpoint quadratic curves), scaled to ``side``."""
        pts = [QPointF(p.x() * side, p.y() * side) for p in self.points]
        path = QPainterPath(pts[0])
        if len(pts) == 1:
            path.lineTo(pts[0] + QPointF(0.01, 0.0))  # a dot
            return path
        for a, b in pairwise(pts[1:]):
            path.quadTo(a, (a + b) / 2)
        path.lineTo(pts[-1])
        return path


class DrawingCanvas(QWidget):
    """A square pad for one digit.

    Signals
    -------
    inkChanged: the drawing changed; emitted at most every ~30 ms while drawing, and at once
        on release, undo, clear and image drop.
    imageRejected(str): a dropped or pasted file could not be read, with the reason.
    """

    inkChanged = Signal()
    imageRejected = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setMinimumSize(MIN_SIDE, MIN_SIDE)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip(
            "Draw one digit. Ctrl+Z undoes a stroke, Esc clears. "
            "Drop or paste a picture of a digit to read it."
        )
        self.pen_px = 18.0  # pen width in logical pixels at the current size
        self._items: list[Stroke | np.ndarray] = []  # strokes and image layers, oldest first
        self._current: Stroke | None = None
        self._overlay: tuple[QImage, QRectF] | None = None  # a saliency map, in canvas units
        self._live = QTimer(self, singleShot=True, interval=LIVE_INTERVAL_MS)
        self._live.timeout.connect(self.inkChanged)

    # --- geometry --------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(360, 360)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    def _pad(self) -> QRectF:
        """The square drawing area, centred in the widget."""
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def _to_units(self, pos: QPointF) -> QPointF:
        pad = self._pad()
        return QPointF((pos.x() - pad.x()) / pad.width(), (pos.y() - pad.y()) / pad.height())

    # --- state -----------------------------------------------------------------------------

    def is_empty(self) -> bool:
        return not self._items and self._current is None

    def strokes(self) -> list[dict] | None:
        """The drawing's strokes as plain data (``{"width", "points"}`` in canvas units),
        to keep beside its image; None when it holds a dropped picture."""
        if any(not isinstance(item, Stroke) for item in self._items):
            return None
        return [
            {"width": item.width, "points": [[p.x(), p.y()] for p in item.points]}
            for item in self._items
        ]

    def set_pen_width(self, px: float) -> None:
        self.pen_px = float(px)

    def undo(self) -> None:
        """Remove the last stroke (or dropped image)."""
        if self._items:
            self._items.pop()
            self.update()
            self.inkChanged.emit()

    def clear(self) -> None:
        if self._items or self._current:
            self._items.clear()
            self._current = None
            self.update()
        self.inkChanged.emit()

    def add_stroke(self, points: list[tuple[float, float]], width: float) -> None:
        """Add a finished stroke: points in canvas units (0..1), width as a share of the side.

        For scripts and tests; the mouse path builds the same strokes.
        """
        self._items.append(Stroke(width, [QPointF(x, y) for x, y in points]))
        self.update()
        self.inkChanged.emit()

    def set_image_ink(self, ink: np.ndarray) -> None:
        """Replace the drawing with an ink image (0 background .. 1 ink), e.g. a dropped file."""
        self._items = [np.clip(np.asarray(ink, np.float32), 0.0, 1.0)]
        self._current = None
        self.update()
        self.inkChanged.emit()

    def load_image_file(self, path: str) -> bool:
        """Read a picture of a digit; on failure emit ``imageRejected`` and keep the drawing."""
        try:
            image = read_image(path)
        except ValueError as exc:
            self.imageRejected.emit(f"Cannot read {exc}; use a PNG, JPG or BMP of one digit.")
            return False
        return self.load_qimage(image)

    def load_qimage(self, image: QImage) -> bool:
        if image.isNull() or image.width() < 2 or image.height() < 2:
            self.imageRejected.emit("That image is empty or too small to hold a digit.")
            return False
        self.set_image_ink(image_to_ink(qimage_to_grey(image)))
        return True

    # --- what the network sees -------------------------------------------------------------

    def ink_array(self, side: int = INK_SIDE) -> np.ndarray:
        """The drawing as a ``(side, side)`` uint8 array, 0 background and 255 full ink."""
        image = QImage(side, side, QImage.Format.Format_Grayscale8)
        image.fill(0)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_items(painter, side, QColor(255, 255, 255), as_ink=True)
        painter.end()
        return qimage_to_grey(image)

    def set_overlay(self, image: QImage | None, stages: Stages | None) -> None:
        """Lay a 28x28 picture (a saliency map) over the drawing, where the network's 28x28
        image comes from (``stages`` maps the drawing to it); ``None`` removes it."""
        if image is None or stages is None:
            self._overlay = None
        else:
            side_y, side_x = stages.ink.shape
            top, bottom = stages.rows.inverse(0) / side_y, stages.rows.inverse(28) / side_y
            left, right = stages.cols.inverse(0) / side_x, stages.cols.inverse(28) / side_x
            self._overlay = (image, QRectF(left, top, right - left, bottom - top))
        self.update()

    # --- painting --------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pad = self._pad()
        painter.fillRect(self.rect(), self.palette().window())
        painter.fillRect(pad, QColor("#fdfdfb"))
        painter.setPen(QPen(QColor("#c8c8c8"), 1, Qt.PenStyle.DashLine))
        painter.drawRect(pad.adjusted(0.5, 0.5, -0.5, -0.5))
        painter.translate(pad.topLeft())
        self._paint_items(painter, pad.width(), QColor("#1b1b1b"), as_ink=False)
        if self._overlay is not None and not self.is_empty():
            image, units = self._overlay
            side = pad.width()
            painter.setClipRect(QRectF(0, 0, side, side))  # the 28x28 can reach past the pad
            painter.setOpacity(0.6)
            painter.drawImage(
                QRectF(
                    units.x() * side, units.y() * side, units.width() * side, units.height() * side
                ),
                image,
            )
            painter.setOpacity(1.0)
            painter.setClipping(False)
        if self.is_empty():
            painter.setPen(QColor("#9a9a9a"))
            painter.drawText(
                QRectF(0, 0, pad.width(), pad.height()),
                Qt.AlignmentFlag.AlignCenter,
                "Draw a digit here",
            )
        painter.end()

    def _paint_items(self, painter: QPainter, side: float, colour: QColor, as_ink: bool) -> None:
        for item in [*self._items, *([self._current] if self._current else [])]:
            if isinstance(item, Stroke):
                pen = QPen(
                    colour,
                    item.width * side,
                    Qt.PenStyle.SolidLine,
                    Qt.PenCapStyle.RoundCap,
                    Qt.PenJoinStyle.RoundJoin,
                )
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawPath(item.path(side))
            else:
                painter.drawImage(QRectF(0, 0, side, side), _ink_to_qimage(item, as_ink))

    # --- input -----------------------------------------------------------------------------

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        width = self.pen_px / max(self._pad().width(), 1.0)
        self._current = Stroke(width, [self._to_units(event.position())])
        self.update()
        self._live.start()

    def mouseMoveEvent(self, event) -> None:
        if self._current is None:
            return
        self._current.points.append(self._to_units(event.position()))
        self.update()
        if not self._live.isActive():
            self._live.start()

    def mouseReleaseEvent(self, event) -> None:
        if self._current is None or event.button() != Qt.MouseButton.LeftButton:
            return
        self._current.points.append(self._to_units(event.position()))
        self._items.append(self._current)
        self._current = None
        self._live.stop()
        self.update()
        self.inkChanged.emit()

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        mime = event.mimeData()
        if mime.hasImage():
            self.load_qimage(QImage(mime.imageData()))
        elif mime.hasUrls():
            self.load_image_file(mime.urls()[0].toLocalFile())
        event.acceptProposedAction()


def _ink_to_qimage(ink: np.ndarray, as_ink: bool) -> QImage:
    """An ink layer as a QImage: white-on-black for the network, dark-on-paper for display."""
    levels = np.rint(ink * 255).astype(np.uint8)
    if not as_ink:
        levels = 255 - levels
    levels = np.ascontiguousarray(levels)
    h, w = levels.shape
    image = QImage(levels.data, w, h, w, QImage.Format.Format_Grayscale8)
    image = image.copy()  # own the pixels: the numpy buffer goes away
    if not as_ink:  # paper shows through where there is no ink
        image = image.convertToFormat(QImage.Format.Format_ARGB32)
        alpha = QImage(
            np.ascontiguousarray(255 - levels).data, w, h, w, QImage.Format.Format_Grayscale8
        ).copy()
        image.setAlphaChannel(alpha)
    return image
