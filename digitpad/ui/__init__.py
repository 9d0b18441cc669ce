"""DigitPad's widgets. They call ``digitpad.core``; they never re-implement it."""

from __future__ import annotations

__all__ = ["MainWindow"]


def __getattr__(name: str):
    # The window (and Qt) load on first use: the command line reads ``ui.tab_names``
    # without starting Qt.
    if name == "MainWindow":
        from digitpad.ui.main_window import MainWindow

        return MainWindow
    raise AttributeError(f"module 'digitpad.ui' has no attribute {name!r}")
