"""Command line: the window by default, and headless commands over the same core. Each
command is a module of this package that registers its own flags beside its handler."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

# TensorFlow's C++ start-up chatter would bury our output; users can still raise it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from digitpad.cli import data, explain, lab, mydigits, report, runs, train, weights, window
from digitpad.core.data.mnist import MnistUnavailable
from digitpad.core.machine.keras_setup import VERBOSE_ENV
from digitpad.core.store.runs import RunStoreError

COMMANDS = (train, runs, data, lab, report, explain, mydigits, weights)  # in --help's order


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (exit code 2), without the usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="digitpad", description="Draw digits and run the MNIST lab.")
    window.add_top_level_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    for command_parser in sub.choices.values():  # before or after the command's name
        command_parser.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``digitpad``, ``digitpad-cli`` and ``python -m digitpad``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.data:
        os.environ["DIGITPAD_MNIST"] = args.data
    if args.verbose:  # for this process and the training workers it starts
        os.environ[VERBOSE_ENV] = "1"
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    if window.desktop_asked(args):
        return window.cmd_desktop(args)
    if args.command is None:
        return window.open_window(args)
    window.refuse_window_flags(args, parser)
    try:
        return args.handler(args)
    except (MnistUnavailable, RunStoreError) as exc:
        print(f"digitpad: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
