"""Every network on the current drawing: a compact table of the shipped networks and the
runs the user pins, with each one's digit and confidence, updating as the user draws.

Predictions run off the GUI thread (one task at a time, the newest drawing wins); the
shipped networks read through LiteRT, pinned runs through their compiled TensorFlow call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from digitpad.core.inference.predictor import ModelSource, Predictor
from digitpad.ui.common.background import NewestOnly

HEADERS = ("Network", "Reads", "Sure")
_Index = QModelIndex | QPersistentModelIndex


@dataclass
class _Row:
    source: ModelSource
    pinned: bool
    probabilities: np.ndarray | None = None
    problem: str | None = None


class NetworksModel(QAbstractTableModel):
    """One row per network: its name, the digit it reads and how sure it is."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[_Row] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        probs = row.probabilities
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == 0:
                return row.source.name + (" (pinned)" if row.pinned else "")
            if row.problem:
                return "—"
            if probs is None:
                return ""
            top = int(np.argmax(probs))
            return str(top) if index.column() == 1 else f"{probs[top]:.0%}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.problem or row.source.spec.describe()
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def set_rows(self, rows: list[_Row]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def set_predictions(self, results: dict[ModelSource, np.ndarray | str | None]) -> None:
        for row in self.rows:
            value = results.get(row.source)
            row.problem = value if isinstance(value, str) else None
            row.probabilities = None if isinstance(value, str) else value
        if self.rows:
            self.dataChanged.emit(self.index(0, 1), self.index(len(self.rows) - 1, 2))


class NetworksPanel(QWidget):
    """The table and its background predictions. ``updated(ms)`` follows each update with
    the time from the drawing's change; ``pinsChanged(list)`` the pinned sources."""

    updated = Signal(float)
    pinsChanged = Signal(list)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = NetworksModel(self)
        self.table = QTableView(objectName="networksTable")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip(
            "Every network on your drawing: the shipped ones and the runs you pin "
            "(Results tab, Pin to Draw). Delete unpins the selected run."
        )
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        # No shortcut of its own: the Draw tab's Delete unpins while this table has focus
        # (two Delete shortcuts there would be ambiguous, and neither would fire).
        unpin = QAction("Unpin (Delete)", self.table)
        unpin.triggered.connect(self.unpin_selected)
        self.table.addAction(unpin)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        self._predictors: dict[ModelSource, Predictor | str] = {}
        self._runner = NewestOnly(self)
        self._wanted: tuple[np.ndarray | None, float] | None = None

    # --- which networks -------------------------------------------------------------------

    def set_shipped(self, sources: list[ModelSource]) -> None:
        pinned = [row.source for row in self.model.rows if row.pinned]
        self.model.set_rows(
            [_Row(s, False) for s in sources] + [_Row(s, True) for s in pinned if s not in sources]
        )

    @property
    def sources(self) -> list[ModelSource]:
        return [row.source for row in self.model.rows]

    def pin(self, source: ModelSource) -> None:
        """Add a run's network to the table (once)."""
        if source in self.sources:
            return
        self.model.set_rows([*self.model.rows, _Row(source, True)])
        self._emit_pins()
        self._again()

    def unpin_selected(self) -> None:
        chosen = {index.row() for index in self.table.selectionModel().selectedRows()}
        keep = [row for i, row in enumerate(self.model.rows) if not (row.pinned and i in chosen)]
        if len(keep) != len(self.model.rows):
            self.model.set_rows(keep)
            self._emit_pins()
            self._again()

    def _emit_pins(self) -> None:
        self.pinsChanged.emit([row.source for row in self.model.rows if row.pinned])

    # --- predictions ----------------------------------------------------------------------

    def set_input(self, x28: np.ndarray | None) -> None:
        """Read ``x28`` (or clear, for None) with every network, in the background."""
        self._wanted = (x28, time.perf_counter())
        if x28 is None:
            self._runner.cancel()
            self.model.set_predictions({})
            return
        self._runner.submit(self._work_for_wanted, self._on_done, lambda _message: None)

    def _again(self) -> None:
        if self._wanted is not None and self._wanted[0] is not None:
            self.set_input(self._wanted[0])

    def _work_for_wanted(self):
        """The background call for the newest drawing, with the networks loaded so far."""
        x28, asked_at = self._wanted
        sources = self.sources
        predictors = dict(self._predictors)

        def work():
            results: dict[ModelSource, np.ndarray | str] = {}
            for source in sources:
                predictor = predictors.get(source)
                if predictor is None:
                    predictor = predictors[source] = _load(source)
                results[source] = (
                    predictor if isinstance(predictor, str) else predictor.predict(x28)
                )
            return x28, asked_at, results, predictors

        return work

    def _on_done(self, outcome) -> None:
        x28, asked_at, results, predictors = outcome
        self._predictors.update(predictors)
        wanted = self._wanted
        if wanted is None or wanted[0] is None:
            return  # cleared meanwhile
        self.model.set_predictions(results)
        if wanted[0] is x28:
            self.updated.emit((time.perf_counter() - asked_at) * 1000)

    def shutdown(self) -> None:
        self._runner.shutdown()


def _load(source: ModelSource) -> Predictor | str:
    """A predictor, or why there is none (shown in its row rather than stopping the rest)."""
    try:
        return Predictor(source)
    except Exception as exc:  # a damaged or missing file: that row says so
        return f"cannot load {source.name}: {exc}"
