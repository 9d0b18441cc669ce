"""Draw tab: the canvas, what the network sees, and what it thinks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QFont, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.data.preprocess import mnist_stages, to_mnist
from digitpad.core.inference.model_ref import every_network
from digitpad.core.inference.predictor import ModelSource, Predictor, run_source
from digitpad.core.inference.weights import FALLBACK_ORDER, SHIPPED
from digitpad.core.store.my_digits import CORRECTED, MyDigits, MyDigitsError
from digitpad.core.store.runs import RunRecord
from digitpad.render.pictures import grey_image, scaled_pixmap
from digitpad.ui.common.saved_values import SavedGroup
from digitpad.ui.common.widgets import add_shortcuts
from digitpad.ui.draw.canvas import IMAGE_SUFFIXES, DrawingCanvas
from digitpad.ui.draw.collect_bar import CollectBar
from digitpad.ui.draw.model_loader import ModelLoader
from digitpad.ui.draw.networks_panel import NetworksPanel
from digitpad.ui.draw.probability_bars import ProbabilityBars
from digitpad.ui.draw.sample_digits import DIGITS, place

# The "Look inside" view: built by whoever owns this tab (the main window), so that the two
# rooms do not import each other. It has overlayChanged and message signals, set_drawing,
# shutdown and look (see ui/inside/inside_view.py).
InsideFactory = Callable[[], QWidget]

# Below this top probability the network's answer is shown as a hesitation between two.
CONFIDENT = 0.6
PREVIEW_SIDE = 168
RETRY_MS = 40


PEN_RANGE = (4, 40)  # pen widths in pixels offered by the slider


class DrawTab(QWidget):
    """Draw a digit and see the prediction, live. ``message(str)`` reports problems."""

    message = Signal(str)
    predicted = Signal(object)  # the ten probabilities, after each prediction
    myDigitsChanged = Signal()  # a drawing joined My digits (collected or corrected)

    def __init__(
        self,
        loader: ModelLoader,
        my_digits: MyDigits,
        make_inside: InsideFactory,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.loader = loader
        self._make_inside = make_inside
        self.my_digits = my_digits
        self.predictor: Predictor | None = None
        self._wanted: ModelSource | None = None
        self._failed_shipped: set[str] = set()
        self._gave_up = False
        self._retry = QTimer(self, singleShot=True, interval=RETRY_MS)
        self._retry.timeout.connect(self.predict_now)

        self.canvas = DrawingCanvas()
        self.canvas.inkChanged.connect(self.predict_now)
        self.canvas.imageRejected.connect(self.message)

        self.pen_slider = QSlider(Qt.Orientation.Horizontal, objectName="penWidthSlider")
        self.pen_slider.setRange(*PEN_RANGE)
        self.pen_slider.setMinimumWidth(60)
        self.pen_slider.setValue(int(self.canvas.pen_px))
        self.pen_slider.valueChanged.connect(self.canvas.set_pen_width)
        self.pen_slider.setToolTip("Pen width in pixels")
        undo = QPushButton(
            "Undo", objectName="undoButton", toolTip="Remove the last stroke (Ctrl+Z)"
        )
        undo.clicked.connect(self.canvas.undo)
        clear = QPushButton(
            "Clear", objectName="clearButton", toolTip="Start again (Esc or Delete)"
        )
        clear.clicked.connect(self.canvas.clear)
        open_button = QPushButton(
            "Open image…",
            objectName="openImageButton",
            toolTip="Read a picture of a digit (Ctrl+O); you can also drop "
            "or paste one onto the canvas",
        )
        open_button.clicked.connect(self.open_image)

        tools = QHBoxLayout()
        tools.addWidget(QLabel("Pen"))
        tools.addWidget(self.pen_slider, 1)
        tools.addWidget(undo)
        tools.addWidget(clear)
        tools.addWidget(open_button)
        self.collect_bar = CollectBar(self.canvas, my_digits)
        self.collect_bar.saved.connect(self._on_collected)
        self.collect_bar.finished.connect(lambda: self.collect_button.setChecked(False))
        self.collect_bar.message.connect(self.message)
        left = QVBoxLayout()
        left.addWidget(self.collect_bar)
        left.addWidget(self.canvas, 1)
        left.addLayout(tools)

        self.model_selector = QComboBox(objectName="modelSelector")
        self.model_selector.setToolTip(
            "Which network reads your drawing: the pretrained ones, "
            "or any run you trained that saved its model"
        )
        self.model_selector.currentIndexChanged.connect(self._on_model_chosen)
        self.prediction_label = QLabel("", objectName="predictionLabel")
        font = QFont()
        font.setPointSize(54)
        font.setBold(True)
        self.prediction_label.setFont(font)
        self.prediction_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prediction_label.setMinimumHeight(90)
        self.detail_label = QLabel("", objectName="predictionDetail")
        self.detail_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail_label.setWordWrap(True)
        self.bars = ProbabilityBars()
        self.preview = QLabel(objectName="networkInput")
        self.preview.setFixedSize(PREVIEW_SIDE, PREVIEW_SIDE)
        self.preview.setToolTip(
            "The 28x28 image the network actually sees: your drawing "
            "scaled into a 20x20 box and centred by its centre of mass, "
            "like MNIST"
        )
        self.preview.setStyleSheet("background: black; border: 1px solid #888;")

        self.look_button = QPushButton(
            "Look inside",
            objectName="lookInsideButton",
            checkable=True,
            toolTip="Open the network up: what it sees, every layer, its weights, where it looks",
        )
        self._inside: QWidget | None = None  # built when first opened
        self.inside_scroll = QScrollArea(objectName="insideScroll", widgetResizable=True)
        self.inside_scroll.setMinimumWidth(460)
        self.inside_scroll.hide()
        self.look_button.toggled.connect(self.show_inside)

        self.collect_button = QPushButton(
            "Collect my digits",
            objectName="collectButton",
            checkable=True,
            toolTip="Draw the digits DigitPad asks for, one at a time: they become your "
            "personal test set (My digits tab)",
        )
        self.collect_button.toggled.connect(self.set_collecting)
        self.wrong_button = QToolButton(
            objectName="wrongButton",
            text="Wrong? It was…",
            toolTip="The network misread your drawing: say which digit it is, and the "
            "drawing joins My digits with that label",
            popupMode=QToolButton.ToolButtonPopupMode.InstantPopup,
        )
        wrong_menu = QMenu(self.wrong_button)
        for digit in range(10):
            wrong_menu.addAction(str(digit), lambda d=digit: self.correct(d))
        self.wrong_button.setMenu(wrong_menu)
        mine_row = QHBoxLayout()
        mine_row.addWidget(self.collect_button)
        mine_row.addWidget(self.wrong_button)
        self.networks = NetworksPanel()
        self.networks.setMaximumHeight(150)

        right = QVBoxLayout()
        network_row = QHBoxLayout()
        network_row.addWidget(QLabel("Network"))
        network_row.addStretch(1)
        network_row.addWidget(self.look_button)
        right.addLayout(network_row)
        right.addWidget(self.model_selector)
        right.addWidget(self.prediction_label)
        right.addWidget(self.detail_label)
        right.addWidget(self.bars, 1)
        right.addLayout(mine_row)
        right.addWidget(self.networks)
        seen = QHBoxLayout()
        seen.addWidget(QLabel("What the\nnetwork sees"))
        seen.addWidget(self.preview)
        seen.addStretch(1)
        right.addLayout(seen)

        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)
        layout.addWidget(self.inside_scroll, 3)

        add_shortcuts(
            self,
            [
                ("Ctrl+Z", self.canvas.undo),
                ("Esc", self.canvas.clear),
                ("Delete", self._delete_key),
                ("Ctrl+O", self.open_image),
                (QKeySequence.StandardKey.Paste, self.paste_image),
            ],
        )

        loader.ready.connect(self._on_model_ready)
        loader.failed.connect(self._on_model_failed)
        self._show_empty()

    # --- what is kept between sessions -------------------------------------------------------

    def saved_state(self) -> dict[str, object]:
        """The tab's state for ``settings.ini``: pen, Look inside, the shipped network."""
        state: dict[str, object] = {
            "pen": self.pen_slider.value(),
            "inside": self.look_button.isChecked(),
        }
        source = self.current_source()
        if source is not None and source.run_id is None:
            state["model"] = source.name
        return state

    def restore_state(self, saved: SavedGroup) -> str:
        """Take back a ``saved_state`` (checked: a bad value is ignored and noted in
        ``saved``); returns the name of the network to select once networks load."""
        pen = saved.integer("pen", *PEN_RANGE)
        if pen is not None:
            self.pen_slider.setValue(pen)
        if saved.flag("inside"):
            self.show_inside(True)
        return saved.text("model") or "best"

    # --- models ----------------------------------------------------------------------------

    def populate_models(self, runs: list[RunRecord], preferred: str | None = None) -> None:
        """Fill the selector: shipped models first, then every run with a saved model."""
        current = self.current_source()
        self.model_selector.blockSignals(True)
        self.model_selector.clear()
        sources, problems = every_network(reversed(runs))
        for problem in problems:
            self.message.emit(problem)
        shipped = [source for source in sources if source.run_id is None]
        for source in sources:
            accuracy = f" ({source.accuracy:.2%})" if source.accuracy else ""
            title = SHIPPED[source.name].title if source.run_id is None else source.spec.describe()
            self.model_selector.addItem(f"{source.name}: {title}{accuracy}", source)
        self.model_selector.blockSignals(False)
        self.networks.set_shipped(shipped)
        if self.model_selector.count() == 0:
            self._gave_up = True
            self.detail_label.setText(
                "No network is available: the weights/ folder is empty "
                "and no run has saved a model yet."
            )
            return
        wanted = current or (self._find(preferred) if preferred else None)
        index = self._index_of(wanted) if wanted else 0
        self.model_selector.setCurrentIndex(max(index, 0))
        if self.model_selector.currentData() != self._wanted:
            self._on_model_chosen()

    def settled(self) -> bool:
        """True once a network is loaded for the selection, or nothing could be loaded."""
        if self._gave_up:
            return True
        return self.predictor is not None and self.predictor.source == self._wanted

    def current_source(self) -> ModelSource | None:
        return self.model_selector.currentData()

    def use_run(self, record: RunRecord) -> None:
        """Select a run's model (from the results tab)."""
        source = run_source(record)
        index = self._index_of(source)
        if index < 0:
            self.model_selector.addItem(f"run {record.id}: {record.spec.describe()}", source)
            index = self.model_selector.count() - 1
        self.model_selector.setCurrentIndex(index)

    def _find(self, name: str) -> ModelSource | None:
        for i in range(self.model_selector.count()):
            source = self.model_selector.itemData(i)
            if source.name == name:
                return source
        return None

    def _index_of(self, source: ModelSource | None) -> int:
        for i in range(self.model_selector.count()):
            if self.model_selector.itemData(i) == source:
                return i
        return -1

    def _on_model_chosen(self, *_args) -> None:
        source = self.current_source()
        if source is None:
            return
        self._wanted = source
        if self.predictor is None or self.predictor.source != source:
            self.detail_label.setText(f"Loading {source.name}…")
            self.loader.request(source)

    def _on_model_ready(self, source: ModelSource, predictor: Predictor) -> None:
        if source != self._wanted:
            return  # the user has moved on to another model meanwhile
        self.predictor = predictor
        if predictor.notes:  # a slower engine than usual: say why
            self.message.emit(f"{source.name}: using TensorFlow, as " + "; ".join(predictor.notes))
        self.predict_now()

    def _on_model_failed(self, source: ModelSource, message: str) -> None:
        self.message.emit(message)
        if source != self._wanted:
            return
        self._failed_shipped.add(source.name)
        # Fall back to another shipped model, so the canvas keeps working.
        for name in FALLBACK_ORDER:
            fallback = self._find(name)
            if fallback and name not in self._failed_shipped:
                self.model_selector.setCurrentIndex(self._index_of(fallback))
                return
        self._gave_up = True
        self.detail_label.setText("No network could be loaded: " + message)

    # --- prediction ------------------------------------------------------------------------

    @property
    def inside(self) -> QWidget:
        """The "Look inside" view (built on first use: it costs start-up time otherwise)."""
        if self._inside is None:
            self._inside = self._make_inside()
            self._inside.overlayChanged.connect(self.canvas.set_overlay)
            self._inside.message.connect(self.message)
            self.inside_scroll.setWidget(self._inside)
        return self._inside

    def shutdown(self) -> None:
        """Wait for the background readings in flight (Look inside, the networks table)."""
        self.networks.shutdown()
        if self._inside is not None:
            self._inside.shutdown()

    # --- my digits --------------------------------------------------------------------------

    def set_collecting(self, on: bool) -> None:
        """Start or end collect mode (the app asks for digits one at a time)."""
        self.collect_button.setChecked(on)
        if on and not self.collect_bar.isVisible():
            self.collect_bar.start()
            self.canvas.setFocus()
        elif not on and self.collect_bar.isVisible():
            self.collect_bar.hide()
            if self.collect_bar.count:
                self.message.emit(f"{self.collect_bar.count} drawing(s) added to My digits.")

    def correct(self, digit: int) -> None:
        """The network misread this drawing: keep it in My digits as ``digit``."""
        image = None if self.canvas.is_empty() else to_mnist(self.canvas.ink_array())
        if image is None:
            self.message.emit("Draw a digit first: there is nothing on the pad to keep.")
            return
        try:
            self.my_digits.add(digit, image, self.canvas.strokes(), CORRECTED)
        except MyDigitsError as exc:  # kept aside, and the message says where
            self.message.emit(str(exc))
            return
        self.message.emit(
            f"Kept in My digits as a {digit}: it now counts in every network's score on "
            "your digits."
        )
        self.myDigitsChanged.emit()

    def _on_collected(self, _drawing_id: int) -> None:
        self.myDigitsChanged.emit()

    def show_inside(self, visible: bool) -> None:
        """Open or close the "Look inside" view (closed, it costs the canvas nothing)."""
        self.look_button.setChecked(visible)
        self.inside_scroll.setVisible(visible)
        self.predict_now()

    def predict_now(self) -> None:
        """Read the current drawing with the current network (or wait for it to load)."""
        stages = None if self.canvas.is_empty() else mnist_stages(self.canvas.ink_array())
        if self.look_button.isChecked():
            self.inside.set_drawing(stages, self.predictor)
        elif self._inside is not None and self._inside.look is not None:
            self._inside.set_drawing(None, None)  # closed: forget it, clear the overlay
        self.networks.set_input(None if stages is None else stages.final)
        if stages is None:
            self._show_empty()
            return
        x = stages.final
        self._show_input(x)
        if self.predictor is None:
            self.prediction_label.setText("…")
            self.detail_label.setText(
                "Loading the network; your digit is read as soon as it is ready."
            )
            return
        # Never wait on the GUI thread while a training (re)sets the backend: try again soon.
        probs = self.predictor.predict(x, wait=False)
        if probs is None:
            self._retry.start()
            return
        self._show_prediction(probs)
        self.predicted.emit(probs)

    def _show_empty(self) -> None:
        self.prediction_label.setText("")
        self.detail_label.setText(
            "Draw a digit (0-9) on the pad: the network reads it as you draw."
        )
        self.bars.set_probabilities(None)
        self.preview.clear()

    def _show_prediction(self, probs: np.ndarray) -> None:
        order = np.argsort(probs)[::-1]
        top, second = int(order[0]), int(order[1])
        self.bars.set_probabilities(probs)
        if probs[top] >= CONFIDENT:
            self.prediction_label.setText(str(top))
            self.detail_label.setText(f"{probs[top]:.1%} sure ({self.predictor.name})")
        else:
            self.prediction_label.setText(f"{top}?")
            self.detail_label.setText(
                f"Not sure: {top} ({probs[top]:.0%}) or {second} ({probs[second]:.0%})"
            )

    def _show_input(self, x: np.ndarray) -> None:
        self.preview.setPixmap(scaled_pixmap(grey_image(x), PREVIEW_SIDE))

    def _delete_key(self) -> None:
        """Delete unpins the selected run in the network table when it has focus, and
        clears the pad otherwise."""
        if self.networks.table.hasFocus():
            self.networks.unpin_selected()
        else:
            self.canvas.clear()

    def draw_sample(self, digit: int) -> None:
        """Put a built-in drawing of ``digit`` on the canvas (demos and screenshots)."""
        self.canvas.clear()
        for stroke in place(DIGITS[digit], 0.7, (0.5, 0.5), angle_deg=6):
            self.canvas.add_stroke(stroke, 0.06)

    # --- images ----------------------------------------------------------------------------

    def open_image(self) -> None:
        patterns = " ".join(f"*{s}" for s in IMAGE_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a picture of a digit", "", f"Images ({patterns})"
        )
        if path:
            self.canvas.load_image_file(path)

    def paste_image(self) -> None:
        """Read a picture (or a picture file's path) from the clipboard.

        Not through ``clipboard().mimeData()``: with an empty clipboard it can return None
        (the offscreen platform does), and Ctrl+V then raised AttributeError.
        """
        clipboard = QApplication.clipboard()
        image = clipboard.image()
        text = clipboard.text().strip()
        path = QUrl(text).toLocalFile() if text.startswith("file:") else text
        if not image.isNull():
            self.canvas.load_qimage(image)
        elif path and "\n" not in path and Path(path).is_file():
            self.canvas.load_image_file(path)
        else:
            self.message.emit("The clipboard holds no image to read.")
