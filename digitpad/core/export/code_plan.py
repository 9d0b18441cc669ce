"""What an exported script trains and prints: a ``CodePlan`` of parts (a run, a sweep, an
exercise, or the whole lab), each part's runs with their exact settings and seeds.

Built from the store (``plan_for``), so the script makes the numbers the student's runs
made; rendered by ``script`` and ``notebook``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from digitpad.core.data.mnist import keras_layout_file
from digitpad.core.lab.exercises import EXERCISES, FIRST_FIVE, SAVES_WEIGHTS, source_exercise
from digitpad.core.lab.stored_sweeps import SweepRuns, default_sweep, exercise_sweeps, load_sweep
from digitpad.core.lab.sweep_ids import parse_sweep_id
from digitpad.core.nets.results import RunResult
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.status import RunStatus
from digitpad.core.store.run_refs import RUN_REF_PREFIX, parse_run_ref
from digitpad.core.store.runs import RunRecord, RunStore


class NothingToExport(ValueError):
    """What was asked names nothing that can become a script (one line says why)."""


@dataclass(frozen=True)
class ScriptRun:
    """One training in a script: the column it fills (None for a single run), its settings
    (seed and precision as it trained), the epochs at which the table reads it (exercise
    8: one run read at 1, 2, 5, 10 and 20 epochs), the stored run it reproduces, and the
    test accuracy it prints (the run's, or the run's after ``spec.epochs`` epochs when
    DigitPad read the column from a longer run)."""

    column: Any
    spec: RunSpec
    read_at: tuple[int, ...]
    run_id: int
    result: RunResult
    expected: float | None = None

    @property
    def shortened(self) -> bool:
        """DigitPad read this column from a longer run: the script trains as many epochs
        as the column reads (with deterministic training, the same numbers)."""
        return self.spec.epochs != self.result.spec.epochs


@dataclass(frozen=True)
class Part:
    """One section of a script: a run, a sweep or an exercise."""

    key: str  # "run12", "ex1", "custom-neurons", "ex5"
    title: str
    question: str
    param: str | None  # the swept setting; None for one run (or one run read at epochs)
    runs: tuple[ScriptRun, ...]
    measure: str = "accuracy"  # the table's figure: accuracy, or mse (exercise 3)
    save_weights: bool = False  # exercise 4
    first_five: bool = False  # exercise 5: load exercise 4's weights, read five images

    @property
    def columns(self) -> list[Any]:
        """The table's columns in order (a run read at several epochs gives several)."""
        seen: list[Any] = []
        for run in self.runs:
            for column in run.read_at or (run.column,):
                if column not in seen:
                    seen.append(column)
        return seen


@dataclass(frozen=True)
class CodePlan:
    """A whole script: where it came from, its parts, and what its numbers depend on."""

    name: str  # the file's stem: "run-12", "ex1", "lab"
    title: str
    made_from: str  # "run 12", "sweep ex1-20261206-101500", "the lab's newest runs"
    parts: tuple[Part, ...]

    @property
    def runs(self) -> list[ScriptRun]:
        return [run for part in self.parts for run in part.runs]

    @property
    def kinds(self) -> set[str]:
        return {run.spec.model for run in self.runs}

    @property
    def mnist_file(self) -> str:
        """The data file the runs trained on (the script's default ``--mnist``)."""
        return next((f for r in self.runs if (f := keras_layout_file(r.result.data_source))), "")

    @property
    def threads(self) -> int:
        """The TensorFlow threads the runs trained with (0: not recorded, before 0.4)."""
        return max((run.result.threads for run in self.runs), default=0)

    @property
    def weights_file(self) -> str:
        """Exercise 5 loads this: exercise 4's run's saved weights."""
        part = next((p for p in self.parts if p.first_five), None)
        return (part.runs[0].result.weights_path or "") if part else ""

    def expected_accuracies(self) -> list[float]:
        """The test accuracies the script's last line prints, as the runs stored them."""
        return [
            run.result.test_accuracy
            for part in self.parts
            for run in part.runs
            if not part.first_five
        ]


def exported_spec(result: RunResult) -> RunSpec:
    """A run's settings as the script trains them: its seed, and the precision it
    actually trained in (``auto`` was decided per processor)."""
    if result.spec.augment:
        raise NothingToExport(
            "augmented training (the canvas network) runs on TensorFlow's input pipeline, "
            "not plain Keras: only runs without augment export as a script"
        )
    return result.spec.with_changes(seed=result.seed, precision=result.precision)


def finished(record: RunRecord) -> RunResult:
    """A finished run's result; ``NothingToExport`` for a run that did not finish."""
    if record.result is None or record.status != RunStatus.DONE:
        raise NothingToExport(
            f"run {record.id} is {record.status}: only finished runs export as code "
            "(their numbers are what the script prints)"
        )
    return record.result


def run_part(record: RunRecord) -> Part:
    """A single stored run as a script's part."""
    result = finished(record)
    spec = exported_spec(result)
    run = ScriptRun(None, spec, (), record.id, result, result.test_accuracy)
    # Its settings in words where an exercise has its question.
    return Part(f"run{record.id}", f"Run {record.id}", f"{spec.describe()}.", None, (run,))


