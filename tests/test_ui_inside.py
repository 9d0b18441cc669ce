"""The Draw tab's "Look inside" view, driven through the real window."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QPushButton, QWidget

from conftest import draw_seven
from digitpad.core.inside.saliency import Method
from digitpad.ui import MainWindow
from digitpad.ui.inside.inside_view import InsideView, MosaicLabel


@pytest.fixture
def window(drawing_window):
    return drawing_window


def pixels(label: QLabel) -> bytes:
    image = label.pixmap().toImage()
    return bytes(image.constBits())


def choose(combo: QComboBox, text_start: str) -> None:
    for i in range(combo.count()):
        if combo.itemText(i).startswith(text_start):
            combo.setCurrentIndex(i)
            return
    raise AssertionError(
        f"no {text_start!r} in {[combo.itemText(i) for i in range(combo.count())]}"
    )


def test_look_inside_follows_the_drawing_the_network_and_the_method(window, qtbot):
    draw = window.draw_tab
    canvas = window.findChild(QWidget, "canvas")
    assert draw._inside is None  # nothing built (or computed) until it is opened
    qtbot.mouseClick(window.findChild(QPushButton, "lookInsideButton"), Qt.MouseButton.LeftButton)
    view = window.findChild(InsideView, "insideView")
    assert view.isVisible()
    assert "Draw a digit" in view.title.text()

    draw_seven(qtbot, canvas)
    qtbot.waitUntil(lambda: view.look is not None, timeout=30_000)
    network = draw.predictor.source
    assert view.source == network
    assert f"reads a <b>{view.look.softmax.predicted}</b>" in view.title.text()
    assert view.look.softmax.predicted == int(np.argmax(draw.bars.probabilities))
    # The five preprocessing stages are shown, the last being the network's input.
    assert all(
        label.pixmap() is not None and not label.pixmap().isNull() for label in view.stage_labels
    )
    # One mosaic per layer with values, named after the network's own layers.
    names = {
        m.objectName()
        for m in view.findChildren(MosaicLabel)
        if m.objectName().startswith("layer:")
    }
    shown = {
        f"layer:{layer.name}"
        for layer in view.look.layers
        if layer.kind not in ("dropout", "flatten", "output")
    }
    assert names == shown and names
    assert not view.weights_mosaic.pixmap().isNull()
    assert canvas._overlay is not None  # the saliency lies over the drawing

    # Hovering a feature map names it.
    mosaic = next(m for m in view.findChildren(MosaicLabel) if m.objectName().startswith("layer:"))
    assert mosaic.tile_under(1, 1) == 0 and mosaic.tips[0].startswith(
        f"{mosaic.objectName()[6:]} · map 0 of"
    )

    # Another network: the layers shown become its layers (the MLP: dense units, no maps).
    choose(window.findChild(QComboBox, "modelSelector"), "mlp")
    qtbot.waitUntil(lambda: view.source is not None and view.source.name == "mlp", timeout=30_000)
    names = {
        m.objectName()
        for m in view.findChildren(MosaicLabel)
        if m.objectName().startswith("layer:")
    }
    assert names == {f"layer:{view.look.layers[0].name}"}
    assert view.look.layers[0].values.shape == (8,)
    assert "hidden unit" in view.weights_title.text() and "28×28" in view.weights_title.text()
    combo = window.findChild(QComboBox, "saliencyCombo")
    assert not combo.model().item(combo.findData(Method.GRAD_CAM)).isEnabled()

    # Another method: a new map.
    before = pixels(view.saliency_label)
    combo.setCurrentIndex(combo.findData(Method.INTEGRATED_GRADIENTS))
    qtbot.waitUntil(
        lambda: view.look.saliency.method is Method.INTEGRATED_GRADIENTS, timeout=30_000
    )
    assert "Integrated gradients" in view.saliency_caption.text()
    assert pixels(view.saliency_label) != before

    # The sanity check puts the random-weights map beside it.
    assert view.random_label.pixmap().isNull()
    window.findChild(QCheckBox, "sanityCheck").setChecked(True)
    qtbot.waitUntil(lambda: view.look.random is not None, timeout=30_000)
    assert not view.random_label.pixmap().isNull()
    assert "rank correlation" in view.random_caption.text()

    # Closing the view takes the map off the canvas.
    qtbot.mouseClick(window.findChild(QPushButton, "lookInsideButton"), Qt.MouseButton.LeftButton)
    assert not view.isVisible() and canvas._overlay is None


def test_grad_cam_falls_back_with_a_message_when_the_network_has_no_convolution(window, qtbot):
    draw = window.draw_tab
    draw.show_inside(True)
    view = draw.inside
    view.choose_method("gradcam")
    draw.draw_sample(3)
    qtbot.waitUntil(lambda: view.look is not None, timeout=30_000)
    assert view.look.saliency.method is Method.GRAD_CAM  # best has convolutions
    with qtbot.waitSignal(draw.message, timeout=30_000) as said:
        choose(window.findChild(QComboBox, "modelSelector"), "mlp")
    assert "Grad-CAM needs a convolution" in said.args[0]
    qtbot.waitUntil(lambda: view.source.name == "mlp", timeout=30_000)
    assert view.look.saliency.method is Method.GRADIENT_X_INPUT


def test_the_view_stays_open_across_restarts(qtbot):
    first = MainWindow()
    qtbot.addWidget(first)
    first.draw_tab.show_inside(True)
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.draw_tab.look_button.isChecked()
    second.close()


def test_explain_writes_every_picture_and_a_summary(qapp, tmp_path, mnist, capsys):
    import json

    from digitpad.cli import main
    from digitpad.render.pictures import grey_image, save_image

    picture = tmp_path / "digit.png"
    digit = int(mnist.y_test[0])
    # As a scan would come: dark ink on white paper, larger than 28x28.
    save_image(grey_image(255 - mnist.x_test[0], high=255), picture, scale=4)
    out = tmp_path / "report"
    code = main(
        [
            "explain",
            str(picture),
            "--model",
            "cnn_deep",
            "--method",
            "ig",
            "--sanity",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "cnn_deep" and summary["prediction"] == digit
    assert sum(summary["probabilities"]) == pytest.approx(1.0)
    kinds = [layer["kind"] for layer in summary["layers"]]
    assert kinds[0] == "conv" and kinds[-1] == "output"
    for name in summary["files"]:
        assert (out / name).stat().st_size > 0
    drawn = [layer for layer in summary["layers"] if "file" in layer]
    assert {layer["kind"] for layer in drawn} == {"conv", "pool", "dense"}
    assert summary["saliency"]["method"] == "ig" and "random_weights_file" in summary["saliency"]
    assert summary["weights"]["count"] == 30  # the shipped cnn's 30 first filters
    capsys.readouterr()
    with pytest.raises(SystemExit) as bad:
        main(["explain", str(picture), "--model", "mlp", "--method", "gradcam", "--out", str(out)])
    assert bad.value.code == 2 and "Grad-CAM needs a convolution" in capsys.readouterr().err
