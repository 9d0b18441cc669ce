"""digitpad build-weights: retrain the shipped networks, or export them to LiteRT again."""

from __future__ import annotations

import argparse
from pathlib import Path

from digitpad.cli.common import (
    add_engine_flags,
    fail,
    make_engine,
    open_store,
    precision_of,
    run_job,
)
from digitpad.core.data.mnist import load_dataset
from digitpad.core.engine import EngineEvent, Job, RunProgress, RunStarted
from digitpad.core.inference.weights import RENAMED, SHIPPED
from digitpad.core.nets.status import RunStatus


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command(s), each with its flags and handler."""
    build = sub.add_parser("build-weights", help="retrain the shipped weights from scratch")
    build.add_argument(
        "--only",
        default=",".join(SHIPPED),
        help=f"comma-separated names among {', '.join(SHIPPED)} (default: all)",
    )
    build.add_argument("--out", metavar="DIR", help="folder to write (default: weights/)")
    build.add_argument(
        "--export-only",
        action="store_true",
        help="do not retrain: export the existing weights to LiteRT (.tflite) again",
    )
    add_engine_flags(build)
    build.set_defaults(handler=cmd_build_weights)


def cmd_build_weights(args: argparse.Namespace) -> int:
    from digitpad.core.inference.weights import export_litert, install_shipped

    names = [n.strip() for n in args.only.split(",") if n.strip()]
    for old in (n for n in names if n in RENAMED):
        fail(f"digitpad build-weights: error: {RENAMED[old][1]}; use --only {RENAMED[old][0]}")
    unknown = [n for n in names if n not in SHIPPED]
    if unknown:
        fail(
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
    specs = {name: SHIPPED[name].spec.with_changes(precision=precision_of(args)) for name in names}
    job = Job.plan((spec, None) for spec in specs.values())
    name_of = {spec: name for name, spec in specs.items()}

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
