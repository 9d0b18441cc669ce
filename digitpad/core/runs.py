"""RunStore: every run in one SQLite database, written as it starts so a crash loses nothing."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from digitpad.core.specs import RunSpec
from digitpad.core.training import RunResult

DB_NAME = "runs.db"
STATUSES = ("running", "done", "stopped", "failed", "interrupted")

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
"""


_CURVE_FIELDS = ("history", "batch_losses")


class RunStoreError(RuntimeError):
    """The run database cannot be used; the message says why and what to do."""


PENDING_RESULT = "pending-result.json"


def unusable_message(path: Path, exc: Exception) -> str:
    """Why the database cannot be used right now, and the fix."""
    text = str(exc)
    if "locked" in text:
        return (
            f"The run database {path} is locked by another program (a DigitPad or a backup "
            "tool holding it). Close that program, or wait, and try again."
        )
    if "readonly" in text or "read-only" in text:
        return (
            f"The run database {path} is read-only. Make it and its folder writable, or "
            "set DIGITPAD_HOME to a folder you can write to."
        )
    if "disk is full" in text or "disk I/O" in text:
        return (
            f"The run database {path} cannot be written: the disk is full or failing "
            f"({text}). Free some space and try again."
        )
    return f"The run database {path} cannot be used ({text})."


