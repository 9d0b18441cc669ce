"""digitpad runs: every stored run, as text, JSON or CSV."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from digitpad.cli.common import open_store
from digitpad.core.nets.specs import MODEL_KINDS
from digitpad.core.store.run_columns import COLUMNS, csv_rows, row_dict


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command(s), each with its flags and handler."""
    runs = sub.add_parser("runs", help="list the stored runs")
    fmt = runs.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")
    runs.add_argument("--model", choices=list(MODEL_KINDS))
    runs.set_defaults(handler=cmd_runs)


def cmd_runs(args: argparse.Namespace) -> int:
    store = open_store(reading=True)
    ids = store.ordered_ids(model=args.model)
    found = store.rows(ids)
    rows = [found[i] for i in ids if i in found]
    if args.json:
        print(json.dumps([row_dict(r) for r in rows], indent=1))
    elif args.csv:
        csv.writer(sys.stdout).writerows(csv_rows(rows))  # row by row: a reader may leave
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
