"""LocalBackend: runs trained by worker processes on this computer.

Keras and TensorFlow keep part of every model they build for as long as the process lives
(about 13 MiB a run here, 6 to 8 of them in plain Keras 3), so no caller trains in its own
process: workers do, and each is replaced between two runs once it has grown by
``RECYCLE_MIB``. Workers start at the first run and are kept for the next jobs, so
TensorFlow is imported once per worker, not per run.

Several one-thread workers side by side beat one worker with every thread: on this
project's 2 cores a 3x3 CNN epoch took 12.9 s with two threads in one process and 18 s with
one, so two one-thread trainings get through about 1.4 times as many epochs (the lab's
small layers use a second thread poorly). A job of one run, though, is fastest on one
worker with every thread: so a job's size picks the workers' width (TensorFlow fixes its
threads when a process starts), and workers of the other width that sit idle are ended.

Each worker has its own pipes, and stop and skip are plain shared bytes: a worker killed at
any moment (out of memory, a user's kill) can hold no lock that another process waits for.
"""

from __future__ import annotations

import ast
import contextlib
import os
import signal
import sys
from multiprocessing import connection, get_context
from pathlib import Path
from typing import Any

from digitpad.core.data.mnist import MnistData, load_same
from digitpad.core.engine.backend import BackendError
from digitpad.core.engine.events import BackendMessage, WorkerLost, WorkerProgress, WorkerResult
from digitpad.core.engine.worker import (
    ProgressBundler,
    RunOrder,
    rss_mib,
    train_order,
)
from digitpad.core.machine.keras_setup import start_tensorflow

RECYCLE_MIB = 512  # a worker grown by more than this since its first run is replaced
MAX_DEFAULT_JOBS = 4  # each worker holds TensorFlow and MNIST: about 0.7 to 1.2 GB
IDLE_CHECK_S = 1.0  # an idle worker looks this often whether its parent still exists


JOBS_ENV = "DIGITPAD_JOBS"


def unguarded_main_script() -> str | None:
    """The script a new worker would run again from its top, if it is unguarded.

    Workers start with the spawn method (TensorFlow does not survive fork; Windows and
    macOS have nothing else), which imports the caller's ``__main__`` script again in each
    worker. A script that builds the window (or trains) at its top level, without ``if
    __name__ == "__main__":``, would open a window in every worker: a hang for the user.
    Returns that script's path, else None.
    """
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None:  # python -m: re-imported by name, except package __main__ modules
        name = spec.name or ""
        if name == "__main__" or name.endswith(".__main__"):
            return None
        path = spec.origin
    else:
        path = getattr(main, "__file__", None)
    if not path or not str(path).endswith(".py"):
        return None  # interactive, python -c, or a console script (pip guards those)
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    if any(_is_main_guard(node) for node in tree.body):
        return None
    top_level = [n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.ClassDef)]
    acts = any(isinstance(node, ast.Call) for n in top_level for node in ast.walk(n))
    return str(path) if acts else None


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    parts = [node.test.left, *node.test.comparators]
    names = {p.id for p in parts if isinstance(p, ast.Name)}
    texts = {p.value for p in parts if isinstance(p, ast.Constant)}
    return names == {"__name__"} and texts == {"__main__"}


def default_jobs() -> int:
    """Workers by default: ``$DIGITPAD_JOBS``, else one per core (each with one TensorFlow
    thread), at most 4."""
    given = os.environ.get(JOBS_ENV, "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_JOBS))


class _Worker:
    """One worker process, its two pipes and its skip flag, and the run it trains."""

    def __init__(self, context, stop, threads: int, recycle_mib: float):
        self.threads = threads
        self.skip = context.RawValue("b", 0)
        self.orders, child_orders = context.Pipe(duplex=False)[::-1]
        self.messages, child_messages = context.Pipe(duplex=False)
        self.run_id: int | None = None
        self.process = context.Process(
            target=_worker_main,
            args=(child_orders, child_messages, stop, self.skip, threads, recycle_mib),
            name="digitpad-worker",
            daemon=True,
        )
        self.process.start()
        # Our copies of the child's ends: closed, so a dead child reads as end-of-file.
        child_orders.close()
        child_messages.close()

    def close(self, timeout: float) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError):
                self.orders.send(None)
            self.process.join(timeout)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(5)
        self.orders.close()
        self.messages.close()


