"""digitpad report: the lab report written from the runs in the data folder, as PDF, HTML
or Markdown (the same document as the window's Report tab)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from digitpad.cli.common import fail, open_store, qt_offscreen_app


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command(s), each with its flags and handler."""
    report = sub.add_parser(
        "report",
        help="write the lab report from your runs: every exercise's table, figures, "
        "findings and your answers (PDF, HTML or Markdown)",
    )
    report.add_argument(
        "--out",
        required=True,
        metavar="FILE.pdf|FILE.html|DIR",
        help="a .pdf or .html file, or a folder for report.md and its figures/",
    )
    report.add_argument(
        "--sweep",
        action="append",
        default=[],
        metavar="exN=SWEEP_ID",
        help="report this sweep for exercise N (default: its newest complete one); repeatable",
    )
    report.add_argument("--title", help="the report's title (default: the one saved in the window)")
    report.set_defaults(handler=cmd_report)


def parse_choices(pairs: list[str]) -> dict[str, str]:
    """``["ex1=ex1-20261201-101500"]`` as ``{"ex1": "ex1-20261201-101500"}``."""
    from digitpad.core.lab.sweeps import PRESETS

    chosen = {}
    for pair in pairs:
        key, sep, sweep_id = pair.partition("=")
        if not sep or not key.startswith("ex") or not sweep_id:
            raise ValueError(
                f"--sweep takes exN=SWEEP_ID, e.g. ex1=ex1-20261201-101500; got {pair!r}"
            )
        key = key.strip()
        if key not in PRESETS:
            raise ValueError(
                f"--sweep {pair!r}: {key!r} is no exercise with sweeps; use one of "
                f"{', '.join(PRESETS)}"
            )
        chosen[key] = sweep_id.strip()
    return chosen


def cmd_report(args: argparse.Namespace) -> int:
    from digitpad.core.report.builder import complete_report
    from digitpad.core.store.answers import AnswersUnavailable
    from digitpad.render.report_files import ExportError, format_of

    started = time.perf_counter()
    out = Path(args.out)
    try:
        chosen = parse_choices(args.sweep)
        format_of(out)
    except (ValueError, ExportError) as exc:
        fail(f"digitpad report: error: {exc}")
    store = open_store(reading=True)
    try:
        report = complete_report(store, chosen, title=args.title)
    except (ValueError, AnswersUnavailable) as exc:
        fail(f"digitpad report: error: {exc}")
    if not report.has_runs:
        fail(
            f"digitpad report: no lab runs in {store.folder}: run the lab first "
            "(`digitpad lab`, or one exercise: `digitpad sweep ex1`)"
        )
    written = write_report(report, out)
    filled = sum(1 for s in report.sections if not s.empty)
    print(
        f"Report written to {written}: {filled} of {len(report.sections)} exercises with runs, "
        f"{len(report.document().figures)} figures, in {time.perf_counter() - started:.1f} s"
    )
    return 0


def write_report(report, out: Path) -> Path:
    """The figures drawn (Qt, no window) and the document written to ``out``."""
    app = qt_offscreen_app()  # noqa: F841
    from digitpad.render.report_files import ExportError, export

    try:
        return export(report.document(), out)
    except ExportError as exc:
        fail(f"digitpad: error: {exc}")