@dataclass
class RunRecord:
    """One row of the store: the spec, and the result once the run has ended."""

    id: int
    created_at: str
    finished_at: str | None
    status: str
    spec: RunSpec
    result: RunResult | None
    error: str | None
    sweep_id: str | None

    @property
    def has_model(self) -> bool:
        return bool(
            self.result and self.result.model_path and Path(self.result.model_path).exists()
        )


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

    def __init__(self, folder: str | os.PathLike, timeout: float = 10.0):
        self.folder = Path(folder)
        self.path = self.folder / DB_NAME
        self.timeout = timeout
        self.recovery_message: str | None = None
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

    # --- set-up -------------------------------------------------------------------------------

    def _initialise(self) -> None:
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {check}")
            db.executescript(_SCHEMA)
            # A write now, so a locked or read-only database shows up at start, not when the
            # first run ends.
            db.execute("PRAGMA user_version = 1")

    def _move_aside(self, exc: Exception) -> None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"runs.corrupt-{stamp}.db")
        for suffix in ("", "-wal", "-shm"):
            part = Path(str(self.path) + suffix)
            if part.exists():
                shutil.move(part, Path(str(aside) + suffix))
        self.recovery_message = (
            f"The run database {self.path} could not be read ({exc}). It was moved to "
            f"{aside.name} and a new, empty one was started; saved models under "
            f"{self.folder / 'runs'} are untouched."
        )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=self.timeout)
        except sqlite3.OperationalError as exc:
            raise RunStoreError(unusable_message(self.path, exc)) from exc
        try:
            db.row_factory = sqlite3.Row
            with db:  # commits, or rolls back on error
                yield db
        except sqlite3.OperationalError as exc:  # locked, read-only, disk full
            raise RunStoreError(unusable_message(self.path, exc)) from exc
        finally:
            db.close()

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
            if record is not None and record.status in ("running", "interrupted"):
                self.finish_run(run_id, result)
                recovered += 1
            pending.unlink(missing_ok=True)
        return recovered

    def keep_pending_result(self, run_id: int, result: RunResult) -> Path:
        """Write a finished run's result beside its model, for when the database cannot be
        written; the next ``RunStore`` on this folder puts it in the database."""
        folder = self.model_dir(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / PENDING_RESULT
        path.write_text(json.dumps(result.to_dict()))
        return path

    def _mark_interrupted(self) -> int:
        """Runs left ``running`` by a process that no longer exists become ``interrupted``."""
        host = socket.gethostname()
        with self._connect() as db:
            rows = db.execute("SELECT id, pid, host FROM runs WHERE status='running'").fetchall()
            # A run from another host cannot be checked; it is only marked when seen from there.
            dead = [r["id"] for r in rows if r["host"] == host and not _alive(r["pid"])]
            db.executemany(
                "UPDATE runs SET status='interrupted', error=?, finished_at=? WHERE id=?",
                [("the program ended before this run finished", now(), i) for i in dead],
            )
        return len(dead)

    # --- writing ------------------------------------------------------------------------------

    def start_run(self, spec: RunSpec, sweep_id: str | None = None) -> int:
        """Record a run as ``running`` and return its id."""
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO runs (created_at, status, model, spec_json, sweep_id, pid, host) "
                "VALUES (?, 'running', ?, ?, ?, ?, ?)",
                (now(), spec.model, spec.to_json(), sweep_id, os.getpid(), socket.gethostname()),
            )
            return int(cursor.lastrowid)

    def finish_run(self, run_id: int, result: RunResult) -> None:
        """Store a finished (``done`` or ``stopped``) run's result."""
        summary = result.to_dict()
        # Curves are the bulk of a record: kept apart so listing 10,000 runs stays fast.
        curves = {key: summary.pop(key) for key in _CURVE_FIELDS}
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status=?, finished_at=?, result_json=?, curves_json=?, "
                "test_accuracy=?, convergence_time=? WHERE id=?",
                (
                    result.status,
                    now(),
                    json.dumps(summary),
                    json.dumps(curves),
                    result.test_accuracy,
                    result.convergence_time,
                    run_id,
                ),
            )

    def fail_run(self, run_id: int, error: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status='failed', finished_at=?, error=? WHERE id=?",
                (now(), error, run_id),
            )

    def delete(self, run_ids: Iterable[int]) -> None:
        """Delete runs and their saved model files."""
        ids = list(run_ids)
        for record in self.get_many(ids):
            if record.result and record.result.model_path:
                shutil.rmtree(Path(record.result.model_path).parent, ignore_errors=True)
        with self._connect() as db:
            db.executemany("DELETE FROM runs WHERE id=?", [(i,) for i in ids])

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
        query = "SELECT *" if curves else f"SELECT {_COLUMNS_WITHOUT_CURVES}"
        query, args = query + " FROM runs", []
        where = []
        if model:
            where.append("model=?")
            args.append(model)
        if sweep_id:
            where.append("sweep_id=?")
            args.append(sweep_id)
        if where:
            query += " WHERE " + " AND ".join(where)
        with self._connect() as db:
            return [_record(row, curves) for row in db.execute(query + " ORDER BY id", args)]

    def get(self, run_id: int) -> RunRecord | None:
        found = self.get_many([run_id])
        return found[0] if found else None

    def get_many(self, run_ids: Iterable[int]) -> list[RunRecord]:
        ids = list(run_ids)
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        with self._connect() as db:
            rows = db.execute(f"SELECT * FROM runs WHERE id IN ({marks}) ORDER BY id", ids)
            return [_record(row, curves=True) for row in rows]

    def integrity(self) -> str:
        """``PRAGMA integrity_check``'s verdict (``"ok"`` when healthy)."""
        with self._connect() as db:
            return db.execute("PRAGMA integrity_check").fetchone()[0]


_COLUMNS_WITHOUT_CURVES = (
    "id, created_at, finished_at, status, model, spec_json, result_json, error, sweep_id"
)


def _record(row: sqlite3.Row, curves: bool) -> RunRecord:
    spec = RunSpec.from_json(row["spec_json"])
    result = None
    if row["result_json"]:
        values = json.loads(row["result_json"])
        stored_curves = json.loads(row["curves_json"] or "{}") if curves else {}
        values["history"] = stored_curves.get("history", {})
        values["batch_losses"] = stored_curves.get("batch_losses", [])
        if values.get("spec") == spec.to_dict():
            values["spec"] = spec  # the same spec: validated once, not twice
        result = RunResult.from_dict(values)
    return RunRecord(
        id=row["id"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        status=row["status"],
        spec=spec,
        result=result,
        error=row["error"],
        sweep_id=row["sweep_id"],
    )


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
