"""The class at a glance: one table per exercise (a row per student, a column per swept
value, the class's median and spread and the lab report's value above them), and the
flags a teacher should look at, each with its reason in words."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from digitpad.core.classroom.class_store import (
    ClassSettings,
    ClassStore,
    Student,
    StudentRun,
)
from digitpad.core.lab.exercises import source_exercise
from digitpad.core.lab.sweeps import PRESETS, Sweep, column_name

# A cell is far from the class when its robust z-score (from the median and the median
# absolute deviation) is over this: Iglewicz and Hoaglin's outlier rule.
OUTLIER_Z = 3.5
# At least this many students in a column before anyone is called far from the class:
# with fewer, the median and its absolute deviation say too little.
MIN_CLASS = 5
FULL_TRAINING_SET = 60_000


@dataclass(frozen=True)
class Flag:
    """Something a teacher should look at, and why (``exercise``/``column`` None when it
    is about the whole hand-in)."""

    student_id: int
    student: str
    exercise: str | None
    column: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "exercise": self.exercise,
            "column": self.column,
            "reason": self.reason,
        }


@dataclass
class ClassTable:
    """One exercise across the class: each student's figure per column (the mean of their
    runs there), the class's median and spread (median absolute deviation), the lab
    report's value, and the run behind each student's cell."""

    exercise: str
    title: str
    measure: str  # accuracy, or mse (exercise 3)
    columns: list[str]
    rows: dict[int, list[float | None]] = field(default_factory=dict)
    runs: dict[tuple[int, int], list[StudentRun]] = field(default_factory=dict)
    median: list[float | None] = field(default_factory=list)
    spread: list[float | None] = field(default_factory=list)
    lab: list[float | None] = field(default_factory=list)


@dataclass
class ClassOverview:
    """Everything the Class view, ``class show`` and the class report show."""

    settings: ClassSettings
    students: list[Student]
    tables: list[ClassTable]
    flags: list[Flag]

    def student(self, student_id: int) -> Student:
        return next(s for s in self.students if s.id == student_id)

    def to_dict(self) -> dict[str, Any]:
        """The class as one JSON object: ``students``, ``exercises``, ``flags``."""
        names = {s.id: s.name for s in self.students}
        return {
            "settings": {
                "exercises": list(self.settings.exercises),
                "train_limit": self.settings.train_limit,
                "epochs": self.settings.epochs,
            },
            "students": [
                {"name": s.name, "file": s.file, "made_at": s.made_at, "digest_ok": s.digest_ok}
                for s in self.students
            ],
            "exercises": {
                t.exercise: {
                    "title": t.title,
                    "measure": t.measure,
                    "columns": t.columns,
                    "median": t.median,
                    "spread": t.spread,
                    "lab_report": t.lab,
                    "students": {names[i]: row for i, row in t.rows.items()},
                }
                for t in self.tables
            },
            "flags": [flag.to_dict() for flag in self.flags],
        }


def read_class(store: ClassStore) -> ClassOverview:
    """The class as it stands in ``store``."""
    settings = store.settings()
    students = store.students()
    runs = store.runs()
    tables = [class_table(key, students, runs) for key in settings.exercises if key in PRESETS]
    return ClassOverview(settings, students, tables, class_flags(settings, students, runs, tables))


def class_table(key: str, students: list[Student], runs: list[StudentRun]) -> ClassTable:
    """Exercise ``key``'s table across ``students``."""
    sweep = PRESETS[key]
    values = list(sweep.values)
    table = ClassTable(
        key, sweep.title, sweep.measure, [column_name(sweep.param, v) for v in values]
    )
    figures: dict[tuple[int, int], list[float]] = defaultdict(list)
    for run in runs:
        if run.exercise != key or run.column not in values:
            continue
        index = values.index(run.column)
        table.runs.setdefault((run.student_id, index), []).append(run)
        if run.figure is not None:
            figures[(run.student_id, index)].append(run.figure)
    for student in students:
        table.rows[student.id] = [
            statistics.fmean(figures[(student.id, i)]) if figures[(student.id, i)] else None
            for i in range(len(values))
        ]
    reference = sweep.reference.get(sweep.measure, ())
    for i in range(len(values)):
        column = [row[i] for row in table.rows.values() if row[i] is not None]
        middle = statistics.median(column) if column else None
        table.median.append(middle)
        table.spread.append(statistics.median(abs(v - middle) for v in column) if column else None)
        table.lab.append(reference[i] if i < len(reference) else None)
    return table


