"""digitpad class import|show|report|check: a teacher's class of hand-ins, in the data
folder's class store (``class.db``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from digitpad.cli.common import fail, qt_offscreen_app
from digitpad.core.classroom.class_store import ClassSettings, ClassStore, ClassStoreError
from digitpad.core.classroom.class_tables import read_class
from digitpad.core.lab.exercises import EXERCISES
from digitpad.core.machine.paths import data_home


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's command(s), each with its flags and handler."""
    command = sub.add_parser(
        "class",
        help="a class of hand-ins: import a folder, show the tables and flags, report, check",
        description="The teacher's side: import a folder of students' .digitpad hand-ins "
        "(again: only new or changed files), show the class's tables and flags, write the "
        "class report, and train a student's run again to check one of their numbers.",
    )
    steps = command.add_subparsers(dest="step", metavar="STEP", required=True)
    imports = steps.add_parser("import", help="import a folder of hand-ins")
    imports.add_argument("folder", metavar="DIR")
    imports.add_argument(
        "--exercises",
        help=f"the exercises the class was asked to run (default: all: {','.join(EXERCISES)})",
    )
    imports.add_argument(
        "--train-limit",
        type=int,
        metavar="N",
        help="the class trained on N images (default: all 60,000)",
    )
    imports.add_argument(
        "--epochs",
        type=int,
        metavar="E",
        help="the class's epochs override (default: each exercise's own)",
    )
    show = steps.add_parser("show", help="the class's tables and flags")
    show.add_argument("--json", action="store_true", help="one JSON object")
    report = steps.add_parser("report", help="the class report (PDF, HTML or Markdown)")
    report.add_argument("--out", required=True, metavar="FILE.pdf|FILE.html|DIR")
    check = steps.add_parser("check", help="train a student's run again: same, or not?")
    check.add_argument("student", help="the student's name, as in 'class show'")
    check.add_argument("exercise", choices=[e for e in EXERCISES if e != "ex5"])
    check.add_argument("column", help="the table's column, e.g. 16 or 3x3 ('result' for ex4/ex9)")
    check.add_argument(
        "--cluster",
        metavar="tcp://HOST:8786",
        help="train it on this Dask cluster instead of here",
    )
    command.set_defaults(handler=cmd_class)


def cmd_class(args: argparse.Namespace) -> int:
    try:
        store = ClassStore(data_home())
        return {"import": _import, "show": _show, "report": _report, "check": _check}[args.step](
            store, args
        )
    except ClassStoreError as exc:
        fail(f"digitpad class: {exc}")


def _import(store: ClassStore, args: argparse.Namespace) -> int:
    if args.exercises or args.train_limit or args.epochs:
        exercises = tuple(e.strip() for e in (args.exercises or "").split(",") if e.strip())
        try:
            store.set_settings(ClassSettings(exercises or EXERCISES, args.train_limit, args.epochs))
        except ValueError as exc:
            fail(f"digitpad class import: error: {exc}")
    try:
        done = store.import_folder(Path(args.folder))
    except ValueError as exc:
        fail(f"digitpad class import: error: {exc}")
    for line in done.lines():
        print(line)
    view = read_class(store)
    flagged = len({flag.student_id for flag in view.flags})
    print(
        f"the class: {len(view.students)} hand-ins, {flagged} with flags ({len(view.flags)} "
        "in all): digitpad class show"
    )
    return 0


def _show(store: ClassStore, args: argparse.Namespace) -> int:
    from digitpad.core.classroom.class_report import flag_text, table_rows

    view = read_class(store)
    if args.json:
        print(json.dumps(view.to_dict(), indent=1))
        return 0
    print(f"{len(view.students)} hand-ins; the class ran: {view.settings.text()}")
    for table in view.tables:
        print(f"\n{table.title}")
        width = max([len(s.name) for s in view.students] + [14])
        print("".ljust(width) + "".join(c.rjust(9) for c in table.columns))
        for row in table_rows(view, table):
            print(row[0].ljust(width) + "".join(c.rjust(9) for c in row[1:]))
    print("\nFlags:" if view.flags else "\nNo flags.")
    for flag in view.flags:
        print("  " + flag_text(flag).replace("**", ""))
    return 0


def _report(store: ClassStore, args: argparse.Namespace) -> int:
    from digitpad.core.classroom.class_report import class_document

    qt_offscreen_app()
    from digitpad.render.report_files import ExportError, export

    try:
        written = export(class_document(read_class(store)), Path(args.out))
    except ExportError as exc:
        fail(f"digitpad class report: error: {exc}")
    print(f"class report written to {written}")
    return 0


def _check(store: ClassStore, args: argparse.Namespace) -> int:
    from digitpad.core.classroom.check import CannotCheck, check_number
    from digitpad.core.nets.fingerprint import DIFFERS

    view = read_class(store)
    backend = None
    if args.cluster:
        from digitpad.core.engine import BackendError, make_backend

        try:
            backend = make_backend(args.cluster)
        except (ValueError, BackendError) as exc:
            fail(f"digitpad class check: error: {exc}")
    try:
        comparison = check_number(
            store, view, args.student, args.exercise, args.column, backend=backend
        )
    except CannotCheck as exc:
        fail(f"digitpad class check: error: {exc}")
    finally:
        if backend is not None:
            backend.close()
    for line in comparison.lines():
        print(line)
    return 1 if comparison.verdict == DIFFERS else 0
