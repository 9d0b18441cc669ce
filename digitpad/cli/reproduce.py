"""digitpad reproduce RUN: train a stored run again from its settings and seed, and say
``same``, ``within tolerance`` (and why) or what differs."""

from __future__ import annotations

import argparse

from digitpad.cli.common import fail, open_store, stored_run
from digitpad.core.engine.reproduce import CannotReproduce, reproduce
from digitpad.core.nets.fingerprint import DIFFERS


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command(s), each with its flags and handler."""
    command = sub.add_parser(
        "reproduce",
        help="train a stored run again and compare its numbers",
        description="Train a stored run again from its settings and seed, with the threads "
        "it trained with, and compare every figure: 'same' (to the last digit), 'within "
        "tolerance' when the processor, threads or library versions differ (named), or "
        "the figures that differ (exit code 1).",
    )
    command.add_argument("run", metavar="RUN", help="a run's number, as 12 or run:12")
    command.set_defaults(handler=cmd_reproduce)


def cmd_reproduce(args: argparse.Namespace) -> int:
    record = stored_run(open_store(reading=True), args.run, args.command)
    name = f"run {record.id}"
    print(f"training {name} again ({record.spec.describe()}, seed {record.result.seed})…")
    try:
        comparison, _ = reproduce(record.result, run_name=name)
    except CannotReproduce as exc:
        fail(f"digitpad reproduce: error: {exc}")
    for line in comparison.lines():
        print(line)
    return 1 if comparison.verdict == DIFFERS else 0
