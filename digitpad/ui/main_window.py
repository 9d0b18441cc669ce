"""The main window: Draw, Train, Results, My digits and Report tabs over one run store."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, QTimer
from PySide6.QtGui import QCloseEvent, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QTabWidget, QWidget

from digitpad.core.inference.predictor import run_source
from digitpad.core.inference.weights import shipped_name
from digitpad.core.machine.paths import PACKAGE_DIR, data_home
from digitpad.core.machine.threads import one_blas_thread
from digitpad.core.store.runs import RunRecord, RunStore, RunStoreError
from digitpad.core.store.session import end_session, new_session_folder
from digitpad.ui.common.background import wait_for_background
from digitpad.ui.common.gui_gc import collect_on_gui_thread
from digitpad.ui.common.lazy_page import LazyPage
from digitpad.ui.common.saved_values import SavedGroup, ignored_message
from digitpad.ui.draw.draw_tab import DrawTab
from digitpad.ui.draw.model_loader import ModelLoader
from digitpad.ui.mydigits.my_digits_scorer import MyDigitsScorer
from digitpad.ui.tab_names import TAB_NAMES, TABS

if TYPE_CHECKING:
    from digitpad.ui.mydigits.my_digits_tab import MyDigitsTab
    from digitpad.ui.report.report_tab import ReportTab
    from digitpad.ui.results.results_tab import ResultsTab
    from digitpad.ui.train.train_tab import TrainTab

ICON_PATH = PACKAGE_DIR / "ui" / "icon.png"
STATUS_MS = 12_000
MODEL_LOAD_DELAY_MS = 50
STORE_OPEN_TIMEOUT_S = 2.0  # a database locked longer than this at start-up is set aside
STORE_WRITE_TIMEOUT_S = 10.0
GUI_WRITE_TIMEOUT_S = 0.2  # a My digits write waits no longer on a lock: kept aside instead
CANVAS_RUNS = 30  # newest runs with a saved network offered in the canvas' model selector
SCORES_DELAY_MS = 1500  # then networks are scored on My digits (after the canvas' one loads)


def open_store(home: Path) -> tuple[RunStore, str | None]:
    """The data folder's run store; if it is locked or read-only, a session store beside
    it (``core.store.session``), whose runs, drawings and answers join the database the
    next time it opens. Second: why the window works aside, or None when it does not."""
    try:
        store = RunStore(home, timeout=STORE_OPEN_TIMEOUT_S)
        store.timeout = STORE_WRITE_TIMEOUT_S  # once open, wait longer for a busy writer
        return store, None
    except RunStoreError as exc:
        why = str(exc)
    try:
        folder = new_session_folder(home)
        where = f"{folder.name} beside it; it joins the database the next time DigitPad opens it"
    except OSError:  # the data folder itself cannot be written: nowhere lasting is left
        folder = Path(tempfile.mkdtemp(prefix="digitpad-session-"))
        where = f"{folder}, a temporary folder: export what you want to keep before closing"
    store = RunStore(folder)
    store.recovery_message = (
        f"{why} Until then, what you make in this window (runs, drawings, answers) is kept "
        f"in {where}."
    )
    return store, why


def make_inside_view() -> QWidget:
    """The draw tab's "Look inside" view; its modules load when it is first opened."""
    from digitpad.ui.inside.inside_view import InsideView

    return InsideView()