class LocalBackend:
    """``jobs`` worker processes on this computer, each training one run at a time with
    ``cpu_count // jobs`` TensorFlow threads; a job of one run gets one worker with every
    thread. Used by one engine thread at a time."""

    name = "this computer"
    shares_files = True  # workers save models straight into the store's folders
    warning = None

    def __init__(self, jobs: int | None = None, recycle_mib: float = RECYCLE_MIB):
        if jobs is not None and jobs < 1:
            raise ValueError(f"--jobs must be at least 1; got {jobs}")
        self.jobs = jobs or default_jobs()
        self.recycle_mib = recycle_mib
        self.threads = max(1, (os.cpu_count() or 1) // self.jobs)
        self._width = (self.jobs, self.threads)  # (workers, threads each) for this job
        self._context = get_context("spawn")  # a fresh interpreter: TensorFlow and fork clash
        self._stop = self._context.RawValue("b", 0)
        self._workers: list[_Worker] = []

    def slots(self) -> int:
        return self._width[0]

    def start_job(self, runs: int) -> None:
        """Size the workers for a job of ``runs`` runs and clear the last job's stop."""
        # A worker still busy with a run of an ended job (one that ended on an error, its
        # runs marked interrupted) would train it on once the stop below is cleared.
        for worker in [w for w in self._workers if w.run_id is not None]:
            self._retire(worker, timeout=5)
        self._stop.value = 0
        wide = (1, os.cpu_count() or 1)
        self._width = wide if runs == 1 else (self.jobs, self.threads)
        for worker in [w for w in self._workers if w.threads != self._width[1]]:
            self._retire(worker)

    def submit(self, order: RunOrder, data: MnistData) -> None:
        """Send ``order`` to an idle worker (starting one if needed). ``BackendError`` when
        no worker can be started or reached."""
        for gone in [w for w in self._workers if not w.process.is_alive()]:
            self._retire(gone)  # ended while idle (killed between two jobs): not a run lost
        try:
            self._send(order, data)
        except OSError:  # it died between the check above and the send: one more try
            self._send(order, data, fresh=True)

    def _send(self, order: RunOrder, data: MnistData, fresh: bool = False) -> None:
        threads = self._width[1]
        idle = (w for w in self._workers if w.run_id is None and w.threads == threads)
        worker = None if fresh else next(idle, None)
        if worker is None:
            worker = self._spawn(threads)
        worker.skip.value = 0
        worker.run_id = order.run_id
        try:
            worker.orders.send((order, data.origin))
        except OSError as exc:  # BrokenPipeError: the worker is gone
            self._retire(worker, timeout=5)
            if fresh:
                raise BackendError(
                    f"a new training process took no run ({exc}); see the terminal for why "
                    "it ended, or try again"
                ) from exc
            raise

    def _spawn(self, threads: int) -> _Worker:
        script = unguarded_main_script()
        if script is not None:
            raise BackendError(
                f"{script} runs DigitPad without 'if __name__ == \"__main__\":'. Its "
                "training workers start by importing that script again, which would run "
                "it once more in each of them: put the code that starts the window or "
                "the training under that line"
            )
        try:
            worker = _Worker(self._context, self._stop, threads, self.recycle_mib)
        except OSError as exc:  # out of processes, memory or file handles
            raise BackendError(
                f"cannot start a training process ({exc.strerror or exc}); close other "
                "programs, or train with fewer workers (--jobs 1)"
            ) from exc
        self._workers.append(worker)
        return worker

    def poll(self, timeout: float) -> list[BackendMessage]:
        """What the workers said within ``timeout`` seconds, and which of them died."""
        out: list[BackendMessage] = []
        readers = {w.messages: w for w in self._workers}
        for reader in connection.wait(list(readers), timeout):
            worker = readers[reader]
            try:
                while reader.poll():
                    message = reader.recv()
                    out.append(message)
                    if isinstance(message, WorkerResult):
                        worker.run_id = None
                        if message.retiring:
                            self._retire(worker)
                            break
            except (EOFError, OSError):  # the worker died: say so if it was training
                if worker.run_id is not None:
                    out.append(WorkerLost(worker.run_id, _died(worker)))
                self._retire(worker)
        return out

    def skip(self, run_id: int) -> None:
        for worker in self._workers:
            if worker.run_id == run_id:
                worker.skip.value = 1

    def stop(self) -> None:
        self._stop.value = 1

    def pids(self) -> dict[int, int]:
        """Which process trains which run: {run id: pid}."""
        return {w.run_id: w.process.pid for w in self._workers if w.run_id is not None}

    def close(self, timeout: float = 10.0) -> None:
        """End every worker (asking first; killing one that does not end in time)."""
        self._stop.value = 1
        for worker in self._workers:
            worker.close(timeout)
        self._workers.clear()

    def _retire(self, worker: _Worker, timeout: float = 30) -> None:
        if worker in self._workers:
            self._workers.remove(worker)
        worker.close(timeout)


def _died(worker: _Worker) -> str:
    worker.process.join(5)
    code = worker.process.exitcode
    return (
        f"its training process ended unexpectedly (exit code {code}; out of memory, or "
        "killed); the job went on with the other runs"
    )


# --- in the worker process ---------------------------------------------------------------


def _worker_main(orders, messages, stop, skip, threads: int, recycle_mib: float) -> None:
    # Ctrl+C in the terminal reaches every process of the group; the caller decides what
    # it means (it stops the job through ``stop``), so it must not kill a run.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    start_tensorflow(threads)
    from digitpad.core.machine.keras_setup import import_keras
    from digitpad.core.nets.training import release_memory

    parent = os.getppid()
    data: dict[Any, MnistData] = {}
    first_rss = None  # after this worker's first run: what later growth is measured from

    def orphaned() -> bool:
        return os.getppid() != parent

    def should_stop() -> bool:
        if orphaned():
            # The caller was killed: end now, leaving the run "running", which the next
            # start marks as interrupted (its process is gone), like any cut run.
            os._exit(3)
        return bool(stop.value or skip.value)

    while True:
        if not orders.poll(IDLE_CHECK_S):
            if orphaned():
                return
            continue
        try:
            job = orders.recv()
        except EOFError:
            return
        if job is None:
            return
        order, origin = job
        try:
            if origin not in data:
                data.clear()
                data[origin] = load_same(origin)
            import_keras()
        except Exception as exc:
            messages.send(WorkerResult(order.run_id, error=f"Training not started: {exc}"))
            continue
        progress = ProgressBundler(
            lambda events, run_id=order.run_id: messages.send(WorkerProgress(run_id, events))
        )
        outcome = train_order(order, data[origin], progress, should_stop)
        progress.flush()
        first_rss = first_rss or rss_mib()
        retiring = rss_mib() - first_rss > recycle_mib
        messages.send(
            WorkerResult(outcome.run_id, outcome.result, outcome.error, retiring=retiring)
        )
        if retiring:
            return
        release_memory()  # after the report, so a finished run shows at once
