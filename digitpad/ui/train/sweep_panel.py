"""The lab's exercise presets and custom sweeps, above the train form."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from digitpad.core.engine.plan import Job
from digitpad.core.lab.sweeps import PRESETS, SWEEPABLE, Sweep, custom_sweep
from digitpad.core.nets.specs import RunSpec
from digitpad.ui.train.train_form import TrainForm

FLOAT_PARAMS = ("learning_rate", "dropout")
WHOLE_LAB = "lab"  # the exercise list's entry for every exercise at once
MAX_REPEATS = 10


class SweepPanel(QGroupBox):
    """Choose an exercise (it fills the form) or a custom sweep, then run it in one click.

    The form's values are the base of every run, so a smaller training subset or fewer
    epochs typed there apply to the whole sweep. "The whole lab" runs every exercise with
    the lab's settings (the form's training subset and the repeats apply), planned as one
    job. ``runRequested(Job)`` asks the train tab to run it.
    """

    runRequested = Signal(object)

    def __init__(self, form: TrainForm, parent: QWidget | None = None):
        super().__init__("Lab exercises and sweeps", parent)
        self.form = form
        self.preset = QComboBox(objectName="presetCombo")
        self.preset.addItem("Custom sweep", None)
        for sweep in PRESETS.values():
            self.preset.addItem(sweep.title, sweep.id)
        self.preset.addItem("The whole lab (every exercise)", WHOLE_LAB)
        self.preset.setToolTip("Pick one of the lab's exercises: it fills the form and values")
        self.param = QComboBox(objectName="sweepParamCombo")
        for name in SWEEPABLE:
            self.param.addItem(name.replace("_", " "), name)
        self.values = QLineEdit(objectName="sweepValuesEdit")
        self.values.setPlaceholderText("values, e.g. 8, 16, 32")
        self.repeats = QSpinBox(objectName="repeatsSpin")
        self.repeats.setRange(1, MAX_REPEATS)
        self.repeats.setToolTip("Runs per value, with seeds 0, 1, 2…: the table shows mean ± std")
        self.description = QLabel("", objectName="presetDescription")
        self.description.setWordWrap(True)
        self.problem = QLabel("", objectName="sweepProblem")
        self.problem.setStyleSheet("color: #b00020")
        self.problem.setWordWrap(True)
        self.run_button = QPushButton("Run sweep", objectName="runSweepButton")
        self.run_button.setToolTip("Train one run per value (and repeat), one after another")
        self.run_button.clicked.connect(self.request_run)

        layout = QFormLayout(self)
        layout.addRow("Exercise", self.preset)
        layout.addRow("Sweep", self.param)
        layout.addRow("Values", self.values)
        layout.addRow("Repeats", self.repeats)
        layout.addRow(self.description)
        layout.addRow(self.problem)
        layout.addRow(self.run_button)

        self.preset.currentIndexChanged.connect(self._on_preset)
        self.param.currentIndexChanged.connect(self._validate)
        self.values.textChanged.connect(self._validate)
        self.repeats.valueChanged.connect(self._validate)
        self.form.changed.connect(self._validate)
        self._busy = False
        self._on_preset()

    # --- building the sweep ----------------------------------------------------------------

    def sweep(self) -> tuple[Sweep, list[RunSpec]]:
        """The sweep as set up, and its runs; raises ValueError naming what is wrong."""
        base = self.form.spec()
        preset = PRESETS.get(self.preset.currentData())
        if preset is not None and not same_exercise(preset, base):
            preset = None  # the form now describes another network: a custom sweep
        if preset is not None and preset.param is None:
            sweep = replace(preset, base=base)
        else:
            param = self.param.currentData()
            values = parse_values(self.values.text(), param)
            if preset is not None and param == preset.param and tuple(values) == preset.values:
                custom_sweep(base, param, values)  # validates every value against the base
                sweep = replace(preset, base=base)
            else:
                sweep = custom_sweep(base, param, values)
        return sweep, sweep.specs(self.repeats.value(), seed=base.seed or 0)

    def job(self) -> Job:
        """The planned job of what is set up; raises ValueError naming what is wrong."""
        if self.preset.currentData() == WHOLE_LAB:
            values = self.form.values()
            job = Job.lab(train_limit=values["train_limit"], repeats=self.repeats.value())
            return job.set_precision(values["precision"])
        sweep, specs = self.sweep()
        return Job.sweep(sweep, specs)

    def choose(self, sweep_key: str) -> None:
        """Select an exercise preset (``ex1`` …), as if picked in the list."""
        index = self.preset.findData(sweep_key)
        if index >= 0:
            self.preset.setCurrentIndex(index)

    def request_run(self) -> None:
        try:
            job = self.job()
        except ValueError as exc:
            self.problem.setText(str(exc))
            return
        self.runRequested.emit(job)

    def set_busy(self, busy: bool) -> None:
        """Lock the panel while a training runs."""
        self._busy = busy
        preset = PRESETS.get(self.preset.currentData())
        fixed = self.preset.currentData() == WHOLE_LAB or (preset and preset.param is None)
        self.preset.setEnabled(not busy)
        self.repeats.setEnabled(not busy)
        for widget in (self.param, self.values):
            widget.setEnabled(not busy and not fixed)
        self._validate()

    # --- reactions -------------------------------------------------------------------------

    def _on_preset(self, *_args) -> None:
        preset = PRESETS.get(self.preset.currentData())
        if self.preset.currentData() == WHOLE_LAB:
            self.param.setEnabled(False)
            self.values.setEnabled(False)
            self.values.setText("")
            self.description.setText(
                "Every exercise with the lab's settings, each in its own table in Results. "
                "Identical runs train once and shorter runs are read from longer ones, as "
                "'digitpad lab' does. The form's training images and Repeats apply."
            )
            self._validate()
            return
        if preset is None:
            self.description.setText(
                "Sweep any hyperparameter of the form: the form gives every other value."
            )
            self.param.setEnabled(True)
            self.values.setEnabled(True)
            self._validate()
            return
        # The exercise's settings, keeping the user's training subset (a quick first pass)
        # and number format.
        kept = {k: self.form.values()[k] for k in ("train_limit", "precision")}
        self.form.set_spec(preset.base.with_changes(**kept))
        single = preset.param is None
        self.param.setEnabled(not single)
        self.values.setEnabled(not single)
        if single:
            self.values.setText("")
        else:
            self.param.setCurrentIndex(self.param.findData(preset.param))
            self.values.setText(", ".join(str(v) for v in preset.values))
        self.description.setText(describe_preset(preset))
        self._validate()

    def _validate(self, *_args) -> None:
        if self.preset.currentData() == WHOLE_LAB:
            trainings = len(self.job().runs)
            self.problem.setText("")
            self.run_button.setEnabled(not self._busy)
            self.run_button.setText(f"Run the lab ({trainings} trainings)")
            return
        try:
            _, specs = self.sweep()
        except ValueError as exc:
            # An empty values field is not an error yet: the user has not typed them.
            waiting = self.values.isEnabled() and not self.values.text().strip()
            self.problem.setText("" if waiting else str(exc))
            self.run_button.setEnabled(False)
            self.run_button.setText("Run sweep")
            return
        preset = PRESETS.get(self.preset.currentData())
        if preset is not None and not same_exercise(preset, self.form.spec()):
            self.problem.setText(
                "The form no longer describes this exercise's network: it will run as a "
                "custom sweep, without the report's figures."
            )
        else:
            self.problem.setText("")
        self.run_button.setEnabled(not self._busy)
        self.run_button.setText(f"Run sweep ({len(specs)} run{'s' if len(specs) > 1 else ''})")


def same_exercise(preset: Sweep, base: RunSpec) -> bool:
    """True when ``base`` is the exercise's network, allowing a quick pass (other epochs,
    a training subset, another seed, another precision) and any value of the swept
    hyperparameter."""

    def essentials(spec: RunSpec) -> RunSpec:
        changes = {"epochs": 1, "train_limit": None, "seed": None, "precision": "auto"}
        if preset.param:
            changes[preset.param] = getattr(preset.base, preset.param)
        return spec.with_changes(**changes)

    return essentials(base) == essentials(preset.base)


def parse_values(text: str, param: str) -> list[int | float]:
    """``"8, 16 32"`` -> ``[8, 16, 32]`` (floats for learning rate and dropout)."""
    kind = float if param in FLOAT_PARAMS else int
    parts = [p for p in text.replace(",", " ").split() if p]
    if not parts:
        raise ValueError("type the values to sweep, separated by commas")
    try:
        values = [kind(p) for p in parts]
    except ValueError:
        wanted = "numbers" if kind is float else "whole numbers"
        raise ValueError(f"{param.replace('_', ' ')} values must be {wanted}: {text!r}") from None
    if len(set(values)) != len(values):
        raise ValueError("each value once, please: use Repeats to run a value several times")
    return values


def describe_preset(sweep: Sweep) -> str:
    """The exercise's question, its note, and the report's figures, for the panel."""
    parts = [f"<b>{sweep.question}</b>"]
    if sweep.note:
        parts.append(sweep.note)
    for key, label in (("accuracy", "accuracy"), ("mse", "MSE"), ("time", "time (s)")):
        if key in sweep.reference:
            parts.append(f"Report's {label}: " + ", ".join(f"{v:g}" for v in sweep.reference[key]))
    return "<br>".join(parts)
