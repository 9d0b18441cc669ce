"""Scores every network on My digits in the background, caching them in the run database
(the Results table's "My digits" column reads the cache), and again when the set changes."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from digitpad.core.my_digits import MyDigits
from digitpad.core.personal import PersonalScore, network_key, score_network
from digitpad.core.predictor import ModelSource, Predictor, run_source
from digitpad.core.runs import RunStore
from digitpad.core.weights import FALLBACK_ORDER
from digitpad.ui.background import run_in_background, serial_pool


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
    score at the set's current revision is not cached yet (newest runs first).
    """

    scored = Signal(object)
    finished = Signal()

    def __init__(self, store: RunStore, my_digits: MyDigits, parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self.my_digits = my_digits
        self.scores: dict[str, Scored] = {}  # the latest of each network, this session
        self._pool = serial_pool(self)
        self._busy = False
        self._again = False
        self.scored.connect(self._remember)

    def refresh(self) -> None:
        if self._busy:
            self._again = True  # the set or the runs changed meanwhile: go once more
            return
        self._busy = True
        self._again = False
        run_in_background(
            self._work, self._on_done, self._on_failed, self, self.scored.emit, pool=self._pool
        )

    def _work(self, report) -> None:
        mine = self.my_digits
        revision = mine.revision()
        images, labels = mine.arrays()
        if len(labels) == 0:
            return
        cached = mine.cached_scores()
        for key, source in self._networks():
            known = self.scores.get(key)
            if known is not None and known.revision == revision:
                continue
            if key in cached:  # scored in an earlier session: its figure is enough here
                report(Scored(key, source, revision, cached[key]))
                continue
            try:
                score = score_network(Predictor(source), images, labels)
            except Exception as exc:  # one damaged network must not stop the others
                report(Scored(key, source, revision, None, problem=str(exc)))
                continue
            mine.remember_score(key, revision, score.accuracy, score.count)
            report(Scored(key, source, revision, score.accuracy, score))

    def _networks(self) -> list[tuple[str, ModelSource]]:
        out = []
        for name in FALLBACK_ORDER:
            try:
                source = ModelSource.shipped(name)
            except Exception:  # a missing shipped network: the Draw tab says so already
                continue
            out.append((network_key(source), source))
        rows = self.store.newest_with_models(100_000)
        for record in self.store.get_many(row.id for row in rows):
            out.append((network_key(run_source(record), record.id), run_source(record)))
        return out

    def _on_done(self, _result) -> None:
        self._busy = False
        self.finished.emit()
        if self._again:
            self.refresh()

    def _on_failed(self, _message: str) -> None:
        self._busy = False
        self.finished.emit()

    def _remember(self, scored: Scored) -> None:
        self.scores[scored.key] = scored

    def shutdown(self) -> None:
        self._pool.waitForDone()
