"""The main window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget

from digitpad.core.paths import PACKAGE_DIR, data_home
from digitpad.core.runs import RunStore

ICON_PATH = PACKAGE_DIR / "ui" / "icon.png"


class MainWindow(QMainWindow):
    """DigitPad's window; builds with no arguments (data folder from ``DIGITPAD_HOME``)."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("DigitPad")
        self.setWindowIcon(QIcon(str(ICON_PATH)))
        self.store = RunStore(data_home())
        self.tabs = QTabWidget(objectName="mainTabs")
        runs = self.store.list_runs()
        summary = QLabel(
            f"<h2>DigitPad</h2><p>{len(runs)} run(s) stored in {self.store.path}.</p>"
            "<p>Train from the command line: <code>digitpad train --model mlp</code>; "
            "list runs with <code>digitpad runs</code>.</p>"
        )
        summary.setAlignment(Qt.AlignmentFlag.AlignCenter)
        summary.setWordWrap(True)
        self.tabs.addTab(summary, "Results")
        self.setCentralWidget(self.tabs)
        if self.store.recovery_message:
            self.statusBar().showMessage(self.store.recovery_message)
        self.resize(900, 640)
