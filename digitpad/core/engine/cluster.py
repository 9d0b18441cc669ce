"""DaskBackend: runs trained on a Dask cluster (``pip install 'digitpad[cluster]'``).

A teacher starts ``dask scheduler`` on one machine and ``dask worker tcp://HOST:8786`` on
the others (with DigitPad installed there too). Each run is one Dask task calling the same
``train_order`` as a local worker; it sends its progress back as Dask events, and returns
its result and model files. This computer records every run in its own store, so runs,
models, tables and the canvas stay here; workers need no MNIST of their own (it is
scattered to them once).

Stop and skip are Dask ``Event``s, read by the running task after its batches (at most
every ``CHECK_S``). A worker that dies makes Dask run the task again elsewhere; the task
sees that it was claimed before and refuses, so the lost run comes back ``interrupted``
instead of training twice.
"""

from __future__ import annotations

import contextlib
import queue
import tempfile
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from digitpad.core.data import MnistData
from digitpad.core.engine.engine import BackendError
from digitpad.core.engine.events import BackendMessage, WorkerLost, WorkerProgress, WorkerResult
from digitpad.core.engine.worker import (
    ProgressBundler,
    RunOrder,
    configure_threads,
    train_order,
)
from digitpad.core.results import Progress

CONNECT_TIMEOUT_S = 10
CHECK_S = 0.25  # a remote run reads stop and skip at most this often (one round trip)
PROGRESS_S = 0.2  # and sends its progress in bundles at most this often (epochs at once)
SLOTS_REFRESH_S = 1.0
RESULT_TIMEOUT_S = 300  # to fetch a finished run's result and model from its worker


class ClusterUnavailable(BackendError):
    """The scheduler cannot be reached, or Dask is not installed."""


class DaskBackend:
    """Runs on the Dask cluster whose scheduler is at ``address`` (``tcp://HOST:8786``),
    one run per worker process at a time."""

    shares_files = False  # models come back with the results

    def __init__(self, address: str, timeout: float = CONNECT_TIMEOUT_S):
        try:
            from distributed import Client
        except ImportError as exc:
            raise ClusterUnavailable(
                "training on a Dask cluster needs Dask: pip install 'digitpad[cluster]'"
            ) from exc
        self.address = address
        self.name = f"Dask cluster {address}"
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterUnavailable(
                f"cannot reach the Dask scheduler at {address} ({_first_line(exc)}); start "
                "it with 'dask scheduler' and its workers with 'dask worker "
                f"{address}', or train on this computer (no --cluster, "
                f"DIGITPAD_CLUSTER unset)"
            ) from exc
        self._token = uuid.uuid4().hex[:12]
        self._job = 0
        self._topic = f"digitpad-progress-{self._token}"
        self._messages: queue.Queue[BackendMessage] = queue.Queue()
        self._futures: dict[int, Any] = {}
        self._data: Any = None
        self._data_sha = ""
        self._slots = (0.0, 1)
        self.client.subscribe_topic(self._topic, self._on_progress)

    def _names(self, what: str, run_id: int | None = None) -> str:
        suffix = "" if run_id is None else f"-{run_id}"
        return f"digitpad-{self._token}-{self._job}-{what}{suffix}"

    def slots(self) -> int:
        """One run per worker process: tasks in one worker wait for each other (see
        ``train_on_dask_worker``)."""
        checked, count = self._slots
        if time.monotonic() - checked > SLOTS_REFRESH_S:
            try:
                count = max(1, len(self.client.nthreads()))
            except Exception:  # the scheduler went away: the runs' futures will say so
                count = max(1, count)
            self._slots = (time.monotonic(), count)
        return count

    def start_job(self, runs: int) -> None:
        self._job += 1  # fresh stop and skip events for every job

    def submit(self, order: RunOrder, data: MnistData) -> None:
        try:
            if self._data_sha != data.sha256:
                self._data = self.client.scatter(data, broadcast=True, hash=False)
                self._data_sha = data.sha256
            future = self.client.submit(
                train_on_dask_worker,
                order,
                self._data,
                self._topic,
                self._names("stop"),
                self._names("skip", order.run_id),
                self._names("claim", order.run_id),
                key=f"digitpad-run-{self._token}-{order.run_id}",
                pure=False,
            )
        except Exception as exc:
            raise ClusterUnavailable(
                f"the Dask cluster at {self.address} did not take the run ({_first_line(exc)})"
            ) from exc
        self._futures[order.run_id] = future
        future.add_done_callback(lambda f, run_id=order.run_id: self._on_done(run_id, f))

    def _on_progress(self, event: tuple[float, dict]) -> None:
        _, message = event
        events = tuple(Progress(**values) for values in message["events"])
        self._messages.put(WorkerProgress(message["run_id"], events))

    def _on_done(self, run_id: int, future) -> None:
        # Dask calls this in a thread of its own, so fetching the result may wait here.
        self._futures.pop(run_id, None)
        try:
            message = future.result(timeout=RESULT_TIMEOUT_S)
        except BaseException as exc:  # a lost worker, a cancelled task, a vanished cluster
            message = WorkerLost(
                run_id, f"its Dask worker was lost ({_first_line(exc)}); the job went on"
            )
        self._messages.put(message)

    def poll(self, timeout: float) -> list[BackendMessage]:
        out = []
        try:
            out.append(self._messages.get(timeout=timeout))
            while True:
                out.append(self._messages.get_nowait())
        except queue.Empty:
            pass
        return out

    def skip(self, run_id: int) -> None:
        self._set(self._names("skip", run_id))

    def stop(self) -> None:
        self._set(self._names("stop"))

    def _set(self, name: str) -> None:
        from distributed import Event

        # A cluster that is gone cannot be told; its runs come back as lost anyway.
        with contextlib.suppress(Exception):
            Event(name, self.client).set()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.unsubscribe_topic(self._topic)
        self.client.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


