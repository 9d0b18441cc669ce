"""digitpad mydigits and digitpad finetune: your own digits, and teaching a network them."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from digitpad.cli.common import (
    add_engine_flags,
    epoch_printer,
    fail,
    flag_names,
    make_engine,
    open_store,
    precision_of,
    qt_offscreen_app,
    run_job,
)
from digitpad.core.data.mnist import load_dataset
from digitpad.core.engine import Job
from digitpad.core.inference.weights import FALLBACK_ORDER
from digitpad.core.nets.results import Progress
from digitpad.core.nets.status import RunStatus


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command(s), each with its flags and handler."""
    mine = sub.add_parser(
        "mydigits",
        help="your own digits: counts per digit, import, export, a network's accuracy on them",
    )
    mine.add_argument("action", nargs="?", choices=["import", "export"])
    mine.add_argument(
        "path", nargs="?", metavar="DIR|FILE.npz", help="a folder of 0/ .. 9/ pictures, or .npz"
    )
    mine.add_argument(
        "--eval",
        metavar="NAME|run:N",
        help=f"accuracy of a network ({', '.join(FALLBACK_ORDER)} or run:N)",
    )
    mine.add_argument("--json", action="store_true")
    mine.set_defaults(handler=cmd_mydigits)
    tune = sub.add_parser(
        "finetune", help="teach a network your digits (My digits), and measure what it forgets"
    )
    tune.add_argument(
        "--from",
        dest="base",
        required=True,
        metavar="NAME|run:N",
        help=f"{', '.join(FALLBACK_ORDER)} or run:N",
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
    tune.set_defaults(handler=cmd_finetune)


def cmd_mydigits(args: argparse.Namespace) -> int:
    from digitpad.core.inference.model_ref import ModelRefError, resolve_model
    from digitpad.core.inference.predictor import Predictor, WeightsError
    from digitpad.core.machine.files import write_failure
    from digitpad.core.mydigits.personal import network_key, score_network
    from digitpad.core.store.my_digits import MyDigitsError

    if args.action and not args.path:
        fail(f"digitpad mydigits {args.action}: error: give a folder or a .npz file")
    if args.path and not args.action:
        fail("digitpad mydigits: error: say import or export before the path")
    store = open_store()
    mine = store.my_digits()
    try:
        if args.action:
            from digitpad.render.my_digits_files import export_from, import_into

            app = qt_offscreen_app()  # noqa: F841  (images only, no window)
            if args.action == "import":
                report = import_into(mine, Path(args.path))
                print(report.text())
                return 0 if report.added or not report.anything_left_out else 1
            try:
                count = export_from(mine, Path(args.path))
            except OSError as exc:
                fail(f"digitpad mydigits export: {write_failure(args.path, exc)}")
            print(f"exported {count} drawing(s) to {args.path}")
            return 0
        if args.eval:
            source = resolve_model(args.eval, store)
            images, labels = mine.arrays()
            result = score_network(Predictor(source), images, labels)
            mine.remember_score(network_key(source), mine.revision(), result.accuracy, result.count)
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
        fail(f"digitpad mydigits: {exc}")
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
        fail(f"digitpad finetune: {exc}")
    except OSError as exc:  # the starting network's weights file cannot be read
        fail(
            f"digitpad finetune: cannot read {exc.filename} ({exc.strerror}); pick another network"
        )
    except ValueError as exc:
        fail(f"digitpad finetune: error: {flag_names(str(exc))}")
    engine = make_engine(args, store)
    data = load_dataset()
    out = sys.stderr if args.json else sys.stdout
    print(
        f"Teaching {source.name} {len(order.mine_y_train)} of your digits "
        f"({len(order.mine_y_test)} held back), "
        f"{'with MNIST replay' if order.replay else 'without replay'}, on {engine.backend.name}",
        file=out,
    )

    def line(p: Progress) -> str:
        accuracy = p.logs.get("val_accuracy", float("nan"))
        epoch = f"epoch {p.epoch + 1}/{p.epochs}"
        return f"{epoch}  MNIST test accuracy {accuracy:.4f}  ({p.elapsed:.1f} s)"

    job = Job.finetune(spec.with_changes(precision=precision_of(args)), order)
    run_job(engine, job, data, epoch_printer(out, line))
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
