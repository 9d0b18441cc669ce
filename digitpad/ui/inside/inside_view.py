"""The "Look inside" view: what the network sees, every layer's output, its first layer's
weights, and where it looks (saliency), for the canvas' network and drawing.

Everything about the network is computed off the GUI thread (one task at a time; the
newest drawing wins), from ``core.inside`` and ``core.saliency``. The view only draws.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.data.preprocess import Stages
from digitpad.core.inference.predictor import ModelSource, Predictor
from digitpad.core.inside.descriptions import NOTES, layer_title, weights_title
from digitpad.core.inside.layers import (
    Inspector,
    LayerOutput,
    SoftmaxBreakdown,
    WeightPictures,
    tile_at,
)
from digitpad.core.inside.saliency import Look, Method, look, methods_for, spearman
from digitpad.render.inside_pictures import (
    STAGE_SIDE,
    Mosaic,
    layer_mosaic,
    saliency_picture,
    stage_pictures,
    weights_mosaic,
)
from digitpad.render.pictures import scaled_pixmap, signed_image
from digitpad.ui.common.background import NewestOnly

MAP_SIDE = 168


@dataclass(frozen=True)
class _Request:
    stages: Stages
    predictor: Predictor
    method: Method
    sanity: bool
    asked_at: float


@dataclass(frozen=True)
class _Answer:
    request: _Request
    inspector: Inspector
    look: Look
    weights: WeightPictures


class MosaicLabel(QLabel):
    """A picture of tiles (feature maps, units, filters) that names the tile under the mouse."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tips: list[str] = []
        self._grid: tuple[tuple[int, int], int, int] = ((1, 1), 1, 1)

    def set_mosaic(self, mosaic: Mosaic) -> None:
        self.tips = mosaic.tips
        self._grid = (mosaic.tile_shape, mosaic.columns, mosaic.zoom)
        self.setPixmap(scaled_pixmap(mosaic.image, mosaic.image.width() * mosaic.zoom, 10_000))

    def tile_under(self, x: float, y: float) -> int | None:
        shape, columns, zoom = self._grid
        index = tile_at(shape, columns, y / zoom, x / zoom)
        return index if index is not None and index < len(self.tips) else None

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            index = self.tile_under(event.pos().x(), event.pos().y())
            if index is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.tips[index], self)
            return True
        return super().event(event)


