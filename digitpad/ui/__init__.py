"""DigitPad's widgets. They call ``digitpad.core``; they never re-implement it."""

from digitpad.ui.main_window import MainWindow

__all__ = ["MainWindow"]
