"""The data folder's SQLite database, opened one way by every store: a short connection
per call, one transaction, and a database that cannot be used now (locked, read-only, disk
full) turned into one message naming the problem and the fix."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def transaction(
    path: Path,
    timeout: float,
    error: type[Exception],
    rows: bool = False,
    read_only: bool = False,
) -> Iterator[sqlite3.Connection]:
    """A connection to ``path`` inside one transaction (committed on success, rolled back
    on error, then closed); ``error(message)`` is raised when the database cannot be used.
    ``rows``: rows are ``sqlite3.Row`` (by column name). ``read_only``: opened for reading
    only, as a folder that cannot be written allows."""
    try:
        db = _open_reading(path, timeout) if read_only else sqlite3.connect(path, timeout=timeout)
    except sqlite3.OperationalError as exc:
        raise error(unusable_message(path, exc)) from exc
    try:
        if rows:
            db.row_factory = sqlite3.Row
        with db:
            yield db
    except sqlite3.OperationalError as exc:  # locked, read-only, disk full
        raise error(unusable_message(path, exc)) from exc
    finally:
        db.close()


def _open_reading(path: Path, timeout: float) -> sqlite3.Connection:
    """A read-only connection. In a folder that cannot be written, SQLite cannot make the
    shared-memory file a WAL database is read through; then the file is read as it is
    (``immutable``), which is what it is while nobody can write there."""
    address = Path(path).absolute().as_uri()
    try:
        db = sqlite3.connect(f"{address}?mode=ro", timeout=timeout, uri=True)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        return sqlite3.connect(f"{address}?mode=ro&immutable=1", timeout=timeout, uri=True)


def is_read_only(exc: Exception) -> bool:
    """Whether a database error says that it cannot be written (read-only)."""
    return "readonly" in str(exc) or "read-only" in str(exc)


def unusable_message(path: Path, exc: Exception) -> str:
    """Why the database cannot be used right now, and the fix."""
    text = str(exc)
    if "locked" in text:
        return (
            f"The run database {path} is locked by another program (a DigitPad or a backup "
            "tool holding it). Close that program, or wait, and try again."
        )
    if is_read_only(exc):
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
