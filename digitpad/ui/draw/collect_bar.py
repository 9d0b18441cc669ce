"""Collect mode: the app asks for digits one at a time (0-9 shuffled, round after round)
and each drawing joins My digits with its true label the moment it is saved."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from digitpad.core.data.preprocess import to_mnist
from digitpad.core.store.my_digits import COLLECTED, MyDigits, MyDigitsError, shuffled_round
from digitpad.ui.draw.canvas import DrawingCanvas


class CollectBar(QFrame):
    """The prompt above the canvas while collecting. ``saved(int)`` carries each new
    drawing's id; ``finished()`` when the user is done; ``message(str)``."""

    saved = Signal(int)
    finished = Signal()
    message = Signal(str)

    def __init__(self, canvas: DrawingCanvas, my_digits: MyDigits, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("collectBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.canvas = canvas
        self.my_digits = my_digits
        self._rng: np.random.Generator | None = None  # made on first use: numpy.random
        # costs start-up time, and most sessions never collect
        self._queue: list[int] = []
        self.round = 0
        self.count = 0  # saved in this session of collecting
        self.wanted: int | None = None
        self.prompt = QLabel(objectName="collectPrompt")
        font = self.prompt.font()
        font.setPointSize(font.pointSize() + 3)
        self.prompt.setFont(font)
        self.save_button = QPushButton(
            "Save and next", objectName="collectSaveButton", toolTip="Keep this drawing (Enter)"
        )
        self.save_button.clicked.connect(self.save)
        skip = QPushButton("Skip", objectName="collectSkipButton", toolTip="Ask for another digit")
        skip.clicked.connect(self.next_digit)
        done = QPushButton("Done", objectName="collectDoneButton", toolTip="Stop collecting")
        done.clicked.connect(self.finished)
        layout = QHBoxLayout(self)
        layout.addWidget(self.prompt, 1)
        layout.addWidget(self.save_button)
        layout.addWidget(skip)
        layout.addWidget(done)
        for key in ("Return", "Enter"):
            QShortcut(QKeySequence(key), self, self.save, context=Qt.ShortcutContext.WindowShortcut)
        self.hide()

    def start(self) -> None:
        """Begin (or go on) collecting: a fresh round, the canvas cleared."""
        self._queue = []
        self.round = 0
        self.count = 0
        self.show()
        self.next_digit()

    def next_digit(self) -> None:
        if not self._queue:
            if self._rng is None:
                self._rng = np.random.default_rng()
            self._queue = shuffled_round(self._rng)
            self.round += 1
        self.wanted = self._queue.pop(0)
        self.canvas.clear()
        self._show_prompt()

    def save(self) -> None:
        """Store the drawing as the digit asked for, then ask for the next one."""
        if not self.isVisible() or self.wanted is None:
            return
        if self.canvas.is_empty():
            self.message.emit(f"Draw a {self.wanted} first, then save it.")
            return
        image = to_mnist(self.canvas.ink_array())
        if image is None:
            self.message.emit(f"The pad has no ink: draw a {self.wanted}.")
            return
        try:
            drawing_id = self.my_digits.add(self.wanted, image, self.canvas.strokes(), COLLECTED)
        except MyDigitsError as exc:  # kept aside, and the message says where
            self.message.emit(str(exc))
        else:
            self.saved.emit(drawing_id)
        self.count += 1
        self.next_digit()

    def _show_prompt(self) -> None:
        done_in_round = 10 - len(self._queue)
        self.prompt.setText(
            f"Draw a <b>{self.wanted}</b> &nbsp; (digit {done_in_round} of 10, round "
            f"{self.round}; {self.count} saved)"
        )
