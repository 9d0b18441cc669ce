"""Loads networks in a background thread, so the window shows before TensorFlow has loaded."""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal, Slot

from digitpad.core.predictor import ModelSource, Predictor, WeightsError, first_line


class _LoadWorker(QObject):
    loaded = Signal(object, object)  # (ModelSource, Predictor)
    failed = Signal(object, str)  # (ModelSource, message)

    @Slot(object)
    def load(self, source: ModelSource) -> None:
        try:
            predictor = Predictor(source)
        except WeightsError as exc:
            self.failed.emit(source, str(exc))
        except Exception as exc:  # TensorFlow can fail in many ways; the app must not
            self.failed.emit(source, f"{source.name} could not be loaded: {first_line(exc)}")
        else:
            self.loaded.emit(source, predictor)


class ModelLoader(QObject):
    """Builds ``Predictor``s off the GUI thread and caches them by source.

    Signals ``ready(source, predictor)`` and ``failed(source, message)`` arrive on the GUI
    thread. Requests are served one at a time, in order.
    """

    ready = Signal(object, object)
    failed = Signal(object, str)
    _request = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._cache: dict[ModelSource, Predictor] = {}
        self._thread = QThread()
        self._thread.setObjectName("model-loader")
        self._worker = _LoadWorker()
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.load)
        self._worker.loaded.connect(self._on_loaded)
        self._worker.failed.connect(self.failed)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.start()

    def request(self, source: ModelSource) -> None:
        """Ask for ``source``; ``ready`` follows (at once if it was loaded before)."""
        if source in self._cache:
            self.ready.emit(source, self._cache[source])
        else:
            self._request.emit(source)

    def _on_loaded(self, source: ModelSource, predictor: Predictor) -> None:
        self._cache[source] = predictor
        self.ready.emit(source, predictor)

    def shutdown(self) -> None:
        """Stop the thread (waits for a load in progress to end)."""
        self._thread.quit()
        self._thread.wait()
