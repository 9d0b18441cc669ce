"""The window starts, offscreen, and renders to a PNG."""

from __future__ import annotations

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QTabWidget

from digitpad.app import run_gui
from digitpad.ui import MainWindow


def test_main_window_builds_with_no_arguments(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert window.windowTitle() == "DigitPad"
    assert window.findChild(QTabWidget, "mainTabs") is not None
    assert not window.windowIcon().isNull()


def test_screenshot_writes_a_png(qtbot, tmp_path):
    target = tmp_path / "shot.png"
    assert run_gui(screenshot=str(target)) == 0
    image = QImage(str(target))
    assert not image.isNull() and image.width() >= 400
