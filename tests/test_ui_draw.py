"""The Draw tab with the shipped networks: draw with the mouse, see what the network says."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QWidget

from conftest import draw_seven
from digitpad.core.inference.predictor import ModelSource
from digitpad.ui import MainWindow
from digitpad.ui.draw.canvas import DrawingCanvas
from digitpad.ui.draw.sample_digits import DIGITS, place


@pytest.fixture
def window(drawing_window):
    return drawing_window


def test_drawing_with_the_mouse_gives_a_prediction_and_clear_resets(window, qtbot):
    canvas = window.findChild(QWidget, "canvas")
    label = window.findChild(QLabel, "predictionLabel")
    assert label.text() == ""  # empty canvas: no prediction, a hint instead
    assert "Draw a digit" in window.draw_tab.detail_label.text()
    draw_seven(qtbot, canvas)
    qtbot.waitUntil(lambda: label.text() != "", timeout=5_000)
    assert label.text().rstrip("?") == "7"
    assert window.draw_tab.bars.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    assert not window.draw_tab.preview.pixmap().isNull()  # the 28x28 the network sees

    qtbot.mouseClick(window.findChild(QPushButton, "clearButton"), Qt.MouseButton.LeftButton)
    assert label.text() == "" and window.draw_tab.bars.probabilities.sum() == 0


def test_the_window_reads_drawings_on_one_blas_thread(qtbot):
    """Two BLAS threads made a reading's p95 15 ms while a training ran (1.3 ms on one):
    the window limits numpy's BLAS once its canvas has a network."""
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(limits=2, user_api="blas")  # as in a fresh process on two cores
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.draw_tab.predictor is not None, timeout=60_000)
    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert blas and all(lib["num_threads"] == 1 for lib in blas)
    win.close()


def test_switching_model_re_predicts_the_drawing(window, qtbot):
    draw_seven(qtbot, window.findChild(QWidget, "canvas"))
    selector = window.findChild(QComboBox, "modelSelector")
    names = [selector.itemData(i).name for i in range(selector.count())]
    assert names[:3] == ["best", "cnn_deep", "mlp"]
    with qtbot.waitSignal(window.draw_tab.predicted, timeout=30_000):
        selector.setCurrentIndex(names.index("mlp"))
    assert window.draw_tab.predictor.name == "mlp"


def test_undo_removes_the_last_stroke(window, qtbot):
    canvas = window.draw_tab.canvas
    canvas.add_stroke([(0.5, 0.1), (0.5, 0.9)], 0.05)
    canvas.add_stroke([(0.2, 0.5), (0.8, 0.5)], 0.05)
    before = canvas.ink_array().sum()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert 0 < canvas.ink_array().sum() < before
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.is_empty()


def test_dropped_picture_is_read(window, qtbot, tmp_path):
    picture = QImage(200, 200, QImage.Format.Format_RGB32)
    picture.fill(QColor("white"))
    painter = QPainter(picture)
    painter.setPen(QPen(QColor("black"), 14, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    painter.drawLine(100, 30, 100, 170)  # a 1, in dark ink on paper
    painter.end()
    path = tmp_path / "one.png"
    picture.save(str(path))
    with qtbot.waitSignal(window.draw_tab.predicted, timeout=5_000) as got:
        assert window.draw_tab.canvas.load_image_file(str(path))
    assert int(np.argmax(got.args[0])) == 1


def test_unreadable_file_says_so(window, qtbot, tmp_path):
    junk = tmp_path / "notes.png"
    junk.write_text("not an image")
    with qtbot.waitSignal(window.draw_tab.canvas.imageRejected, timeout=1_000) as got:
        assert not window.draw_tab.canvas.load_image_file(str(junk))
    assert "Cannot read" in got.args[0] and "PNG" in got.args[0]


def window_with_damaged_file(qtbot, tmp_path, monkeypatch, name: str):
    """A window on a copy of weights/ whose ``name`` file is truncated, once its canvas has a
    network; and the messages it showed."""
    import shutil

    from digitpad.core.machine import paths

    folder = tmp_path / "weights"
    shutil.copytree(paths.SHIPPED_WEIGHTS_DIR, folder)
    (folder / name).write_bytes(b"truncated")
    monkeypatch.setenv("DIGITPAD_WEIGHTS", str(folder))
    win = MainWindow()
    qtbot.addWidget(win)
    messages = []
    win.draw_tab.message.connect(messages.append)
    win.show()  # networks load once the window is on screen
    qtbot.waitUntil(lambda: win.draw_tab.predictor is not None, timeout=60_000)
    return win, messages


def test_broken_shipped_weights_fall_back_to_another_model(qtbot, tmp_path, monkeypatch):
    win, messages = window_with_damaged_file(qtbot, tmp_path, monkeypatch, "best.weights.h5")
    assert win.draw_tab.predictor.name == "cnn_deep"
    assert any("best.weights.h5 is damaged" in m and "reinstall" in m for m in messages)
    win.close()


def test_damaged_fast_engine_file_still_reads_and_says_why(qtbot, tmp_path, monkeypatch):
    win, messages = window_with_damaged_file(qtbot, tmp_path, monkeypatch, "best.tflite")
    assert win.draw_tab.predictor.name == "best"  # same network, slower engine
    assert any("best.tflite is damaged" in m for m in messages)
    win.draw_tab.draw_sample(7)
    qtbot.waitUntil(lambda: win.draw_tab.prediction_label.text() == "7", timeout=5_000)
    win.close()


# --- robustness of the whole drawing path, on many drawn digits -------------------------------


def test_digits_read_the_same_at_any_size_place_pen_and_slant(qtbot):
    from digitpad.core.data.preprocess import to_mnist
    from digitpad.core.inference.predictor import Predictor

    predictor = Predictor(ModelSource.shipped("best"))
    canvas = DrawingCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(280, 280)

    def read(strokes, pen_px):
        canvas.clear()
        for stroke in strokes:
            canvas.add_stroke(stroke, pen_px / 280)
        return int(np.argmax(predictor.predict(to_mnist(canvas.ink_array()))))

    agree = total = correct_reference = 0
    for digit, strokes in DIGITS.items():
        reference = read(place(strokes, 0.6, (0.5, 0.5)), 16)
        correct_reference += reference == digit
        variants = []
        for angle in (-15, 0, 15):
            variants.append((0.9, (0.5, 0.5), angle, 40))
            variants.append((0.9, (0.5, 0.5), angle, 8))
            for corner in ((0.18, 0.2), (0.82, 0.2), (0.18, 0.8), (0.82, 0.8)):
                for pen in (4, 10):
                    variants.append((0.25, corner, angle, pen))
        for size, centre, angle, pen in variants:
            total += 1
            agree += read(place(strokes, size, centre, angle), pen) == reference
    assert correct_reference >= 9  # the templates themselves are read as their digit
    assert agree / total >= 0.95, f"{agree}/{total} variants agree with the reference"