class InsideView(QWidget):
    """Look inside the canvas' network. ``shown(ms)`` follows each update, with the time
    from the drawing's change to the view showing it; ``message(str)`` reports problems."""

    shown = Signal(float)
    message = Signal(str)
    overlayChanged = Signal(object, object)  # (QImage or None, Stages or None)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("insideView")
        self.look: Look | None = None
        self.source: ModelSource | None = None
        self._inspectors: dict[ModelSource, Inspector] = {}
        self._weights_of: ModelSource | None = None
        self._runner = NewestOnly(self)
        self._wanted: _Request | None = None

        self.method_combo = QComboBox(objectName="saliencyCombo")
        for method in Method:
            self.method_combo.addItem(method.title, method)
        self.method_combo.setToolTip(
            "How to measure where the network looks: red pixels push it towards its answer, "
            "blue ones away from it"
        )
        self.sanity_check = QCheckBox("Sanity check", objectName="sanityCheck")
        self.sanity_check.setToolTip(
            "Show beside it the same map for this architecture with random weights "
            "(Adebayo et al., 2018): if the two look alike, the map shows your drawing, "
            "not what the network learned"
        )
        self.on_canvas = QCheckBox("On the canvas", objectName="saliencyOnCanvas")
        self.on_canvas.setChecked(True)
        for control in (self.method_combo, self.sanity_check):
            signal = getattr(control, "currentIndexChanged", None) or control.toggled
            signal.connect(self._again)
        self.on_canvas.toggled.connect(self._emit_overlay)

        self.title = QLabel("", objectName="insideTitle", wordWrap=True)
        self.stage_labels = [QLabel() for _ in range(5)]
        self.stage_captions = [QLabel(wordWrap=True) for _ in range(5)]
        stages = QGridLayout()
        for i, (picture, caption) in enumerate(
            zip(self.stage_labels, self.stage_captions, strict=True)
        ):
            picture.setFixedSize(STAGE_SIDE, STAGE_SIDE)
            picture.setStyleSheet("background: black;")
            caption.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
            caption.setMaximumWidth(STAGE_SIDE + 8)
            stages.addWidget(picture, 0, i)
            stages.addWidget(caption, 1, i)

        self.saliency_label = QLabel(objectName="saliencyMap")
        self.random_label = QLabel(objectName="randomSaliencyMap")
        for label in (self.saliency_label, self.random_label):
            label.setFixedSize(MAP_SIDE, MAP_SIDE)
        self.saliency_caption = QLabel(wordWrap=True, objectName="saliencyCaption")
        self.random_caption = QLabel(wordWrap=True, objectName="randomCaption")
        maps = QGridLayout()
        maps.addWidget(self.saliency_label, 0, 0)
        maps.addWidget(self.random_label, 0, 1)
        maps.addWidget(self.saliency_caption, 1, 0)
        maps.addWidget(self.random_caption, 1, 1)

        self.layers_box = QVBoxLayout()
        self.softmax_plot = pg.GraphicsLayoutWidget()
        self.softmax_plot.setObjectName("softmaxPlot")
        self.softmax_plot.setFixedHeight(150)
        self.softmax_plot.setBackground("w")
        self._make_softmax_plots()
        self.weights_title = QLabel("", wordWrap=True)
        self.weights_mosaic = MosaicLabel()
        self.weights_mosaic.setObjectName("weightPictures")

        controls = QHBoxLayout()
        controls.addWidget(self.method_combo, 1)
        controls.addWidget(self.sanity_check)
        controls.addWidget(self.on_canvas)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(_heading("What the network sees"))
        layout.addLayout(stages)
        layout.addWidget(_heading("Where it looks"))
        layout.addLayout(controls)
        layout.addLayout(maps)
        layout.addWidget(_heading("Every layer's output"))
        layout.addLayout(self.layers_box)
        layout.addWidget(_heading("How the output layer decides: logits → exp → probabilities"))
        layout.addWidget(self.softmax_plot)
        layout.addWidget(_heading("The first layer's weights"))
        layout.addWidget(self.weights_title)
        layout.addWidget(self.weights_mosaic)
        layout.addStretch(1)
        self._layer_rows: list[tuple[str, QLabel, MosaicLabel | None]] = []
        self._shown_stages: Stages | None = None
        self.clear()

    # --- requests ---------------------------------------------------------------------------

    @property
    def method(self) -> Method:
        # Qt keeps the item data as a plain string: make it a Method again.
        return Method(self.method_combo.currentData())

    def choose_method(self, method: Method | str) -> None:
        """Select a saliency method (its command-line name or ``Method``)."""
        self.method_combo.setCurrentIndex(self.method_combo.findData(Method(method)))

    def settled(self) -> bool:
        """True when nothing is being computed or waiting to be."""
        return not self._runner.busy and (self._wanted is None or self.look is not None)

    def set_drawing(self, stages: Stages | None, predictor: Predictor | None) -> None:
        """Show ``stages`` now, and the network's side once it is computed."""
        if stages is None:
            self._wanted = None
            self._runner.cancel()
            self.clear()
            return
        self._show_stages(stages)
        if predictor is None:
            self.title.setText("Loading the network…")
            return
        self._enable_methods(predictor.source)
        request = _Request(
            stages, predictor, self.method, self.sanity_check.isChecked(), time.perf_counter()
        )
        self._wanted = request
        self._runner.submit(lambda: self._work_for(request), self._on_answer, self._on_failed)

    def _again(self, *_args) -> None:
        wanted = self._wanted
        if wanted is not None:
            self.set_drawing(wanted.stages, wanted.predictor)

    def _enable_methods(self, source: ModelSource) -> None:
        """Grad-CAM only for networks with a convolution."""
        inspector = self._inspectors.get(source)
        has_conv = (
            source.spec.model != "mlp" if inspector is None else inspector.last_conv is not None
        )
        index = self.method_combo.findData(Method.GRAD_CAM)
        item = self.method_combo.model().item(index)
        item.setEnabled(has_conv)
        if not has_conv and self.method is Method.GRAD_CAM:
            self.message.emit(
                f"Grad-CAM needs a convolution layer and {source.name} has none: "
                "showing gradient × input"
            )
            self.method_combo.blockSignals(True)
            self.method_combo.setCurrentIndex(self.method_combo.findData(Method.GRADIENT_X_INPUT))
            self.method_combo.blockSignals(False)

    def _work_for(self, request: _Request):
        """The background call for ``request``, with the inspector built so far, if any."""
        source = request.predictor.source
        known = self._inspectors.get(source)
        weights_needed = self._weights_of != source

        def work() -> _Answer:
            inspector = known or Inspector.for_spec(source.spec, request.predictor.keras_model())
            method = request.method
            if method not in methods_for(inspector):
                method = Method.GRADIENT_X_INPUT
            seen = look(inspector, request.stages.final, method, request.sanity)
            weights = inspector.weight_pictures() if weights_needed else None
            return _Answer(request, inspector, seen, weights)

        return work

    def _on_answer(self, answer: _Answer) -> None:
        source = answer.request.predictor.source
        self._inspectors[source] = answer.inspector
        if self._wanted is None:
            return  # cleared meanwhile
        if answer.request is not self._wanted:  # the runner goes on with the newest
            if self._wanted.predictor.source == source:
                self._show(answer)  # an older drawing of the same network: better than none
            return
        self._show(answer)
        self.shown.emit((time.perf_counter() - answer.request.asked_at) * 1000)

    def _on_failed(self, message: str) -> None:
        self.message.emit(f"Look inside: {message}")

    def shutdown(self) -> None:
        self._runner.shutdown()

    # --- showing ----------------------------------------------------------------------------

    def clear(self) -> None:
        self.look = None
        self._shown_stages = None
        self.title.setText("Draw a digit to look inside the network.")
        for picture, caption in zip(self.stage_labels, self.stage_captions, strict=True):
            picture.clear()
            caption.setText("")
        for label in (self.saliency_label, self.random_label):
            label.clear()
        self.saliency_caption.setText("")
        self.random_caption.setText("")
        self._show_softmax(None)
        self._emit_overlay()

    def _show(self, answer: _Answer) -> None:
        request, seen = answer.request, answer.look
        source = request.predictor.source
        self.look = seen
        self.source = source
        self._shown_stages = request.stages
        softmax = seen.softmax
        self.title.setText(
            f"<b>{source.name}</b> ({source.spec.describe()}) reads a "
            f"<b>{softmax.predicted}</b> ({softmax.probabilities[softmax.predicted]:.1%})"
        )
        self._show_saliency(request.stages, seen)
        self._show_layers(seen.layers)
        self._show_softmax(softmax)
        if answer.weights is not None:
            self._weights_of = source
            self._show_weights(answer.weights)
        self._emit_overlay()

    def _show_stages(self, stages: Stages) -> None:
        for (image, caption), label, text in zip(
            stage_pictures(stages), self.stage_labels, self.stage_captions, strict=True
        ):
            label.setPixmap(QPixmap.fromImage(image))
            text.setText(caption)

    def _show_saliency(self, stages: Stages, seen: Look) -> None:
        mine = seen.saliency
        self.saliency_label.setPixmap(
            scaled_pixmap(saliency_picture(stages.final, mine.values), MAP_SIDE)
        )
        self.saliency_caption.setText(f"{mine.method.title} for {mine.target}")
        if seen.random is None:
            self.random_label.clear()
            self.random_caption.setText("")
            return
        random = seen.random.values
        self.random_label.setPixmap(scaled_pixmap(saliency_picture(stages.final, random), MAP_SIDE))
        self.random_caption.setText(
            f"Random weights, same layers: rank correlation {spearman(mine.values, random):.2f} "
            f"with the trained map (by magnitude: "
            f"{spearman(np.abs(mine.values), np.abs(random)):.2f})"
        )

    def _show_layers(self, layers: list[LayerOutput]) -> None:
        """A title and a mosaic per layer; the widgets are kept while the network is the
        same, so that each drawing only swaps their texts and pictures."""
        shown = layers[:-1]  # the output layer has its own plot below
        if [layer.name for layer in shown] != [row[0] for row in self._layer_rows]:
            for _, title, mosaic in self._layer_rows:
                for widget in (title, mosaic):
                    if widget is not None:
                        self.layers_box.removeWidget(widget)
                        # Out of the view at once: deleteLater alone left the old network's
                        # rows among the view's children until the event loop came round.
                        widget.setParent(None)
                        widget.deleteLater()
            self._layer_rows = []
            for layer in shown:
                title = QLabel(wordWrap=True)
                self.layers_box.addWidget(title)
                mosaic = None
                if layer.kind not in NOTES:
                    mosaic = MosaicLabel()
                    mosaic.setObjectName(f"layer:{layer.name}")
                    self.layers_box.addWidget(mosaic)
                self._layer_rows.append((layer.name, title, mosaic))
        for layer, (_, title, label) in zip(shown, self._layer_rows, strict=True):
            title.setText(layer_title(layer))
            if label is not None:
                label.set_mosaic(layer_mosaic(layer))

    def _make_softmax_plots(self) -> None:
        """Three bar plots made once (a pyqtgraph plot costs ~8 ms to build); each update
        only sets their bars."""
        self._softmax_bars = []
        digits = np.arange(10)
        for column, title in enumerate(("logits z", "exp(z − max z)", "probabilities")):
            plot = self.softmax_plot.addPlot(row=0, col=column, title=title)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.getAxis("bottom").setTicks([[(d, str(d)) for d in digits]])
            # Fixed ranges where the values allow (exp(z - max z) and probabilities lie in
            # [0, 1]): re-ranging an axis re-draws its labels, the costliest part here.
            plot.setXRange(-0.6, 9.6, padding=0)
            plot.enableAutoRange(x=False, y=column == 0)
            if column:
                plot.setYRange(0.0, 1.0, padding=0.02)
            bars = pg.BarGraphItem(x=digits, height=np.zeros(10), width=0.7)
            plot.addItem(bars)
            self._softmax_bars.append(bars)

    def _show_softmax(self, softmax: SoftmaxBreakdown | None) -> None:
        values = (softmax.logits, softmax.exp, softmax.probabilities) if softmax else None
        for i, bars in enumerate(self._softmax_bars):
            if values is None:
                bars.setOpts(height=np.zeros(10))
                continue
            brushes = ["#d62728" if d == softmax.predicted else "#4c72b0" for d in range(10)]
            bars.setOpts(height=values[i], brushes=brushes)

    def _show_weights(self, weights: WeightPictures) -> None:
        self.weights_title.setText(weights_title(weights))
        self.weights_mosaic.set_mosaic(weights_mosaic(weights))

    def _emit_overlay(self, *_args) -> None:
        seen = self.look
        if seen is None or not self.on_canvas.isChecked():
            self.overlayChanged.emit(None, None)
            return
        self.overlayChanged.emit(signed_image(seen.saliency.values, alpha=True), self._shown_stages)


def _heading(text: str) -> QLabel:
    label = QLabel(f"<b>{text}</b>")
    label.setStyleSheet("margin-top: 8px;")
    return label
