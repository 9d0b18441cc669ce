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

from digitpad.cli import window
from digitpad.core.machine.keras_setup import VERBOSE_ENV


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (exit code 2), without the usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: the top-level flags and every sub-command with its own."""
    # Here, not at the top: the sub-commands' modules import the training engine, which
    # opening the window does not need (see window_args).
    from digitpad.cli import (
        classroom,
        data,
        explain,
        export,
        handin,
        lab,
        mydigits,
        report,
        reproduce,
        runs,
        train,
        weights,
    )

    parser = _Parser(prog="digitpad", description="Draw digits and run the MNIST lab.")
    window.add_top_level_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # --help's order
    for command in (
        train,
        runs,
        reproduce,
        export,
        data,
        lab,
        report,
        handin,
        classroom,
        explain,
        mydigits,
        weights,
    ):
        command.register(sub)
    for command_parser in sub.choices.values():  # before or after the command's name
        command_parser.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS)
    return parser


def window_args(argv: list[str]) -> argparse.Namespace | None:
    """The top-level flags when ``argv`` has nothing else (the window, or --version and
    the desktop entry), parsed without loading the sub-commands; None when it names a
    sub-command or asks for --help, which need the whole parser.

    The window is what most launches open: this keeps the engine's imports out of the
    time it takes to appear.
    """
    parser = _Parser(prog="digitpad", add_help=False)
    window.add_top_level_flags(parser)
    args, rest = parser.parse_known_args(argv)
    return None if rest else args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``digitpad``, ``digitpad-cli`` and ``python -m digitpad``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    top_level = window_args(argv)
    parser = build_parser() if top_level is None else None
    args = top_level if parser is None else parser.parse_args(argv)
    if args.data:
        os.environ["DIGITPAD_MNIST"] = args.data
    if args.verbose:  # for this process and the training workers it starts
        os.environ[VERBOSE_ENV] = "1"
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    if window.desktop_asked(args):
        return window.cmd_desktop(args)
    from digitpad.core.machine.paths import DataFolderError

    try:
        if parser is None or args.command is None:
            return window.open_window(args)
        window.refuse_window_flags(args, parser)
        return run_command(args)
    except DataFolderError as exc:  # nothing can be read or kept: say so, change nothing
        print(f"digitpad: {exc}", file=sys.stderr)
        return 2


def run_command(args: argparse.Namespace) -> int:
    """A sub-command's handler, its expected failures said in one line."""
    from digitpad.core.data.mnist import MnistPathError, MnistUnavailable
    from digitpad.core.store.runs import RunStoreError

    try:
        return args.handler(args)
    except MnistPathError as exc:  # a bad --data: a bad argument
        print(f"digitpad {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (MnistUnavailable, RunStoreError) as exc:
        print(f"digitpad: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl+C where a command has no Stop of its own
        print(
            f"\ndigitpad {args.command}: interrupted (Ctrl+C); files it was writing were "
            "not put in place, earlier ones are as they were",
            file=sys.stderr,
        )
        return 2
    except BrokenPipeError:
        # The reader left early (`digitpad runs --csv | head`): nothing more to say, and
        # the interpreter must not fail again flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
