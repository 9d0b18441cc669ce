"""RunStore: every run in one SQLite database, written as it starts so a crash loses nothing."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from digitpad.core.machine.files import write_text
from digitpad.core.machine.processes import pid_alive
from digitpad.core.nets.results import BASELINE_ERROR_SQL, RunResult, baseline_error
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.status import RunStatus
from digitpad.core.store.answers import SCHEMA as ANSWERS_SCHEMA
from digitpad.core.store.answers import Answers
from digitpad.core.store.database import transaction
from digitpad.core.store.my_digits import RUN_SCORE_SQL, MyDigits, MyDigitsError
from digitpad.core.store.my_digits import SCHEMA as MY_DIGITS_SCHEMA
from digitpad.core.store.session import SCHEMA as SESSION_SCHEMA
from digitpad.core.store.session import (
    ended_sessions,
    merge_session,
    merged_sentence,
    remove_session,
    undo_moves,
)

DB_NAME = "runs.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    model TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    result_json TEXT,
    curves_json TEXT,
    error TEXT,
    sweep_id TEXT,
    pid INTEGER,
    host TEXT,
    test_accuracy REAL,
    convergence_time REAL
);
CREATE INDEX IF NOT EXISTS runs_sweep ON runs (sweep_id);
CREATE TABLE IF NOT EXISTS run_curves (
    run_id INTEGER PRIMARY KEY,
    curves_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sweep_cells (
    sweep_id TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    value_json TEXT NOT NULL,
    at_epoch INTEGER
);
CREATE INDEX IF NOT EXISTS sweep_cells_sweep ON sweep_cells (sweep_id);
"""
# Columns added since the first version are added to older databases by _upgrade.


_CURVE_FIELDS = ("history", "batch_losses")


class Cell(NamedTuple):
    """One place in a sweep's table: the swept ``value`` (None for a one-column table),
    read from a run after epoch ``at_epoch``, or at its end (None).

    A run can fill several cells: identical runs of two exercises train once, and a run
    that differs from a longer one only by its epochs is read from the longer one.
    """

    sweep_id: str
    value: Any = None
    at_epoch: int | None = None


class RunStoreError(RuntimeError):
    """The run database cannot be used; the message says why and what to do."""


PENDING_RESULT = "pending-result.json"


def model_on_disk(model_path: str | None) -> bool:
    """Whether a run's saved network is still there (a deleted or moved file: not)."""
    return bool(model_path and Path(model_path).exists())


@dataclass
class RunRecord:
    """One row of the store: the spec, and the result once the run has ended."""

    id: int
    created_at: str
    finished_at: str | None
    status: RunStatus
    spec: RunSpec
    result: RunResult | None
    error: str | None
    sweep_id: str | None

    @property
    def has_model(self) -> bool:
        return model_on_disk(self.result.model_path if self.result else None)


class RunRow(NamedTuple):
    """One run as the results table lists it: plain values from the runs table's columns,
    so listing thousands of runs parses no JSON and builds no ``RunSpec`` or ``RunResult``
    (and a tuple is built 5x faster than a dataclass). ``RunStore.get`` gives the whole
    record, curves included, of the few rows someone looks at. ``filters`` and
    ``kernel_size`` are None for an MLP."""

    id: int
    created_at: str
    status: str  # a RunStatus's text: listing 10,000 rows builds no enum members
    model: str
    sweep_id: str | None
    error: str | None
    neurons: int
    filters: int | None
    kernel_size: int | None
    epochs: int
    batch_size: int
    metric: str
    train_size: int
    learning_rate: float | None
    seed: int | None
    test_accuracy: float | None
    test_mse: float | None
    convergence_time: float | None
    params: int | None
    epochs_run: int | None
    model_path: str | None
    trained_host: str | None
    trained_pid: int | None
    device: str | None
    finetune_of: str | None  # the network a fine-tune started from
    precision: str | None  # what it trained in: float32 or bfloat16
    my_digits: float | None = None  # accuracy on My digits as they are now, once computed

    @property
    def baseline_error(self) -> float | None:
        """The lab's "baseline error" in percent, as ``RunResult.baseline_error``."""
        return None if self.test_accuracy is None else baseline_error(self.test_accuracy)

    @property
    def has_model(self) -> bool:
        return model_on_disk(self.model_path)

    @classmethod
    def from_record(cls, record: RunRecord) -> RunRow:
        return cls(
            id=record.id,
            created_at=record.created_at,
            status=record.status,
            model=record.spec.model,
            sweep_id=record.sweep_id,
            error=record.error,
            **dict(zip(_SPEC_COLUMNS, _spec_values(record.spec), strict=True)),
            **dict(zip(_RESULT_COLUMNS, _result_values(record.result), strict=True)),
        )


