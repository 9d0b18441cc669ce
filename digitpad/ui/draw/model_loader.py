"""Loads networks in the background, so the window shows before TensorFlow has loaded."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from digitpad.core.inference.predictor import ModelSource, Predictor, WeightsError
from digitpad.core.machine.errors import first_line
from digitpad.ui.common.background import run_in_background, serial_pool


class ModelLoader(QObject):
    """Builds ``Predictor``s off the GUI thread and caches them by source.

    Signals ``ready(source, predictor)`` and ``failed(source, message)`` arrive on the GUI
    thread. Requests are served one at a time, in order.
    """

    ready = Signal(object, object)
    failed = Signal(object, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._cache: dict[ModelSource, Predictor] = {}
        self._pool = serial_pool()

    def request(self, source: ModelSource) -> None:
        """Ask for ``source``; ``ready`` follows (at once if it was loaded before)."""
        if source in self._cache:
            self.ready.emit(source, self._cache[source])
            return
        run_in_background(
            lambda: _load(source),
            lambda predictor: self._on_loaded(source, predictor),
            lambda message: self.failed.emit(source, message),
            self,
            pool=self._pool,
        )

    def _on_loaded(self, source: ModelSource, predictor: Predictor) -> None:
        self._cache[source] = predictor
        self.ready.emit(source, predictor)

    def shutdown(self) -> None:
        """Wait for a load in progress to end."""
        self._pool.wait_for_done()


def _load(source: ModelSource) -> Predictor:
    try:
        return Predictor(source)
    except WeightsError:
        raise
    except Exception as exc:  # TensorFlow can fail in many ways; the app must not
        raise WeightsError(f"{source.name} could not be loaded: {first_line(exc)}") from exc
