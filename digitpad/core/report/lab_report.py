"""A lab job's own tables, straight from the job's records (the report itself is
``builder``, read from the store)."""

from __future__ import annotations

from digitpad.core.engine.plan import Job
from digitpad.core.lab.sweep_ids import sweep_key
from digitpad.core.lab.sweeps import PRESETS, LabTable, Sweep, cells_table


def lab_tables(job: Job, sweeps: list[Sweep] | None = None) -> dict[str, LabTable]:
    """Each exercise's table in the lab's layout, from the job's finished runs."""
    sweeps = sweeps if sweeps is not None else list(PRESETS.values())
    return {
        sweep.id: cells_table(
            sweep,
            [
                (cell, run.record)
                for run in job.runs
                if run.record is not None
                for cell in run.cells
                if sweep_key(cell.sweep_id) == sweep.id
            ],
        )
        for sweep in sweeps
    }
