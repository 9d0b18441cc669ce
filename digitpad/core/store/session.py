"""A window's work kept beside a database it could not open (locked by another program, or
read-only), and brought into that database the next time it opens.

The window then works on a store of its own in ``session-<time>-<pid>/`` inside the data
folder (never a temporary folder): its runs, drawings and answers are saved there as they
are made. Any ``RunStore`` that opens the real database later merges every session whose
window has ended: runs get new numbers after the database's own (their model folders
move with them), drawings and answers join, and the session folder goes. A session is
recorded as merged in the same transaction, so a merge cut off half-way is never repeated.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
from datetime import datetime
from pathlib import Path

from digitpad.core.machine.files import write_text
from digitpad.core.machine.processes import pid_alive

SESSION_PREFIX = "session-"
OWNER_FILE = "owner.json"  # whose session it is: merged only once it has ended

SCHEMA = """
CREATE TABLE IF NOT EXISTS merged_sessions (name TEXT PRIMARY KEY, merged_at TEXT NOT NULL);
"""


def new_session_folder(home: Path) -> Path:
    """A folder for this process' session, beside the database it could not open."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = Path(home) / f"{SESSION_PREFIX}{stamp}-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    owner = {"pid": os.getpid(), "host": socket.gethostname()}
    write_text(folder / OWNER_FILE, json.dumps(owner))
    return folder


def end_session(folder: Path) -> None:
    """Say that the window working in ``folder`` is done with it (closed): it can merge."""
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "ended": True}
    write_text(Path(folder) / OWNER_FILE, json.dumps(owner))


def ended_sessions(home: Path) -> list[Path]:
    """Session folders in ``home`` whose window has ended (closed, or its process gone),
    oldest first. A session of another computer is left to that computer."""
    found = []
    for folder in sorted(Path(home).glob(f"{SESSION_PREFIX}*")):
        try:
            owner = json.loads((folder / OWNER_FILE).read_text())
            pid, host, ended = int(owner["pid"]), str(owner["host"]), owner.get("ended")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # not a session folder, or a damaged one: left for a person
        if host == socket.gethostname() and (ended is True or not pid_alive(pid)):
            found.append(folder)
    return found


Moves = list[tuple[Path, Path]]


def merge_session(
    db: sqlite3.Connection, home: Path, folder: Path, moved: Moves
) -> tuple[int, int, int]:
    """Copy one session's database into ``db`` (an open transaction on the real database
    in ``home``) and move its run folders beside the others, each move added to ``moved``;
    (runs, drawings, answers) added. The caller commits, then removes ``folder``; if the
    commit fails, ``undo_moves(moved)`` puts the folders back."""
    if db.execute("SELECT 1 FROM merged_sessions WHERE name=?", (folder.name,)).fetchone():
        return (0, 0, 0)  # merged before, its folder not yet removed
    source = sqlite3.connect(folder / "runs.db")
    source.row_factory = sqlite3.Row
    try:
        runs = [dict(r) for r in source.execute("SELECT * FROM runs ORDER BY id")]
        curves = source.execute("SELECT run_id, curves_json FROM run_curves").fetchall()
        cells = source.execute("SELECT sweep_id, run_id, value_json, at_epoch FROM sweep_cells")
        cells = cells.fetchall()
        drawings = source.execute(
            "SELECT label, image, strokes_json, source, created FROM my_digits ORDER BY id"
        ).fetchall()
        answers = source.execute("SELECT exercise, text, saved_at FROM report_answers").fetchall()
    finally:
        source.close()
    numbers = {}
    for row in runs:
        old = row.pop("id")
        columns = list(row)
        cursor = db.execute(
            f"INSERT INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [row[c] for c in columns],
        )
        new = int(cursor.lastrowid)
        numbers[old] = new
        before, after = f"runs/run-{old:06d}/", f"runs/run-{new:06d}/"
        db.execute(
            "UPDATE runs SET model_path=replace(model_path, ?, ?), "
            "result_json=replace(result_json, ?, ?) WHERE id=?",
            (before, after, before, after, new),
        )
    db.executemany(
        "INSERT OR REPLACE INTO run_curves (run_id, curves_json) VALUES (?, ?)",
        [(numbers[r[0]], r[1]) for r in curves if r[0] in numbers],
    )
    db.executemany(
        "INSERT INTO sweep_cells (sweep_id, run_id, value_json, at_epoch) VALUES (?, ?, ?, ?)",
        [(c[0], numbers[c[1]], c[2], c[3]) for c in cells if c[1] in numbers],
    )
    db.executemany(
        "INSERT INTO my_digits (label, image, strokes_json, source, created) "
        "VALUES (?, ?, ?, ?, ?)",
        [tuple(d) for d in drawings],
    )
    if drawings:  # the set changed: scores on it are computed again
        db.execute(
            "INSERT INTO my_digits_meta (key, value) VALUES ('revision', 1) "
            "ON CONFLICT (key) DO UPDATE SET value = value + 1"
        )
    db.executemany(
        "INSERT INTO report_answers (exercise, text, saved_at) VALUES (?, ?, ?) "
        "ON CONFLICT(exercise) DO UPDATE SET text=excluded.text, saved_at=excluded.saved_at "
        "WHERE excluded.saved_at >= report_answers.saved_at",
        [tuple(a) for a in answers],
    )
    db.execute(
        "INSERT INTO merged_sessions (name, merged_at) VALUES (?, ?)",
        (folder.name, datetime.now().isoformat(timespec="seconds")),
    )
    (home / "runs").mkdir(parents=True, exist_ok=True)
    for old, new in numbers.items():  # each session run's folder to its new number
        source = folder / "runs" / f"run-{old:06d}"
        if source.is_dir():
            target = home / "runs" / f"run-{new:06d}"
            os.replace(source, target)
            moved.append((source, target))
    return (len(runs), len(drawings), len(answers))


def undo_moves(moved: Moves) -> None:
    """Put the run folders of a merge that did not happen back where they were."""
    for source, target in reversed(moved):
        if target.exists() and not source.exists():
            os.replace(target, source)


def remove_session(folder: Path) -> None:
    """A merged session's folder, gone (what is left in it was copied)."""
    shutil.rmtree(folder, ignore_errors=True)


def merged_sentence(counts: tuple[int, int, int], sessions: int) -> str | None:
    """One sentence saying what joined the database, or None when nothing did."""
    runs, drawings, answers = counts
    if not sessions:
        return None
    return (
        f"Work kept aside while the database could not be opened has joined it: {runs} "
        f"run(s), {drawings} drawing(s) of My digits and {answers} report answer(s)."
    )
