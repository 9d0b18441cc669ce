"""Inside a finished run: its confusion matrix on the test set and its most confident
mistakes; clicking a mistake sends that digit to the canvas."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.data.mnist import shared_mnist
from digitpad.core.inference.predictor import Predictor, run_source
from digitpad.core.nets.evaluation import (
    Mistake,
    confident_mistakes,
    confusion_matrix,
)
from digitpad.core.store.runs import RunRecord
from digitpad.render.pictures import grey_image, scaled_pixmap
from digitpad.ui.common.background import run_in_background
from digitpad.ui.common.confusion_plot import ConfusionPlot

GALLERY_SIZE = 40
ICON_SIDE = 84  # 28 x 3
IMAGE_ROLE = Qt.ItemDataRole.UserRole + 1


def probabilities_on_test_set(record: RunRecord) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probabilities, labels, images) of a run's saved network on the MNIST test set."""
    data = shared_mnist()
    predictor = Predictor(run_source(record))
    probabilities = predictor.predict_batch(data.x_test.astype(np.float32) / 255)
    return probabilities, data.y_test, data.x_test


class RunInspector(QWidget):
    """``mistakeChosen(image)`` carries a (28, 28) uint8 test image; ``message(str)``."""

    mistakeChosen = Signal(object)
    message = Signal(str)
    inspected = Signal()  # the matrix and gallery are up to date (tests wait for it)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.record: RunRecord | None = None
        self.matrix: np.ndarray | None = None
        self.mistakes: list[Mistake] = []
        self.status = QLabel("Select one finished run to see what it gets wrong.")
        self.status.setObjectName("inspectorStatus")
        self.status.setWordWrap(True)
        self.plot = ConfusionPlot()
        self.gallery = QListWidget(objectName="mistakesGallery")
        self.gallery.setViewMode(QListWidget.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(ICON_SIDE, ICON_SIDE))
        self.gallery.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.gallery.setMovement(QListWidget.Movement.Static)
        self.gallery.setToolTip("Most confident mistakes first; click one to draw it on the pad")
        self.gallery.itemClicked.connect(self._on_mistake_clicked)

        gallery_box = QVBoxLayout()
        gallery_box.addWidget(QLabel("Most confident mistakes (click: put it on the canvas)"))
        gallery_box.addWidget(self.gallery)
        panes = QHBoxLayout()
        panes.addWidget(self.plot, 2)
        panes.addLayout(gallery_box, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(panes, 1)

    def inspect(self, record: RunRecord | None) -> None:
        """Evaluate ``record``'s network on the test set in the background, then show it."""
        self.record = record
        if record is None or not record.has_model:
            self._clear()
            self.status.setText(
                "Select one finished run to see what it gets wrong."
                if record is None
                else f"Run {record.id} has no saved network to look inside."
            )
            return
        self.status.setText(f"Reading the 10,000 test images with run {record.id}'s network…")
        run_in_background(
            lambda: (record, probabilities_on_test_set(record)),
            self._on_ready,
            self._on_error,
            self,
        )

    def _on_ready(self, outcome) -> None:
        record, (probabilities, labels, images) = outcome
        if self.record is None or record.id != self.record.id:
            return  # the selection moved on meanwhile
        predicted = probabilities.argmax(axis=1)
        self.matrix = confusion_matrix(labels, predicted)
        self.mistakes = confident_mistakes(probabilities, labels, GALLERY_SIZE)
        errors = int(self.matrix.sum() - np.trace(self.matrix))
        self.status.setText(
            f"Run {record.id}: {errors} of {len(labels):,} test images misread "
            f"(accuracy {np.trace(self.matrix) / len(labels):.4f}). Rows: true digit; "
            "colour: share of that digit read as each column."
        )
        self.plot.set_matrix(self.matrix)
        self._show_gallery(self.mistakes, images)
        self.inspected.emit()

    def _on_error(self, message: str) -> None:
        self._clear()
        self.status.setText(f"Could not evaluate this run: {message}")
        self.message.emit(f"Could not evaluate this run: {message}")

    def _clear(self) -> None:
        self.matrix = None
        self.mistakes = []
        self.plot.clear_matrix()
        self.gallery.clear()

    def _show_gallery(self, mistakes: list[Mistake], images: np.ndarray) -> None:
        self.gallery.clear()
        for mistake in mistakes:
            image = images[mistake.index]
            icon = QIcon(scaled_pixmap(grey_image(image, high=255), ICON_SIDE))
            text = f"{mistake.label} → {mistake.predicted} ({mistake.probability:.0%})"
            item = QListWidgetItem(icon, text)
            item.setToolTip(
                f"Test image {mistake.index}: a {mistake.label}, read as {mistake.predicted} "
                f"with probability {mistake.probability:.1%}"
            )
            item.setData(IMAGE_ROLE, image)
            self.gallery.addItem(item)

    def _on_mistake_clicked(self, item: QListWidgetItem) -> None:
        self.mistakeChosen.emit(item.data(IMAGE_ROLE))
