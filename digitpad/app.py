"""Start the Qt application (kept apart from cli.py so headless commands never load Qt)."""

from __future__ import annotations

import sys
from pathlib import Path

# A screenshot waits this long at most for the network to load, to show the ready window.
SCREENSHOT_WAIT_S = 30


def run_gui(
    screenshot: str | None = None,
    tab: str | None = None,
    sample_digit: int | None = None,
    look_inside: str | None = None,
    class_folder: str | None = None,
) -> int:
    """Show the main window; with ``screenshot``, render it to that PNG and exit instead.

    ``look_inside`` opens the Draw tab's "Look inside" view with that saliency method;
    ``class_folder`` opens the Class view, the hand-ins in that folder imported.
    """
    from PySide6.QtWidgets import QApplication, QMessageBox

    from digitpad.core.machine.files import write_failure
    from digitpad.core.machine.paths import DataFolderError
    from digitpad.render.pictures import save_image
    from digitpad.ui import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("DigitPad")
    app.setOrganizationName("DigitPad")
    try:
        window = MainWindow()
    except DataFolderError as exc:
        if not screenshot:  # launched from a menu, the terminal's line would go unseen
            QMessageBox.critical(None, "DigitPad cannot start", str(exc))
        raise
    if tab:
        window.select_tab(tab)
    if look_inside:
        window.draw_tab.inside.choose_method(look_inside)
        window.draw_tab.show_inside(True)
    if sample_digit is not None:
        window.draw_tab.draw_sample(sample_digit)
    shown = window
    if class_folder:
        shown = window.open_class(class_folder) or window
    if screenshot:
        window.show()
        window.wait_until_ready(SCREENSHOT_WAIT_S)
        if look_inside:
            window.wait_for_inside(SCREENSHOT_WAIT_S)
        try:
            save_image(shown.grab().toImage(), Path(screenshot))
        except OSError as exc:
            print(f"digitpad: {write_failure(screenshot, exc)}", file=sys.stderr)
            return 1
        finally:
            window.close()
        return 0
    window.show()
    return app.exec()
