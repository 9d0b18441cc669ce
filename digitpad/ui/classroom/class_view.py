"""The Class view: a teacher's class of hand-ins. One table per exercise (a row per
student, a column per swept value; the class's median, spread and the lab report's value
above it), its strip plot, the flags with their reasons; a student's report opened; a
number checked by training its run again; the class report exported."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.classroom.check import check_number
from digitpad.core.classroom.class_report import class_document, class_figure, flag_text
from digitpad.core.classroom.class_store import ClassSettings, ClassStore
from digitpad.core.classroom.class_tables import ClassOverview, ClassTable, read_class
from digitpad.core.engine import make_backend
from digitpad.core.lab.exercises import EXERCISES
from digitpad.core.machine.files import replacing
from digitpad.render.report_figures import add_series, figure_plot
from digitpad.ui.common.background import run_in_background
from digitpad.ui.common.widgets import button

FLAGGED = QColor(255, 214, 204)  # a flagged cell's background
STUDENT_ROLE = Qt.ItemDataRole.UserRole + 1
SUMMARY = ("class median", "spread (MAD)", "lab report")
PICKED = "picked"  # the chosen student's series in the strip plot


class StudentTableModel(QAbstractTableModel):
    """One exercise's students: their name, then their figure in each column; a flagged
    cell is tinted and its tooltip says why."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.data_: ClassOverview | None = None
        self.table: ClassTable | None = None
        self.ids: list[int] = []
        self.names: dict[int, str] = {}
        self.reasons: dict[tuple[int, str | None], list[str]] = {}

    def show_table(self, data: ClassOverview, table: ClassTable | None) -> None:
        self.beginResetModel()
        self.data_, self.table = data, table
        self.ids = [s.id for s in data.students]
        self.names = {s.id: s.name for s in data.students}
        self.reasons = {}
        for flag in data.flags:
            if table is None or flag.exercise in (None, table.exercise):
                self.reasons.setdefault((flag.student_id, flag.column), []).append(flag.reason)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.table is None else 1 + len(self.table.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return "student" if section == 0 else self.table.columns[section - 1]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.table is None:
            return None
        student = self.ids[index.row()]
        column = None if index.column() == 0 else self.table.columns[index.column() - 1]
        value = None if column is None else self.table.rows[student][index.column() - 1]
        reasons = self.reasons.get((student, column), [])
        if role == Qt.ItemDataRole.DisplayRole:
            if column is None:
                return self.names[student] + (" ⚑" if self._flagged(student) else "")
            return "—" if value is None else f"{value:.4f}"
        if role == Qt.ItemDataRole.UserRole:  # what sorting compares
            return self.names[student].casefold() if column is None else (value or -1.0)
        if role == STUDENT_ROLE:
            return student
        if role == Qt.ItemDataRole.BackgroundRole and reasons:
            return QBrush(FLAGGED)
        if role == Qt.ItemDataRole.ToolTipRole and (reasons or column is None):
            everything = reasons if column else self._all_reasons(student)
            return "\n".join(everything) or None
        return None

    def _flagged(self, student: int) -> bool:
        return any(key[0] == student for key in self.reasons)

    def _all_reasons(self, student: int) -> list[str]:
        return [r for (who, _), reasons in self.reasons.items() if who == student for r in reasons]


class ClassWindow(QWidget):
    """The Class view, a window of its own. ``message(str)`` says what happened;
    ``checked(student, exercise, column, comparison)`` when *Check this number* ends."""

    message = Signal(str)
    checked = Signal(str, str, str, object)

    def __init__(self, store: ClassStore, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("DigitPad: the class")
        self.setObjectName("classView")
        self.resize(1100, 720)
        self.store = store
        self.data_: ClassOverview | None = None
        self.picked: int | None = None
        self.opened_report: Path | None = None
        self._stop = threading.Event()
        self._reports = tempfile.TemporaryDirectory(prefix="digitpad-class-")

        self.exercise = QComboBox(objectName="classExercise")
        self.exercise.currentIndexChanged.connect(self._show_exercise)
        self.import_button = button(
            "Import a folder…",
            "classImportButton",
            "Import the hand-ins in a folder (again: only new or changed files)",
            lambda: self.import_folder(),
        )
        self.report_button = button(
            "Class report…",
            "classReportButton",
            "The class's tables, plots and flags as PDF, HTML or Markdown",
            lambda: self.export_report(),
        )
        self.open_button = button(
            "Open report",
            "openReportButton",
            "The selected student's report, as handed in",
            lambda: self.open_report(),
        )
        self.check_button = button(
            "Check this number",
            "checkNumberButton",
            "Train the selected cell's run again "
            "from its settings and seed: same, within tolerance, or what differs",
            lambda: self.check_selected(),
        )
        self.exercises_edit = QLineEdit(objectName="classExercises")
        self.exercises_edit.setToolTip("The exercises the class was asked to run, e.g. ex1,ex4")
        self.images_spin = QSpinBox(objectName="classTrainLimit", maximum=60_000)
        self.images_spin.setSpecialValueText("all 60,000")
        self.images_spin.setToolTip("The training images the class was asked to use")
        self.epochs_spin = QSpinBox(objectName="classEpochs", maximum=1000)
        self.epochs_spin.setSpecialValueText("the lab's")
        self.epochs_spin.setToolTip("The epochs the class was asked to run (not exercise 8's)")
        apply = button(
            "Apply",
            "classSettingsButton",
            "Judge the hand-ins against these settings",
            lambda: self.apply_settings(),
        )
        self.cluster = QLineEdit(objectName="classCluster")
        self.cluster.setPlaceholderText("here (or a Dask cluster: tcp://HOST:8786)")
        self.cluster.setToolTip("Where Check this number trains the run again")
        self.summary = QTableWidget(3, 0, objectName="classSummary")
        self.summary.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.summary.verticalHeader().setDefaultSectionSize(24)
        self.summary.setFixedHeight(3 * 24 + 40)
        self.model = StudentTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.table = QTableView(objectName="classTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # by name, A first
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.selectionModel().currentChanged.connect(self._on_cell)
        self.table.doubleClicked.connect(lambda _index: self.open_report())
        self.flags = QListWidget(objectName="classFlags")
        self.flags.setWordWrap(True)
        self.flags.itemClicked.connect(self._on_flag)
        self.state = QLabel("", objectName="classState")
        self.state.setWordWrap(True)
        self.plot_box = QVBoxLayout()
        self.plot = None

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Exercise"))
        bar.addWidget(self.exercise, 1)
        for widget in (self.open_button, self.check_button, self.import_button, self.report_button):
            bar.addWidget(widget)
        asked = QHBoxLayout()
        asked.addWidget(QLabel("The class ran: exercises"))
        asked.addWidget(self.exercises_edit, 1)
        asked.addWidget(QLabel("training images"))
        asked.addWidget(self.images_spin)
        asked.addWidget(QLabel("epochs"))
        asked.addWidget(self.epochs_spin)
        asked.addWidget(apply)
        asked.addWidget(QLabel("check on"))
        asked.addWidget(self.cluster)
        left = QWidget()
        column = QVBoxLayout(left)
        column.addWidget(self.summary)
        column.addWidget(self.table, 1)
        right = QWidget()
        side = QVBoxLayout(right)
        side.addLayout(self.plot_box, 2)
        side.addWidget(QLabel("<b>Flags</b> (click one to see the cell)"))
        side.addWidget(self.flags, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([620, 480])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(asked)
        layout.addWidget(self.state)
        layout.addWidget(split, 1)
        self.message.connect(self.state.setText)
        self.reload()

    # --- contents -------------------------------------------------------------------------

    def apply_settings(self) -> None:
        """Judge the class against the settings in the row above the table."""
        keys = tuple(k.strip() for k in self.exercises_edit.text().split(",") if k.strip())
        settings = ClassSettings(
            keys or EXERCISES, self.images_spin.value() or None, self.epochs_spin.value() or None
        )
        try:
            self.store.set_settings(settings)
        except ValueError as exc:
            self.message.emit(str(exc))
            return
        self.reload()

    def reload(self) -> None:
        """Read the class from its store and show it."""
        self.data_ = read_class(self.store)
        settings = self.data_.settings
        self.exercises_edit.setText(",".join(settings.exercises))
        self.images_spin.setValue(settings.train_limit or 0)
        self.epochs_spin.setValue(settings.epochs or 0)
        current = self.exercise.currentData()
        self.exercise.blockSignals(True)
        self.exercise.clear()
        for table in self.data_.tables:
            self.exercise.addItem(table.title, table.exercise)
        self.exercise.setCurrentIndex(max(self.exercise.findData(current), 0))
        self.exercise.blockSignals(False)
        self.flags.clear()
        for flag in self.data_.flags:
            item = QListWidgetItem(flag_text(flag).replace("**", ""))
            item.setData(Qt.ItemDataRole.UserRole, flag)
            self.flags.addItem(item)
        flagged = len({f.student_id for f in self.data_.flags})
        self.state.setText(
            f"{len(self.data_.students)} hand-ins, {flagged} with flags; the class ran: "
            f"{self.data_.settings.text()}."
        )
        self._show_exercise()

    def current_table(self) -> ClassTable | None:
        key = self.exercise.currentData()
        return next((t for t in self.data_.tables if t.exercise == key), None)

    def _show_exercise(self, *_args) -> None:
        table = self.current_table()
        self.model.show_table(self.data_, table)
        self.summary.setColumnCount(len(table.columns) if table else 0)
        self.summary.setVerticalHeaderLabels(list(SUMMARY))
        if table is not None:
            self.summary.setHorizontalHeaderLabels(table.columns)
            for row, values in enumerate((table.median, table.spread, table.lab)):
                for i, value in enumerate(values):
                    text = "—" if value is None else f"{value:.4f}"
                    self.summary.setItem(row, i, QTableWidgetItem(text))
        self._draw()

    def _draw(self) -> None:
        table = self.current_table()
        if self.plot is not None:
            self.plot_box.removeWidget(self.plot)
            self.plot.deleteLater()
            self.plot = None
        if table is not None:
            self.plot = figure_plot(class_figure(table, self.picked))
            self.plot_box.addWidget(self.plot)

    def sort_by(self, column: int, order=Qt.SortOrder.DescendingOrder) -> None:
        """Sort the students by a column of the table (0: by name)."""
        self.table.sortByColumn(column, order)

    # --- choosing a student or a cell ------------------------------------------------------

    def _on_cell(self, current, _previous=None) -> None:
        student = current.data(STUDENT_ROLE) if current.isValid() else None
        table = self.current_table()
        if student == self.picked or table is None or self.plot is None:
            return
        self.picked = student  # their points stand out; the rest of the plot stays
        for item in self.plot.plotItem.listDataItems():
            if item.name() == PICKED:
                self.plot.removeItem(item)
        picked = [s for s in class_figure(table, student).series if s.style == PICKED]
        for series in picked:
            add_series(self.plot, series)

    def select(self, student_id: int, column: str | None = None) -> None:
        """Select a student's cell (their name without ``column``)."""
        table = self.current_table()
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(STUDENT_ROLE) == student_id:
                col = 0 if column is None or table is None else table.columns.index(column) + 1
                self.table.setCurrentIndex(self.proxy.index(row, col))
                return

    def _on_flag(self, item: QListWidgetItem) -> None:
        flag = item.data(Qt.ItemDataRole.UserRole)
        if flag.exercise and self.exercise.findData(flag.exercise) >= 0:
            self.exercise.setCurrentIndex(self.exercise.findData(flag.exercise))
        self.select(flag.student_id, flag.column)

    def selected(self) -> tuple[int | None, str | None]:
        """The selected student, and the selected column (None on their name)."""
        index = self.table.currentIndex()
        if not index.isValid():
            return None, None
        table = self.current_table()
        column = None if index.column() == 0 else table.columns[index.column() - 1]
        return index.data(STUDENT_ROLE), column

    # --- actions ---------------------------------------------------------------------------

    def open_report(self) -> Path | None:
        """Open the selected student's report (the HTML in their hand-in) in the browser."""
        student, _ = self.selected()
        if student is None:
            self.message.emit("Select a student first.")
            return None
        path = Path(self._reports.name) / f"student-{student}.html"
        try:
            with replacing(path) as partial:  # a browser may be reading the earlier copy
                partial.write_bytes(self.store.report_html(student))
        except OSError as exc:
            self.message.emit(
                f"The report could not be opened: {exc.strerror or exc} while writing its copy "
                f"to {path.parent}; free some space there and try again."
            )
            return None
        self.opened_report = path
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        self.message.emit(f"Opened {self.data_.student(student).name}'s report ({path}).")
        return path

    def check_selected(self) -> None:
        """*Check this number*: the selected cell's run trained again, in the background."""
        student, column = self.selected()
        table = self.current_table()
        if student is None or column is None or table is None:
            self.message.emit("Select a student's number (a cell) first.")
            return
        name = self.data_.student(student).name
        store, data, exercise = self.store, self.data_, table.exercise
        self.check_button.setEnabled(False)
        self.message.emit(f"Training {name}'s run for {exercise}, {column} again…")

        def done(comparison) -> None:
            self.check_button.setEnabled(True)
            self.message.emit(f"{name}, {exercise}, {column}: " + "; ".join(comparison.lines()))
            self.checked.emit(name, exercise, column, comparison)

        def failed(why: str) -> None:
            self.check_button.setEnabled(True)
            self.message.emit(f"{name}'s number could not be checked: {why}")

        stop, address = self._stop.is_set, self.cluster.text().strip()

        def check():
            backend = make_backend(address) if address else None
            try:
                return check_number(store, data, name, exercise, column, stop, backend)
            finally:
                if backend is not None:
                    backend.close()

        run_in_background(check, done, failed, self)

    def import_folder(self, folder: str | None = None) -> None:
        """Import the hand-ins in ``folder`` (asked when None) and show the class again."""
        if not folder:
            folder = QFileDialog.getExistingDirectory(self, "The folder of hand-ins")
            if not folder:
                return
        try:
            done = self.store.import_folder(Path(folder))
        except ValueError as exc:
            self.message.emit(str(exc))
            return
        self.reload()
        self.message.emit(" ".join(done.lines()))

    def export_report(self, path: str | None = None) -> Path | None:
        """Write the class report (its name picks PDF, HTML or Markdown)."""
        from digitpad.render.report_files import ExportError, export

        if not path:
            path, _ = QFileDialog.getSaveFileName(
                self, "The class report", "class-report.pdf", "PDF (*.pdf);;HTML (*.html)"
            )
            if not path:
                return None
        try:
            written = export(class_document(self.data_), path)
        except ExportError as exc:
            self.message.emit(f"The class report was not written: {exc}")
            return None
        self.message.emit(f"Class report written to {written}")
        return written

    def closeEvent(self, event) -> None:
        self._stop.set()  # a number being checked stops after its current batch
        super().closeEvent(event)
