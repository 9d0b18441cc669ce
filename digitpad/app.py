"""Start the Qt application (kept apart from cli.py so headless commands never load Qt)."""

from __future__ import annotations

import sys
from pathlib import Path


def run_gui(screenshot: str | None = None, tab: str | None = None) -> int:
    """Show the main window; with ``screenshot``, render it to that PNG and exit instead."""
    from PySide6.QtWidgets import QApplication

    from digitpad.ui import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("DigitPad")
    app.setOrganizationName("DigitPad")
    window = MainWindow()
    if screenshot:
        window.show()
        app.processEvents()
        if not window.grab().save(str(Path(screenshot))):
            print(f"digitpad: could not write {screenshot}", file=sys.stderr)
            return 1
        return 0
    window.show()
    return app.exec()
