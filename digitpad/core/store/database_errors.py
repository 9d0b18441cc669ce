"""What to tell the user when an SQLite database of the data folder cannot be used now."""

from __future__ import annotations

from pathlib import Path


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
