"""A sweep's table in the lab's layout (one column per swept value, rows of figures), as
the Results tab's sweep view and the Report tab both show it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QTableView, QWidget

from digitpad.core.lab.sweeps import LabTable


class LabTableView(QTableView):
    """Read-only, as tall as its rows (the plots below get the rest of the space)."""

    def __init__(self, object_name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(object_name)
        self.table_model = QStandardItemModel(self)
        self.setModel(self.table_model)
        self.horizontalHeader().setStretchLastSection(True)

    def show_table(self, table: LabTable | None) -> None:
        self.table_model.clear()
        if table is None:
            return
        self.table_model.setHorizontalHeaderLabels(table.columns)
        self.table_model.setVerticalHeaderLabels([name for name, _ in table.rows])
        for row, (_, cells) in enumerate(table.rows):
            for column, cell in enumerate(cells):
                item = QStandardItem(cell)
                item.setEditable(False)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table_model.setItem(row, column, item)
        self.resizeColumnsToContents()
        rows = sum(self.rowHeight(r) for r in range(self.table_model.rowCount()))
        frame = 2 * self.frameWidth()
        self.setFixedHeight(rows + self.horizontalHeader().height() + frame + 2)