def sweep_part(stored: SweepRuns) -> Part:
    """A stored sweep (an exercise's or a custom one) as a script's part: its runs in the
    table's column order, each read where the table reads it."""
    sweep = stored.sweep
    cells_of: dict[int, list] = {}
    for cell, record in stored.cells:
        if record.result is not None and record.status == RunStatus.DONE:
            cells_of.setdefault(record.id, []).append((cell, record))
    order = {value: i for i, value in enumerate(sweep.values)}
    runs: list[ScriptRun] = []
    for run_id, pairs in cells_of.items():
        pairs.sort(key=lambda pair: order.get(pair[0].value, len(order)))
        result = pairs[0][1].result
        spec = exported_spec(result)
        if sweep.param == "epochs" and any(cell.at_epoch for cell, _ in pairs):
            # Exercise 8: one run, the table reads it after each column's epochs.
            read_at = tuple(cell.value for cell, _ in pairs)
            runs.append(
                ScriptRun(pairs[-1][0].value, spec, read_at, run_id, result, result.test_accuracy)
            )
            continue
        for cell, _ in pairs:
            if cell.at_epoch and cell.at_epoch != result.epochs_run:
                # Read from a longer run (the lab trains each setting once): as many
                # epochs as the column reads give the same numbers.
                accuracies = result.history.get("val_accuracy", [])
                got = accuracies[cell.at_epoch - 1] if len(accuracies) >= cell.at_epoch else None
                short = spec.with_changes(epochs=cell.at_epoch)
                runs.append(ScriptRun(cell.value, short, (), run_id, result, got))
            else:
                runs.append(ScriptRun(cell.value, spec, (), run_id, result, result.test_accuracy))
    if not runs:
        raise NothingToExport(f"sweep {stored.sweep_id} has no finished run")
    ordered = sorted(runs, key=lambda r: (order.get(r.column, len(order)), r.run_id))
    read_at_epochs = any(run.read_at for run in ordered)
    return Part(
        sweep.id,
        sweep.title,
        sweep.question,
        None if read_at_epochs else sweep.param,
        tuple(ordered),
        sweep.measure,
        save_weights=sweep.id == SAVES_WEIGHTS,
    )


def first_five_part(ex4_run: RunRecord) -> Part:
    """Exercise 5: exercise 4's saved weights loaded into a fresh network."""
    result = finished(ex4_run)
    run = ScriptRun(None, exported_spec(result), (), ex4_run.id, result, result.test_accuracy)
    return Part(FIRST_FIVE.id, FIRST_FIVE.title, FIRST_FIVE.question, None, (run,), first_five=True)


def plan_for(store: RunStore, what: str) -> CodePlan:
    """The plan for ``what``: a run (``12``, ``run:12``), a stored sweep id, an exercise
    (``ex1`` … ``ex9``: its stored sweep the report uses) or ``lab`` (every exercise).

    Raises ``NothingToExport`` naming what is missing.
    """
    what = what.strip()
    run_id = run_number(what)
    if run_id is not None:
        record = store.get(run_id)
        if record is None:
            raise NothingToExport(f"there is no run {run_id} (digitpad runs lists them)")
        part = run_part(record)
        return CodePlan(f"run-{run_id}", part.title, f"run {run_id}", (part,))
    if parse_sweep_id(what):
        stored = load_sweep(store, what)
        if stored is None:
            raise NothingToExport(f"there is no stored sweep {what} (digitpad runs lists them)")
        part = sweep_part(stored)
        return CodePlan(part.key, part.title, f"sweep {what}", (part,))
    if what in EXERCISES:
        parts = exercise_parts(store, [what])
        return CodePlan(what, parts[0].title, f"the stored {what} the report uses", parts)
    if what == "lab":
        keys = [key for key in EXERCISES if key in available_exercises(store)]
        if not keys:
            raise NothingToExport(
                "no exercise has stored runs yet: run the lab first (digitpad lab, or the "
                "Train tab's Lab exercises and sweeps)"
            )
        parts = exercise_parts(store, keys)
        return CodePlan("lab", "The MNIST lab, every exercise", "the lab's runs", parts)
    raise NothingToExport(
        f"{what!r} names nothing to export: give a run's number (12 or run:12), a sweep id "
        "(digitpad runs lists them), an exercise (ex1 … ex9) or lab"
    )


def available_exercises(store: RunStore) -> set[str]:
    """The exercises with stored runs (exercise 5 with exercise 4's)."""
    found = set(exercise_sweeps(store))
    if FIRST_FIVE.weights_from in found:
        found.add(FIRST_FIVE.id)
    return found


def exercise_parts(store: RunStore, keys: list[str]) -> tuple[Part, ...]:
    """One part per exercise in ``keys``, each from the sweep the report shows by default:
    its newest complete one (else its newest)."""
    stored = exercise_sweeps(store)
    parts: list[Part] = []
    for key in keys:
        source = source_exercise(key)
        sweeps = stored.get(source, [])
        picked = default_sweep(sweeps)
        if picked is None:
            raise NothingToExport(
                f"{source} has no stored runs: run it first (digitpad sweep {source}, or "
                "the Train tab's Lab exercises and sweeps)"
            )
        if key == FIRST_FIVE.id:
            parts.append(first_five_part(picked.cells[0][1]))
        else:
            parts.append(sweep_part(picked))
    return tuple(parts)


def run_number(what: str) -> int | None:
    """The run ``what`` names (``12`` or ``run:12``), else None."""
    if what.isascii() and what.isdigit():
        what = RUN_REF_PREFIX + what
    try:
        return parse_run_ref(what)
    except ValueError:
        return None
