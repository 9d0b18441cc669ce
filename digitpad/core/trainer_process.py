"""Trainings in a child process, so the process that asks for them does not grow with each.

Keras and TensorFlow keep part of every model they build for as long as the process lives:
the functions traced for it stay in TensorFlow's function library, and its native memory is
not all returned. Measured here (``benchmarks/bench_soak.py``), a window that trained in its
own process grew by about 13 MiB a run, 6 to 8 of them in plain Keras 3. A child process
holds all of that instead, and is replaced, between two runs (a sweep goes on in the new
one), once it has grown by ``RECYCLE_MIB``.

The child is started by the first job and kept for the next ones, so TensorFlow is imported
(about 5 s) once, not per run. It writes every run to the store itself, as any run does, and
sends its progress and finished records back through a queue.
"""

from __future__ import annotations

import os
import queue
import signal
from collections.abc import Iterator
from multiprocessing import get_context
from typing import Any

from digitpad.core.data import MnistData, load_same
from digitpad.core.runs import RunStore, RunStoreError
from digitpad.core.specs import RunSpec

RECYCLE_MIB = 512  # a child grown by more than this since its first run is replaced
POLL_S = 0.1
IDLE_CHECK_S = 1.0  # an idle child looks this often whether its window still exists

# Events, as (kind, payload) tuples:
#   ("started", (index, total)): spec ``index`` of the job begins.
#   ("progress", Progress): from the training, as ``train`` reports it.
#   ("finished", RunRecord): the run ended (done, stopped or failed) and is stored.
#   ("failed", str): the job could not go on (no MNIST, the store cannot be written...).
#   ("done", None): the job is over.
# and, handled by run_job itself: ("recycle", index): the child has grown too much and
# ends; a new one goes on from spec ``index``.
Event = tuple[str, Any]


class TrainerProcess:
    """A child process that trains the jobs sent to it, one job (a list of specs) at a time.

    Use ``run_job`` from one thread at a time; ``stop`` and ``skip`` from any thread.
    ``close`` ends the child (it also ends by itself when this process dies).
    """

    def __init__(self, store_folder: str | os.PathLike, recycle_mib: float = RECYCLE_MIB):
        self.store_folder = str(store_folder)
        self.recycle_mib = recycle_mib
        self._context = get_context("spawn")  # a fresh interpreter: TensorFlow and fork clash
        # Made with the child (each is an OS semaphore or pipe), dropped when it ends.
        self._process = self._jobs = self._events = self._stop = self._skip = None

    def is_alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def pid(self) -> int | None:
        return self._process.pid if self.is_alive() else None

    def _ensure_started(self) -> None:
        if self.is_alive():
            return
        self.close()  # a child that ended (recycled, or crashed): let its channels go
        self._jobs, self._events = self._context.Queue(), self._context.Queue()
        self._stop, self._skip = self._context.Event(), self._context.Event()
        self._process = self._context.Process(
            target=_child_main,
            args=(
                self.store_folder,
                self._jobs,
                self._events,
                self._stop,
                self._skip,
                self.recycle_mib,
            ),
            name="digitpad-trainer",
            daemon=True,
        )
        self._process.start()

    def run_job(
        self, specs: list[RunSpec], sweep_id: str | None, data: MnistData
    ) -> Iterator[Event]:
        """Train ``specs`` in the child, yielding its events until the job is over.

        ``data`` says which MNIST to train on: the child loads the same one (same source,
        checked by its sha256). If the child dies, a ``failed`` event says so, then ``done``.
        """
        self._ensure_started()
        self._stop.clear()
        self._skip.clear()
        job = (
            [spec.to_json() for spec in specs],
            sweep_id,
            data.origin,
        )
        self._jobs.put((*job, 0))
        while True:
            try:
                kind, payload = self._events.get(timeout=POLL_S)
            except queue.Empty:
                if not self.is_alive():
                    code = self._process.exitcode if self._process else None
                    try:  # reopening marks its run, if any, as interrupted
                        cut = RunStore(self.store_folder).interrupted
                    except RunStoreError:  # locked: the next start marks it
                        cut = 0
                    yield (
                        "failed",
                        f"The training process ended unexpectedly (exit code {code}); "
                        f"{'its run is marked interrupted and ' if cut else ''}"
                        "finished runs are kept. Start the training again to go on.",
                    )
                    yield ("done", None)
                    return
                continue
            if kind == "recycle":  # the child ends after this; a fresh one takes over
                stopping = self._stop.is_set()
                self._process.join(30)
                self._ensure_started()
                if stopping:
                    self._stop.set()
                self._jobs.put((*job, payload))
                continue
            if kind == "done":
                if payload == "retiring":  # grown too much: wait until it has ended, so the
                    self._process.join(30)  # next job does not go to a closing child
                yield "done", None
                return
            yield kind, payload

    def stop(self) -> None:
        """End the current run after its current batch, and the job with it (a job that
        ``run_job`` starts later clears it)."""
        if self._stop is not None:
            self._stop.set()

    def skip(self) -> None:
        """End the current run after its current batch; the job goes on with the next."""
        if self._skip is not None:
            self._skip.set()

    def close(self, timeout: float = 10.0) -> None:
        """Ask the child to finish, then make sure it has."""
        if self._process is None:
            return
        if self._process.is_alive():
            self._stop.set()
            self._jobs.put(None)
            self._process.join(timeout)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(5)
        for channel in (self._jobs, self._events):
            channel.close()
            channel.cancel_join_thread()  # what the child did not read is of no use now
        self._process = self._jobs = self._events = self._stop = self._skip = None


