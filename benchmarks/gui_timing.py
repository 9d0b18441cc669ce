"""Helpers for the benchmarks that time the real window: run its event loop until
something happens, and print a row of latencies with the GUI thread's longest gap."""

from __future__ import annotations

import itertools
import time

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer


def wait(done, timeout_s: float = 60.0) -> None:
    """Run Qt's event loop (as the app does, not a processEvents() spin, which starves
    timers and would fake GUI-thread gaps) until ``done()``, checked every millisecond."""
    if done():
        return
    seen = []
    loop = QEventLoop()
    poll = QTimer(interval=1)
    poll.timeout.connect(lambda: done() and (seen.append(True), loop.quit()))
    # A timer of this call's own, stopped on return: a QTimer.singleShot left behind by an
    # earlier call could quit a later loop.
    deadline = QTimer(singleShot=True, interval=int(timeout_s * 1000))
    deadline.timeout.connect(loop.quit)
    poll.start()
    deadline.start()
    loop.exec()
    poll.stop()
    deadline.stop()
    if not seen:  # done() can turn false again after it quit the loop: that counts
        raise TimeoutError(f"the window did not get there in {timeout_s:.0f} s")


def report(network: str, what: str, latencies: list[float], ticks: list[float]) -> float:
    """Print one row; return its longest gap between GUI-thread timer ticks (ms)."""
    gap = max((b - a for a, b in itertools.pairwise(ticks)), default=0.0)
    print(
        f"{network:24s} {what:22s} {np.percentile(latencies, 50):7.1f} "
        f"{np.percentile(latencies, 95):7.1f} {gap:10.1f}"
    )
    return gap


class Ticks:
    """A 5 ms timer on the GUI thread: ``times`` are when it fired (ms), so the longest gap
    between two is the longest the GUI thread was blocked while it ran."""

    def __init__(self, interval_ms: int = 5):
        self.times: list[float] = []
        self._clock = QElapsedTimer()
        self._clock.start()
        self._timer = QTimer(interval=interval_ms)
        self._timer.timeout.connect(lambda: self.times.append(self._clock.nsecsElapsed() / 1e6))

    def start(self) -> None:
        self.times.clear()
        self._timer.start()

    def stop(self) -> list[float]:
        self._timer.stop()
        return self.times


def time_strokes(canvas, strokes, answers: list) -> list[float]:
    """Add ``strokes`` to ``canvas`` one at a time (clearing it every four) and time each
    until ``answers`` grows (a slot appending to it is what answers a stroke); in ms."""
    latencies = []
    for i, stroke in enumerate(strokes):
        if i % 4 == 0:
            canvas.clear()
        before = len(answers)
        start = time.perf_counter()
        canvas.add_stroke(stroke, 0.06)
        wait(lambda before=before: len(answers) > before)
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies
