"""A stored sweep read back: its runs, its cells and its lab table, and the sweeps of each
exercise a report can choose from. The Results tab's sweep table and the report read
sweeps through here, so both show the same numbers."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from functools import cached_property

from digitpad.core.lab.sweep_ids import parse_sweep_id, sweep_key
from digitpad.core.lab.sweeps import LabTable, Sweep, cells_table, column_figures, sweep_for_id
from digitpad.core.store.runs import Cell, RunRecord, RunStore


@dataclass
class SweepRuns:
    """One stored sweep: ``cells`` pair each table cell with the run it is read from."""

    sweep_id: str
    sweep: Sweep
    records: list[RunRecord]  # with their curves
    cells: list[tuple[Cell, RunRecord]]

    @cached_property
    def table(self) -> LabTable:
        return cells_table(self.sweep, self.cells)

    def spread(self) -> tuple[int, float]:
        """The most runs behind one column, and the largest standard deviation of a
        column's figure (0 with single runs)."""
        figures, _ = column_figures(self.sweep, self.cells)
        most = max((len(f) for f in figures), default=0)
        spread = max((statistics.stdev(f) for f in figures if len(f) > 1), default=0.0)
        return most, spread

    @property
    def complete(self) -> bool:
        """Every column of the table has a value."""
        values = self.table.values.get(self.sweep.measure, [])
        return bool(values) and all(v is not None for v in values)


def load_sweep(store: RunStore, sweep_id: str) -> SweepRuns | None:
    """A stored sweep, or None when the id is not one sweep's (an old whole-lab id) or has
    no run left."""
    stored = store.cells(sweep_id)
    ids = sorted({run_id for run_id, _ in stored}) or store.ordered_ids(sweep_id=sweep_id)
    records = store.get_many(ids)  # with curves: cells read at an epoch need them
    if not records:
        return None
    sweep = sweep_for_id(sweep_id, records, [cell for _, cell in stored])
    if sweep is None:
        return None
    by_id = {r.id: r for r in records}
    if stored:
        cells = [(cell, by_id[i]) for i, cell in stored if i in by_id]
    else:  # sweeps stored before cells existed: each run is one cell, read at its end
        cells = [
            (Cell(sweep_id, getattr(r.spec, sweep.param) if sweep.param else None), r)
            for r in records
        ]
    return SweepRuns(sweep_id, sweep, records, cells)


@dataclass(frozen=True)
class SweepChoice:
    """A stored sweep of one exercise, as a picker lists it."""

    sweep_id: str
    complete: bool
    runs: int

    @property
    def label(self) -> str:
        parsed = parse_sweep_id(self.sweep_id)
        stamp = parsed.stamp if parsed else ""
        when = (
            f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}" if stamp else ""
        )
        state = "complete" if self.complete else "incomplete"
        return (
            f"{when} · {self.runs} run{'s' if self.runs != 1 else ''} · {state} ({self.sweep_id})"
        )


def exercise_sweeps(store: RunStore) -> dict[str, list[SweepRuns]]:
    """Every stored sweep of each exercise (``ex1`` …), newest first."""
    found: dict[str, list[SweepRuns]] = {}
    for sweep_id in store.sweep_ids():
        key = sweep_key(sweep_id)
        if key is None or not key.startswith("ex"):
            continue
        runs = load_sweep(store, sweep_id)
        if runs is not None:
            found.setdefault(key, []).append(runs)
    for runs in found.values():
        runs.sort(key=lambda r: parse_sweep_id(r.sweep_id).stamp, reverse=True)
    return found


def choices_of(sweeps: list[SweepRuns]) -> list[SweepChoice]:
    return [SweepChoice(s.sweep_id, s.complete, len(s.records)) for s in sweeps]


def default_sweep(sweeps: list[SweepRuns]) -> SweepRuns | None:
    """The newest complete sweep; else the newest one (its missing cells show as —)."""
    return next((s for s in sweeps if s.complete), sweeps[0] if sweeps else None)