def robust_z_scores(column: list[float]) -> list[float | None]:
    """How far each value is from the column, in robust standard deviations: from the
    median and the median absolute deviation; where half the column is equal (MAD 0),
    from the mean absolute deviation instead (Iglewicz and Hoaglin). None when all are
    equal."""
    middle = statistics.median(column)
    deviations = [abs(v - middle) for v in column]
    mad = statistics.median(deviations)
    if mad > 0:
        return [0.6745 * (v - middle) / mad for v in column]
    mean_ad = statistics.fmean(deviations)
    if mean_ad > 0:
        return [(v - middle) / (1.253314 * mean_ad) for v in column]
    return [None] * len(column)


def class_flags(
    settings: ClassSettings,
    students: list[Student],
    runs: list[StudentRun],
    tables: list[ClassTable],
) -> list[Flag]:
    """Every flag of the class, student by student."""
    flags: list[Flag] = []
    by_name: dict[str, list[Student]] = defaultdict(list)
    for student in students:
        by_name[student.name.casefold()].append(student)
    ran = {(run.student_id, run.exercise) for run in runs}
    for student in students:

        def flag(reason: str, exercise: str | None = None, who: Student = student) -> None:
            flags.append(Flag(who.id, who.name, exercise, None, reason))

        if student.problems:
            changed = "; ".join(student.problems)
            flag(f"the hand-in was changed after DigitPad wrote it ({changed})")
        twins = by_name[student.name.casefold()]
        if len(twins) > 1:
            files = ", ".join(sorted(t.file for t in twins))
            flag(f"{len(twins)} hand-ins have this name ({files})")
        for key in settings.exercises:
            source = source_exercise(key)
            if (student.id, source) not in ran:
                why = f"no runs for exercise {key[2:]}"
                if source != key:
                    why += f" (it reads exercise {source[2:]}'s weights, which has none)"
                flag(why, key)
            if not student.answers.get(key, "").strip():
                flag(f"no answer to exercise {key[2:]}", key)
    names = {s.id: s.name for s in students}
    for table in tables:
        sweep = PRESETS[table.exercise]
        for (student_id, index), handed in sorted(table.runs.items()):
            for run in handed:
                for why in _settings_problems(sweep, run, settings):
                    flags.append(
                        Flag(
                            student_id, names[student_id], table.exercise, table.columns[index], why
                        )
                    )
        flags += _outliers(table, names)
    return flags


def _settings_problems(sweep: Sweep, run: StudentRun, settings: ClassSettings) -> list[str]:
    """How ``run`` differs from what its exercise (and the class's settings) ask."""
    epochs_read = run.epochs_read
    lab_epochs = settings.epochs or sweep.base.epochs  # exercise 8 sweeps them itself
    want_epochs = run.column if sweep.param == "epochs" else lab_epochs
    want_batch = run.column if sweep.param == "batch_size" else sweep.base.batch_size
    want_images = settings.train_limit or FULL_TRAINING_SET
    out = []
    if epochs_read != want_epochs:
        out.append(f"read after {epochs_read} epochs; the exercise asks {want_epochs}")
    if run.batch_size != want_batch:
        out.append(f"batch size {run.batch_size}; the exercise asks {want_batch}")
    if run.train_size != want_images:
        out.append(f"trained on {run.train_size:,} images; the class runs {want_images:,}")
    if sweep.param is None and run.neurons != sweep.base.neurons:  # exercises 4 and 9
        out.append(f"{run.neurons} neurons; the exercise asks {sweep.base.neurons}")
    return out


def _outliers(table: ClassTable, names: dict[int, str]) -> list[Flag]:
    flags = []
    for index, column in enumerate(table.columns):
        present = {i: row[index] for i, row in table.rows.items() if row[index] is not None}
        if len(present) < MIN_CLASS:
            continue
        scores = robust_z_scores(list(present.values()))
        for (student_id, value), z in zip(present.items(), scores, strict=True):
            if z is not None and abs(z) > OUTLIER_Z:
                flags.append(
                    Flag(
                        student_id,
                        names[student_id],
                        table.exercise,
                        column,
                        f"{table.measure} {value:.4f} is far from the class (median "
                        f"{table.median[index]:.4f}, robust z {z:+.1f}, over {OUTLIER_Z})",
                    )
                )
    return flags
