"""Values the window keeps in ``settings.ini`` between sessions, read back checked.

The file is plain text that people edit: each tab reads its own values through a
``SavedGroup``, which hands back only values of the right kind and range and notes each one
it ignored, so a hand-edited value never stops the window from opening.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from PySide6.QtCore import QSettings


class SavedGroup:
    """One ``[group]`` of a settings file: typed, checked reads; ``ignored`` lists what was
    not used (``[draw] pen=fat: not a whole number from 4 to 40``)."""

    def __init__(self, settings: QSettings, group: str, ignored: list[str]):
        self._settings = settings
        self._group = group
        self.ignored = ignored

    def _raw(self, key: str) -> object | None:
        return self._settings.value(f"{self._group}/{key}")

    def _ignore(self, key: str, value: object, expected: str) -> None:
        self.ignored.append(f"[{self._group}] {key}={value}: not {expected}")

    def integer(self, key: str, low: int, high: int) -> int | None:
        """A whole number in ``[low, high]``, or None (absent or ignored)."""
        value = self._raw(key)
        if value is None:
            return None
        try:
            number = int(str(value).strip())
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            self._ignore(key, value, f"a whole number from {low} to {high}")
            return None
        return number

    def flag(self, key: str) -> bool | None:
        """``true`` or ``false``, or None (absent or ignored)."""
        value = self._raw(key)
        if value is None:
            return None
        if value in (True, "true"):
            return True
        if value in (False, "false"):
            return False
        self._ignore(key, value, "true or false")
        return None

    def choice(
        self, key: str, choices: Iterable[str], older: Mapping[str, str] | None = None
    ) -> str | None:
        """One of ``choices`` (or a value an older version wrote, ``older`` maps it to one),
        or None (absent or ignored)."""
        value = self._raw(key)
        if value is None:
            return None
        choices = tuple(choices)
        text = str(value)
        if older and text in older:
            return older[text]
        if text not in choices:
            self._ignore(key, value, "one of " + ", ".join(choices))
            return None
        return text

    def text(self, key: str) -> str | None:
        value = self._raw(key)
        return None if value is None else str(value)

    def write(self, values: Mapping[str, object]) -> None:
        """Store ``values`` (a tab's state) in this group."""
        for key, value in values.items():
            self._settings.setValue(f"{self._group}/{key}", value)


def ignored_message(path: str | Path, ignored: list[str]) -> str | None:
    """One line naming the settings file and each value it ignored, or None."""
    if not ignored:
        return None
    return (
        f"{path}: ignored {'; '.join(ignored)}. The file is left in place; these values "
        "are written anew when the window closes."
    )
