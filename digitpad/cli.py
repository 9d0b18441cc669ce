"""Command line: the GUI by default, and headless sub-commands over the same core."""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import NoReturn

# TensorFlow's C++ start-up chatter would bury our output; users can still raise it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from digitpad.core.data.mnist import SOURCES, MnistUnavailable, load_dataset
from digitpad.core.engine import (
    CLUSTER_ENV,
    BackendError,
    Engine,
    EngineEvent,
    Job,
    JobControl,
    JobFailed,
    RunFinished,
    RunProgress,
    RunStarted,
    make_backend,
)
from digitpad.core.inside.saliency import Method
from digitpad.core.machine.paths import data_home
from digitpad.core.nets.specs import KIND_DEFAULTS, METRICS, MODEL_KINDS, OPTIMIZERS, RunSpec
from digitpad.core.nets.status import RunStatus
from digitpad.core.store.run_columns import COLUMNS, row_dict
from digitpad.core.store.run_summary import summary_line
from digitpad.core.store.runs import RunRecord, RunRow, RunStore, RunStoreError

TABS = ("draw", "train", "results", "mydigits")


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
    parser.add_argument(
        "--look-inside",
        choices=[m.value for m in Method],
        metavar="METHOD",
        help="open the Draw tab's Look inside view with this saliency method "
        "(gradient, ig, occlusion or gradcam)",
    )
    parser.add_argument(
        "--version",
        action="store_true",
        help="print DigitPad's version and those of TensorFlow, Keras, PySide6 and LiteRT",
    )
    parser.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add DigitPad to the desktop's application menu (Linux: an XDG .desktop file)",
    )
    parser.add_argument(
        "--uninstall-desktop-entry",
        action="store_true",
        help="remove DigitPad from the application menu",
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
    add_engine_flags(train)

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
    add_engine_flags(sweep)

    lab = sub.add_parser(
        "lab", help="run every exercise of the lab with its settings and write one report"
    )
    lab.add_argument("--report", metavar="FILE.md", help="write the report there (Markdown)")
    lab.add_argument(
        "--only", help="comma-separated exercises, e.g. ex1,ex4 (default: all of them)"
    )
    lab.add_argument(
        "--repeats", type=int, default=1, help="runs per cell, seeds 0, 1, ... (mean ± std)"
    )
    lab.add_argument("--train-limit", type=int, metavar="N", help="train on N images only")
    lab.add_argument("--epochs", type=int, help="override the epochs (not for exercise 8)")
    add_engine_flags(lab)

    explain = sub.add_parser(
        "explain",
        help="look inside a network reading a picture: PNGs of each stage, layer, weights "
        "and saliency, and a JSON summary",
    )
    explain.add_argument("image", metavar="IMAGE.png", help="a picture of one digit")
    explain.add_argument(
        "--model", default="best", metavar="NAME|run:N", help="best (default), mlp, cnn or run:N"
    )
    explain.add_argument(
        "--method",
        choices=[m.value for m in Method],
        default=Method.GRADIENT_X_INPUT.value,
        help="saliency method (default: gradient, i.e. gradient x input)",
    )
    explain.add_argument(
        "--sanity", action="store_true", help="also the map of random weights, and how alike"
    )
    explain.add_argument("--out", required=True, metavar="DIR", help="folder for the files")
    explain.add_argument("--json", action="store_true", help="print the summary as JSON")

    mine = sub.add_parser(
        "mydigits",
        help="your own digits: counts per digit, import, export, a network's accuracy on them",
    )
    mine.add_argument("action", nargs="?", choices=["import", "export"])
    mine.add_argument(
        "path", nargs="?", metavar="DIR|FILE.npz", help="a folder of 0/ .. 9/ pictures, or .npz"
    )
    mine.add_argument(
        "--eval", metavar="NAME|run:N", help="accuracy of a network (best, mlp, cnn, run:N)"
    )
    mine.add_argument("--json", action="store_true")

    tune = sub.add_parser(
        "finetune", help="teach a network your digits (My digits), and measure what it forgets"
    )
    tune.add_argument(
        "--from", dest="base", required=True, metavar="NAME|run:N", help="best, mlp, cnn or run:N"
    )
    tune.add_argument(
        "--no-replay",
        action="store_true",
        help="train on your digits alone (no MNIST mixed in): shows catastrophic forgetting",
    )
    tune.add_argument("--epochs", type=int, default=None, help="default 5")
    tune.add_argument("--learning-rate", type=float, default=None, help="Adam's; default 3e-4")
    tune.add_argument(
        "--freeze-conv", action="store_true", help="keep the convolutions as they are (CNNs)"
    )
    tune.add_argument("--json", action="store_true", help="print one JSON object at the end")
    add_engine_flags(tune)

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
    add_engine_flags(build)
    return parser


def add_engine_flags(parser: argparse.ArgumentParser) -> None:
    """Where a command's trainings run: local worker processes, or a Dask cluster."""
    parser.add_argument(
        "--jobs",
        type=int,
        help="trainings side by side on this computer, one worker process each "
        "(default: one per core, at most 4)",
    )
    parser.add_argument(
        "--cluster",
        metavar="tcp://HOST:8786",
        help="train on the Dask cluster whose scheduler is there "
        f"(default: ${CLUSTER_ENV}; unset: this computer)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``digitpad`` and ``python -m digitpad``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.data:
        os.environ["DIGITPAD_MNIST"] = args.data
    if args.version or args.install_desktop_entry or args.uninstall_desktop_entry:
        return cmd_desktop(args)
    if args.command is None:
        from digitpad.desktop import display_problem

        problem = display_problem()
        if problem is not None and args.screenshot:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no display
        elif problem is not None:
            print(problem.message, file=sys.stderr)
            return 2
        from digitpad.app import run_gui

        code = run_gui(
            screenshot=args.screenshot,
            tab=args.tab,
            sample_digit=args.sample_digit,
            look_inside=args.look_inside,
        )
        # Everything is saved by now (runs are committed as they end, settings on close).
        # Skip interpreter teardown: destroying TensorFlow and Qt objects in arbitrary order
        # crashed it here ("bool_dealloc: deallocating True or False") after a clean exit.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if args.screenshot or args.tab or args.sample_digit is not None or args.look_inside:
        parser.error(
            "--screenshot, --tab, --sample-digit and --look-inside go with the window, "
            "not with a sub-command"
        )
    handler = {
        "train": cmd_train,
        "runs": cmd_runs,
        "data": cmd_data,
        "build-weights": cmd_build_weights,
        "sweep": cmd_sweep,
        "lab": cmd_lab,
        "explain": cmd_explain,
        "mydigits": cmd_mydigits,
        "finetune": cmd_finetune,
    }[args.command]
    try:
        return handler(args)
    except (MnistUnavailable, RunStoreError) as exc:
        print(f"digitpad: {exc}", file=sys.stderr)
        return 1


def cmd_desktop(args: argparse.Namespace) -> int:
    """--version, --install-desktop-entry and --uninstall-desktop-entry."""
    from digitpad import desktop

    if args.version:
        print(desktop.versions_text())
        return 0
    try:
        if args.install_desktop_entry:
            written = desktop.install_desktop_entry()
            print("DigitPad is in the application menu:\n" + "\n".join(map(str, written)))
        else:
            removed = desktop.uninstall_desktop_entry()
            print(
                "Removed:\n" + "\n".join(map(str, removed))
                if removed
                else "DigitPad had no menu entry to remove."
            )
    except OSError as exc:
        print(f"digitpad: {exc}", file=sys.stderr)
        return 1
    return 0


def spec_from_args(args: argparse.Namespace) -> RunSpec:
    """The RunSpec the ``train`` flags describe (lab defaults for whatever is not given)."""
    names = [f.name for f in fields(RunSpec) if f.name != "model"]
    given = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    return RunSpec(model=args.model, **{**KIND_DEFAULTS[args.model], **given})


def open_store() -> RunStore:
    """The data folder's run store, saying so when a damaged database was moved aside."""
    store = RunStore(data_home())
    if store.recovery_message:
        print(store.recovery_message, file=sys.stderr)
    return store


def make_engine(args: argparse.Namespace, store: RunStore) -> Engine:
    """The engine on the backend the flags ask for; a cluster that cannot be reached is
    one line and exit code 2, before anything is trained."""
    try:
        backend = make_backend(args.cluster, args.jobs)
    except (ValueError, BackendError) as exc:
        _fail(f"digitpad {args.command}: error: {exc}")
    if backend.warning:
        print(f"digitpad {args.command}: warning: {backend.warning}", file=sys.stderr)
    return Engine(store, backend)


def run_job(engine: Engine, job: Job, data, on_event: Callable[[EngineEvent], None]) -> JobControl:
    """Run ``job`` to its end, passing every event to ``on_event``. Ctrl+C stops the job
    after the running runs' current batch (kept as stopped); a second one aborts."""
    control = JobControl()

    def on_sigint(signum, frame):
        control.stop()
        print("\nStopping after this batch (Ctrl+C again to abort)…", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        for event in engine.run(job, data, control):
            if isinstance(event, JobFailed):
                print(f"digitpad: {event.message}", file=sys.stderr)
            on_event(event)
    finally:
        signal.signal(signal.SIGINT, previous)
        engine.close()
    return control


def cmd_train(args: argparse.Namespace) -> int:
    try:
        spec = spec_from_args(args)
    except ValueError as exc:
        _fail(f"digitpad train: error: {_flag_names(str(exc))}")
    store = open_store()
    engine = make_engine(args, store)
    data = load_dataset()
    out = sys.stderr if args.json else sys.stdout
    print(
        f"Training {spec.describe()} on {data.source} ({spec.train_size} images), "
        f"on {engine.backend.name}",
        file=out,
    )

    def on_event(event: EngineEvent) -> None:
        if isinstance(event, RunProgress) and event.progress.kind == "epoch":
            p = event.progress
            figures = "  ".join(f"{k} {v:.4f}" for k, v in p.logs.items())
            print(f"epoch {p.epoch + 1}/{p.epochs}  {figures}  ({p.elapsed:.1f} s)", file=out)
            out.flush()

    job = Job.single(spec)
    run_job(engine, job, data, on_event)
    record = job.runs[0].record
    if record is None:
        return 1
    if args.json:
        print(json.dumps(row_dict(RunRow.from_record(record))))
    else:
        print(summary_line(record) + _details(record))
    return 0 if record.status in (RunStatus.DONE, RunStatus.STOPPED) else 1


def _details(record: RunRecord) -> str:
    r = record.result
    if r is None:
        return ""
    text = f"\ntrained on {r.where}"
    if r.weights_path:
        text += f"\nweights saved to {r.weights_path}"
    return text + "".join(f"\nnote: {note}" for note in r.notes)


def cmd_runs(args: argparse.Namespace) -> int:
    store = open_store()
    ids = store.ordered_ids(model=args.model)
    found = store.rows(ids)
    rows = [found[i] for i in ids if i in found]
    if args.json:
        print(json.dumps([row_dict(r) for r in rows], indent=1))
    elif args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow([*(c.field for c in COLUMNS), "error"])
        writer.writerows([*row_dict(r).values()] for r in rows)
    elif not rows:
        print("No runs yet: train one with 'digitpad train' or from the Train tab.")
    else:
        shown = [c for c in COLUMNS if c.field in TEXT_FIELDS]
        table = [[c.header for c in shown]] + [[c.text(r) for c in shown] for r in rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(shown))]
        for line in table:
            print("  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)))
    return 0


# The columns ``digitpad runs`` prints as text (all of them go to --json and --csv).
TEXT_FIELDS = (
    "id",
    "model",
    "status",
    "test_accuracy",
    "baseline_error",
    "convergence_time",
    "neurons",
    "kernel_size",
    "epochs",
    "batch_size",
    "metric",
    "train_size",
    "trained_host",
    "created_at",
)


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
        _fail(f"digitpad sweep: error: {_flag_names(str(exc))}")
    store = open_store()
    engine = make_engine(args, store)
    data = load_dataset()
    job = Job.sweep(sweep, specs)
    (sweep_id,) = job.sweep_ids
    out = sys.stderr if args.json else sys.stdout
    print(
        f"{sweep.title}: {len(specs)} run(s) in {len(job.runs)} training(s) on "
        f"{engine.backend.name}, sweep id {sweep_id}",
        file=out,
    )
    run_job(engine, job, data, lambda event: _print_run_lines(event, job, out))
    table = cells_table(sweep, [(c, r.record) for r in job.runs if r.record for c in r.cells])
    if args.json:
        print(
            json.dumps({"sweep_id": sweep_id, "columns": table.columns, "rows": dict(table.rows)})
        )
    else:
        print("\n" + table.to_markdown())
        if sweep.note:
            print(f"\nNote: {sweep.note}")
    return 0 if _all_done(job) else 1


def _print_run_lines(event: EngineEvent, job: Job, out=sys.stdout) -> None:
    """A line as each run starts and ends, naming the table cells it fills."""
    if isinstance(event, RunStarted):
        run = job.runs[event.index]
        print(
            f"  start  {event.index + 1}/{event.total}: {event.spec.describe()}"
            + (f"  ({run.describe_cells()})" if run.cells else ""),
            file=out,
            flush=True,
        )
    elif isinstance(event, RunFinished):
        print(f"  {summary_line(event.record)}", file=out, flush=True)


def _all_done(job: Job) -> bool:
    return all(r.record is not None and r.record.status == RunStatus.DONE for r in job.runs)


def cmd_lab(args: argparse.Namespace) -> int:
    import time

    from digitpad.core.lab.sweeps import PRESETS
    from digitpad.core.report.lab_report import LabOutcome, exercise_5, lab_tables, report_markdown

    try:
        names = [n.strip() for n in (args.only or ",".join(PRESETS)).split(",") if n.strip()]
        names = [n for n in names if n != "ex5"]  # exercise 5 comes with exercise 4
        unknown = [n for n in names if n not in PRESETS]
        if unknown:
            raise ValueError(
                f"unknown exercise(s) {', '.join(unknown)}; choose among {', '.join(PRESETS)}"
            )
        sweeps = [PRESETS[n] for n in names]
        job = Job.lab(sweeps, args.train_limit, args.epochs, args.repeats)
    except ValueError as exc:
        _fail(f"digitpad lab: error: {_flag_names(str(exc))}")
    report = Path(args.report) if args.report else None
    if report is not None and not report.parent.is_dir():
        _fail(f"digitpad lab: error: folder {report.parent} does not exist; create it first")
    store = open_store()
    engine = make_engine(args, store)
    workers = _workers_text(engine)
    data = load_dataset()
    print(
        f"The lab: {len(sweeps)} exercise(s), {len(job.runs)} training(s) on {workers}, "
        f"on {data.source}",
        flush=True,
    )
    started = time.perf_counter()
    run_job(engine, job, data, lambda event: _print_run_lines(event, job))
    outcome = LabOutcome(job, data, 0.0, workers, repeats=args.repeats)
    outcome.first_five = exercise_5(job, store, data)
    outcome.seconds = time.perf_counter() - started  # exercise 5 included
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
        for table in lab_tables(job, sweeps).values():
            print("\n" + table.to_markdown())
    print(f"The whole lab took {outcome.seconds / 60:.1f} minutes.")
    return 0 if _all_done(job) else 1


def _workers_text(engine: Engine) -> str:
    slots = engine.backend.slots()
    if engine.backend.shares_files:
        return f"{slots} worker process{'es' if slots > 1 else ''} on this computer"
    return f"{engine.backend.name} ({slots} worker{'s' if slots > 1 else ''})"


def cmd_build_weights(args: argparse.Namespace) -> int:
    from digitpad.core.inference.weights import SHIPPED, export_litert, install_shipped

    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in SHIPPED]
    if unknown:
        _fail(
            f"digitpad build-weights: error: unknown name(s) {', '.join(unknown)}; "
            f"choose among {', '.join(SHIPPED)}"
        )
    folder = Path(args.out) if args.out else None
    kwargs = {"folder": folder} if folder else {}
    failed = 0
    if args.export_only:
        data = load_dataset()
        for name in names:
            try:
                info = export_litert(name, data, **kwargs)
            except (RuntimeError, OSError) as exc:
                print(f"  FAILED: {exc}", flush=True)
                failed += 1
                continue
            print(f"  exported {info['litert']['file']}", flush=True)
        return 1 if failed else 0
    store = open_store()
    engine = make_engine(args, store)
    data = load_dataset()
    job = Job.plan((SHIPPED[name].spec, None) for name in names)
    name_of = {SHIPPED[name].spec: name for name in names}

    def on_event(event: EngineEvent) -> None:
        if isinstance(event, RunStarted):
            print(f"== {name_of[event.spec]}: {event.spec.describe()}", flush=True)
        elif isinstance(event, RunProgress) and event.progress.kind == "epoch":
            p = event.progress
            print(
                f"  {name_of[job.runs[event.index].spec]} epoch {p.epoch + 1}/{p.epochs}  "
                f"loss {p.loss:.4f}  val_accuracy {p.logs.get('val_accuracy', float('nan')):.4f}"
                f"  ({p.elapsed:.0f} s)",
                flush=True,
            )

    run_job(engine, job, data, on_event)
    for run in job.runs:
        name = name_of[run.spec]
        record = run.record
        try:
            if record is None or record.result is None or record.status != RunStatus.DONE:
                raise RuntimeError(
                    f"{name}: training did not finish ({record.status if record else 'not run'})"
                )
            info = install_shipped(name, record.result, data, **kwargs)
        except (RuntimeError, OSError) as exc:
            print(f"  FAILED: {exc}", flush=True)
            failed += 1
            continue
        print(
            f"  wrote {name}: test accuracy {info['test_accuracy']:.4f} in "
            f"{info['training_time_s']} s (run {record.id})",
            flush=True,
        )
    return 1 if failed else 0


def cmd_mydigits(args: argparse.Namespace) -> int:
    from digitpad.core.inference.model_ref import ModelRefError, resolve_model
    from digitpad.core.inference.predictor import Predictor, WeightsError
    from digitpad.core.mydigits.personal import network_key, score_network
    from digitpad.core.store.my_digits import MyDigitsError

    if args.action and not args.path:
        _fail(f"digitpad mydigits {args.action}: error: give a folder or a .npz file")
    if args.path and not args.action:
        _fail("digitpad mydigits: error: say import or export before the path")
    store = open_store()
    mine = store.my_digits()
    try:
        if args.action:
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # images only, no window
            from PySide6.QtGui import QGuiApplication

            from digitpad.ui.mydigits.my_digits_files import export_from, import_into

            app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
            if args.action == "import":
                report = import_into(mine, Path(args.path))
                print(report.text())
                return 0 if report.added or not report.skipped else 1
            count = export_from(mine, Path(args.path))
            print(f"exported {count} drawing(s) to {args.path}")
            return 0
        if args.eval:
            source = resolve_model(args.eval, store)
            images, labels = mine.arrays()
            result = score_network(Predictor(source), images, labels)
            run_id = int(args.eval[4:]) if args.eval.startswith("run:") else None
            mine.remember_score(
                network_key(source, run_id), mine.revision(), result.accuracy, result.count
            )
            if args.json:
                print(
                    json.dumps(
                        {
                            "network": source.name,
                            "accuracy": result.accuracy,
                            "count": result.count,
                            "per_digit": result.per_digit,
                            "confusion": result.confusion.tolist(),
                        }
                    )
                )
            else:
                print(f"{source.name} on your {result.count} digits: {result.accuracy:.1%}")
                for digit, share in enumerate(result.per_digit):
                    if share is not None:
                        print(f"  {digit}: {share:.0%}")
            return 0
    except (MyDigitsError, ModelRefError, WeightsError, OSError) as exc:
        _fail(f"digitpad mydigits: {exc}")
    counts = mine.counts()
    if args.json:
        print(json.dumps({"counts": counts, "total": sum(counts.values())}))
    else:
        print(f"{sum(counts.values())} drawing(s) in {mine.path}")
        for digit, count in counts.items():
            print(f"  {digit}: {count}")
    return 0


def cmd_finetune(args: argparse.Namespace) -> int:
    from digitpad.core.inference.model_ref import ModelRefError, resolve_model
    from digitpad.core.inference.predictor import WeightsError
    from digitpad.core.mydigits.finetune import EPOCHS, LEARNING_RATE, plan_finetune
    from digitpad.core.store.my_digits import MyDigitsError

    store = open_store()
    try:
        source = resolve_model(args.base, store)
        images, labels = store.my_digits().arrays()
        spec, order = plan_finetune(
            source,
            images,
            labels,
            replay=not args.no_replay,
            epochs=args.epochs or EPOCHS,
            learning_rate=args.learning_rate or LEARNING_RATE,
            freeze_conv=args.freeze_conv,
        )
    except (MyDigitsError, ModelRefError, WeightsError) as exc:
        _fail(f"digitpad finetune: {exc}")
    except OSError as exc:  # the starting network's weights file cannot be read
        _fail(
            f"digitpad finetune: cannot read {exc.filename} ({exc.strerror}); pick another network"
        )
    except ValueError as exc:
        _fail(f"digitpad finetune: error: {_flag_names(str(exc))}")
    engine = make_engine(args, store)
    data = load_dataset()
    out = sys.stderr if args.json else sys.stdout
    print(
        f"Teaching {source.name} {len(order.mine_y_train)} of your digits "
        f"({len(order.mine_y_test)} held back), "
        f"{'with MNIST replay' if order.replay else 'without replay'}, on {engine.backend.name}",
        file=out,
    )

    def on_event(event: EngineEvent) -> None:
        if isinstance(event, RunProgress) and event.progress.kind == "epoch":
            p = event.progress
            print(
                f"epoch {p.epoch + 1}/{p.epochs}  MNIST test accuracy "
                f"{p.logs.get('val_accuracy', float('nan')):.4f}  ({p.elapsed:.1f} s)",
                file=out,
            )
            out.flush()

    job = Job.finetune(spec, order)
    run_job(engine, job, data, on_event)
    record = job.runs[0].record
    if record is None or record.result is None or record.result.finetune is None:
        if record is not None and record.error:
            print(f"digitpad finetune: {record.error}", file=sys.stderr)
        return 1
    figures = record.result.finetune
    if args.json:
        print(json.dumps({"run_id": record.id, "status": record.status, **asdict(figures)}))
    else:
        print(
            f"run {record.id} ({record.status}): fine-tune of {figures.base}\n"
            f"  MNIST test accuracy   {figures.mnist_before:.2%} -> {figures.mnist_after:.2%}\n"
            f"  your held-back digits {figures.mine_before:.1%} -> {figures.mine_after:.1%} "
            f"({figures.mine_test} drawings)"
        )
    return 0 if record.status in (RunStatus.DONE, RunStatus.STOPPED) else 1


def cmd_explain(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # pictures only, no window
    from PySide6.QtGui import QGuiApplication

    from digitpad.core.data.preprocess import image_to_ink, mnist_stages
    from digitpad.core.inference.model_ref import ModelRefError, resolve_model
    from digitpad.core.inference.predictor import Predictor, WeightsError
    from digitpad.core.inside.layers import Inspector
    from digitpad.ui.common.pictures import read_grey
    from digitpad.ui.inside.explain_report import write_explanation

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    try:
        stages = mnist_stages(image_to_ink(read_grey(args.image)))
    except ValueError as exc:
        _fail(str(exc))
    if stages is None:
        _fail(f"{args.image} holds no ink: give a picture of one digit")
    try:
        source = resolve_model(args.model, open_store())
        predictor = Predictor(source, engine="keras")
        inspector = Inspector.for_spec(source.spec, predictor.keras_model())
    except (ModelRefError, WeightsError) as exc:
        _fail(str(exc))
    method = Method(args.method)
    if method is Method.GRAD_CAM and inspector.last_conv is None:
        _fail(f"Grad-CAM needs a convolution layer and {source.name} has none; use --method ig")
    out = Path(args.out)
    try:
        summary = write_explanation(inspector, source, stages, method, out, args.sanity)
    except OSError as exc:
        _fail(f"cannot write into {out} ({exc}); choose a folder you can write to")
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        p = summary["probabilities"][summary["prediction"]]
        print(f"{source.name} reads a {summary['prediction']} ({p:.1%}) in {args.image}")
        print(f"{len(summary['files'])} pictures and summary.json in {out}")
    return 0


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


if __name__ == "__main__":
    raise SystemExit(main())
