"""Lab exercise 5 in a window: load a weights file into a fresh network and read the first
five test images, with the model summary the report shows (its Figure 6)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.data.mnist import shared_mnist
from digitpad.core.inference.weights import SHIPPED
from digitpad.core.lab.first_five import COUNT, FirstFive, first_five
from digitpad.core.machine.paths import weights_dir
from digitpad.core.nets.specs import RunSpec
from digitpad.render.pictures import grey_image, scaled_pixmap
from digitpad.ui.common.background import run_in_background

PREVIEW_SIDE = 84


class FirstFiveDialog(QDialog):
    """Pick a weights file and the architecture it was saved from, then Predict.

    Opens on the shipped exercise 4 weights (``weights/mlp.weights.h5``, the lab's MLP).
    ``finished_reading`` fires when a reading (or its error) is shown.
    """

    finished_reading = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        weights: str | None = None,
        spec: RunSpec | None = None,
        label: str = "",
    ):
        super().__init__(parent)
        self.setObjectName("firstFiveDialog")
        self.setWindowTitle("Exercise 5: load weights and predict the first five test images")
        self.result_data: FirstFive | None = None
        self.path = QLineEdit(objectName="weightsPathEdit")
        self.path.setText(weights or str(weights_dir() / "mlp.weights.h5"))
        browse = QPushButton("Browse…", objectName="browseWeightsButton")
        browse.clicked.connect(self._browse)
        self.architecture = QComboBox(objectName="architectureCombo")
        shipped_mlp = SHIPPED["mlp"].spec
        if spec is not None:
            self.architecture.addItem(label or spec.describe(), spec)
        self.architecture.addItem(f"lab MLP ({shipped_mlp.describe()})", shipped_mlp)
        for kind in ("cnn", "cnn_deep"):
            default = RunSpec.for_model(kind)
            self.architecture.addItem(f"lab {default.describe()}", default)
        self.predict_button = QPushButton("Predict", objectName="predictFirstFiveButton")
        self.predict_button.setDefault(True)
        self.predict_button.clicked.connect(self.predict)
        self.status = QLabel("", objectName="firstFiveStatus")
        self.status.setWordWrap(True)
        self.images = QGridLayout()
        self.image_labels = []
        for i in range(COUNT):
            picture = QLabel(objectName=f"firstFiveImage{i}")
            picture.setFixedSize(PREVIEW_SIDE, PREVIEW_SIDE)
            picture.setStyleSheet("background: black")
            text = QLabel("", objectName=f"firstFiveText{i}")
            text.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.images.addWidget(picture, 0, i)
            self.images.addWidget(text, 1, i)
            self.image_labels.append((picture, text))
        self.summary_model = QStandardItemModel(self)
        self.summary = QTableView(objectName="modelSummaryTable")
        self.summary.setModel(self.summary_model)
        self.summary.verticalHeader().setVisible(False)
        self.summary.horizontalHeader().setStretchLastSection(True)

        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Weights file", path_row)
        form.addRow("Architecture", self.architecture)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.predict_button)
        layout.addWidget(self.status)
        layout.addLayout(self.images)
        layout.addWidget(QLabel("Model summary"))
        layout.addWidget(self.summary, 1)
        layout.addWidget(close)
        self.resize(640, 560)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Weights file", self.path.text(), "Keras weights (*.weights.h5 *.h5)"
        )
        if path:
            self.path.setText(path)

    def predict(self) -> None:
        """Load the weights into the chosen architecture (in the background) and read."""
        path, spec = self.path.text().strip(), self.architecture.currentData()
        if not path:
            self._show_error("Choose a weights file first (Browse…).")
            return
        self.predict_button.setEnabled(False)
        self.status.setText("Loading the network…")
        run_in_background(
            lambda: first_five(spec, path, shared_mnist()), self._show, self._show_error, self
        )

    def _show(self, result: FirstFive) -> None:
        self.result_data = result
        self.predict_button.setEnabled(True)
        right = int(np.sum(result.predicted == result.labels))
        self.status.setStyleSheet("")
        self.status.setText(
            f"{right} of {COUNT} right; error on these five: {result.error_percent:.2f} %"
        )
        for i, (picture, text) in enumerate(self.image_labels):
            picture.setPixmap(scaled_pixmap(grey_image(result.images[i], high=255), PREVIEW_SIDE))
            guess = int(result.predicted[i])
            text.setText(
                f"true {result.labels[i]}\nread {guess} ({result.probabilities[i, guess]:.1%})"
            )
        self.summary_model.clear()
        self.summary_model.setHorizontalHeaderLabels(["Layer (type)", "Output shape", "Params"])
        for row in result.layers:
            self.summary_model.appendRow(
                [
                    QStandardItem(f"{row.name} ({row.kind})"),
                    QStandardItem(row.output_shape),
                    QStandardItem(f"{row.params:,}"),
                ]
            )
        self.summary_model.appendRow(
            [
                QStandardItem("Total params"),
                QStandardItem(""),
                QStandardItem(f"{result.total_params:,}"),
            ]
        )
        self.summary.resizeColumnsToContents()
        self.finished_reading.emit()

    def _show_error(self, message: str) -> None:
        self.result_data = None
        self.predict_button.setEnabled(True)
        self.status.setStyleSheet("color: #b00020")
        self.status.setText(message)
        self.finished_reading.emit()
