"""digitpad train: one network, headless, stored as a run."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields

from digitpad.cli.common import (
    add_engine_flags,
    epoch_printer,
    fail,
    flag_names,
    make_engine,
    open_store,
    precision_of,
    run_job,
)
from digitpad.core.data.mnist import load_dataset
from digitpad.core.engine import Job
from digitpad.core.nets.results import Progress
from digitpad.core.nets.specs import KIND_DEFAULTS, METRICS, MODEL_KINDS, OPTIMIZERS, RunSpec
from digitpad.core.nets.status import RunStatus
from digitpad.core.store.run_columns import row_dict
from digitpad.core.store.run_summary import summary_line
from digitpad.core.store.runs import RunRecord, RunRow


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command(s), each with its flags and handler."""
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
    train.set_defaults(handler=cmd_train)


def spec_from_args(args: argparse.Namespace) -> RunSpec:
    """The RunSpec the ``train`` flags describe (lab defaults for whatever is not given)."""
    names = [f.name for f in fields(RunSpec) if f.name != "model"]
    given = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    return RunSpec(model=args.model, **{**KIND_DEFAULTS[args.model], **given})


def cmd_train(args: argparse.Namespace) -> int:
    try:
        spec = spec_from_args(args).with_changes(precision=precision_of(args))
    except ValueError as exc:
        fail(f"digitpad train: error: {flag_names(str(exc))}")
    store = open_store()
    engine = make_engine(args, store)
    data = load_dataset()
    out = sys.stderr if args.json else sys.stdout
    print(
        f"Training {spec.describe()} on {data.source} ({spec.train_size} images), "
        f"on {engine.backend.name}",
        file=out,
    )

    def line(p: Progress) -> str:
        figures = "  ".join(f"{k} {v:.4f}" for k, v in p.logs.items())
        return f"epoch {p.epoch + 1}/{p.epochs}  {figures}  ({p.elapsed:.1f} s)"

    job = Job.single(spec)
    run_job(engine, job, data, epoch_printer(out, line))
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
