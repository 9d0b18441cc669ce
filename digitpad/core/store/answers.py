"""The student's answers to the lab's questions, one text per exercise, in the run store's
database: saved as typed, so a crash or a killed window loses nothing.

When the database cannot take a save (locked, read-only, disk full) the answers are kept in
a file beside it and written in at the next save that succeeds (or the next start).
"""

from __future__ import annotations

import json
from pathlib import Path

from digitpad.core.machine.files import write_text
from digitpad.core.store.database import transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS report_answers (
    exercise TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    saved_at TEXT NOT NULL DEFAULT (datetime('now'))
);
"""
PENDING_FILE = "report-answers-pending.json"
TITLE_KEY = "title"  # the report's title is kept beside the answers


class AnswersUnavailable(RuntimeError):
    """An answer could not be written to the database; the message says where it is kept
    meanwhile and what to do."""


class Answers:
    """Answers by exercise key (``ex1`` … ``ex9``) in the database at ``path``."""

    def __init__(self, path: Path, timeout: float = 10.0, read_only: bool = False):
        self.path = Path(path)
        self.timeout = timeout
        self.read_only = read_only
        self.pending = self.path.parent / PENDING_FILE

    def _db(self):
        return transaction(self.path, self.timeout, AnswersUnavailable, read_only=self.read_only)

    def all(self) -> dict[str, str]:
        """Every saved answer, with any kept aside (newer) on top."""
        with self._db() as db:
            saved = dict(db.execute("SELECT exercise, text FROM report_answers"))
        return {**saved, **self._read_pending()}

    def save(self, exercise: str, text: str) -> None:
        """Save one answer now (with any kept aside); ``AnswersUnavailable`` when the
        database cannot take it, the answer then being kept in a file beside it."""
        changes = {**self._read_pending(), exercise: text}
        try:
            self._write(changes)
        except AnswersUnavailable as exc:
            try:
                write_text(self.pending, json.dumps(changes))
                kept = f"Your answer is kept in {self.pending} and saved as soon as it can be."
            except OSError:
                kept = "Your answer stays in the window; do not close it until it is saved."
            raise AnswersUnavailable(f"{exc} {kept}") from exc
        self.pending.unlink(missing_ok=True)

    def add_pending(self) -> int:
        """Write answers kept aside into the database; how many (0 when it still cannot)."""
        changes = self._read_pending()
        if not changes:
            return 0
        try:
            self._write(changes)
        except AnswersUnavailable:
            return 0
        self.pending.unlink(missing_ok=True)
        return len(changes)

    def _write(self, changes: dict[str, str]) -> None:
        with self._db() as db:
            db.executemany(
                "INSERT INTO report_answers (exercise, text, saved_at) "
                "VALUES (?, ?, datetime('now')) ON CONFLICT(exercise) DO UPDATE SET "
                "text=excluded.text, saved_at=excluded.saved_at",
                list(changes.items()),
            )

    def _read_pending(self) -> dict[str, str]:
        try:
            found = json.loads(self.pending.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(found, dict):
            return {}
        return {str(k): str(v) for k, v in found.items()}
