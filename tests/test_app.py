"""The window starts, offscreen, and renders to a PNG; the Qt binding is sound."""

from __future__ import annotations

import subprocess
import sys

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath
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


def test_the_qt_binding_does_not_wear_down_none_while_painting(qtbot):
    """PySide6 6.12.0 dropped a reference to None on every call of many void methods
    (QPainter.setPen, QPainterPath.lineTo...): after enough drawing the app aborted with
    "deallocating None". pyproject.toml excludes it; this guards any other version.

    From Python 3.12 None is immortal (PEP 683): its count never moves, so the bug cannot
    abort the app there and no count can show it (pyproject.toml's pin guards it there).
    """
    if sys.version_info >= (3, 12):
        return
    image = QImage(50, 50, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    path = QPainterPath(QPointF(0, 0))
    before = sys.getrefcount(None)
    for i in range(2000):
        painter.setPen(QColor("black"))
        path.lineTo(QPointF(i % 50, 1))
        painter.drawPath(path)
    painter.end()
    assert sys.getrefcount(None) > before - 200  # the bug: 6,000 fewer


GARBAGE_IN_A_THREAD = """
import os, threading, weakref
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
from digitpad.ui import MainWindow
win = MainWindow()
win.show()
finalised_in = []
label = QLabel("in a cycle")
label.itself = label  # only the cyclic collector can free it
weakref.finalize(label, lambda: finalised_in.append(threading.current_thread().name))
del label
# A background task allocating, as a network loading or the Dask client's threads do.
task = threading.Thread(target=lambda: [[[] for _ in range(1000)] for _ in range(300)])
task.start()
task.join()
print("after the task:", finalised_in, flush=True)
loop = QEventLoop()
QTimer.singleShot(2500, loop.quit)
loop.exec()
print("after the GUI ran:", finalised_in, flush=True)
os._exit(0)
"""


def test_a_widget_dropped_in_a_cycle_is_freed_on_the_gui_thread_not_by_a_background_task():
    """A background task's allocations must not make Python collect the window's garbage
    in that task's thread: a widget finalised there once froze the window for good (inside
    a paint event). The app collects on the GUI thread instead, within seconds."""
    done = subprocess.run(
        [sys.executable, "-c", GARBAGE_IN_A_THREAD],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines == ["after the task: []", "after the GUI ran: ['MainThread']"], done.stdout
