"""Run a slow core call (loading a network, predicting 10,000 images) off the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Signals(QObject):
    finished = Signal(object)
    failed = Signal(str)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _Signals):
        super().__init__()
        self.fn = fn
        self.signals = signals

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # reported to the caller, who says it in the window
            text = str(exc).strip() or type(exc).__name__
            self.signals.failed.emit(text)
        else:
            self.signals.finished.emit(result)


_KEEP: set[_Signals] = set()  # the signals objects live until their task has reported


def run_in_background(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[str], None],
    receiver: QObject,
) -> None:
    """Call ``fn()`` in Qt's thread pool; ``on_done(result)`` or ``on_error(message)`` then
    runs on ``receiver``'s (GUI) thread. Nothing is called if ``receiver`` is gone."""
    signals = _Signals()
    signals.moveToThread(receiver.thread())
    signals.finished.connect(on_done)
    signals.failed.connect(on_error)
    _KEEP.add(signals)
    signals.finished.connect(lambda *_: _KEEP.discard(signals))
    signals.failed.connect(lambda *_: _KEEP.discard(signals))
    QThreadPool.globalInstance().start(_Task(fn, signals))


def wait_for_background(timeout_ms: int = 60_000) -> bool:
    """Wait until every background task has finished (window closing, tests)."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
