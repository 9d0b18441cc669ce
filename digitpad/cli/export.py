"""digitpad export WHAT --as FORMAT --out PATH: a run, sweep, exercise or the whole lab as
a plain Keras script or a notebook; a run's network as .keras, .weights.h5, .tflite or
ONNX, each checked before it is called done."""

from __future__ import annotations

import argparse

from digitpad.cli.common import fail, open_store
from digitpad.core.export.code_plan import NothingToExport, plan_for, run_number
from digitpad.core.export.formats import CODE_FORMATS, FORMATS, write_code
from digitpad.core.export.networks import ExportRefused, export_network
from digitpad.core.machine.files import WriteRefused, write_failure


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command(s), each with its flags and handler."""
    command = sub.add_parser(
        "export",
        help="a run, sweep or exercise as code; a run's network as a file",
        description="Export a run (12 or run:12), a stored sweep (its id), an exercise "
        "(ex1 … ex9) or the whole lab (lab) as a plain Keras script or a Jupyter notebook "
        "that prints the same numbers; or a run's network as .keras, the lab's .weights.h5, "
        "LiteRT .tflite or ONNX, checked against the run's own predictions before it is "
        "put in place.",
    )
    command.add_argument("what", metavar="RUN|SWEEP_ID|exN|lab")
    command.add_argument(
        "--as",
        dest="format",
        required=True,
        choices=list(FORMATS),
        help="; ".join(f"{k}: {v}" for k, v in FORMATS.items()),
    )
    command.add_argument("--out", required=True, metavar="PATH", help="the file to write")
    command.set_defaults(handler=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    store = open_store(reading=True)
    try:
        if args.format in CODE_FORMATS:
            plan = plan_for(store, args.what)
            path = write_code(plan, args.format, args.out)
            print(
                f"wrote {path}: {plan.title} ({len(plan.runs)} run"
                f"{'s' if len(plan.runs) != 1 else ''}), from {plan.made_from}"
            )
            return 0
        run_id = run_number(args.what.strip())
        if run_id is None:
            fail(
                f"digitpad export: error: --as {args.format} exports one run's network: give "
                f"a run's number (12 or run:12), not {args.what!r}"
            )
        report = export_network(store, run_id, args.format, args.out)
    except NothingToExport as exc:
        fail(f"digitpad export: error: {exc}")
    except ExportRefused as exc:
        fail(f"digitpad export: refused: {exc}")
    except (OSError, WriteRefused) as exc:
        fail(f"digitpad export: {write_failure(args.out, exc)}")
    for line in report.lines():
        print(line)
    return 0
