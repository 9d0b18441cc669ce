"""A tab page built the first time it is shown or used."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QVBoxLayout, QWidget


class LazyPage(QWidget):
    """Holds a widget made by ``factory`` on first need: a tab's plots (pyqtgraph plots,
    about 30-50 ms each) and modules would otherwise all be built at start-up."""

    def __init__(self, factory: Callable[[], QWidget], parent: QWidget | None = None):
        super().__init__(parent)
        self._factory = factory
        self._content: QWidget | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    def is_built(self) -> bool:
        return self._content is not None

    def content(self) -> QWidget:
        """The page's widget, built now if it was not yet."""
        if self._content is None:
            self._content = self._factory()
            self.layout().addWidget(self._content)
        return self._content

    def showEvent(self, event) -> None:
        self.content()
        super().showEvent(event)
