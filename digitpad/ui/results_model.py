"""The run table as a Qt model, with a proxy that sorts numbers as numbers and blanks last."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

from digitpad.core.runs import RunRecord

_ModelIndex = QModelIndex | QPersistentModelIndex


def _result(attr: str) -> Callable[[RunRecord], Any]:
    return lambda r: getattr(r.result, attr) if r.result else None


def _cnn(attr: str) -> Callable[[RunRecord], Any]:
    return lambda r: getattr(r.spec, attr) if r.spec.is_cnn else None


# (header, value getter, display format, tooltip)
COLUMNS: list[tuple[str, Callable[[RunRecord], Any], str, str]] = [
    ("ID", lambda r: r.id, "{}", "Run number"),
    ("When", lambda r: r.created_at, "{}", "When the run started"),
    ("Model", lambda r: r.spec.model, "{}", "Network kind"),
    ("Neurons", lambda r: r.spec.neurons, "{}", "Hidden dense units"),
    ("Filters", _cnn("filters"), "{}", "Filters of the first convolution"),
    ("Kernel", _cnn("kernel_size"), "{0}x{0}", "Convolution kernel size"),
    ("Epochs", lambda r: r.spec.epochs, "{}", "Epochs asked for"),
    ("Batch", lambda r: r.spec.batch_size, "{}", "Batch size"),
    ("Metric", lambda r: r.spec.metric, "{}", "Metric reported during training"),
    ("Images", lambda r: r.spec.train_size, "{:,}", "Training images used"),
    ("LR", lambda r: r.spec.learning_rate, "{:g}", "Learning rate (blank: Keras default)"),
    ("Seed", _result("seed"), "{}", "Random seed used"),
    ("Accuracy", _result("test_accuracy"), "{:.4f}", "Test accuracy (lab: system accuracy)"),
    ("Error %", _result("baseline_error"), "{:.2f}", "Lab's baseline error: 100 - accuracy x 100"),
    ("MSE", _result("test_mse"), "{:.4f}", "Mean squared error of the test probabilities"),
    (
        "Time (s)",
        _result("convergence_time"),
        "{:.1f}",
        "Convergence time: wall time of training, validation included",
    ),
    ("Params", _result("params"), "{:,}", "Trainable and other parameters"),
    ("Epochs run", _result("epochs_run"), "{}", "Epochs completed"),
    ("Status", lambda r: r.status, "{}", "done, stopped, failed, interrupted or running"),
    ("Sweep", lambda r: r.sweep_id, "{}", "Sweep the run belongs to"),
]
COLUMN_INDEX = {header: i for i, (header, *_rest) in enumerate(COLUMNS)}
RECORD_ROLE = Qt.ItemDataRole.UserRole
STATUS_COLOURS = {
    "failed": QColor("#b00020"),
    "interrupted": QColor("#a05a00"),
    "stopped": QColor("#555555"),
    "running": QColor("#1f5fbf"),
}


class RunTableModel(QAbstractTableModel):
    """One row per stored run."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._records: list[RunRecord] = []
        self._order: tuple[int, Qt.SortOrder] = (-1, Qt.SortOrder.AscendingOrder)

    def rowCount(self, parent: _ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: _ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._records)):
            return None
        record = self._records[index.row()]
        header, getter, fmt, _tip = COLUMNS[index.column()]
        if role == RECORD_ROLE:
            return record
        value = getter(record)
        if role == Qt.ItemDataRole.DisplayRole:
            return "" if value is None else fmt.format(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, int | float):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and header == "Status":
            return STATUS_COLOURS.get(record.status)
        if role == Qt.ItemDataRole.ToolTipRole and record.error:
            return record.error
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][3]
        return None

    # --- changes ---------------------------------------------------------------------------

    def set_records(self, records: list[RunRecord]) -> None:
        self.beginResetModel()
        self._records = sorted_records(records, *self._order)
        self.endResetModel()

    def upsert(self, record: RunRecord) -> None:
        """Add a new run, or refresh the row of a known one (keeping the sort order)."""
        for row, existing in enumerate(self._records):
            if existing.id == record.id:
                self._records[row] = record
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
                break
        else:
            row = len(self._records)
            self.beginInsertRows(QModelIndex(), row, row)
            self._records.append(record)
            self.endInsertRows()
        self.sort(*self._order)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column's raw values, blanks (None, NaN) last in both directions.

        Done here in one Python ``sorted`` rather than by the proxy, whose per-pair
        ``lessThan`` calls into Python took 1.7 s for 10,000 runs.
        """
        self._order = (column, order)
        if column < 0:
            return
        self.layoutAboutToBeChanged.emit()
        before = self._records
        self._records = sorted_records(before, column, order)
        new_rows = {record.id: row for row, record in enumerate(self._records)}
        old_indexes = self.persistentIndexList()
        new_indexes = [
            self.index(new_rows[before[i.row()].id], i.column())
            if 0 <= i.row() < len(before)
            else QModelIndex()
            for i in old_indexes
        ]
        self.changePersistentIndexList(old_indexes, new_indexes)
        self.layoutChanged.emit()

    def record_at(self, row: int) -> RunRecord:
        return self._records[row]

    def remove_ids(self, ids: set[int]) -> None:
        for row in range(len(self._records) - 1, -1, -1):
            if self._records[row].id in ids:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._records[row]
                self.endRemoveRows()

    def records(self) -> list[RunRecord]:
        return list(self._records)


class RunFilterProxy(QSortFilterProxyModel):
    """Filters by model and sweep; sorting is handed to the source model (see its ``sort``)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model_kind: str | None = None
        self.sweep_id: str | None = None
        self._order: tuple[int, Qt.SortOrder] = (-1, Qt.SortOrder.AscendingOrder)

    def set_filters(self, model_kind: str | None, sweep_id: str | None) -> None:
        self.beginFilterChange()
        self.model_kind, self.sweep_id = model_kind, sweep_id
        self.endFilterChange()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._order = (column, order)
        self.sourceModel().sort(column, order)

    def sortColumn(self) -> int:
        return self._order[0]

    def sortOrder(self) -> Qt.SortOrder:
        return self._order[1]

    def filterAcceptsRow(self, row: int, parent: _ModelIndex) -> bool:
        if not (self.model_kind or self.sweep_id):
            return True
        record = self.sourceModel().record_at(row)
        if self.model_kind and record.spec.model != self.model_kind:
            return False
        return not (self.sweep_id and record.sweep_id != self.sweep_id)


def sorted_records(records: list[RunRecord], column: int, order: Qt.SortOrder) -> list[RunRecord]:
    """``records`` by ``COLUMNS[column]``'s raw value, blanks last whichever the order."""
    if column < 0:
        return list(records)
    getter = COLUMNS[column][1]
    keyed = [(getter(r), r) for r in records]
    present = [(v, r) for v, r in keyed if not _blank(v)]
    blanks = [r for v, r in keyed if _blank(v)]
    present.sort(key=lambda pair: pair[0], reverse=order == Qt.SortOrder.DescendingOrder)
    return [r for _, r in present] + blanks


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
