"""Python's cyclic garbage collector, run on the GUI thread only.

Left automatic, a collection runs in whichever thread happens to allocate: a background
task, the engine's thread, the Dask client's threads. Widgets and pictures caught in a
reference cycle are then finalised off the GUI thread, where Qt objects must not be
deleted: shiboken defers their deletion to the GUI thread, and in the test suite that once
deadlocked inside a paint event (the window froze for good) and once crashed. pyqtgraph's
GarbageCollector is made for this: automatic collection off, a timer collects on the GUI
thread instead.
"""

from __future__ import annotations

from pyqtgraph.util.garbage_collector import GarbageCollector

COLLECT_EVERY_S = 1.0  # young garbage waits at most this long (or for the next full cycle)

_collector: GarbageCollector | None = None


def collect_on_gui_thread() -> None:
    """From now on, this process collects cycles only on the GUI thread (call it there,
    once a QApplication exists; calling it again does nothing)."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=COLLECT_EVERY_S)
