"""Command line: the GUI by default, and headless sub-commands over the same core."""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, NoReturn

# TensorFlow's C++ start-up chatter would bury our output; users can still raise it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from digitpad.core.data import SOURCES, MnistUnavailable, load_dataset
from digitpad.core.paths import data_home
from digitpad.core.runs import RunStoreError
from digitpad.core.specs import KIND_DEFAULTS, METRICS, MODEL_KINDS, OPTIMIZERS, RunSpec

TABS = ("draw", "train", "results")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (exit code 2), without the usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="digitpad", description="Draw digits and run the MNIST lab.")
    parser.add_argument(
        "--data", metavar="PATH", help="MNIST to use: a Keras mnist.npz or a folder of IDX files"
    )
    parser.add_argument(
        "--screenshot", metavar="FILE.png", help="render the window offscreen to a PNG and exit"
    )
    parser.add_argument("--tab", choices=TABS, default=None, help="tab to show first")
    parser.add_argument(
        "--sample-digit",
        type=int,
        choices=range(10),
        metavar="0-9",
        help="start with a built-in drawing of this digit on the canvas",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser("train", help="train one network headless and store the run")
    train.add_argument("--model", choices=list(MODEL_KINDS), default="mlp")
    train.add_argument("--neurons", type=int, help="hidden dense units (lab: 8 MLP, 128 CNN)")
    train.add_argument("--filters", type=int, help="filters of the (first) convolution")
    train.add_argument("--kernel-size", type=int, help="side of the square convolution kernel")
    train.add_argument("--epochs", type=int, help="passes over the training images (lab: 10)")
    train.add_argument("--batch-size", type=int, help="images per gradient step (lab: 200)")
    train.add_argument("--metric", choices=METRICS, help="metric reported while training")
    train.add_argument("--optimizer", choices=OPTIMIZERS)
    train.add_argument("--learning-rate", type=float, help="default: the optimizer's own")
    train.add_argument("--dropout", type=float, help="dropout rate of the CNNs (lab: 0.2)")
    train.add_argument("--seed", type=int, help="random seed (default: drawn and recorded)")
    train.add_argument(
        "--train-limit",
        type=int,
        metavar="N",
        help="train on the first N images only (default: all 60,000)",
    )
    train.add_argument(
        "--augment",
        action="store_true",
        default=None,
        help="train on rotated/zoomed/shifted/re-inked copies (CNNs only)",
    )
    train.add_argument("--json", action="store_true", help="print one JSON object at the end")

    runs = sub.add_parser("runs", help="list the stored runs")
    fmt = runs.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")
    runs.add_argument("--model", choices=list(MODEL_KINDS))

    data = sub.add_parser("data", help="show which MNIST source is used and its checks")
    data.add_argument("--source", choices=SOURCES, default="auto")
    data.add_argument("--json", action="store_true")
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

    lab = sub.add_parser(
        "lab", help="run every exercise of the lab with its settings and write one report"
    )
    lab.add_argument("--report", metavar="FILE.md", help="write the report there (Markdown)")
    lab.add_argument(
        "--only", help="comma-separated exercises, e.g. ex1,ex4 (default: all of them)"
    )
    lab.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="trainings side by side, one process each (default: 2, or 1 on one core)",
    )
    lab.add_argument(
        "--repeats", type=int, default=1, help="runs per cell, seeds 0, 1, ... (mean ± std)"
    )
    lab.add_argument("--train-limit", type=int, metavar="N", help="train on N images only")
    lab.add_argument("--epochs", type=int, help="override the epochs (not for exercise 8)")

    build = sub.add_parser("build-weights", help="retrain the shipped weights from scratch")
    build.add_argument(
        "--only",
        default="mlp,cnn,best",
        help="comma-separated names among mlp, cnn, best (default: all)",
    )
    build.add_argument("--out", metavar="DIR", help="folder to write (default: weights/)")
    build.add_argument(
        "--export-only",
        action="store_true",
        help="do not retrain: export the existing weights to LiteRT (.tflite) again",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``digitpad`` and ``python -m digitpad``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.data:
        os.environ["DIGITPAD_MNIST"] = args.data
    if args.command is None:
        from digitpad.app import run_gui

        code = run_gui(screenshot=args.screenshot, tab=args.tab, sample_digit=args.sample_digit)
        # Everything is saved by now (runs are committed as they end, settings on close).
        # Skip interpreter teardown: destroying TensorFlow and Qt objects in arbitrary order
        # crashed it here ("bool_dealloc: deallocating True or False") after a clean exit.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if args.screenshot or args.tab or args.sample_digit is not None:
        parser.error(
            "--screenshot, --tab and --sample-digit go with the window, not with a sub-command"
        )
    handler = {
        "train": cmd_train,
        "runs": cmd_runs,
        "data": cmd_data,
        "build-weights": cmd_build_weights,
        "sweep": cmd_sweep,
        "lab": cmd_lab,
    }[args.command]
    try:
        return handler(args)
    except (MnistUnavailable, RunStoreError) as exc:
        print(f"digitpad: {exc}", file=sys.stderr)
        return 1


def spec_from_args(args: argparse.Namespace) -> RunSpec:
    """The RunSpec the ``train`` flags describe (lab defaults for whatever is not given)."""
    names = [f.name for f in fields(RunSpec) if f.name != "model"]
    given = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    return RunSpec(model=args.model, **{**KIND_DEFAULTS[args.model], **given})


def cmd_train(args: argparse.Namespace) -> int:
    from digitpad.core.runner import run_and_record
    from digitpad.core.runs import RunStore

    try:
        spec = spec_from_args(args)
    except ValueError as exc:
        _fail(f"digitpad train: error: {_flag_names(str(exc))}")
    data = load_dataset()
    store = RunStore(data_home())
    if store.recovery_message:
        print(store.recovery_message, file=sys.stderr)
    out = sys.stderr if args.json else sys.stdout
    print(f"Training {spec.describe()} on {data.source} ({spec.train_size} images)", file=out)

    stop_requested = False

    def on_sigint(signum, frame):
        nonlocal stop_requested
        stop_requested = True
        print("\nStopping after this batch (Ctrl+C again to abort)…", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)

    def on_progress(event) -> None:
        if event.kind == "epoch":
            figures = "  ".join(f"{k} {v:.4f}" for k, v in event.logs.items())
            print(
                f"epoch {event.epoch + 1}/{event.epochs}  {figures}  ({event.elapsed:.1f} s)",
                file=out,
                flush=True,
            )

    try:
        record = run_and_record(spec, data, store, on_progress, lambda: stop_requested)
    finally:
        signal.signal(signal.SIGINT, previous)
    if args.json:
        print(json.dumps(record_to_row(record)))
    else:
        print(summary_line(record))
    return 0 if record.status in ("done", "stopped") else 1


def summary_line(record) -> str:
    r = record.result
    if r is None:
        return f"run {record.id} {record.status}: {record.error}"
    line = (
        f"run {record.id} {record.status}: test accuracy {r.test_accuracy:.4f} "
        f"(baseline error {r.baseline_error:.2f} %), test loss {r.test_loss:.4f}, "
        f"MSE {r.test_mse:.4f}, convergence time {r.convergence_time:.2f} s, "
        f"{r.params} parameters, {r.epochs_run} epoch(s)"
    )
    if r.weights_path:
        line += f"\nweights saved to {r.weights_path}"
    for note in r.notes:
        line += f"\nnote: {note}"
    return line


RUN_COLUMNS = (
    "id",
    "created_at",
    "status",
    "model",
    "neurons",
    "filters",
    "kernel_size",
    "epochs",
    "batch_size",
    "metric",
    "train_size",
    "test_accuracy",
    "baseline_error",
    "test_mse",
    "convergence_time",
    "params",
    "epochs_run",
    "sweep_id",
    "error",
)


def record_to_row(record) -> dict[str, Any]:
    """A flat dict of a run, as printed by ``digitpad runs``."""
    spec, result = record.spec, record.result
    row: dict[str, Any] = {
        "id": record.id,
        "created_at": record.created_at,
        "status": record.status,
        "model": spec.model,
        "neurons": spec.neurons,
        "filters": spec.filters if spec.is_cnn else None,
        "kernel_size": spec.kernel_size if spec.is_cnn else None,
        "epochs": spec.epochs,
        "batch_size": spec.batch_size,
        "metric": spec.metric,
        "train_size": spec.train_size,
        "sweep_id": record.sweep_id,
        "error": record.error,
    }
    for key in (
        "test_accuracy",
        "baseline_error",
        "test_mse",
        "convergence_time",
        "params",
        "epochs_run",
    ):
        row[key] = getattr(result, key) if result else None
    return {key: row[key] for key in RUN_COLUMNS}


def cmd_runs(args: argparse.Namespace) -> int:
    from digitpad.core.runs import RunStore

    store = RunStore(data_home())
    if store.recovery_message:
        print(store.recovery_message, file=sys.stderr)
    rows = [record_to_row(r) for r in store.list_runs(model=args.model)]
    if args.json:
        print(json.dumps(rows, indent=1))
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=RUN_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    elif not rows:
        print("No runs yet: train one with 'digitpad train' or from the Train tab.")
    else:
        print(
            f"{'id':>4} {'status':<11} {'model':<8} {'neur':>5} {'kern':>4} {'ep':>3} "
            f"{'batch':>5} {'metric':<8} {'images':>6} {'accuracy':>8} {'error%':>6} "
            f"{'time s':>7}  created"
        )
        for r in rows:
            print(
                f"{r['id']:>4} {r['status']:<11} {r['model']:<8} {r['neurons']:>5} "
                f"{_blank(r['kernel_size']):>4} {r['epochs']:>3} {r['batch_size']:>5} "
                f"{r['metric']:<8} {r['train_size']:>6} {_fmt(r['test_accuracy'], 4):>8} "
                f"{_fmt(r['baseline_error'], 2):>6} {_fmt(r['convergence_time'], 1):>7}  "
                f"{r['created_at']}"
            )
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    data = load_dataset(args.source)
    checks = data.checks()
    if args.json:
        print(
            json.dumps(
                {
                    "source": data.source,
                    "location": data.location,
                    "sha256": data.sha256,
                    "checks": checks,
                    "notes": data.notes,
                }
            )
        )
        return 0
    print(
        f"MNIST source: {data.source}\nlocation:     {data.location}\nsha256:       {data.sha256}"
    )
    print(f"train: {data.x_train.shape} {data.x_train.dtype}   test: {data.x_test.shape}")
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAILED'}] {name}")
    for note in data.notes:
        print(f"note: {note}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from datetime import datetime

    from digitpad.core.runner import run_and_record
    from digitpad.core.runs import RunStore
    from digitpad.core.sweeps import PRESETS, custom_sweep, lab_table

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
        _fail(f"digitpad sweep: error: {_flag_names(str(exc))}")
    data = load_dataset()
    store = RunStore(data_home())
    sweep_id = f"{sweep.id}-{datetime.now():%Y%m%d-%H%M%S}"
    out = sys.stderr if args.json else sys.stdout
    print(f"{sweep.title}: {len(specs)} run(s), sweep id {sweep_id}", file=out)
    records = []
    for index, spec in enumerate(specs, 1):
        record = run_and_record(spec, data, store, sweep_id=sweep_id)
        records.append(record)
        figure = f"{record.result.test_accuracy:.4f}" if record.result else record.error
        print(
            f"  run {index}/{len(specs)}: {spec.describe()} -> {record.status} {figure}",
            file=out,
            flush=True,
        )
    table = lab_table(sweep, records)
    if args.json:
        print(
            json.dumps({"sweep_id": sweep_id, "columns": table.columns, "rows": dict(table.rows)})
        )
    else:
        print("\n" + table.to_markdown())
        if sweep.note:
            print(f"\nNote: {sweep.note}")
    return 0 if all(r.status == "done" for r in records) else 1


def cmd_lab(args: argparse.Namespace) -> int:
    from digitpad.core.lab import lab_jobs, lab_tables, report_markdown, run_lab
    from digitpad.core.runs import RunStore
    from digitpad.core.sweeps import PRESETS

    try:
        names = [n.strip() for n in (args.only or ",".join(PRESETS)).split(",") if n.strip()]
        names = [n for n in names if n != "ex5"]  # exercise 5 comes with exercise 4
        unknown = [n for n in names if n not in PRESETS]
        if unknown:
            raise ValueError(
                f"unknown exercise(s) {', '.join(unknown)}; choose among {', '.join(PRESETS)}"
            )
        if args.jobs < 1:
            raise ValueError(f"--jobs must be at least 1; got {args.jobs}")
        sweeps = [PRESETS[n] for n in names]
        jobs = lab_jobs(sweeps, args.train_limit, args.epochs, args.repeats)
    except ValueError as exc:
        _fail(f"digitpad lab: error: {_flag_names(str(exc))}")
    report = Path(args.report) if args.report else None
    if report is not None and not report.parent.is_dir():
        _fail(f"digitpad lab: error: folder {report.parent} does not exist; create it first")
    data = load_dataset()
    store = RunStore(data_home())
    print(
        f"The lab: {len(sweeps)} exercise(s), {len(jobs)} training(s), {args.jobs} at a time, "
        f"on {data.source}",
        flush=True,
    )
    outcome = run_lab(
        store, data, jobs, args.jobs, on_event=lambda line: print("  " + line, flush=True)
    )
    outcome.repeats = args.repeats
    outcome.overrides = ", ".join(
        f"{name} {value}"
        for name, value in (("train limit", args.train_limit), ("epochs", args.epochs))
        if value is not None
    )
    text = report_markdown(outcome, sweeps)
    if report is not None:
        report.write_text(text)
        print(f"Report written to {report}")
    else:
        for table in lab_tables(outcome.jobs, sweeps).values():
            print("\n" + table.to_markdown())
    print(f"The whole lab took {outcome.seconds / 60:.1f} minutes.")
    return 0 if all(j.record and j.record.status == "done" for j in outcome.jobs) else 1


def cmd_build_weights(args: argparse.Namespace) -> int:
    from digitpad.core.weights import SHIPPED, build_shipped, export_litert

    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in SHIPPED]
    if unknown:
        _fail(
            f"digitpad build-weights: error: unknown name(s) {', '.join(unknown)}; "
            f"choose among {', '.join(SHIPPED)}"
        )
    folder = Path(args.out) if args.out else None
    data = load_dataset()
    failed = 0
    for name in names:
        print(f"== {name}: {SHIPPED[name].spec.describe()}", flush=True)

        def on_progress(event) -> None:
            if event.kind == "epoch":
                print(
                    f"  epoch {event.epoch + 1}/{event.epochs}  loss {event.loss:.4f}  "
                    f"val_accuracy {event.logs.get('val_accuracy', float('nan')):.4f}  "
                    f"({event.elapsed:.0f} s)",
                    flush=True,
                )

        try:
            kwargs = {"folder": folder} if folder else {}
            if args.export_only:
                info = export_litert(name, data, **kwargs)
                print(f"  exported {info['litert']['file']}", flush=True)
                continue
            info = build_shipped(name, data, on_progress=on_progress, **kwargs)
        except (RuntimeError, OSError) as exc:
            print(f"  FAILED: {exc}", flush=True)
            failed += 1
            continue
        print(
            f"  wrote {name}: test accuracy {info['test_accuracy']:.4f} in "
            f"{info['training_time_s']} s",
            flush=True,
        )
    return 1 if failed else 0


def _fail(message: str) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(2)


def _flag_names(message: str) -> str:
    """Name CLI flags (--batch-size) rather than Python fields (batch_size) in messages."""
    for name in ("kernel_size", "batch_size", "learning_rate", "train_limit"):
        message = message.replace(name, "--" + name.replace("_", "-"))
    for name in ("neurons", "filters", "epochs", "seed", "dropout"):
        message = message.replace(f"{name} must", f"--{name} must")
    return message


def _fmt(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _blank(value: Any) -> str:
    return "" if value is None else str(value)


if __name__ == "__main__":
    raise SystemExit(main())
