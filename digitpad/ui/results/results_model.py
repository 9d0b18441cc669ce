"""The run table as a Qt model over the run store: SQLite sorts and filters, and only the
rows on screen are read, so 10,000 runs open, sort and filter in milliseconds."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from digitpad.core.nets.status import RunStatus
from digitpad.core.store.run_columns import COLUMNS
from digitpad.core.store.runs import RunRecord, RunRow, RunStore, RunStoreError

_ModelIndex = QModelIndex | QPersistentModelIndex

COLUMN_INDEX = {header: i for i, (header, *_rest) in enumerate(COLUMNS)}
ROW_ROLE = Qt.ItemDataRole.UserRole  # the row's RunRow
STATUS_COLOURS = {
    RunStatus.FAILED: QColor("#b00020"),
    RunStatus.INTERRUPTED: QColor("#a05a00"),
    RunStatus.STOPPED: QColor("#555555"),
    RunStatus.RUNNING: QColor("#1f5fbf"),
}
BLOCK = 200  # rows read from the store at once, around the one asked for


class RunTableModel(QAbstractTableModel):
    """One row per stored run of the current filters, in the current sort order.

    Holds only the ordered ids; a row's values are read from the store in blocks the
    first time the view asks for them. ``set_filters`` picks a model kind and a sweep.
    """

    def __init__(self, store: RunStore, parent=None):
        super().__init__(parent)
        self.store = store
        self._ids: list[int] = []
        self._rows: dict[int, RunRow] = {}
        self._order: tuple[int, Qt.SortOrder] = (0, Qt.SortOrder.AscendingOrder)
        self.model_kind: str | None = None
        self.sweep_id: str | None = None

    def rowCount(self, parent: _ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._ids)):
            return None
        row = self.row_at(index.row())
        if row is None:
            return None
        if role == ROW_ROLE:
            return row
        column = COLUMNS[index.column()]
        value = getattr(row, column.field)
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, int | float):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column.field == "status":
            return STATUS_COLOURS.get(row.status)
        if role == Qt.ItemDataRole.ToolTipRole and row.error:
            return row.error
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].header
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section].tip
        return None

    # --- reading -----------------------------------------------------------------------------

    def row_at(self, row: int) -> RunRow | None:
        """The run shown in ``row`` (None if it was deleted by another window since)."""
        run_id = self._ids[row]
        if run_id not in self._rows:
            start = row - row % BLOCK
            try:
                self._rows.update(self.store.rows(self._ids[start : start + BLOCK]))
            except RunStoreError:
                return None  # locked for longer than the store waits: blank until repainted
        return self._rows.get(run_id)

    def row_of(self, run_id: int) -> int:
        """The row showing ``run_id``, or -1."""
        try:
            return self._ids.index(run_id)
        except ValueError:
            return -1

    def _query(self) -> list[int]:
        column, order = self._order
        return self.store.ordered_ids(
            COLUMNS[column].field if 0 <= column < len(COLUMNS) else "id",
            order == Qt.SortOrder.DescendingOrder,
            self.model_kind,
            self.sweep_id,
        )

    # --- changes -----------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the run list again (another window or the CLI may have added runs)."""
        self.beginResetModel()
        self._rows.clear()
        self._ids = self._query()
        self.endResetModel()

    def refresh_rows(self) -> None:
        """Read the shown rows' values again (new My digits scores), keeping the order and
        the selection; a sort by a changed column is applied at the next sort."""
        self._rows.clear()
        if self._ids:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._ids) - 1, len(COLUMNS) - 1)
            )

    def set_filters(self, model_kind: str | None, sweep_id: str | None) -> None:
        if (model_kind, sweep_id) != (self.model_kind, self.sweep_id):
            self.model_kind, self.sweep_id = model_kind, sweep_id
            self.reload()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column's values, blanks last in both directions (done by SQLite)."""
        if (column, order) == self._order and self._ids:
            return  # the view asks again for the order it already has
        self._order = (column, order)
        ids = self._query()
        if len(ids) == len(self._ids) and set(ids) == set(self._ids):
            self._reorder(ids)  # the same runs: selections follow them
        else:  # runs came or went meanwhile (or none were read yet)
            self.beginResetModel()
            self._ids = ids
            self.endResetModel()

    def _reorder(self, ids: list[int]) -> None:
        """Show the same runs in a new order, keeping selections and the current row."""
        self.layoutAboutToBeChanged.emit()
        before = self._ids
        self._ids = ids
        new_rows = {run_id: row for row, run_id in enumerate(ids)}
        old_indexes = self.persistentIndexList()
        new_indexes = [
            self.index(new_rows[before[i.row()]], i.column())
            if 0 <= i.row() < len(before) and before[i.row()] in new_rows
            else QModelIndex()
            for i in old_indexes
        ]
        self.changePersistentIndexList(old_indexes, new_indexes)
        self.layoutChanged.emit()

    def upsert(self, record: RunRecord) -> None:
        """Show a new or changed run where the current sort and filters put it."""
        self._rows[record.id] = RunRow.from_record(record)
        ids = self._query()
        if [i for i in ids if i != record.id] != [i for i in self._ids if i != record.id]:
            self.reload()  # other runs changed too (another window, the CLI): read afresh
            return
        known = record.id in self._ids
        if known and record.id in ids:  # changed: it may move
            self._reorder(ids)
            row = self.row_of(record.id)
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        elif known:  # no longer passes the filters
            self.remove_ids({record.id})
        elif record.id in ids:  # new: the others keep their order around it
            row = ids.index(record.id)
            self.beginInsertRows(QModelIndex(), row, row)
            self._ids.insert(row, record.id)
            self.endInsertRows()

    def remove_ids(self, ids: set[int]) -> None:
        for row in range(len(self._ids) - 1, -1, -1):
            if self._ids[row] in ids:
                self.beginRemoveRows(QModelIndex(), row, row)
                self._rows.pop(self._ids[row], None)
                del self._ids[row]
                self.endRemoveRows()
