"""*Check this number*: a student's run trained again here from its settings and seed, and
compared with what they handed in (``same``, ``within tolerance`` and why, or what
differs)."""

from __future__ import annotations

from collections.abc import Callable

from digitpad.core.classroom.class_store import ClassStore
from digitpad.core.classroom.class_tables import ClassOverview
from digitpad.core.engine.backend import Backend
from digitpad.core.engine.reproduce import CannotReproduce, ReproduceStopped, reproduce
from digitpad.core.nets.fingerprint import Comparison


class CannotCheck(ValueError):
    """The number names no run that can be trained again (one line says why)."""


def check_number(
    store: ClassStore,
    view: ClassOverview,
    student: str,
    exercise: str,
    column: str,
    stop: Callable[[], bool] | None = None,
    backend: Backend | None = None,
) -> Comparison:
    """Train the run behind ``student``'s cell (``exercise``, ``column``) again, here or
    on ``backend`` (a Dask cluster), and compare it with the one handed in."""
    found = [s for s in view.students if s.name.casefold() == student.strip().casefold()]
    if not found:
        names = ", ".join(s.name for s in view.students) or "none"
        raise CannotCheck(f"no hand-in from {student!r} in the class (its students: {names})")
    table = next((t for t in view.tables if t.exercise == exercise), None)
    if table is None or column not in table.columns:
        columns = ", ".join(table.columns) if table else "none: it is not the class's"
        raise CannotCheck(f"exercise {exercise} has no column {column!r} (its columns: {columns})")
    runs = table.runs.get((found[0].id, table.columns.index(column)), [])
    if not runs:
        raise CannotCheck(f"{found[0].name} handed in no run for {exercise}, {column}")
    run = runs[0]
    try:
        result = store.result_of(run)
        comparison, _ = reproduce(
            result, run_name=f"{found[0].name}'s run", stop=stop, backend=backend
        )
    except (CannotReproduce, ReproduceStopped) as exc:
        raise CannotCheck(str(exc)) from exc
    return comparison
