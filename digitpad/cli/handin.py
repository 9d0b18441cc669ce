"""digitpad handin --name NAME --out FILE: the lab handed in as one file (the report in HTML
and PDF, the answers, every run it uses, the code, exercise 4's weights, a digest)."""

from __future__ import annotations

import argparse
from pathlib import Path

from digitpad.cli.common import fail, open_store, qt_offscreen_app
from digitpad.core.classroom.handin import HandinError, handin_name
from digitpad.core.machine.files import WriteRefused, write_failure


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command(s), each with its flags and handler."""
    command = sub.add_parser(
        "handin",
        help="hand in your lab as one file: the report, answers, runs, code and a digest",
        description="Write your lab as one .digitpad file for your teacher: the report (HTML "
        "and PDF) as the Report tab shows it, your answers, every run the report uses with "
        "its settings, seed, figures and fingerprint, each application's code, exercise 4's "
        "weights, and a digest that shows whether anything in it was changed afterwards.",
    )
    command.add_argument("--name", required=True, help="your name, as the teacher should see it")
    command.add_argument("--out", required=True, metavar="FILE", help="the file (.digitpad)")
    command.set_defaults(handler=cmd_handin)


def cmd_handin(args: argparse.Namespace) -> int:
    from digitpad.core.report.builder import complete_report

    # What is wrong with the request is said before the report is drawn (seconds).
    try:
        handin_name(args.name)
    except HandinError as exc:
        fail(f"digitpad handin: error: {exc}")
    if not Path(args.out).parent.is_dir():
        fail(
            f"digitpad handin: error: the folder {Path(args.out).parent} does not exist; "
            "create it first"
        )
    store = open_store(reading=True)
    report = complete_report(store)
    if not report.has_runs:
        fail(
            f"digitpad handin: no lab runs in {store.folder}: run the lab first (`digitpad lab`, "
            "or the Train tab's Lab exercises and sweeps)"
        )
    try:
        qt_offscreen_app()
        from digitpad.render.handin_file import hand_in

        written = hand_in(store, report, args.name, Path(args.out))
    except HandinError as exc:
        fail(f"digitpad handin: error: {exc}")
    except (OSError, WriteRefused) as exc:
        fail(f"digitpad handin: {write_failure(args.out, exc)}")
    runs = sum(len(s.runs.cells) for s in report.sections if s.runs and s.key == s.runs.sweep.id)
    print(
        f"handed in {written} ({written.stat().st_size / 1024:.0f} KB): {runs} runs, the report, "
        "your answers and the code, with a digest"
    )
    return 0