# The table's columns beside the JSON, one per RunRow field (the other fields are the
# runs table's own columns): written with each run, so listing reads no JSON at all.
_SPEC_COLUMNS = {
    "neurons": "INTEGER",
    "filters": "INTEGER",
    "kernel_size": "INTEGER",
    "epochs": "INTEGER",
    "batch_size": "INTEGER",
    "metric": "TEXT",
    "train_size": "INTEGER",
    "learning_rate": "REAL",
}
_RESULT_COLUMNS = {
    "seed": "INTEGER",
    "test_accuracy": "REAL",
    "test_mse": "REAL",
    "convergence_time": "REAL",
    "params": "INTEGER",
    "epochs_run": "INTEGER",
    "model_path": "TEXT",
    "trained_host": "TEXT",
    "trained_pid": "INTEGER",
    "device": "TEXT",
    "finetune_of": "TEXT",
    "precision": "TEXT",
}
_RESULT_ASSIGNMENTS = ", ".join(f"{name}=?" for name in _RESULT_COLUMNS)
# Every RunRow field is a column of the runs table, but my_digits, read from My digits'
# cached scores (in the same database).
_COMPUTED = {"my_digits": RUN_SCORE_SQL}
_LIST_ROWS = f"SELECT {', '.join(_COMPUTED.get(f, f) for f in RunRow._fields)} FROM runs"
# ORDER BY expressions: the columns, and the derived figures.
_SORT_KEYS = {name: _COMPUTED.get(name, name) for name in RunRow._fields} | {
    "baseline_error": BASELINE_ERROR_SQL
}


# Only CNNs have these: an MLP's row leaves them blank (its spec keeps unused defaults).
_CNN_ONLY = ("filters", "kernel_size")


def _spec_values(spec: RunSpec) -> list[Any]:
    return [
        None if name in _CNN_ONLY and not spec.is_cnn else getattr(spec, name)
        for name in _SPEC_COLUMNS
    ]


def _result_values(result: RunResult | None) -> list[Any]:
    return [getattr(result, name) if result else None for name in _RESULT_COLUMNS]


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