# --- on a Dask worker --------------------------------------------------------------------

_TRAIN_LOCK = threading.Lock()  # one training per worker process: Keras state is global


def train_on_dask_worker(
    order: RunOrder,
    data: MnistData,
    topic: str,
    stop_name: str,
    skip_name: str,
    claim_name: str,
) -> WorkerResult:
    """Train one run on this Dask worker: the task ``DaskBackend`` submits."""
    from distributed import Event, get_client, get_worker

    client, worker = get_client(), get_worker()
    claim = Event(claim_name, client)
    if claim.is_set():
        # Dask runs a task again when its worker dies; a run cut off that way must come
        # back interrupted, not train a second time behind the user's back.
        raise RuntimeError("its worker died while training it")
    claim.set()
    stop, skip = Event(stop_name, client), Event(skip_name, client)
    checked = [0.0, False]

    def should_stop() -> bool:
        now = time.monotonic()
        if now - checked[0] >= CHECK_S:
            checked[:] = [now, stop.is_set() or skip.is_set()]
        return checked[1]

    def send(events: tuple[Progress, ...]) -> None:
        payload = [asdict(event) for event in events]
        worker.log_event(topic, {"run_id": order.run_id, "events": payload})

    on_progress = ProgressBundler(send, PROGRESS_S)

    with _TRAIN_LOCK:
        configure_threads(worker.state.nthreads)
        from digitpad.core.training import release_memory

        with tempfile.TemporaryDirectory(prefix="digitpad-run-") as folder:
            outcome = train_order(order, data, on_progress, should_stop, save_dir=folder)
            on_progress.flush()
            files = {
                path.name: path.read_bytes()
                for path in Path(folder).iterdir()
                if path.name in ("model.keras", "model.weights.h5")
            }
        release_memory()
    return WorkerResult(outcome.run_id, outcome.result, outcome.error, files=files)
