"""What an exported script trains and prints: a ``CodePlan`` of parts (a run, a sweep, an
exercise, or the whole lab), each part's runs with their exact settings and seeds.

Built from the store (``plan_for``), so the script makes the numbers the student's runs
made; rendered by ``script`` and ``notebook``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from digitpad.core.data.mnist import keras_layout_file
from digitpad.core.lab.exercises import EXERCISES, FIRST_FIVE, SAVES_WEIGHTS
from digitpad.core.lab.stored_sweeps import SweepRuns, default_sweep, exercise_sweeps, load_sweep
from digitpad.core.lab.sweep_ids import parse_sweep_id
from digitpad.core.nets.results import RunResult
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.status import RunStatus
from digitpad.core.store.run_refs import RUN_REF_PREFIX, parse_run_ref
from digitpad.core.store.runs import RunRecord, RunStore

# The lab's two applications and their exercises: one script (and Code section) each.
APPLICATIONS = {
    1: ("Application 1: the MLP (baseline_model)", ("ex1", "ex2", "ex3", "ex4", "ex5")),
    2: ("Application 2: the CNN (CNN_model)", ("ex6", "ex7", "ex8", "ex9")),
}


class NothingToExport(ValueError):
    """What was asked names nothing that can become a script (one line says why)."""


@dataclass(frozen=True)
class ScriptRun:
    """One training in a script: the column it fills (None for a single run), its settings
    (seed and precision as it trained), the epochs at which the table reads it (exercise
    8: one run read at 1, 2, 5, 10 and 20 epochs), and the stored run it reproduces."""

    column: Any
    spec: RunSpec
    read_at: tuple[int, ...]
    run_id: int
    result: RunResult


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
    run = ScriptRun(None, spec, (), record.id, result)
    return Part(f"run{record.id}", f"Run {record.id}: {spec.describe()}", "", None, (run,))


def sweep_part(stored: SweepRuns) -> Part:
    """A stored sweep (an exercise's or a custom one) as a script's part: its runs in the
    table's column order, each read where the table reads it."""
    sweep = stored.sweep
    runs: dict[int, ScriptRun] = {}
    for cell, record in stored.cells:
        if record.result is None or record.status != RunStatus.DONE:
            continue
        earlier = runs.get(record.id)
        read_at = (*(earlier.read_at if earlier else ()), cell.value) if cell.at_epoch else ()
        runs[record.id] = ScriptRun(
            cell.value, exported_spec(record.result), read_at, record.id, record.result
        )
    if not runs:
        raise NothingToExport(f"sweep {stored.sweep_id} has no finished run")
    order = {value: i for i, value in enumerate(sweep.values)}
    ordered = sorted(runs.values(), key=lambda r: (order.get(r.column, len(order)), r.run_id))
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
    run = ScriptRun(None, exported_spec(result), (), ex4_run.id, result)
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
                "no exercise has stored runs yet: run the lab's sweeps first (digitpad lab, "
                "or Train → Lab exercise)"
            )
        parts = exercise_parts(store, keys)
        return CodePlan("lab", "The MNIST lab, every exercise", "the lab's runs", parts)
    raise NothingToExport(
        f"{what!r} names nothing to export: give a run's number (12 or run:12), a sweep id "
        "(digitpad runs lists them), an exercise (ex1 … ex9) or lab"
    )


def application_plan(store: RunStore, application: int) -> CodePlan | None:
    """The script that made one application's stored exercises (the report's Code
    section), or None when it has none yet."""
    title, keys = APPLICATIONS[application]
    keys = tuple(key for key in keys if key in available_exercises(store))
    if not keys:
        return None
    return CodePlan(
        f"application{application}", title, "the report's runs", exercise_parts(store, list(keys))
    )


def available_exercises(store: RunStore) -> set[str]:
    """The exercises with stored runs (exercise 5 with exercise 4's)."""
    found = set(exercise_sweeps(store))
    if FIRST_FIVE.weights_from in found:
        found.add(FIRST_FIVE.id)
    return found


def exercise_parts(
    store: RunStore, keys: list[str], chosen: dict[str, str] | None = None
) -> tuple[Part, ...]:
    """One part per exercise in ``keys``, from the sweep ``chosen`` names for it (a
    sweep id per exercise, as the report picks them), else its newest complete one."""
    stored = exercise_sweeps(store)
    parts: list[Part] = []
    for key in keys:
        source = FIRST_FIVE.weights_from if key == FIRST_FIVE.id else key
        sweeps = stored.get(source, [])
        picked = next((s for s in sweeps if chosen and s.sweep_id == chosen.get(source)), None)
        picked = picked or default_sweep(sweeps)
        if picked is None:
            raise NothingToExport(
                f"{source} has no stored runs: run it first (digitpad lab --exercise "
                f"{source}, or Train → Lab exercise)"
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
