"""A fresh window process that switches the Draw tab's network as a student does, by name,
with "Look inside" open, and prints what each network read. Run by ``test_journeys``: a
crash (the process dying) only shows in a process of its own, where TensorFlow starts in
the window's loader thread as it does for a user.

    DIGITPAD_HOME=FOLDER python switch_networks.py NAME [NAME ...]

Prints ``NAME engine digit`` for each, then ``done``; exits 1 if a network does not load.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

TIMEOUT_MS = 120_000


def main(names: list[str]) -> int:
    app = QApplication([])
    from digitpad.ui import MainWindow

    window = MainWindow()
    window.show()
    draw = window.draw_tab
    waited = [0]

    def when(ready, then) -> None:
        if ready():
            then()
        elif waited[0] > TIMEOUT_MS:
            print(f"gave up waiting: {draw.detail_label.text()}", flush=True)
            app.exit(1)
        else:
            waited[0] += 50
            QTimer.singleShot(50, lambda: when(ready, then))

    def pick(rest: list[str]) -> None:
        if not rest:
            print("done", flush=True)
            app.exit(0)
            return
        name = rest[0]
        found = [
            i
            for i in range(draw.model_selector.count())
            if draw.model_selector.itemData(i).name == name
        ]
        if not found:
            print(f"no network {name!r} in the selector", flush=True)
            app.exit(1)
            return
        draw.model_selector.setCurrentIndex(found[0])
        look = draw.inside

        def report() -> None:
            digit = int(draw.bars.probabilities.argmax())
            print(f"{name} {draw.predictor.engine} {digit}", flush=True)
            pick(rest[1:])

        when(
            lambda: (
                draw.settled()
                and draw.predictor.name == name
                and draw.bars.probabilities is not None
                and look.settled()
                and look.source == draw.predictor.source
            ),
            report,
        )

    def start() -> None:
        draw.draw_sample(7)
        draw.show_inside(True)
        pick(names)

    when(lambda: draw.predictor is not None, start)
    code = app.exec()
    sys.stdout.flush()
    os._exit(code)  # as the app's own exit: no teardown of TensorFlow and Qt in any order


if __name__ == "__main__":
    main(sys.argv[1:])
