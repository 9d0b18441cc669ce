"""The teacher's class store (``class.db`` in the data folder, beside the runs): every
hand-in imported, one transaction each, and the class's settings.

Importing a folder again adds only new or changed files (by their sha256); a file that is
no readable hand-in is named with why, and the rest import.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from digitpad.core.classroom.handin import SUFFIX, HandedRun, Handin, HandinError, read_handin
from digitpad.core.lab.exercises import EXERCISES
from digitpad.core.lab.sweeps import PRESETS, cell_figures
from digitpad.core.nets.results import RunResult
from digitpad.core.store.database import transaction
from digitpad.core.store.runs import Cell, RunRecord

CLASS_DB = "class.db"
TIMEOUT_S = 10.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS handins (
    id INTEGER PRIMARY KEY,
    file TEXT NOT NULL UNIQUE,
    file_sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    made_at TEXT,
    imported_at TEXT NOT NULL,
    problems_json TEXT NOT NULL,
    manifest_json TEXT NOT NULL,
    answers_json TEXT NOT NULL,
    report_html BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS handed_runs (
    handin_id INTEGER NOT NULL,
    exercise TEXT NOT NULL,
    column_json TEXT NOT NULL,
    at_epoch INTEGER,
    run_id INTEGER NOT NULL,
    figure REAL,
    seconds REAL,
    epochs_read INTEGER NOT NULL,
    batch_size INTEGER NOT NULL,
    train_size INTEGER NOT NULL,
    neurons INTEGER NOT NULL,
    result_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS handed_runs_by_handin ON handed_runs(handin_id);
CREATE TABLE IF NOT EXISTS class_settings (key TEXT PRIMARY KEY, value_json TEXT NOT NULL);
"""


class ClassStoreError(RuntimeError):
    """The class database cannot be used (one line names it and the fix)."""


