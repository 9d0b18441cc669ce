"""What the commands share: the store, the engine and its flags, running a job, messages."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from typing import NoReturn, TextIO

from digitpad.core.engine import (
    CLUSTER_ENV,
    BackendError,
    Engine,
    EngineEvent,
    Job,
    JobControl,
    JobFailed,
    RunFinished,
    RunProgress,
    RunStarted,
    make_backend,
)
from digitpad.core.machine.paths import data_home
from digitpad.core.nets.precision import PRECISION_HELP, PRECISIONS, default_precision
from digitpad.core.nets.results import Progress
from digitpad.core.nets.status import RunStatus
from digitpad.core.store.database import is_read_only
from digitpad.core.store.run_refs import RUN_REF_PREFIX, parse_run_ref
from digitpad.core.store.run_summary import summary_line
from digitpad.core.store.runs import RunRecord, RunStore, RunStoreError


def add_engine_flags(parser: argparse.ArgumentParser) -> None:
    """Where a command's trainings run: local worker processes, or a Dask cluster."""
    parser.add_argument(
        "--jobs",
        type=int,
        help="trainings side by side on this computer, one worker process each "
        "(default: one per core, at most 4)",
    )
    parser.add_argument(
        "--cluster",
        metavar="tcp://HOST:8786",
        help="train on the Dask cluster whose scheduler is there "
        f"(default: ${CLUSTER_ENV}; unset: this computer)",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        help=PRECISION_HELP,
    )


def epoch_printer(out: TextIO, line: Callable[[Progress], str]) -> Callable[[EngineEvent], None]:
    """An ``on_event`` that prints ``line(progress)`` to ``out`` as each epoch ends."""

    def on_event(event: EngineEvent) -> None:
        if isinstance(event, RunProgress) and event.progress.kind == "epoch":
            print(line(event.progress), file=out, flush=True)

    return on_event


def precision_of(args: argparse.Namespace) -> str:
    """The precision the flags ask for (``--precision``, else ``$DIGITPAD_PRECISION``, else
    auto)."""
    return getattr(args, "precision", None) or default_precision()


def open_store(reading: bool = False) -> RunStore:
    """The data folder's run store, saying so when a damaged database was moved aside.
    ``reading``: the command only reads, so a folder that cannot be written is read as it
    is (with a line saying so) instead of refused."""
    home = data_home()
    try:
        store = RunStore(home)
    except RunStoreError as exc:
        if not (reading and (is_read_only(exc) or not os.access(home, os.W_OK))):
            raise
        store = RunStore(home, read_only=True)
        print(
            f"digitpad: {home} cannot be written: reading it as it is (nothing in it is "
            "recovered or changed until it can be written)",
            file=sys.stderr,
        )
    for notice in (store.recovery_message, store.merged_message, store.unreadable_drawings):
        if notice:
            print(notice, file=sys.stderr)
    return store


def stored_run(store: RunStore, text: str, command: str) -> RunRecord:
    """The finished run ``text`` names (``12`` or ``run:12``); one line and exit 2 when it
    names none, or one without figures."""
    text = text.strip()
    try:
        run_id = parse_run_ref(text if text.startswith(RUN_REF_PREFIX) else RUN_REF_PREFIX + text)
    except ValueError:
        fail(
            f"digitpad {command}: error: {text!r} is not a run: give a run's number, e.g. 3 "
            "or run:3 (digitpad runs lists them)"
        )
    record = store.get(run_id)
    if record is None:
        fail(f"digitpad {command}: error: there is no run {run_id} (digitpad runs lists them)")
    if record.result is None:
        fail(f"digitpad {command}: error: run {run_id} has no results ({record.status})")
    return record


def make_engine(args: argparse.Namespace, store: RunStore) -> Engine:
    """The engine on the backend the flags ask for; a cluster that cannot be reached is
    one line and exit code 2, before anything is trained."""
    try:
        backend = make_backend(args.cluster, args.jobs)
    except (ValueError, BackendError) as exc:
        fail(f"digitpad {args.command}: error: {exc}")
    if backend.warning:
        print(f"digitpad {args.command}: warning: {backend.warning}", file=sys.stderr)
    return Engine(store, backend)


def run_job(engine: Engine, job: Job, data, on_event: Callable[[EngineEvent], None]) -> JobControl:
    """Run ``job`` to its end, passing every event to ``on_event``. Ctrl+C stops the job
    after the running runs' current batch (kept as stopped); a second one aborts."""
    control = JobControl()

    def on_sigint(signum, frame):
        control.stop()
        print("\nStopping after this batch (Ctrl+C again to abort)…", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        for event in engine.run(job, data, control):
            if isinstance(event, JobFailed):
                print(f"digitpad: {event.message}", file=sys.stderr)
            on_event(event)
    finally:
        signal.signal(signal.SIGINT, previous)
        engine.close()
    return control


def print_run_lines(event: EngineEvent, job: Job, out: TextIO | None = None) -> None:
    """A line as each run starts and ends, naming the table cells it fills (to ``out``,
    default the standard output of the moment, not the one when this module loaded)."""
    out = out or sys.stdout
    if isinstance(event, RunStarted):
        run = job.runs[event.index]
        print(
            f"  start  {event.index + 1}/{event.total}: {event.spec.describe()}"
            + (f"  ({run.describe_cells()})" if run.cells else ""),
            file=out,
            flush=True,
        )
    elif isinstance(event, RunFinished):
        print(f"  {summary_line(event.record)}", file=out, flush=True)


def all_done(job: Job) -> bool:
    return all(r.record is not None and r.record.status == RunStatus.DONE for r in job.runs)


def workers_text(engine: Engine) -> str:
    slots = engine.backend.slots()
    if engine.backend.shares_files:
        return f"{slots} worker process{'es' if slots > 1 else ''} on this computer"
    return f"{engine.backend.name} ({slots} worker{'s' if slots > 1 else ''})"


def qt_offscreen_app():
    """The QApplication for commands that draw pictures with Qt but open no window
    (offscreen unless the user chose a platform)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    if not isinstance(app, QApplication):
        fail("digitpad: this command needs a QApplication, and a QGuiApplication is running")
    return app


def fail(message: str) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(2)


def flag_names(message: str) -> str:
    """Name CLI flags (--batch-size) rather than Python fields (batch_size) in messages."""
    for name in ("kernel_size", "batch_size", "learning_rate", "train_limit"):
        message = message.replace(name, "--" + name.replace("_", "-"))
    for name in ("neurons", "filters", "epochs", "seed", "dropout"):
        message = message.replace(f"{name} must", f"--{name} must")
    return message
