"""A seeded "monkey": 2,000 random clicks, key presses and drags across the whole window
while a short training runs. Nothing may crash, and no Qt warning may be printed (pytest's
qt_log_level_fail turns any into a failure)."""

from __future__ import annotations

import random

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QInputDialog,
    QMessageBox,
    QWidget,
)

from digitpad.core.nets.specs import RunSpec

ACTIONS = 2000
KEYS = [
    Qt.Key.Key_Escape,
    Qt.Key.Key_Delete,
    Qt.Key.Key_Tab,
    Qt.Key.Key_Return,
    Qt.Key.Key_Space,
    Qt.Key.Key_Up,
    Qt.Key.Key_Down,
    Qt.Key.Key_PageUp,
    Qt.Key.Key_Backspace,
    Qt.Key.Key_F5,
    Qt.Key.Key_1,
    Qt.Key.Key_7,
    Qt.Key.Key_A,
    Qt.Key.Key_Minus,
    Qt.Key.Key_Period,
    Qt.Key.Key_Comma,
    Qt.Key.Key_Z,
    Qt.Key.Key_V,
]
MODIFIERS = [Qt.KeyboardModifier.NoModifier] * 3 + [Qt.KeyboardModifier.ControlModifier]


def no_dialogs(monkeypatch) -> None:
    """Answer every modal question as a user who cancels (a monkey cannot type a path)."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: "")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", False))


def focused(window: QWidget) -> QWidget:
    # focusObject() rather than focusWidget(): PySide6 6.12.0's focusWidget() (like childAt,
    # widgetAt and activePopupWidget) dropped a reference to None whenever it returned no
    # widget; this works on any version.
    focus = QApplication.focusObject()
    return focus if isinstance(focus, QWidget) else window


def close_popups(window: QWidget) -> None:
    """Close the combo lists and menus the monkey opened (a real user clicks them away),
    and cancel any modal dialog that ``no_dialogs`` did not answer: waiting in its own
    event loop for a human, it would hold the test for ever."""
    for widget in QApplication.topLevelWidgets():
        if widget is not window and widget.isVisible() and widget.windowFlags() & Qt.Popup:
            widget.close()
    modal = QApplication.activeModalWidget()
    if isinstance(modal, QDialog):
        modal.reject()


# QTest's own remark on its synthetic key press when no widget took it (seen once, right
# after a popup had grabbed the keyboard): a user's stray key does nothing either. It is
# not the app's warning; every other one still fails the test.
@pytest.mark.qt_log_ignore("Keyboard event not accepted by receiving widget")
def test_two_thousand_random_actions_while_training(window, qtbot, monkeypatch):
    no_dialogs(monkeypatch)
    window.resize(1100, 720)
    rng = random.Random(20261128)
    window.train_tab.run_specs([RunSpec.for_model("mlp", epochs=3, train_limit=3000, seed=0)])
    app = QApplication.instance()
    # A click on a button with a drop-down menu (Wrong? It was…, Import…) opens it in a
    # nested event loop until someone closes it; this timer is that someone.
    closer = QTimer(interval=50)
    closer.timeout.connect(lambda: close_popups(window))
    closer.start()
    counts = {"click": 0, "drag": 0, "key": 0, "tab": 0}
    screen = window.windowHandle()  # input goes to the window, Qt finds the widget under it
    for step in range(ACTIONS):
        roll = rng.random()
        point = QPoint(rng.randrange(screen.width()), rng.randrange(screen.height()))
        if roll < 0.45:
            # Left clicks only: a right click opens Qt's own context menus, whose exec()
            # would wait for a human to close them.
            QTest.mouseClick(
                screen, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point
            )
            counts["click"] += 1
        elif roll < 0.65:
            left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
            QTest.mousePress(screen, left, none, point)
            for _ in range(rng.randrange(1, 6)):
                point = QPoint(
                    min(max(point.x() + rng.randrange(-40, 41), 0), screen.width() - 1),
                    min(max(point.y() + rng.randrange(-40, 41), 0), screen.height() - 1),
                )
                QTest.mouseMove(screen, point)
            QTest.mouseRelease(screen, left, none, point)
            counts["drag"] += 1
        elif roll < 0.95:
            QTest.keyClick(focused(window), rng.choice(KEYS), rng.choice(MODIFIERS))
            counts["key"] += 1
        else:
            window.tabs.setCurrentIndex(rng.randrange(window.tabs.count()))
            counts["tab"] += 1
        close_popups(window)
        if step % 25 == 0:
            app.processEvents()
    closer.stop()
    assert window.isVisible()
    window.train_tab.stop_training()
    qtbot.waitUntil(lambda: not window.train_tab.is_training(), timeout=60_000)
    # Still a working app: the store is sound and the canvas still reads a digit.
    assert window.store.integrity() == "ok"
    window.select_tab("draw")
    window.draw_tab.canvas.clear()
    window.draw_tab.draw_sample(3)
    window.wait_until_ready(60)
    qtbot.waitUntil(lambda: window.draw_tab.prediction_label.text() == "3", timeout=10_000)
