"""The Report tab: the lab report written from the runs, one section per exercise (its
question, the sweep it reports, table, figures, findings and the student's answer), and
its export to PDF, HTML or Markdown.

Everything shown comes from ``core.report`` (``builder``): the tab only lays it out,
keeps the answers saved as they are typed, and reads exercise 5 off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from digitpad.core.lab.exercises import EXERCISES, FIRST_FIVE, source_exercise
from digitpad.core.machine.files import write_failure
from digitpad.core.report.builder import (
    build_report,
    complete_report,
    read_exercise_5,
    with_first_five,
)
from digitpad.core.report.document import Bullets, blocks_html
from digitpad.core.report.sections import FIRST_OF, StudentReport, code_blocks, not_run_text
from digitpad.core.store.answers import TITLE_KEY, Answers, AnswersUnavailable
from digitpad.core.store.runs import RunStore, RunStoreError
from digitpad.render.report_figures import figure_plot
from digitpad.ui.common.background import run_in_background
from digitpad.ui.common.lab_table_view import LabTableView
from digitpad.ui.common.widgets import button

SAVE_DELAY_MS = 400  # an answer is written this long after the last key (and on close)
FIGURES_PER_ROW = 3
FIGURE_HEIGHT = 260
CODE_HEIGHT = 320
SCREEN_CODE_PT = 9  # code on screen (the PDF's 7 pt is for a printed page)


class AnswerSaver:
    """Writes one text (an answer, the title) shortly after each change, and at once on
    ``flush``; a save the database refuses is kept aside (``Answers.save``), the text
    stays in its box, and the next change or flush tries again."""

    def __init__(self, answers: Answers, key: str, read_text, on_state) -> None:
        self.answers = answers
        self.key = key
        self.read_text = read_text
        self.on_state = on_state  # on_state(saved: bool, problem: str)
        self.timer = QTimer(singleShot=True, interval=SAVE_DELAY_MS)
        self.timer.timeout.connect(self.flush)
        self.dirty = False

    def changed(self) -> None:
        self.dirty = True
        self.timer.start()

    def flush(self) -> None:
        if not self.dirty:
            return
        self.timer.stop()
        try:
            self.answers.save(self.key, self.read_text())
        except AnswersUnavailable as exc:
            self.on_state(False, str(exc))
            return
        self.dirty = False
        self.on_state(True, "")


class SectionView(QFrame):
    """One exercise: heading, question, sweep picker, table, figures, findings, answer."""

    sweepChosen = Signal(str, str)  # exercise key, sweep id
    setUpRequested = Signal(str)  # exercise key

    def __init__(self, key: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.key = key
        self.setObjectName(f"section-{key}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.heading = QLabel(objectName=f"heading-{key}")
        self.heading.setStyleSheet("font-size: 15pt; font-weight: bold")
        self.question = QLabel(objectName=f"question-{key}")
        self.question.setWordWrap(True)
        self.question.setStyleSheet("font-style: italic")
        self.picker = QComboBox(objectName=f"sweepPicker-{key}")
        self.picker.setToolTip("The sweep this exercise reports (newest complete one first)")
        self.picker.activated.connect(self._on_pick)
        self.set_up = button(
            "Set it up on the Train tab",
            f"setUp-{key}",
            "Choose this exercise in the Train tab's sweep panel, ready to run",
            lambda: self.setUpRequested.emit(source_exercise(key)),
        )
        self.status = QLabel(objectName=f"status-{key}")
        self.status.setWordWrap(True)
        self.table = LabTableView(f"reportTable-{key}")
        self.table.horizontalHeader().setStretchLastSection(False)
        self.extra = QLabel(objectName=f"extra-{key}")
        self.extra.setWordWrap(True)
        self.extra.setTextFormat(Qt.TextFormat.RichText)
        self.figures = QGridLayout()
        self.findings = QLabel(objectName=f"findings-{key}")
        self.findings.setWordWrap(True)
        self.findings.setTextFormat(Qt.TextFormat.RichText)
        self.findings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.answer = QPlainTextEdit(objectName=f"answer-{key}")
        self.answer.setPlaceholderText("Your answer to the question, from the numbers above")
        self.answer.setFixedHeight(110)
        self.answer_state = QLabel("", objectName=f"answerState-{key}")

        picker_row = QHBoxLayout()
        picker_row.addWidget(QLabel("Sweep:"))
        picker_row.addWidget(self.picker, 1)
        picker_row.addWidget(self.set_up)
        answer_head = QHBoxLayout()
        answer_head.addWidget(QLabel("<b>Your answer</b>"))
        answer_head.addStretch(1)
        answer_head.addWidget(self.answer_state)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.question)
        layout.addLayout(picker_row)
        layout.addWidget(self.status)
        layout.addWidget(self.table)
        layout.addWidget(self.extra)
        layout.addLayout(self.figures)
        layout.addWidget(self.findings)
        layout.addLayout(answer_head)
        layout.addWidget(self.answer)

    def show_section(self, section) -> None:
        """Lay out ``section`` (a ``sections.Section``); the answer box is left as
        typed (it is the newest text, and saving)."""
        self.heading.setText(section.title)
        self.question.setText(section.question)
        self.picker.blockSignals(True)
        self.picker.clear()
        for choice in section.choices:
            self.picker.addItem(choice.label, choice.sweep_id)
        if section.runs is not None:
            self.picker.setCurrentIndex(max(self.picker.findData(section.runs.sweep_id), 0))
        self.picker.blockSignals(False)
        reads_another = source_exercise(self.key) != self.key  # exercise 5 shows ex4's
        self.picker.setEnabled(bool(section.choices) and not reads_another)
        self.picker.setVisible(not reads_another)
        self.set_up.setVisible(section.empty)
        if section.empty:
            self.status.setText(not_run_text(self.key))
        elif reads_another:
            self.status.setText(f"Reads the weights of exercise 4's sweep {section.runs.sweep_id}.")
        else:
            note = f" {section.note}" if section.note else ""
            self.status.setText(f"<small>{note.strip()}</small>" if note else "")
        self.status.setVisible(bool(self.status.text()))
        table = section.table if not reads_another else None
        self.table.setVisible(table is not None)
        self.table.show_table(table)
        extra = blocks_html(section.extra, code_pt=SCREEN_CODE_PT)
        self.extra.setText(extra)
        self.extra.setVisible(bool(extra))
        self._show_figures(section.figures)
        self.findings.setText(blocks_html([Bullets(tuple(section.findings), "Findings")]))
        self.findings.setVisible(bool(section.findings))

    def _show_figures(self, figures) -> None:
        while self.figures.count():
            widget = self.figures.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        for i, figure in enumerate(figures):
            plot = figure_plot(figure)
            plot.setFixedHeight(FIGURE_HEIGHT)
            self.figures.addWidget(plot, i // FIGURES_PER_ROW, i % FIGURES_PER_ROW)

    def _on_pick(self, index: int) -> None:
        self.sweepChosen.emit(self.key, self.picker.itemData(index))


class CodeView(QFrame):
    """An application's code section: the script that made its runs, highlighted."""

    def __init__(self, application: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.application = application
        self.setObjectName(f"codeSection-{application}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.text = QTextBrowser(objectName=f"code-{application}")
        self.text.setMinimumHeight(CODE_HEIGHT)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        self.setVisible(False)

    def show_code(self, code) -> None:
        """Show ``code`` (a ``document.Code``), or hide the section when it is None."""
        self.setVisible(code is not None)
        if code is not None:
            self.text.setHtml(
                blocks_html(code_blocks(self.application, code), code_pt=SCREEN_CODE_PT)
            )


class ReportTab(QWidget):
    """The report. ``message(str)`` reports exports and problems; ``exerciseRequested(key)``
    asks the window to set an exercise up on the Train tab."""

    message = Signal(str)
    exerciseRequested = Signal(str)

    def __init__(self, store: RunStore, answers: Answers, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.answers = answers
        self.report: StudentReport | None = None
        self.chosen: dict[str, str] = {}
        self._five: dict[int, object] = {}  # exercise 5's reading, by exercise 4's run id
        self._reading: int | None = None
        self.stale = True

        self.title = QLineEdit(objectName="reportTitle")
        self.title.setPlaceholderText("The report's title")
        self.pdf_button = button("Export PDF…", "exportPdfButton", "A4 pages", self._ask_pdf)
        self.html_button = button(
            "Export HTML…", "exportHtmlButton", "One file, figures inside", self._ask_html
        )
        self.md_button = button(
            "Export Markdown…",
            "exportMarkdownButton",
            "report.md and a figures/ folder",
            self._ask_markdown,
        )
        self.state = QLabel("", objectName="reportState")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Title:"))
        bar.addWidget(self.title, 1)
        self.hand_in_button = button(
            "Hand in…",
            "handInButton",
            "Your lab as one file for your teacher: this report (HTML and PDF), your answers, "
            "every run it uses, the code, exercise 4's weights, and a digest",
            self._ask_hand_in,
        )
        writers = (self.pdf_button, self.html_button, self.md_button, self.hand_in_button)
        self._tips = {widget: widget.toolTip() for widget in writers}
        for widget in writers:
            bar.addWidget(widget)
        self.sections: dict[str, SectionView] = {}
        self.savers: dict[str, AnswerSaver] = {}
        body = QWidget()
        column = QVBoxLayout(body)
        self.code_views: dict[int, CodeView] = {}
        for key in EXERCISES:
            for application, first in FIRST_OF.items():
                if key == first:
                    self.code_views[application] = CodeView(application)
                    column.addWidget(self.code_views[application])
            view = SectionView(key)
            view.sweepChosen.connect(self.choose_sweep)
            view.setUpRequested.connect(self.exerciseRequested)
            saver = AnswerSaver(answers, key, view.answer.toPlainText, self._state_of(view))
            view.answer.textChanged.connect(saver.changed)
            self.sections[key] = view
            self.savers[key] = saver
            column.addWidget(view)
        self.title_saver = AnswerSaver(answers, TITLE_KEY, self.title.text, self._title_state)
        self.title.textEdited.connect(self.title_saver.changed)
        scroll = QScrollArea(objectName="reportScroll")
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.state)
        layout.addWidget(scroll, 1)
        self._load_answers()

    # --- contents -------------------------------------------------------------------------

    def _load_answers(self) -> None:
        try:
            saved = self.answers.all()
        except AnswersUnavailable as exc:
            self.message.emit(str(exc))
            saved = {}
        self.title.setText(saved.get(TITLE_KEY, ""))
        for key, view in self.sections.items():
            view.answer.blockSignals(True)
            view.answer.setPlainText(saved.get(key, ""))
            view.answer.blockSignals(False)

    def mark_stale(self, *_args) -> None:
        """Runs changed: rebuild the next time the tab is shown (now, if it is)."""
        self.stale = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.stale:
            self.refresh()

    def refresh(self) -> None:
        """Rebuild every section from the store."""
        self.stale = False
        report = self._build()
        if report is None:
            return
        record = report.exercise_4_record()
        self.report = report
        for section in report.sections:
            self.sections[section.key].show_section(section)
        for application, view in self.code_views.items():
            view.show_code(report.code.get(application))
        filled = sum(1 for s in report.sections if not s.empty)
        self.state.setText(
            f"{filled} of {len(report.sections)} exercises have runs."
            if report.has_runs
            else "No exercise has run yet: run one on the Train tab (Lab exercises and sweeps), "
            "or the whole lab, and its section fills in here."
        )
        self._read_exercise_5(record)
        self._update_buttons()

    def _build(self) -> StudentReport | None:
        """The report from the store as it is now (exercise 5 as read so far), or None
        with the reason shown."""
        try:
            report = build_report(self.store, self.chosen, title=self._title())
        except (RunStoreError, AnswersUnavailable, ValueError) as exc:
            self.state.setText(str(exc))
            return None
        record = report.exercise_4_record()
        if record is not None and record.id in self._five:
            with_first_five(report, self._five[record.id])
        return report

    def choose_sweep(self, key: str, sweep_id: str) -> None:
        self.chosen[key] = sweep_id
        self.refresh()

    def _title(self) -> str | None:
        return self.title.text().strip() or None

    def _read_exercise_5(self, record) -> None:
        if record is None or not record.has_model or record.id in self._five:
            return
        if self._reading == record.id:
            return
        self._reading = record.id
        report = self.report

        def read():
            from digitpad.core.data.mnist import shared_mnist

            return read_exercise_5(self.store, report, shared_mnist())

        def done(five, run_id=record.id) -> None:
            self._reading = None
            self._five[run_id] = five
            shown = self.report.exercise_4_record() if self.report is not None else None
            if shown is not None and shown.id == run_id:  # the report may be rebuilt since
                with_first_five(self.report, five)
                self._show_first_five()
            self._update_buttons()

        def failed(why: str) -> None:
            self._reading = None
            if self.report is not None:
                with_first_five(self.report, error=why)
                self._show_first_five()
            self._update_buttons()

        run_in_background(read, done, failed, self)
        self._update_buttons()

    def _show_first_five(self) -> None:
        self.sections[FIRST_FIVE.id].show_section(self.report.section(FIRST_FIVE.id))

    def _update_buttons(self) -> None:
        ready = self.report is not None and self.report.has_runs and self._reading is None
        for widget, tip in self._tips.items():
            widget.setEnabled(ready)
            # While exercise 5 is read, the buttons say why they wait; then their own tip.
            widget.setToolTip(tip if ready or self._reading is None else "Reading exercise 5…")

    # --- answers --------------------------------------------------------------------------

    def _state_of(self, view: SectionView):
        def state(saved: bool, problem: str) -> None:
            view.answer_state.setText("saved" if saved else "<b>not saved</b>")
            if problem:
                self.message.emit(problem)

        return state

    def _title_state(self, saved: bool, problem: str) -> None:
        if problem:
            self.message.emit(problem)

    def flush(self) -> None:
        """Write every answer not yet saved (closing, exporting)."""
        for saver in (*self.savers.values(), self.title_saver):
            saver.flush()

    def shutdown(self) -> None:
        self.flush()

    # --- export ---------------------------------------------------------------------------

    def report_as_shown(self, what: str = "The report"):
        """The whole report as the tab shows it: the runs as they are now, exercise 5 as
        read, the answers as they stand in their boxes (a save the database refused
        included). None, with a message saying why, when there is nothing to write."""
        self.flush()
        try:
            report = complete_report(
                self.store, self.chosen, title=self._title(), readings=self._five
            )
        except (RunStoreError, AnswersUnavailable, ValueError) as exc:
            self.message.emit(f"{what} was not written: {exc}")
            return None
        if not report.has_runs:
            self.message.emit(f"Nothing to write yet: no exercise has run ({what.lower()}).")
            return None
        for key, view in self.sections.items():
            report.section(key).answer = view.answer.toPlainText()
        return report

    def hand_in_to(self, path: str | Path, name: str) -> Path | None:
        """Write the hand-in of ``name`` to ``path`` (``.digitpad``): the report as shown,
        the runs, answers, code and weights, with a digest. None when it failed."""
        from digitpad.render.handin_file import hand_in

        report = self.report_as_shown("The hand-in")
        if report is None:
            return None
        written = self._write(
            "The hand-in", path, lambda: hand_in(self.store, report, name, Path(path))
        )
        if written is not None:
            self.message.emit(f"Handed in: {written} (give this one file to your teacher)")
        return written

    def _ask_hand_in(self) -> None:
        name, ok = QInputDialog.getText(self, "Hand in", "Your name, as your teacher knows it:")
        if not ok or not name.strip():
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Hand in your lab", "my-lab.digitpad", "DigitPad hand-in (*.digitpad)"
        )
        if path:
            self.hand_in_to(path, name)

    def export_to(self, path: str | Path) -> Path | None:
        """Write the report as shown (answers as typed) to ``path``; its name picks the
        format. Returns the main file written, None when it failed (the message says why)."""
        from digitpad.render.report_files import export

        report = self.report_as_shown()
        if report is None:
            return None
        written = self._write("The report", path, lambda: export(report.document(), path))
        if written is not None:
            self.message.emit(f"Report written to {written}")
        return written

    def _write(self, what: str, path: str | Path, write: Callable[[], Path]) -> Path | None:
        """``write()`` under a wait cursor; a failure said in one line (None returned)."""
        from digitpad.core.classroom.handin import HandinError
        from digitpad.render.report_files import ExportError

        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            return write()
        except (ExportError, HandinError) as exc:
            self.message.emit(f"{what} was not written: {exc}")
        except OSError as exc:
            self.message.emit(f"{what} was not written: {write_failure(path, exc)}")
        finally:
            QGuiApplication.restoreOverrideCursor()
        return None

    def _ask_pdf(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the report", "report.pdf", "PDF (*.pdf)"
        )
        if path:
            self.export_to(path if path.lower().endswith(".pdf") else path + ".pdf")

    def _ask_html(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the report", "report.html", "HTML (*.html)"
        )
        if path:
            self.export_to(path if path.lower().endswith((".html", ".htm")) else path + ".html")

    def _ask_markdown(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder for report.md and its figures")
        if path:
            self.export_to(path)