@dataclass(frozen=True)
class ClassSettings:
    """What the class was asked to run: the exercises, and the training images and epochs
    when the class ran a quicker lab than the lab's (None: the lab's own)."""

    exercises: tuple[str, ...] = EXERCISES
    train_limit: int | None = None
    epochs: int | None = None

    def text(self) -> str:
        parts = [", ".join(self.exercises)]
        if self.train_limit:
            parts.append(f"{self.train_limit:,} training images")
        if self.epochs:
            parts.append(f"{self.epochs} epoch{'s' if self.epochs != 1 else ''}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Student:
    """One imported hand-in."""

    id: int
    file: str
    name: str
    made_at: str
    problems: tuple[str, ...]
    answers: dict[str, str]

    @property
    def digest_ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class StudentRun:
    """One run a student handed in: the exercise and column it fills, its figure there
    (accuracy, or MSE for exercise 3, read where the table reads it) and time, and the
    settings the class's flags compare. ``ClassStore.result_of`` gives the whole run."""

    student_id: int
    exercise: str
    column: Any
    at_epoch: int | None
    run_id: int
    figure: float | None
    seconds: float | None
    epochs_read: int
    batch_size: int
    train_size: int
    neurons: int


@dataclass
class ImportReport:
    """What ``import_folder`` did: files added, replaced (changed since), left (unchanged),
    and refused, each with its one line."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"imported {len(self.added)} new hand-in(s), {len(self.replaced)} changed, "
            f"{len(self.unchanged)} unchanged"
        ]
        return out + [f"refused {line}" for line in self.refused]


def _run_row(run: HandedRun) -> tuple:
    """A handed-in run as its row: the figure its exercise's table reads, and the settings
    the flags compare, computed once here (a class of 300 reads in milliseconds)."""
    result = run.result
    sweep = PRESETS.get(run.exercise)
    measure = sweep.measure if sweep else "accuracy"
    record = RunRecord(run.run_id, "", None, result.status, result.spec, result, None, None)
    got = cell_figures(record, Cell("", run.column, run.at_epoch), measure)
    figure, seconds = got if got is not None else (None, None)
    return (
        run.exercise,
        json.dumps(run.column),
        run.at_epoch,
        run.run_id,
        figure,
        seconds,
        run.at_epoch or result.epochs_run,
        result.spec.batch_size,
        result.spec.train_size,
        result.spec.neurons,
        json.dumps(result.to_dict()),
    )


class ClassStore:
    """The class: its hand-ins (``students``, ``runs``) and settings."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / CLASS_DB
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """One transaction on the class database; ``ClassStoreError`` (naming the file and
        the fix) when it is locked, read-only or the disk is full."""
        with transaction(self.path, TIMEOUT_S, ClassStoreError) as db:
            yield db

    # --- settings --------------------------------------------------------------------------

    def settings(self) -> ClassSettings:
        with self._db() as db:
            rows = dict(db.execute("SELECT key, value_json FROM class_settings").fetchall())
        values = {k: json.loads(v) for k, v in rows.items()}
        if "exercises" in values:
            values["exercises"] = tuple(values["exercises"])
        return ClassSettings(**values)

    def set_settings(self, settings: ClassSettings) -> None:
        unknown = [key for key in settings.exercises if key not in EXERCISES]
        if unknown:
            raise ValueError(
                f"unknown exercise(s) {', '.join(unknown)}; choose among {', '.join(EXERCISES)}"
            )
        values = {
            "exercises": list(settings.exercises),
            "train_limit": settings.train_limit,
            "epochs": settings.epochs,
        }
        with self._db() as db:
            db.executemany(
                "INSERT OR REPLACE INTO class_settings (key, value_json) VALUES (?, ?)",
                [(key, json.dumps(value)) for key, value in values.items()],
            )

    # --- import ----------------------------------------------------------------------------

    def import_folder(self, folder: str | Path) -> ImportReport:
        """Import every ``*.digitpad`` in ``folder`` (not below it) that is new or changed
        (a file of the same name holding another hand-in replaces the earlier import)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise ValueError(f"{folder} is no folder: give the folder the hand-ins are in")
        report = ImportReport()
        with self._db() as db:
            known = dict(db.execute("SELECT file, file_sha256 FROM handins").fetchall())
        seen = {digest: file for file, digest in known.items()}
        for path in sorted(folder.glob(f"*{SUFFIX}")):
            # A hand-in is its file's name in the class; its content, by sha256, tells
            # whether it changed (the folder itself may have moved).
            key = path.name
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as exc:
                report.refused.append(f"{path.name}: cannot be read ({exc.strerror or exc})")
                continue
            if known.get(key) == digest:
                report.unchanged.append(path.name)
                continue
            if key not in known and digest in seen:
                report.refused.append(
                    f"{path.name} is the same file as {seen[digest]}, imported already: left out"
                )
                continue
            try:
                handin = read_handin(path)
            except HandinError as exc:
                report.refused.append(str(exc))
                continue
            self._store(key, digest, handin)
            seen[digest] = key
            (report.replaced if key in known else report.added).append(path.name)
        return report

    def _store(self, key: str, digest: str, handin: Handin) -> None:
        """One hand-in, whole or not at all (a changed file replaces its earlier import)."""
        with self._db() as db:
            db.execute(
                "DELETE FROM handed_runs WHERE handin_id IN "
                "(SELECT id FROM handins WHERE file = ?)",
                (key,),
            )
            db.execute("DELETE FROM handins WHERE file = ?", (key,))
            cursor = db.execute(
                "INSERT INTO handins (file, file_sha256, name, made_at, imported_at, "
                "problems_json, manifest_json, answers_json, report_html) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    digest,
                    handin.name,
                    str(handin.manifest.get("made_at", "")),
                    datetime.now().isoformat(timespec="seconds"),
                    json.dumps(handin.problems),
                    json.dumps(handin.manifest),
                    json.dumps(handin.answers),
                    handin.report_html,
                ),
            )
            db.executemany(
                "INSERT INTO handed_runs (handin_id, exercise, column_json, at_epoch, run_id, "
                "figure, seconds, epochs_read, batch_size, train_size, neurons, result_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(cursor.lastrowid, *_run_row(run)) for run in handin.runs],
            )

    # --- reading ---------------------------------------------------------------------------

    def students(self) -> list[Student]:
        """Every imported hand-in, by name."""
        with self._db() as db:
            rows = db.execute(
                "SELECT id, file, name, made_at, problems_json, answers_json FROM handins "
                "ORDER BY name COLLATE NOCASE, id"
            ).fetchall()
        return [
            Student(i, file, name, made, tuple(json.loads(problems)), json.loads(answers))
            for i, file, name, made, problems, answers in rows
        ]

    def runs(self) -> list[StudentRun]:
        """Every handed-in run of every student (their figures, not the whole runs)."""
        with self._db() as db:
            rows = db.execute(
                "SELECT handin_id, exercise, column_json, at_epoch, run_id, figure, seconds, "
                "epochs_read, batch_size, train_size, neurons FROM handed_runs "
                "ORDER BY handin_id, rowid"
            ).fetchall()
        return [StudentRun(h, ex, json.loads(col), *rest) for h, ex, col, *rest in rows]

    def result_of(self, run: StudentRun) -> RunResult:
        """The whole run behind ``run``, as its student handed it in."""
        with self._db() as db:
            found = db.execute(
                "SELECT result_json FROM handed_runs WHERE handin_id = ? AND run_id = ? "
                "AND exercise = ?",
                (run.student_id, run.run_id, run.exercise),
            ).fetchone()
        if found is None:
            raise KeyError(f"no run {run.run_id} in hand-in {run.student_id}")
        return RunResult.from_dict(json.loads(found[0]))

    def report_html(self, student_id: int) -> bytes:
        """The report a student handed in, as HTML."""
        with self._db() as db:
            row = db.execute("SELECT report_html FROM handins WHERE id = ?", (student_id,))
            found = row.fetchone()
        if found is None:
            raise KeyError(f"no hand-in {student_id} in the class")
        return found[0]
