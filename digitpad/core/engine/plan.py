"""Jobs and their plan: which distinct trainings a list of runs needs.

Every caller (one run from the form, a sweep, the whole lab, the shipped weights) hands the
engine a job planned the same way, which keeps the lab short without changing the meaning
of a single figure:

- Identical specs train once. Exercise 4 is exercise 1's 8-neuron run; exercise 7's
  128-neuron column is exercise 6's 3x3 column.
- A run that differs from a longer one only by its epochs is read from the longer one's
  epoch. The lab's networks keep a constant learning rate and draw their shuffles epoch
  by epoch, so with the same seed the first k epochs of a 20-epoch run are a k-epoch run;
  its per-epoch validation on the test set is the same evaluation as ``model.evaluate``
  after a k-epoch run, and its fit time up to epoch k is that run's convergence time.
  Exercise 8's five runs (1, 2, 5, 10 and 20 epochs) are one 20-epoch run this way.

Both need a fixed seed: two runs with a random seed are two different runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from digitpad.core.lab.sweep_ids import make_sweep_id, stamp_now, sweep_key
from digitpad.core.lab.sweeps import PRESETS, Sweep, estimated_cost
from digitpad.core.mydigits.finetune import FineTuneOrder
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.runs import Cell, RunRecord


@dataclass
class PlannedRun:
    """One training a job needs, the table cells it fills, and (once ended) its record."""

    spec: RunSpec
    cells: list[Cell] = field(default_factory=list)
    record: RunRecord | None = None
    finetune: FineTuneOrder | None = None  # a fine-tune's starting network and drawings

    @property
    def cost(self) -> float:
        return estimated_cost(self.spec)

    @property
    def sweep_id(self) -> str | None:
        """The sweep the run is stored under (its first cell's), if any."""
        return self.cells[0].sweep_id if self.cells else None

    def describe_cells(self) -> str:
        """Which cells it fills, for progress lines: ``ex6=3, ex8=1 at epoch 1``."""
        return ", ".join(
            (sweep_key(c.sweep_id) or c.sweep_id)
            + ("" if c.value is None else f"={c.value}")
            + ("" if c.at_epoch is None else f" at epoch {c.at_epoch}")
            for c in self.cells
        )


@dataclass
class Job:
    """The distinct trainings of a request, longest first (so parallel workers finish
    together), each with the cells it fills."""

    runs: list[PlannedRun]
    sweep_ids: list[str] = field(default_factory=list)  # the tables this job fills

    @classmethod
    def plan(cls, requests: Iterable[tuple[RunSpec, Cell | None]]) -> Job:
        """Plan a list of (spec, the cell it fills or None) as the module doc says."""
        runs: list[PlannedRun] = []
        by_spec: dict[RunSpec, PlannedRun] = {}
        sweep_ids: list[str] = []
        for spec, cell in requests:
            if cell is not None and cell.sweep_id not in sweep_ids:
                sweep_ids.append(cell.sweep_id)
            run = by_spec.get(spec) if spec.seed is not None else None
            if run is None:
                run = PlannedRun(spec)
                runs.append(run)
                if spec.seed is not None:
                    by_spec[spec] = run
            if cell is not None:
                run.cells.append(cell)
        for run in list(runs):
            longer = _longest_extension(run.spec, runs)
            if longer is not None and longer is not run:
                longer.cells.extend(c._replace(at_epoch=run.spec.epochs) for c in run.cells)
                runs.remove(run)
        runs.sort(key=lambda r: r.cost, reverse=True)
        return cls(runs, sweep_ids)

    def set_precision(self, precision: str) -> Job:
        """Train every run in ``precision`` (the same for all, so what the plan merged
        stays merged); this job."""
        for run in self.runs:
            run.spec = run.spec.with_changes(precision=precision)
        return self

    @classmethod
    def single(cls, spec: RunSpec) -> Job:
        """One run, in no sweep."""
        return cls([PlannedRun(spec)])

    @classmethod
    def finetune(cls, spec: RunSpec, order: FineTuneOrder) -> Job:
        """One fine-tune (see ``core.finetune``)."""
        return cls([PlannedRun(spec, finetune=order)])

    @classmethod
    def sweep(cls, sweep: Sweep, specs: list[RunSpec], sweep_id: str | None = None) -> Job:
        """A sweep's runs (from ``Sweep.specs``), its table under ``sweep_id``."""
        sweep_id = sweep_id or make_sweep_id(sweep.id)
        return cls.plan((spec, _cell(sweep, spec, sweep_id)) for spec in specs)

    @classmethod
    def lab(
        cls,
        sweeps: list[Sweep] | None = None,
        train_limit: int | None = None,
        epochs: int | None = None,
        repeats: int = 1,
        stamp: str | None = None,
    ) -> Job:
        """Every exercise of the lab (or ``sweeps``), each its own table, planned as one job.

        With ``repeats`` every cell is trained with seeds 0 to repeats - 1 (mean ± std).
        """
        sweeps = sweeps if sweeps is not None else list(PRESETS.values())
        stamp = stamp or stamp_now()
        requests = []
        for sweep in sweeps:
            sweep_id = make_sweep_id(sweep.id, stamp)
            for spec in sweep.specs(repeats, train_limit=train_limit, epochs=epochs):
                requests.append((spec, _cell(sweep, spec, sweep_id)))
        return cls.plan(requests)

    @property
    def records(self) -> list[RunRecord]:
        return [run.record for run in self.runs if run.record is not None]


def _cell(sweep: Sweep, spec: RunSpec, sweep_id: str) -> Cell:
    return Cell(sweep_id, getattr(spec, sweep.param) if sweep.param else None)


def _longest_extension(spec: RunSpec, runs: list[PlannedRun]) -> PlannedRun | None:
    """The run training ``spec`` for the most epochs, if reading it at an epoch is exact."""
    if spec.seed is None or spec.model == "cnn_best" or spec.augment:
        return None  # random seed: another run; cnn_best: its learning rate decays per run
    candidates = [r for r in runs if r.spec == spec.with_changes(epochs=r.spec.epochs)]
    return max(candidates, key=lambda r: r.spec.epochs, default=None)
