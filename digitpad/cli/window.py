"""The window: starting it (the default command), its flags, and the desktop's side
(--version, the application menu entry)."""

from __future__ import annotations

import argparse
import os
import sys

from digitpad.core.inside.saliency import Method
from digitpad.ui.tab_names import TAB_NAMES


def add_top_level_flags(parser: argparse.ArgumentParser) -> None:
    """The top-level flags: where MNIST is, the window's, and the desktop's."""
    parser.add_argument(
        "--data", metavar="PATH", help="MNIST to use: a Keras mnist.npz or a folder of IDX files"
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's own start-up messages (CUDA, oneDNN), hidden by default",
    )
    parser.add_argument(
        "--screenshot", metavar="FILE.png", help="render the window offscreen to a PNG and exit"
    )
    parser.add_argument("--tab", choices=TAB_NAMES, default=None, help="tab to show first")
    parser.add_argument(
        "--class",
        dest="class_folder",
        metavar="DIR",
        help="open the Class view and import the hand-ins in DIR (a teacher's class)",
    )
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


def refuse_window_flags(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """A sub-command given the window's flags: one line, exit code 2."""
    if (
        args.screenshot
        or args.tab
        or args.sample_digit is not None
        or args.look_inside
        or args.class_folder
    ):
        parser.error(
            "--screenshot, --tab, --sample-digit, --look-inside and --class go with the window, "
            "not with a sub-command"
        )


def desktop_asked(args: argparse.Namespace) -> bool:
    return bool(args.version or args.install_desktop_entry or args.uninstall_desktop_entry)


def open_window(args: argparse.Namespace) -> int:
    """Open the window (or render it to ``--screenshot``); never returns when it opened."""
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
        class_folder=args.class_folder,
    )
    # Everything is saved by now (runs are committed as they end, settings on close).
    # Skip interpreter teardown: destroying TensorFlow and Qt objects in arbitrary order
    # crashed it here ("bool_dealloc: deallocating True or False") after a clean exit.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


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
