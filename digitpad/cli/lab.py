"""digitpad sweep and digitpad lab: the lab's exercises, one or all, as its tables."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from digitpad.cli.common import (
    add_engine_flags,
    all_done,
    fail,
    flag_names,
    make_engine,
    open_store,
    precision_of,
    print_run_lines,
    run_job,
    workers_text,
)
from digitpad.core.data.mnist import load_dataset
from digitpad.core.engine import Job
from digitpad.core.nets.specs import MODEL_KINDS, RunSpec


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command(s), each with its flags and handler."""
    sweep = sub.add_parser("sweep", help="run one of the lab's exercise sweeps, print its table")
    sweep.add_argument("preset", nargs="?", help="ex1, ex2, ex3, ex4, ex6, ex7, ex8 or ex9")
    sweep.add_argument(
        "--model",
        choices=list(MODEL_KINDS),
        default="mlp",
        help="base model of a custom sweep (--param/--values)",
    )
    sweep.add_argument("--param", help="hyperparameter of a custom sweep, e.g. neurons")
    sweep.add_argument("--values", help="comma-separated values of a custom sweep, e.g. 8,16,32")
    sweep.add_argument("--repeats", type=int, default=1, help="runs per value (seeds 0, 1, ...)")
    sweep.add_argument("--train-limit", type=int, metavar="N", help="train on N images only")
    sweep.add_argument("--epochs", type=int, help="override the epochs (unless swept)")
    sweep.add_argument("--json", action="store_true", help="print the table as JSON")
    add_engine_flags(sweep)
    sweep.set_defaults(handler=cmd_sweep)
    lab = sub.add_parser(
        "lab", help="run every exercise of the lab with its settings and write one report"
    )
    lab.add_argument(
        "--report",
        metavar="FILE.pdf|FILE.html|FILE.md|DIR",
        help="also write the lab's report there (as `digitpad report` does)",
    )
    lab.add_argument(
        "--only", help="comma-separated exercises, e.g. ex1,ex4 (default: all of them)"
    )
    lab.add_argument(
        "--repeats", type=int, default=1, help="runs per cell, seeds 0, 1, ... (mean ± std)"
    )
    lab.add_argument("--train-limit", type=int, metavar="N", help="train on N images only")
    lab.add_argument("--epochs", type=int, help="override the epochs (not for exercise 8)")
    add_engine_flags(lab)
    lab.set_defaults(handler=cmd_lab)


def cmd_sweep(args: argparse.Namespace) -> int:
    from digitpad.core.lab.sweeps import PRESETS, cells_table, custom_sweep

    try:
        if args.preset and (args.param or args.values):
            raise ValueError("give a preset or --param/--values, not both")
        if args.preset:
            if args.preset not in PRESETS:
                raise ValueError(f"unknown preset {args.preset!r}; choose {', '.join(PRESETS)}")
            sweep = PRESETS[args.preset]
        elif args.param and args.values:
            kind = float if args.param in ("learning_rate", "dropout") else int
            values = [kind(v) for v in args.values.split(",") if v.strip()]
            sweep = custom_sweep(RunSpec.for_model(args.model), args.param, values)
        else:
            raise ValueError("name a preset (ex1 ... ex9) or give --param and --values")
        specs = sweep.specs(args.repeats, args.train_limit, args.epochs)
    except ValueError as exc:
        fail(f"digitpad sweep: error: {flag_names(str(exc))}")
    store = open_store()
    engine = make_engine(args, store)
    data = load_dataset()
    job = Job.sweep(sweep, specs).set_precision(precision_of(args))
    (sweep_id,) = job.sweep_ids
    out = sys.stderr if args.json else sys.stdout
    print(
        f"{sweep.title}: {len(specs)} run(s) in {len(job.runs)} training(s) on "
        f"{engine.backend.name}, sweep id {sweep_id}",
        file=out,
    )
    run_job(engine, job, data, lambda event: print_run_lines(event, job, out))
    table = cells_table(sweep, [(c, r.record) for r in job.runs if r.record for c in r.cells])
    if args.json:
        print(
            json.dumps({"sweep_id": sweep_id, "columns": table.columns, "rows": dict(table.rows)})
        )
    else:
        print("\n" + table.to_markdown())
        if sweep.note:
            print(f"\nNote: {sweep.note}")
    return 0 if all_done(job) else 1


def cmd_lab(args: argparse.Namespace) -> int:
    import time

    from digitpad.cli.report import write_report
    from digitpad.core.lab.exercises import FIRST_FIVE
    from digitpad.core.lab.sweep_ids import sweep_key
    from digitpad.core.lab.sweeps import PRESETS
    from digitpad.core.report.builder import complete_report
    from digitpad.core.report.lab_report import lab_tables
    from digitpad.core.report.sections import LabContext

    try:
        names = [n.strip() for n in (args.only or ",".join(PRESETS)).split(",") if n.strip()]
        names = [n for n in names if n != FIRST_FIVE.id]  # it reads exercise 4's weights
        unknown = [n for n in names if n not in PRESETS]
        if unknown:
            raise ValueError(
                f"unknown exercise(s) {', '.join(unknown)}; choose among {', '.join(PRESETS)}"
            )
        sweeps = [PRESETS[n] for n in names]
        job = Job.lab(sweeps, args.train_limit, args.epochs, args.repeats)
        job.set_precision(precision_of(args))
    except ValueError as exc:
        fail(f"digitpad lab: error: {flag_names(str(exc))}")
    report = Path(args.report) if args.report else None
    if report is not None:
        from digitpad.render.report_files import ExportError, format_of

        try:
            format_of(report)
        except ExportError as exc:
            fail(f"digitpad lab: error: {exc}")
        if not report.parent.is_dir():
            fail(f"digitpad lab: error: folder {report.parent} does not exist; create it first")
    store = open_store()
    engine = make_engine(args, store)
    workers = workers_text(engine)
    data = load_dataset()
    print(
        f"The lab: {len(sweeps)} exercise(s), {len(job.runs)} training(s) on {workers}, "
        f"on {data.source}",
        flush=True,
    )
    started = time.perf_counter()
    run_job(engine, job, data, lambda event: print_run_lines(event, job))
    seconds = time.perf_counter() - started
    overrides = ", ".join(
        f"{name} {value}"
        for name, value in (("train limit", args.train_limit), ("epochs", args.epochs))
        if value is not None
    )
    if report is not None:
        # The report of exactly this lab's sweeps, written as `digitpad report` writes it.
        chosen = {sweep_key(sweep_id): sweep_id for sweep_id in job.sweep_ids}
        lab = LabContext(seconds, workers, args.repeats, overrides)
        written = write_report(complete_report(store, chosen, lab=lab, data=data), report)
        print(f"Report written to {written}")
    else:
        for table in lab_tables(job, sweeps).values():
            print("\n" + table.to_markdown())
    print(f"The whole lab took {seconds / 60:.1f} minutes.")
    return 0 if all_done(job) else 1
