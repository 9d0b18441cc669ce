"""Small builders every tab uses: a named push button wired to its slot, a tab's keyboard
shortcuts."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QPushButton, QWidget

Keys = str | QKeySequence | QKeySequence.StandardKey


def button(text: str, name: str, tip: str, slot: Callable[[], object]) -> QPushButton:
    """A push button with a stable ``objectName`` (tests and scripts find it by that) and
    its tooltip, calling ``slot`` when clicked."""
    made = QPushButton(text, objectName=name, toolTip=tip)
    made.clicked.connect(slot)
    return made


def add_shortcuts(owner: QWidget, shortcuts: Iterable[tuple[Keys, Callable[[], object]]]) -> None:
    """Keyboard shortcuts that work while ``owner`` (a tab) or any widget in it has focus."""
    for keys, slot in shortcuts:
        QShortcut(
            QKeySequence(keys),
            owner,
            slot,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