class MainWindow(QMainWindow):
    """DigitPad's window; builds with no arguments (data folder from ``DIGITPAD_HOME``).

    Preferences live in ``settings.ini`` in the data folder (QSettings, INI format), so a
    data folder carries its own window state and form values.
    """

    def __init__(self) -> None:
        super().__init__()
        collect_on_gui_thread()  # background tasks must never finalise a widget
        self.setWindowTitle("DigitPad")
        self.setWindowIcon(QIcon(str(ICON_PATH)))
        home = data_home()
        self.settings = QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat)
        self.home = home
        self.store, self.working_aside = open_store(home)
        self.loader = ModelLoader(self)

        # The GUI never waits on another program's lock: a drawing is kept aside instead.
        self.my_digits = self.store.my_digits(timeout=GUI_WRITE_TIMEOUT_S)
        self.draw_tab = DrawTab(self.loader, self.my_digits, make_inside_view)
        self.scorer = MyDigitsScorer(self.store, self.my_digits, self)
        # Only the Draw tab is built before the window appears: each other tab is built
        # when first shown or used (their plots and modules would double the start-up).
        self.train_page = LazyPage(self._make_train_tab)
        self.results_page = LazyPage(self._make_results_tab)
        self.my_digits_page = LazyPage(self._make_my_digits_tab)
        self.report_page = LazyPage(self._make_report_tab)
        self.tabs = QTabWidget(objectName="mainTabs")
        pages = {
            "draw": self.draw_tab,
            "train": self.train_page,
            "results": self.results_page,
            "mydigits": self.my_digits_page,
            "report": self.report_page,
        }
        for number, (name, title) in enumerate(TABS, start=1):
            self.tabs.addTab(pages[name], title)
            QShortcut(QKeySequence(f"Ctrl+{number}"), self, lambda n=name: self.select_tab(n))
        self.setCentralWidget(self.tabs)
        if self.working_aside:  # for as long as the window works aside, not 12 seconds
            where = (
                "beside runs.db" if self.store.folder.parent == home else "in a temporary folder"
            )
            aside = QLabel(f"⚠ Working aside: your work is kept {where}", objectName="workingAside")
            aside.setToolTip(self.store.recovery_message)
            self.statusBar().addPermanentWidget(aside)

        self.draw_tab.message.connect(self.show_message)
        self.draw_tab.myDigitsChanged.connect(self._on_my_digits_changed)
        self.scorer.finished.connect(self._on_scored)
        self.draw_tab.networks.pinsChanged.connect(self._save_pins)
        QShortcut(QKeySequence.StandardKey.Quit, self, self.close)
        self.class_window = None
        menu = self.menuBar().addMenu("&Class")
        menu.setObjectName("classMenu")
        menu.addAction("Open the class…", lambda: self.open_class()).setObjectName(
            "openClassAction"
        )
        menu.addAction("Import hand-ins…", lambda: self.open_class(ask=True)).setObjectName(
            "importHandinsAction"
        )

        self._restore_settings()
        self._models_requested = False
        self.show_message(" ".join(self._start_notices()))

    def _start_notices(self) -> list[str]:
        """What the user must know as the window opens, each in a sentence or two."""
        store = self.store
        notices = [
            ignored_message(self.settings.fileName(), self._ignored_settings),
            store.recovery_message,
            store.merged_message,
            store.unreadable_drawings,
        ]
        if store.recovered:
            notices.append(
                f"{store.recovered} finished run(s) that could not be written to the "
                "database last time were added to Results."
            )
        if store.interrupted and not store.recovery_message:
            notices.append(
                f"{store.interrupted} run(s) were cut off when DigitPad last "
                "ended; they are marked 'interrupted' in Results."
            )
        return [notice for notice in notices if notice]

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._models_requested:
            # Loading a network imports TensorFlow (seconds, holding the GIL much of the
            # time): start it just after the window is first painted, not before.
            self._models_requested = True
            QTimer.singleShot(MODEL_LOAD_DELAY_MS, self._load_models)

    def _load_models(self) -> None:
        one_blas_thread()  # the canvas' readings, steady while a training runs (~10 ms)
        runs = self._canvas_runs()
        self.draw_tab.populate_models(runs, preferred=shipped_name(self._preferred_model))
        if self.my_digits_page.is_built():
            self.my_digits_tab.set_networks(runs)
        self._restore_pins()
        # Scores on My digits load networks too: after the canvas has its own.
        QTimer.singleShot(SCORES_DELAY_MS, self.scorer.refresh)

    def _canvas_runs(self) -> list[RunRecord]:
        """The newest runs with a saved network, for the canvas' model selector.

        Not all of them: a store of thousands of runs would make a selector nobody can
        use and cost a second to read. Older runs go on the canvas from the Results tab.
        """
        return self.store.get_many(row.id for row in self.store.newest_with_models(CANVAS_RUNS))

    # --- behaviour -------------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        if text:
            self.statusBar().showMessage(text.replace("\n", " "), STATUS_MS)

    def select_tab(self, name: str) -> None:
        """Show a tab by its name in ``TAB_NAMES`` (built now if it was not yet)."""
        page = self.tabs.widget(TAB_NAMES.index(name))
        if isinstance(page, LazyPage):
            page.content()  # even while the window is hidden (no show event to build it)
        self.tabs.setCurrentWidget(page)

    def open_class(self, folder: str | None = None, ask: bool = False):
        """The Class view (a window of its own) on the data folder's class; ``folder``:
        import the hand-ins there first; ``ask``: ask which folder."""
        from digitpad.core.classroom.class_store import ClassStore, ClassStoreError
        from digitpad.ui.classroom.class_view import ClassWindow

        if self.class_window is None:
            try:
                self.class_window = ClassWindow(ClassStore(data_home()))
            except ClassStoreError as exc:
                self.show_message(str(exc))
                return None
            self.class_window.message.connect(self.show_message)
        self.class_window.show()
        self.class_window.raise_()
        if folder or ask:
            self.class_window.import_folder(folder)
        return self.class_window

    def use_on_canvas(self, record: RunRecord) -> None:
        self.draw_tab.use_run(record)
        self.select_tab("draw")

    def image_on_canvas(self, image: np.ndarray) -> None:
        """Put a (28, 28) uint8 MNIST image on the canvas (white digit on black)."""
        self.draw_tab.canvas.set_image_ink(np.asarray(image, np.float32) / 255.0)
        self.select_tab("draw")

    def wait_until_ready(self, timeout_s: float) -> bool:
        """Process events until the canvas has a network (or it failed); True when ready."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self.draw_tab.settled():
            # Not processEvents(flags, maxtime): that overload crashed PySide6 6.12 here
            # ("deallocating None") while another thread imported TensorFlow.
            QApplication.processEvents()
            time.sleep(0.02)
        QApplication.processEvents()
        return self.draw_tab.predictor is not None

    def wait_for_inside(self, timeout_s: float) -> bool:
        """Process events until the "Look inside" view shows the current drawing."""
        deadline = time.monotonic() + timeout_s
        inside = self.draw_tab.inside
        while time.monotonic() < deadline and not inside.settled():
            QApplication.processEvents()
            time.sleep(0.02)
        QApplication.processEvents()
        return inside.look is not None

    def _on_run_finished(self, record: RunRecord) -> None:
        if self.results_page.is_built():  # otherwise it reads the run from the store
            self.results_tab.add_record(record)
        if self.report_page.is_built():
            self.report_tab.mark_stale()
        if record.has_model:
            runs = self._canvas_runs()
            self.draw_tab.populate_models(runs)
            if self.my_digits_page.is_built():
                self.my_digits_tab.set_networks(runs)
            self.scorer.refresh()  # a new network to score
        if record.result is not None and record.result.finetune is not None:
            self.my_digits_tab.show_finetune(record)

    # --- train and results ------------------------------------------------------------------

    @property
    def train_tab(self) -> TrainTab:
        """The Train tab (built now if it was not yet)."""
        return self.train_page.content()

    def _make_train_tab(self) -> TrainTab:
        from digitpad.ui.train.train_tab import TrainTab  # its modules load when first shown

        tab = TrainTab(self.store)
        tab.message.connect(self.show_message)
        tab.trainingEnded.connect(self._on_training_ended)
        tab.runFinished.connect(self._on_run_finished)
        tab.sweepEnded.connect(lambda sweep_id: self.results_tab.show_sweep(sweep_id))
        ignored: list[str] = []
        tab.restore_state(SavedGroup(self.settings, "train", ignored))
        self._say_ignored(ignored)
        return tab

    @property
    def results_tab(self) -> ResultsTab:
        """The Results tab (built now if it was not yet)."""
        return self.results_page.content()

    def _make_results_tab(self) -> ResultsTab:
        from digitpad.ui.results.results_tab import ResultsTab  # loads when first shown

        tab = ResultsTab(self.store)
        tab.message.connect(self.show_message)
        tab.pinToDraw.connect(self.pin_to_draw)
        tab.useOnCanvas.connect(self.use_on_canvas)
        tab.imageToCanvas.connect(self.image_on_canvas)
        return tab

    def _on_scored(self) -> None:
        if self.results_page.is_built():  # otherwise it reads the scores when built
            self.results_tab.model.refresh_rows()

    # --- my digits -------------------------------------------------------------------------

    @property
    def my_digits_tab(self) -> MyDigitsTab:
        """The My digits tab (built now if it was not yet)."""
        return self.my_digits_page.content()

    def _make_my_digits_tab(self) -> MyDigitsTab:
        from digitpad.ui.mydigits.my_digits_tab import (
            MyDigitsTab,  # its modules load when first shown
        )

        tab = MyDigitsTab(self.store, self.my_digits, self.scorer)
        tab.message.connect(self.show_message)
        tab.teachRequested.connect(self.teach)
        tab.set_networks(self._canvas_runs())
        return tab

    # --- report --------------------------------------------------------------------------

    @property
    def report_tab(self) -> ReportTab:
        """The Report tab (built now if it was not yet)."""
        return self.report_page.content()

    def _make_report_tab(self) -> ReportTab:
        from digitpad.ui.report.report_tab import ReportTab  # its modules load when shown

        tab = ReportTab(self.store, self.store.answers(timeout=GUI_WRITE_TIMEOUT_S))
        tab.message.connect(self.show_message)
        tab.exerciseRequested.connect(self.set_up_exercise)
        return tab

    def set_up_exercise(self, key: str) -> None:
        """Choose an exercise in the Train tab's sweep panel and show it there."""
        self.train_tab.sweep_panel.choose(key)
        self.tabs.setCurrentWidget(self.train_page)

    def _on_my_digits_changed(self) -> None:
        if self.my_digits_page.is_built():
            self.my_digits_tab.refresh()  # it rescores too
        else:
            self.scorer.refresh()

    def _on_training_ended(self) -> None:
        if self.my_digits_page.is_built():
            self.my_digits_tab.teach_button.setEnabled(True)

    def teach(self, job) -> None:
        """Train a fine-tune the My digits tab planned, on the Train tab's engine."""
        if self.train_tab.run_job(job) is None:
            self.my_digits_tab.teaching_refused(
                "A training is running: teach when it ends, or stop it on the Train tab."
            )

    def pin_to_draw(self, record: RunRecord) -> None:
        self.draw_tab.networks.pin(run_source(record))
        self.show_message(f"Run {record.id} is pinned to the Draw tab's network table.")

    def _save_pins(self, sources) -> None:
        ids = [str(s.run_id) for s in sources if s.run_id is not None]
        self.settings.setValue("draw/pinned", ",".join(ids))

    def _restore_pins(self) -> None:
        text = str(self.settings.value("draw/pinned", "") or "")
        ids = [int(part) for part in text.split(",") if part.strip().isdigit()]
        for record in self.store.get_many(ids):
            if record.has_model:
                self.draw_tab.networks.pin(run_source(record))

    # --- persistence -----------------------------------------------------------------------

    # The window stores each tab's state; the tab says what it is and checks it on restore.

    def _restore_settings(self) -> None:
        ignored: list[str] = []
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 720)
        window = SavedGroup(self.settings, "window", ignored)
        # Versions before 0.4 saved the tab's index.
        older = {str(i): name for i, name in enumerate(TAB_NAMES)}
        tab = window.choice("tab", TAB_NAMES, older)
        if tab is not None:
            self.tabs.setCurrentIndex(TAB_NAMES.index(tab))
        self._preferred_model = self.draw_tab.restore_state(
            SavedGroup(self.settings, "draw", ignored)
        )
        self._ignored_settings = ignored

    def _say_ignored(self, ignored: list[str]) -> None:
        message = ignored_message(self.settings.fileName(), ignored)
        if message:
            self.show_message(message)

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/tab", TAB_NAMES[self.tabs.currentIndex()])
        if self.train_page.is_built():  # otherwise the saved values still hold
            SavedGroup(self.settings, "train", []).write(self.train_tab.saved_state())
        SavedGroup(self.settings, "draw", []).write(self.draw_tab.saved_state())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.train_page.is_built():
            if self.train_tab.is_training():
                # Closing stops the run after its current batch; the partial run is kept.
                self.show_message("Stopping the run before closing…")
            self.train_tab.shutdown()
        self.loader.shutdown()
        self.draw_tab.shutdown()
        self.scorer.shutdown()
        if self.report_page.is_built():
            self.report_tab.shutdown()  # answers typed in the last moments
        if self.results_page.is_built():
            self.results_tab.shutdown()  # a run being trained again (Reproduce)
        if self.class_window is not None:
            self.class_window.close()  # a number being checked
        wait_for_background()  # a test-set evaluation or exercise 5 reading in flight
        self.save_settings()
        if self.working_aside:
            self._bring_in_session()
        event.accept()

    def _bring_in_session(self) -> None:
        """This window's session into the real database, if it can be opened now (else
        the next DigitPad to open it brings it in)."""
        try:
            end_session(self.store.folder)
            RunStore(self.home, timeout=STORE_OPEN_TIMEOUT_S)  # merges ended sessions
        except (RunStoreError, OSError):
            pass  # still locked: kept beside it, as the status bar said
