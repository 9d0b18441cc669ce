"""My digits tab: the personal test set (gallery, delete, relabel, import, export), every
network's score on it, and "Teach it": fine-tune a network on it, with the forgetting meter.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QKeySequence, QShortcut, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QMenu,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.engine import Job
from digitpad.core.inference.model_ref import every_network
from digitpad.core.inference.predictor import Predictor, WeightsError
from digitpad.core.mydigits.finetune import EPOCHS, LEARNING_RATE, plan_finetune
from digitpad.core.mydigits.personal import PersonalScore, score_network
from digitpad.core.nets.results import FineTuneFigures
from digitpad.core.store.my_digits import MyDigits, MyDigitsError
from digitpad.core.store.runs import RunRecord, RunStore
from digitpad.render.my_digits_files import export_from, import_into
from digitpad.render.pictures import grey_image, scaled_pixmap
from digitpad.ui.common.background import run_in_background
from digitpad.ui.common.confusion_plot import ConfusionPlot
from digitpad.ui.mydigits.my_digits_scorer import MyDigitsScorer, Scored

ICON_SIDE = 56
ID_ROLE = Qt.ItemDataRole.UserRole
SOURCE_ROLE = Qt.ItemDataRole.UserRole + 1
NETWORK_CHOICES = 30  # newest runs offered as a starting point


class MyDigitsTab(QWidget):
    """``teachRequested(Job)`` asks the window to train a fine-tune; ``changed()`` follows
    any change to the set; ``message(str)`` reports problems and outcomes."""

    teachRequested = Signal(object)
    changed = Signal()
    message = Signal(str)

    def __init__(
        self,
        store: RunStore,
        my_digits: MyDigits,
        scorer: MyDigitsScorer,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.store = store
        self.my_digits = my_digits
        self.scorer = scorer
        scorer.scored.connect(self._on_scored)
        self.details: dict[str, PersonalScore] = {}

        # --- the set ---
        self.counts_label = QLabel(objectName="myDigitsCounts", wordWrap=True)
        self.gallery_model = QStandardItemModel(self)
        self.gallery = QListView(objectName="myDigitsGallery")
        self.gallery.setModel(self.gallery_model)
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(ICON_SIDE, ICON_SIDE))
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setSpacing(4)
        self.gallery.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.gallery.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.gallery.setToolTip("Your digits, by digit. Delete removes the selected ones.")
        QShortcut(
            QKeySequence.StandardKey.Delete,
            self.gallery,
            self.delete_selected,
            context=Qt.ShortcutContext.WidgetShortcut,
        )
        delete = QPushButton("Delete", objectName="deleteDigitButton")
        delete.clicked.connect(self.delete_selected)
        self.relabel_button = QToolButton(
            objectName="relabelButton",
            text="Relabel as…",
            popupMode=QToolButton.ToolButtonPopupMode.InstantPopup,
        )
        relabel_menu = QMenu(self.relabel_button)
        for digit in range(10):
            relabel_menu.addAction(str(digit), lambda d=digit: self.relabel_selected(d))
        self.relabel_button.setMenu(relabel_menu)
        import_button = _menu_button(
            "Import…",
            "importDigitsButton",
            [
                ("A folder of pictures (0/ … 9/)…", self.import_folder),
                ("A .npz file…", self.import_npz),
            ],
        )
        export_button = _menu_button(
            "Export…",
            "exportDigitsButton",
            [
                ("As a folder of pictures…", self.export_folder),
                ("As a .npz file…", self.export_npz),
            ],
        )
        set_tools = QHBoxLayout()
        set_tools.addWidget(self.counts_label, 1)
        for widget in (delete, self.relabel_button, import_button, export_button):
            set_tools.addWidget(widget)
        set_box = QGroupBox("My digits")
        set_layout = QVBoxLayout(set_box)
        set_layout.addLayout(set_tools)
        set_layout.addWidget(self.gallery, 1)

        # --- every network on them ---
        self.scores_model = QStandardItemModel(0, 2, self)
        self.scores_model.setHorizontalHeaderLabels(["Network", "My digits"])
        self.scores_table = QTableView(objectName="myScoresTable")
        self.scores_table.setModel(self.scores_model)
        self.scores_table.verticalHeader().hide()
        self.scores_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.scores_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.scores_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.scores_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.scores_table.selectionModel().selectionChanged.connect(self._on_network_chosen)
        self.per_digit_plot = pg.PlotWidget(objectName="perDigitPlot")
        self.per_digit_plot.setBackground("w")
        self.per_digit_plot.setYRange(0, 1)
        self.per_digit_plot.setLabel("left", "right on my digits")
        self.per_digit_plot.getAxis("bottom").setTicks([[(d, str(d)) for d in range(10)]])
        self.per_digit_bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7)
        self.per_digit_plot.addItem(self.per_digit_bars)
        self.confusion = ConfusionPlot()
        self.detail_label = QLabel("Select a network to see it digit by digit.", wordWrap=True)
        scores_box = QGroupBox("Every network on my digits")
        scores_layout = QGridLayout(scores_box)
        scores_layout.addWidget(self.scores_table, 0, 0, 2, 1)
        scores_layout.addWidget(self.detail_label, 0, 1, 1, 2)
        scores_layout.addWidget(self.per_digit_plot, 1, 1)
        scores_layout.addWidget(self.confusion, 1, 2)
        scores_layout.setColumnStretch(0, 2)
        scores_layout.setColumnStretch(1, 2)
        scores_layout.setColumnStretch(2, 2)

        # --- teach it ---
        self.base_combo = QComboBox(objectName="teachBase")
        self.base_combo.setToolTip("The network to start from: a shipped one or a run")
        self.epochs_spin = QSpinBox(objectName="teachEpochs", minimum=1, maximum=100)
        self.epochs_spin.setValue(EPOCHS)
        self.replay_check = QCheckBox("Replay MNIST", objectName="replayCheck", checked=True)
        self.replay_check.setToolTip(
            "Mix class-balanced MNIST training images into every batch, so the network "
            "keeps what it knew. Turn it off to see catastrophic forgetting."
        )
        self.freeze_check = QCheckBox("Freeze convolutions", objectName="freezeCheck")
        self.freeze_check.setToolTip("Teach only the dense layers (CNNs)")
        self.teach_button = QPushButton("Teach it my digits", objectName="teachButton")
        self.teach_button.setToolTip(
            f"Fine-tune the network on three quarters of your digits (Adam at "
            f"{LEARNING_RATE:g}); the last quarter tests it. Trains in the training workers: "
            "watch it on the Train tab, stop it there."
        )
        self.teach_button.clicked.connect(self.teach)
        self.teach_status = QLabel(objectName="teachStatus", wordWrap=True)
        self.meter_model = QStandardItemModel(2, 3, self)
        self.meter_model.setHorizontalHeaderLabels(["Before", "After", "Change"])
        self.meter_model.setVerticalHeaderLabels(["MNIST test", "My held-back digits"])
        self.meter_table = QTableView(objectName="forgettingTable")
        self.meter_table.setModel(self.meter_model)
        self.meter_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.meter_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.meter_table.setMaximumHeight(90)
        self.meter_plot = pg.PlotWidget(objectName="forgettingPlot")
        self.meter_plot.setBackground("w")
        self.meter_plot.addLegend(offset=(-10, -10))
        self.meter_plot.setLabel("bottom", "epoch (0: before)")
        self.meter_plot.setLabel("left", "accuracy")
        teach_row = QHBoxLayout()
        teach_row.addWidget(QLabel("Start from"))
        teach_row.addWidget(self.base_combo, 1)
        teach_row.addWidget(QLabel("Epochs"))
        teach_row.addWidget(self.epochs_spin)
        teach_row.addWidget(self.replay_check)
        teach_row.addWidget(self.freeze_check)
        teach_row.addWidget(self.teach_button)
        teach_box = QGroupBox("Teach it (the forgetting meter)")
        teach_layout = QGridLayout(teach_box)
        teach_layout.addLayout(teach_row, 0, 0, 1, 2)
        teach_layout.addWidget(self.teach_status, 1, 0, 1, 2)
        teach_layout.addWidget(self.meter_table, 2, 0)
        teach_layout.addWidget(self.meter_plot, 2, 1)
        teach_layout.setColumnStretch(0, 1)
        teach_layout.setColumnStretch(1, 1)

        self.meter_plot.setMinimumHeight(140)
        self.meter_table.setMinimumHeight(90)
        self.confusion.setRange(xRange=(0, 10), yRange=(0, 10))
        splitter = QSplitter(Qt.Orientation.Vertical)
        for box in (set_box, scores_box, teach_box):
            splitter.addWidget(box)
        splitter.setSizes([240, 300, 260])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        for scored in list(scorer.scores.values()):  # scored before this tab was built
            self._on_scored(scored)
        self.refresh()

    # --- the set ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the set again (after a drawing was added elsewhere, or an import)."""
        drawings = self.my_digits.drawings()
        self.gallery_model.clear()
        for drawing in drawings:
            icon = QIcon(scaled_pixmap(grey_image(drawing.image, high=255), ICON_SIDE))
            item = QStandardItem(icon, str(drawing.label))
            item.setData(drawing.id, ID_ROLE)
            item.setToolTip(
                f"A {drawing.label} ({drawing.source}"
                + (", with its strokes" if drawing.strokes else "")
                + ")"
            )
            self.gallery_model.appendRow(item)
        counts = self.my_digits.counts()
        total = sum(counts.values())
        self.counts_label.setText(
            f"<b>{total}</b> drawing(s): " + ", ".join(f"{d}: {n}" for d, n in counts.items())
            if total
            else "No digits of your own yet: press <b>Collect my digits</b> on the Draw tab "
            "(or Wrong? when a network misreads you), or import a folder."
        )
        self.scorer.refresh()

    def selected_ids(self) -> list[int]:
        return [index.data(ID_ROLE) for index in self.gallery.selectionModel().selectedIndexes()]

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            self.message.emit("Select the drawings to delete first.")
            return
        try:
            for drawing_id in ids:
                self.my_digits.delete(drawing_id)
        except MyDigitsError as exc:
            self.message.emit(f"{exc} Nothing more was deleted.")
        else:
            self.message.emit(f"Deleted {len(ids)} drawing(s) from My digits.")
        self._changed()

    def relabel_selected(self, digit: int) -> None:
        ids = self.selected_ids()
        if not ids:
            self.message.emit("Select the drawings to relabel first.")
            return
        try:
            for drawing_id in ids:
                self.my_digits.relabel(drawing_id, digit)
        except MyDigitsError as exc:
            self.message.emit(f"{exc} Nothing more was relabelled.")
        else:
            self.message.emit(f"{len(ids)} drawing(s) are now {digit}s.")
        self._changed()

    def _changed(self) -> None:
        self.refresh()
        self.changed.emit()

    def import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder of digit pictures")
        if folder:
            self.import_from(folder)

    def import_npz(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import digits", "", "NumPy archives (*.npz)")
        if path:
            self.import_from(path)

    def import_from(self, path: str) -> None:
        """Add a folder (``7/anything.png``) or a ``.npz`` to the set; skipped files named."""
        try:
            report = import_into(self.my_digits, Path(path))
        except (MyDigitsError, OSError) as exc:
            self.message.emit(f"Import: {exc}")
            return
        skipped = (
            f"; skipped {len(report.skipped)}: "
            + "; ".join(f"{p.name} ({why})" for p, why in report.skipped[:5])
            + (" …" if len(report.skipped) > 5 else "")
            if report.skipped
            else ""
        )
        refused = "".join(
            f"; refused {count} image(s): {why}" for why, count in report.refused.items()
        )
        self.message.emit(f"Imported {report.added} drawing(s) from {path}{refused}{skipped}")
        self._changed()

    def export_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export My digits into a folder")
        if folder:
            self.export_to(folder)

    def export_npz(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export My digits", "my-digits.npz", "*.npz")
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        try:
            count = export_from(self.my_digits, Path(path))
        except OSError as exc:
            self.message.emit(f"Export: cannot write {path} ({exc}); choose another place.")
            return
        self.message.emit(f"Exported {count} drawing(s) to {path}")

    # --- every network on them ----------------------------------------------------------------

    def _on_scored(self, scored: Scored) -> None:
        if scored.score is not None:
            self.details[scored.key] = scored.score
        for row in range(self.scores_model.rowCount()):
            if self.scores_model.item(row, 0).data(ID_ROLE) == scored.key:
                break
        else:
            row = self.scores_model.rowCount()
            name = QStandardItem(scored.source.name)
            name.setData(scored.key, ID_ROLE)
            name.setData(scored.source, SOURCE_ROLE)
            name.setToolTip(scored.source.spec.describe())
            self.scores_model.appendRow([name, QStandardItem()])
        figure = self.scores_model.item(row, 1)
        figure.setText("—" if scored.accuracy is None else f"{scored.accuracy:.1%}")
        figure.setToolTip(scored.problem)
        figure.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        chosen = self._chosen_key()
        if chosen == scored.key:
            self._show_detail(scored.key)

    def _chosen_key(self) -> str | None:
        rows = self.scores_table.selectionModel().selectedRows()
        return rows[0].data(ID_ROLE) if rows else None

    def _on_network_chosen(self, *_args) -> None:
        key = self._chosen_key()
        if key is None:
            return
        if key in self.details:
            self._show_detail(key)
            return
        rows = self.scores_table.selectionModel().selectedRows()
        source = rows[0].data(SOURCE_ROLE)
        self.detail_label.setText(f"Reading your digits with {source.name}…")
        images, labels = self.my_digits.arrays()
        run_in_background(
            lambda: (key, score_network(Predictor(source), images, labels)),
            self._on_detail,
            lambda message: self.detail_label.setText(f"Could not score it: {message}"),
            self,
        )

    def _on_detail(self, outcome) -> None:
        key, score = outcome
        self.details[key] = score
        if self._chosen_key() == key:
            self._show_detail(key)

    def _show_detail(self, key: str) -> None:
        score = self.details.get(key)
        if score is None:
            return
        name = self.scorer.scores[key].source.name if key in self.scorer.scores else key
        self.detail_label.setText(
            f"<b>{name}</b>: {score.accuracy:.1%} of your {score.count} digits. "
            "Left: each digit's share read right; right: what each digit was read as."
        )
        heights = np.array([np.nan if s is None else s for s in score.per_digit], float)
        self.per_digit_bars.setOpts(height=np.nan_to_num(heights))
        self.confusion.set_matrix(score.confusion)

    # --- teach it -----------------------------------------------------------------------------

    def set_networks(self, runs: list[RunRecord]) -> None:
        """Offer the shipped networks and ``runs`` (those with a saved network) to start from."""
        current = self.base_combo.currentData()
        self.base_combo.clear()
        by_id = {record.id: record for record in runs}
        for source in every_network(runs)[0]:
            label = source.name
            if source.run_id is not None:
                record = by_id[source.run_id]
                label = f"run {record.id}: {record.spec.describe()}"
                if record.result and record.result.finetune_of:
                    label += f" (fine-tune of {record.result.finetune_of})"
            self.base_combo.addItem(label, source)
        index = self.base_combo.findData(current) if current is not None else -1
        if index < 0:
            index = self.base_combo.findText("mlp")
        self.base_combo.setCurrentIndex(max(index, 0))

    def teach(self) -> None:
        """Plan a fine-tune of the chosen network and ask the window to train it."""
        source = self.base_combo.currentData()
        if source is None:
            self.teach_status.setText("No network to start from.")
            return
        images, labels = self.my_digits.arrays()
        try:
            spec, order = plan_finetune(
                source,
                images,
                labels,
                replay=self.replay_check.isChecked(),
                epochs=self.epochs_spin.value(),
                freeze_conv=self.freeze_check.isChecked(),
            )
        except (MyDigitsError, WeightsError, OSError, ValueError) as exc:
            self.teach_status.setText(str(exc))
            self.message.emit(str(exc))
            return
        self.teach_status.setText(
            f"Teaching {source.name} {len(order.mine_y_train)} of your digits "
            f"({len(order.mine_y_test)} held back to test it), "
            f"{'with' if order.replay else 'without'} MNIST replay… (Train tab: its curves, Stop)"
        )
        self.teach_button.setEnabled(False)
        self.teachRequested.emit(Job.finetune(spec, order))

    def teaching_refused(self, why: str) -> None:
        self.teach_button.setEnabled(True)
        self.teach_status.setText(why)

    def show_finetune(self, record: RunRecord) -> None:
        """Fill the forgetting meter with a finished (or stopped) fine-tune."""
        self.teach_button.setEnabled(True)
        figures: FineTuneFigures | None = record.result.finetune if record.result else None
        if figures is None:
            self.teach_status.setText(
                f"The fine-tune ended {record.status}"
                + (f": {record.error}" if record.error else "")
            )
            return
        self.teach_status.setText(
            f"Run {record.id} ({record.status}): {figures.base} taught "
            f"{figures.mine_train} of your digits, {'with' if figures.replay else 'without'} "
            "replay. It is in Results and on the Draw tab's network list."
        )
        for row, (before, after) in enumerate(
            ((figures.mnist_before, figures.mnist_after), (figures.mine_before, figures.mine_after))
        ):
            change = (after - before) * 100
            for column, text in enumerate((f"{before:.2%}", f"{after:.2%}", f"{change:+.2f} pts")):
                item = QStandardItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.meter_model.setItem(row, column, item)
        self.meter_plot.clear()
        for values, before, name, colour in (
            (figures.mnist_by_epoch, figures.mnist_before, "MNIST test", "#4c72b0"),
            (figures.mine_by_epoch, figures.mine_before, "my held-back digits", "#d62728"),
        ):
            ys = [before, *values]
            self.meter_plot.plot(
                list(range(len(ys))),
                ys,
                pen=pg.mkPen(colour, width=2),
                symbol="o",
                symbolBrush=colour,
                name=name,
            )
        self.scorer.refresh()  # a new network to score


def _menu_button(text: str, name: str, actions) -> QToolButton:
    button = QToolButton(
        objectName=name, text=text, popupMode=QToolButton.ToolButtonPopupMode.InstantPopup
    )
    menu = QMenu(button)
    for label, slot in actions:
        menu.addAction(label, slot)
    button.setMenu(menu)
    return button
