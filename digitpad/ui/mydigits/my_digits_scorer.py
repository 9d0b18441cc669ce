"""Scores every network on My digits in the background, caching them in the run database
(the Results table's "My digits" column reads the cache), and again when the set changes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from digitpad.core.inference.model_ref import every_network
from digitpad.core.inference.predictor import ModelSource
from digitpad.core.machine.errors import first_line
from digitpad.core.mydigits.personal import PersonalScore, Readings, network_key
from digitpad.core.store.my_digits import MyDigits
from digitpad.core.store.runs import RunStore
from digitpad.ui.common.background import run_in_background, serial_pool

MAX_RUNS = 2_000  # newest runs with a saved network scored (more would take minutes)
SHUTDOWN_MS = 1_000


@dataclass(frozen=True)
class Scored:
    """One network's accuracy on the set at ``revision``, with per-digit figures when they
    were computed this session (a score cached earlier has ``score`` None), or the
    ``problem`` that stopped it."""

    key: str
    source: ModelSource
    revision: int
    accuracy: float | None
    score: PersonalScore | None = None
    problem: str = ""


class MyDigitsScorer(QObject):
    """``scored(Scored)`` for each network as it is done, ``finished()`` after the last.

    ``refresh()`` scores the shipped networks and every run with a saved network whose
    score at the set's current revision is not known yet (newest runs first). Each network
    reads only the drawings it has not read before (``Readings``); one that cannot be read
    is skipped with its reason; ``shutdown()`` ends a pass within a second.
    """

    scored = Signal(object)
    finished = Signal()

    def __init__(self, store: RunStore, my_digits: MyDigits, parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self.my_digits = my_digits
        self.scores: dict[str, Scored] = {}  # the latest of each network, this session
        self.readings = Readings()  # used by the pool's one thread only
        self._pool = serial_pool()
        self._stopping = threading.Event()
        self._busy = False
        self._again = False
        self.scored.connect(self._remember)

    def refresh(self) -> None:
        if self._stopping.is_set():
            return
        if self._busy:
            self._again = True  # the set or the runs changed meanwhile: go once more
            return
        self._busy = True
        self._again = False
        run_in_background(
            self._work,
            self._on_finished,
            self._on_finished,
            self,
            self.scored.emit,
            pool=self._pool,
        )

    def _work(self, report) -> None:
        mine = self.my_digits
        revision = mine.revision()
        drawings = mine.drawings()
        if not drawings:
            return
        cached = mine.cached_scores()
        for key, source in self._networks():
            if self._stopping.is_set():
                return
            known = self.scores.get(key)
            if known is not None and known.revision == revision:
                continue
            if key in cached and not self.readings.known(key):
                # Scored in an earlier session: its figure is enough until the set changes.
                report(Scored(key, source, revision, cached[key]))
                continue
            try:
                score = self.readings.score(key, source, drawings, self._stopping.is_set)
            except Exception as exc:  # one damaged network must not stop the others
                report(Scored(key, source, revision, None, problem=first_line(exc)))
                continue
            if score is None:  # stopping
                return
            mine.remember_score(key, revision, score.accuracy, score.count)
            report(Scored(key, source, revision, score.accuracy, score))

    def _networks(self) -> Iterator[tuple[str, ModelSource]]:
        """Every network to score, as it is reached (a damaged one is left out here: the
        Draw tab or the Results table say why)."""
        ids = [row.id for row in self.store.newest_with_models(MAX_RUNS)]
        records = {r.id: r for r in self.store.get_many(ids, curves=False)}
        sources, _ = every_network(records[i] for i in ids if i in records)  # newest first
        for source in sources:
            try:
                key = network_key(source)  # reads a shipped network's weights file
            except OSError:
                continue
            yield key, source

    def _on_finished(self, _result=None) -> None:
        self._busy = False
        self.finished.emit()
        if self._again:
            self.refresh()

    def _remember(self, scored: Scored) -> None:
        self.scores[scored.key] = scored

    def shutdown(self, timeout_ms: int = SHUTDOWN_MS) -> bool:
        """Stop scoring (at the next network or chunk of drawings) and wait at most
        ``timeout_ms``; whether the pass had ended by then."""
        self._stopping.set()
        return self._pool.wait_for_done(timeout_ms)