# --- in the child ------------------------------------------------------------------------


def _child_main(store_folder: str, jobs, events, stop, skip, recycle_mib: float) -> None:
    from digitpad.core.backend import import_keras
    from digitpad.core.runner import run_and_record
    from digitpad.core.training import release_memory

    # Ctrl+C in the terminal that started the window reaches this process too; the window
    # decides what it means (it stops the run through ``stop``), so it must not kill a run.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    store: RunStore | None = None
    data: dict[tuple, MnistData] = {}
    first_rss = None  # after this child's first run: what later growth is measured from

    def grown() -> bool:
        return first_rss is not None and _rss_mib() - first_rss > recycle_mib

    def should_stop() -> bool:
        if os.getppid() != parent:
            # The window was killed: end now, leaving the run "running", which the next
            # start marks as interrupted (its process is gone), like any cut run.
            os._exit(3)
        return stop.is_set() or skip.is_set()

    while True:
        try:
            job = jobs.get(timeout=IDLE_CHECK_S)
        except queue.Empty:
            if os.getppid() != parent:
                return  # the window was killed while nothing was training
            continue
        if job is None:
            return
        specs_json, sweep_id, origin, start = job
        try:
            store = store or RunStore(store_folder)
            if origin not in data:
                data[origin] = load_same(origin)
            import_keras()
        except Exception as exc:
            events.put(("failed", str(exc)))
            events.put(("done", None))
            continue
        specs = [RunSpec.from_json(text) for text in specs_json]
        for index in range(start, len(specs)):
            if stop.is_set():
                break
            spec = specs[index]
            skip.clear()
            events.put(("started", (index, len(specs))))
            try:
                record = run_and_record(
                    spec,
                    data[origin],
                    store,
                    lambda event: events.put(("progress", event)),
                    should_stop,
                    sweep_id,
                    release=False,
                )
            except RunStoreError as exc:  # could not even be recorded as started
                events.put(("failed", f"Training not started: {exc}"))
                break
            events.put(("finished", record))
            release_memory()  # after the report, so a Stop shows at once
            first_rss = first_rss or _rss_mib()
            if index + 1 < len(specs) and not stop.is_set() and grown():
                events.put(("recycle", index + 1))
                return
        if grown():
            events.put(("done", "retiring"))
            return  # the next job starts a fresh child
        events.put(("done", None))


def _rss_mib() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: never recycled on size
        return 0.0