class RunStore:
    """Runs persisted in ``<folder>/runs.db`` (WAL mode); models saved under ``<folder>/runs/``.

    Each call opens its own short connection, so the store can be used from any thread and
    from several processes (two windows, the CLI) at once.

    ``recovery_message`` is set when an unreadable database had to be moved aside.
    A database that is locked or cannot be written raises ``RunStoreError`` instead (its
    runs are fine, only unreachable now), with what to do in the message. ``timeout`` is how
    long each statement waits for another process' lock.
    """

    def __init__(self, folder: str | os.PathLike, timeout: float = 10.0, read_only: bool = False):
        # Absolute, once: model paths are read against it, whatever the working folder later.
        self.folder = Path(os.path.abspath(Path(folder).expanduser()))
        self.path = self.folder / DB_NAME
        self.timeout = timeout
        self.read_only = read_only
        self.recovery_message: str | None = None
        if read_only:  # for commands that only read, in a folder that cannot be written
            self._open_for_reading()
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunStoreError(
                f"cannot create the data folder {self.folder} ({exc.strerror or exc}); "
                "set DIGITPAD_HOME to a folder you can write to"
            ) from exc
        try:
            self._initialise()
        except RunStoreError:
            raise
        except sqlite3.DatabaseError as exc:  # not a database, or damaged: start afresh
            self._move_aside(exc)
            self._initialise()
        self.interrupted = self._mark_interrupted()
        self.recovered = self._recover_pending_results()
        mine = self.my_digits()
        try:  # drawings of My digits kept aside while the database could not be written
            self.recovered_drawings = mine.add_pending()
        except MyDigitsError:
            self.recovered_drawings = 0
        # Kept-aside drawings that could not be read: named, and left for a person.
        self.unreadable_drawings = (
            "Left in place, unreadable (a drawing kept aside earlier): "
            + "; ".join(mine.left_in_place)
            if mine.left_in_place
            else None
        )
        self.answers().add_pending()  # report answers kept aside while it could not be written
        # Work of windows that could not open this database (see core.store.session).
        self.merged_message = self.merge_sessions()

    # --- set-up -------------------------------------------------------------------------------

    def _open_for_reading(self) -> None:
        """Read what is there, change nothing: no schema, no recovery, no merge (each of
        them writes; they happen the next time the folder can be written)."""
        if not self.path.is_file():
            raise RunStoreError(f"there is no run database in {self.folder}")
        with self._connect() as db:
            db.execute("SELECT count(*) FROM runs").fetchone()
        self.interrupted = self.recovered = self.recovered_drawings = 0
        self.unreadable_drawings = self.merged_message = None

    def _initialise(self) -> None:
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {check}")
            db.executescript(_SCHEMA)
            db.executescript(MY_DIGITS_SCHEMA)
            db.executescript(ANSWERS_SCHEMA)
            db.executescript(SESSION_SCHEMA)
            moved = _upgrade(db)
            _relative_model_paths(db)
            _number_after_folders(db, self.folder / "runs")
            # A write now, so a locked or read-only database shows up at start, not when the
            # first run ends.
            db.execute("PRAGMA user_version = 2")
        if moved:
            self._compact()

    def _compact(self) -> None:
        """Rewrite the database file once its rows shrank (see ``_upgrade``): rows left one
        to a page read four times the pages. Skipped while another process is using it."""
        db = sqlite3.connect(self.path, timeout=0.5)
        try:
            db.execute("VACUUM")
        except sqlite3.OperationalError:
            pass  # busy: the next start will not try again, and the store works as it is
        finally:
            db.close()

    def _move_aside(self, exc: Exception) -> None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"runs.corrupt-{stamp}.db")
        for suffix in ("", "-wal", "-shm"):
            part = Path(str(self.path) + suffix)
            if part.exists():
                shutil.move(part, Path(str(aside) + suffix))
        self.recovery_message = (
            f"The run database {self.path} could not be read ({exc}). It was moved to "
            f"{aside.name} and a new, empty one was started. The saved networks under "
            f"{self.folder / 'runs'} are kept, and new runs are numbered after them: each "
            "old run-NNNNNN/model.keras opens with keras.models.load_model."
        )

    def merge_sessions(self) -> str | None:
        """Bring in the sessions kept beside this database by windows that have ended;
        a sentence saying what joined, or None.
        A session that cannot be merged now (the database busy, a folder that cannot be
        moved) stays for the next time."""
        totals, merged = [0, 0, 0], 0
        for folder in ended_sessions(self.folder):
            moved: list = []
            try:
                RunStore(folder)  # takes in what that session itself kept aside
                with self._connect() as db:
                    counts = merge_session(db, self.folder, folder, moved)
            except (RunStoreError, OSError, sqlite3.DatabaseError):
                undo_moves(moved)  # nothing was recorded: the session stays whole
                continue
            remove_session(folder)
            totals = [t + c for t, c in zip(totals, counts, strict=True)]
            merged += 1
        return merged_sentence(tuple(totals), merged)

    def _connect(self):
        return transaction(
            self.path, self.timeout, RunStoreError, rows=True, read_only=self.read_only
        )

    def _recover_pending_results(self) -> int:
        """Finish runs whose result was kept beside their model because the database could
        not be written when they ended (see ``keep_pending_result``)."""
        recovered = 0
        for pending in sorted(self.folder.glob(f"runs/run-*/{PENDING_RESULT}")):
            try:
                run_id = int(pending.parent.name.split("-")[1])
                result = RunResult.from_dict(json.loads(pending.read_text()))
            except (ValueError, KeyError, TypeError, OSError):
                continue  # unreadable: left in place for a person to look at
            record = self.get(run_id)
            if record is not None and record.status in (
                RunStatus.RUNNING,
                RunStatus.INTERRUPTED,
            ):
                self.finish_run(run_id, result)
                recovered += 1
            pending.unlink(missing_ok=True)
        return recovered

    def keep_pending_result(self, run_id: int, result: RunResult) -> Path:
        """Write a finished run's result beside its model, for when the database cannot be
        written; the next ``RunStore`` on this folder puts it in the database."""
        folder = self.model_dir(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        return write_text(folder / PENDING_RESULT, json.dumps(result.to_dict()))

    def _mark_interrupted(self) -> int:
        """Runs left ``running`` by a process that no longer exists become ``interrupted``."""
        host = socket.gethostname()
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, pid, host FROM runs WHERE status=?", (RunStatus.RUNNING,)
            ).fetchall()
            # A run from another host cannot be checked; it is only marked when seen from there.
            dead = [r["id"] for r in rows if r["host"] == host and not pid_alive(r["pid"])]
            db.executemany(
                "UPDATE runs SET status=?, error=?, finished_at=? WHERE id=?",
                [
                    (RunStatus.INTERRUPTED, "the program ended before this run finished", now(), i)
                    for i in dead
                ],
            )
        return len(dead)

    def mark_interrupted(self, run_id: int, error: str) -> None:
        """A running run whose worker died: ``interrupted``, with why."""
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status=?, finished_at=?, error=? WHERE id=? AND status=?",
                (RunStatus.INTERRUPTED, now(), error, run_id, RunStatus.RUNNING),
            )

    # --- writing ------------------------------------------------------------------------------

    def start_run(self, spec: RunSpec, sweep_id: str | None = None) -> int:
        """Record a run as ``running`` and return its id."""
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO runs (created_at, status, model, spec_json, sweep_id, pid, host, "
                f"{', '.join(_SPEC_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, "
                f"{', '.join('?' * len(_SPEC_COLUMNS))})",
                (
                    now(),
                    RunStatus.RUNNING,
                    spec.model,
                    spec.to_json(),
                    sweep_id,
                    os.getpid(),
                    socket.gethostname(),
                    *_spec_values(spec),
                ),
            )
            return int(cursor.lastrowid)

    def add_cells(self, run_id: int, cells: Iterable[Cell]) -> None:
        """Record which sweep tables' cells a run fills (see ``Cell``)."""
        with self._connect() as db:
            db.executemany(
                "INSERT INTO sweep_cells (sweep_id, run_id, value_json, at_epoch) "
                "VALUES (?, ?, ?, ?)",
                [(c.sweep_id, run_id, json.dumps(c.value), c.at_epoch) for c in cells],
            )

    def cells(self, sweep_id: str) -> list[tuple[int, Cell]]:
        """The cells of one sweep's table, as (run id, cell), in the order they were made."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT run_id, value_json, at_epoch FROM sweep_cells WHERE sweep_id=? "
                "ORDER BY rowid",
                (sweep_id,),
            )
            return [(r[0], Cell(sweep_id, json.loads(r[1]), r[2])) for r in rows]

    def finish_run(self, run_id: int, result: RunResult) -> None:
        """Store a finished (``done`` or ``stopped``) run's result (its model's paths
        relative to the data folder, so a copied or moved folder keeps working)."""
        result = replace(
            result,
            model_path=_inside_folder(result.model_path),
            weights_path=_inside_folder(result.weights_path),
        )
        summary = result.to_dict()
        # Curves are the bulk of a record: kept apart so listing 10,000 runs stays fast.
        curves = {key: summary.pop(key) for key in _CURVE_FIELDS}
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status=?, finished_at=?, result_json=?, "
                f"{_RESULT_ASSIGNMENTS} WHERE id=?",
                (result.status, now(), json.dumps(summary), *_result_values(result), run_id),
            )
            db.execute(
                "INSERT OR REPLACE INTO run_curves (run_id, curves_json) VALUES (?, ?)",
                (run_id, json.dumps(curves)),
            )

    def fail_run(self, run_id: int, error: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status=?, finished_at=?, error=? WHERE id=?",
                (RunStatus.FAILED, now(), error, run_id),
            )

    def delete(self, run_ids: Iterable[int]) -> None:
        """Delete runs and their folders of this data folder (models, kept results); a
        copy of the data folder elsewhere is never touched."""
        ids = list(run_ids)
        for run_id in ids:
            shutil.rmtree(self.model_dir(run_id), ignore_errors=True)
        with self._connect() as db:
            db.executemany("DELETE FROM runs WHERE id=?", [(i,) for i in ids])
            db.executemany("DELETE FROM run_curves WHERE run_id=?", [(i,) for i in ids])
            db.executemany("DELETE FROM sweep_cells WHERE run_id=?", [(i,) for i in ids])

    def my_digits(self, timeout: float | None = None) -> MyDigits:
        """The personal set kept in this store's database; ``timeout``: how long a write
        waits for a lock (the window's is short: a drawing it cannot write now is kept
        aside, never waited for)."""
        return MyDigits(
            self.path,
            self.timeout if timeout is None else timeout,
            create=False,
            read_only=self.read_only,
        )

    def answers(self, timeout: float | None = None) -> Answers:
        """The student's answers to the lab's questions, kept in this store's database."""
        return Answers(
            self.path, self.timeout if timeout is None else timeout, read_only=self.read_only
        )

    def model_dir(self, run_id: int) -> Path:
        """Where a run's model files are saved."""
        return self.folder / "runs" / f"run-{run_id:06d}"

    # --- reading ------------------------------------------------------------------------------

    def list_runs(
        self, model: str | None = None, sweep_id: str | None = None, curves: bool = False
    ) -> list[RunRecord]:
        """All runs, oldest first, optionally only one model kind or one sweep.

        Without ``curves`` the results' ``history`` and ``batch_losses`` are left empty
        (``get`` loads them), which keeps listing thousands of runs fast.
        """
        where, args = _where(model, sweep_id)
        query = f"{_SELECT_WITH_CURVES if curves else _SELECT_WITHOUT_CURVES}{where} ORDER BY id"
        with self._connect() as db:
            return [_record(row, curves, self.folder) for row in db.execute(query, args)]

    def newest_with_models(self, limit: int) -> list[RunRow]:
        """The ``limit`` newest runs whose saved model is still on disk, newest first."""
        query = f"{_LIST_ROWS} WHERE model_path IS NOT NULL ORDER BY id DESC"
        with self._connect() as db:
            found = (self._row(row) for row in db.execute(query))
            return list(islice((row for row in found if row.has_model), limit))

    def rows(self, run_ids: Iterable[int]) -> dict[int, RunRow]:
        """Table rows of some runs, by id (runs since deleted are left out)."""
        ids = list(run_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with self._connect() as db:
            found = db.execute(f"{_LIST_ROWS} WHERE id IN ({marks})", ids)
            return {row[0]: self._row(row) for row in found}

    def ordered_ids(
        self,
        sort_by: str = "id",
        descending: bool = False,
        model: str | None = None,
        sweep_id: str | None = None,
    ) -> list[int]:
        """Ids of the runs of one model kind and one sweep (None: all), sorted by a RunRow
        field with blanks last in either direction, then by id.

        SQLite sorts and filters 10,000 runs in a few milliseconds, so a table can show any
        order and read only the rows on screen (see ``rows``).
        """
        if sort_by not in _SORT_KEYS:
            raise ValueError(f"cannot sort runs by {sort_by!r}; use one of {', '.join(_SORT_KEYS)}")
        key, direction = _SORT_KEYS[sort_by], "DESC" if descending else "ASC"
        where, args = _where(model, sweep_id)
        query = (
            f"SELECT id FROM runs{where} ORDER BY {key} IS NULL, {key} {direction}, id {direction}"
        )
        with self._connect() as db:
            return [row[0] for row in db.execute(query, args)]

    def sweep_ids(self) -> list[str]:
        """Every sweep id in the store (of runs, and of cells read from runs), sorted."""
        with self._connect() as db:
            query = (
                "SELECT sweep_id FROM runs WHERE sweep_id IS NOT NULL "
                "UNION SELECT sweep_id FROM sweep_cells ORDER BY 1"
            )
            return [row[0] for row in db.execute(query)]

    def get(self, run_id: int) -> RunRecord | None:
        found = self.get_many([run_id])
        return found[0] if found else None

    def get_many(self, run_ids: Iterable[int], curves: bool = True) -> list[RunRecord]:
        """Some runs, by id order; without their curves (the bulk) when ``curves`` is False."""
        ids = list(run_ids)
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        select = _SELECT_WITH_CURVES if curves else _SELECT_WITHOUT_CURVES
        with self._connect() as db:
            rows = db.execute(f"{select} WHERE id IN ({marks}) ORDER BY id", ids)
            return [_record(row, curves, self.folder) for row in rows]

    def _row(self, values: Iterable[Any]) -> RunRow:
        row = RunRow._make(values)
        if row.model_path is None:
            return row
        return row._replace(model_path=str(self.folder / row.model_path))

    def integrity(self) -> str:
        """``PRAGMA integrity_check``'s verdict (``"ok"`` when healthy)."""
        with self._connect() as db:
            return db.execute("PRAGMA integrity_check").fetchone()[0]


_COLUMNS_WITHOUT_CURVES = (
    "id, created_at, finished_at, status, model, spec_json, result_json, error, sweep_id"
)
_SELECT_WITHOUT_CURVES = f"SELECT {_COLUMNS_WITHOUT_CURVES} FROM runs"
_SELECT_WITH_CURVES = (
    f"SELECT {_COLUMNS_WITHOUT_CURVES}, "
    "coalesce((SELECT curves_json FROM run_curves WHERE run_id = runs.id), curves_json) "
    "AS curves_json FROM runs"
)


def _where(model: str | None, sweep_id: str | None) -> tuple[str, list[str]]:
    """A WHERE clause (with its leading space, or empty) keeping one model kind and sweep
    (a sweep's runs: those stored under its id and those its cells are read from)."""
    tests, args = [], []
    if model:
        tests.append("model = ?")
        args.append(model)
    if sweep_id:
        tests.append("(sweep_id = ? OR id IN (SELECT run_id FROM sweep_cells WHERE sweep_id = ?))")
        args += [sweep_id, sweep_id]
    return (" WHERE " + " AND ".join(tests) if tests else ""), args


def _upgrade(db: sqlite3.Connection) -> bool:
    """Bring a database written by an earlier version to this layout; True if rows moved.

    Earlier versions kept each run's curves in ``runs.curves_json`` and its table figures
    only in JSON. Kilobytes of curves in a row push its later columns onto overflow pages,
    which SQLite then reads for every row listed, and parsing the JSON of 10,000 runs took
    most of a second: curves move to ``run_curves`` and the figures get columns of their own.
    """
    db.execute("BEGIN IMMEDIATE")  # one process upgrades; another opening waits, then sees it
    present = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    for name, kind in {**_SPEC_COLUMNS, **_RESULT_COLUMNS}.items():
        if name not in present:
            db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
    # Rows without their columns filled: older versions' runs (also ones written since).
    stale = db.execute(
        f"SELECT {_COLUMNS_WITHOUT_CURVES} FROM runs "
        "WHERE neurons IS NULL OR (result_json IS NOT NULL AND (device IS NULL "
        "OR precision IS NULL))"
    ).fetchall()
    db.executemany(
        f"UPDATE runs SET {', '.join(f'{n}=?' for n in _SPEC_COLUMNS)}, {_RESULT_ASSIGNMENTS} "
        "WHERE id=?",
        [
            (*_spec_values(record.spec), *_result_values(record.result), record.id)
            for record in (_record(row, False, None) for row in stale)
        ],
    )
    moved = db.execute(
        "INSERT OR IGNORE INTO run_curves (run_id, curves_json) "
        "SELECT id, curves_json FROM runs WHERE curves_json IS NOT NULL"
    ).rowcount
    if moved:
        db.execute("UPDATE runs SET curves_json = NULL WHERE curves_json IS NOT NULL")
    return moved > 0


def _number_after_folders(db: sqlite3.Connection, runs_folder: Path) -> None:
    """Make the next run's number larger than every ``run-NNNNNN`` folder's, so a run never
    writes into (or, deleted, removes) a folder that a database set aside or lost still
    names."""
    numbers = [0]
    if runs_folder.is_dir():
        for folder in runs_folder.glob("run-*"):
            suffix = folder.name.removeprefix("run-")
            if suffix.isdigit():
                numbers.append(int(suffix))
    highest = max(numbers)
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name='runs'").fetchone()
    if row is None:
        db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('runs', ?)", (highest,))
    elif row[0] < highest:
        db.execute("UPDATE sqlite_sequence SET seq=? WHERE name='runs'", (highest,))


def _inside_folder(path: str | None) -> str | None:
    """A model file's path as stored: relative to the data folder (``runs/run-N/file``).

    Taken from the path's end, so a path written by a copy of this folder (or before paths
    were stored this way) names this folder's own file, never the other folder's."""
    if not path:
        return None
    parts = Path(path).parts
    if len(parts) >= 3 and parts[-3] == "runs" and parts[-2].startswith("run-"):
        return "/".join(parts[-3:])
    return path  # not in a data folder's layout (should not happen): kept as it was


def _relative_model_paths(db: sqlite3.Connection) -> None:
    """Older versions stored absolute model paths, which in a copied data folder named the
    original's files (and ``delete`` removed them): stored relative from now on."""
    absolute = db.execute(
        "SELECT id, model_path, result_json FROM runs WHERE model_path LIKE '/%' "
        "OR model_path LIKE '_:%' OR model_path LIKE '\\%'"
    ).fetchall()
    for run_id, model_path, result_json in absolute:
        values = json.loads(result_json) if result_json else {}
        for key in ("model_path", "weights_path"):
            if values.get(key):
                values[key] = _inside_folder(values[key])
        db.execute(
            "UPDATE runs SET model_path=?, result_json=? WHERE id=?",
            (_inside_folder(model_path), json.dumps(values) if result_json else None, run_id),
        )


def _record(row: sqlite3.Row, curves: bool, folder: Path | None) -> RunRecord:
    """A row as a record; its model's paths made absolute in ``folder`` (None: as stored)."""
    spec = RunSpec.from_stored(json.loads(row["spec_json"]))
    result = None
    if row["result_json"]:
        values = json.loads(row["result_json"])
        stored_curves = json.loads(row["curves_json"] or "{}") if curves else {}
        values["history"] = stored_curves.get("history", {})
        values["batch_losses"] = stored_curves.get("batch_losses", [])
        if values.get("spec") == spec.to_dict():
            values["spec"] = spec  # the same spec: validated once, not twice
        if folder is not None:
            for key in ("model_path", "weights_path"):
                if values.get(key):
                    values[key] = str(folder / values[key])
        result = RunResult.from_dict(values)
    return RunRecord(
        id=row["id"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        status=RunStatus(row["status"]),
        spec=spec,
        result=result,
        error=row["error"],
        sweep_id=row["sweep_id"],
    )
