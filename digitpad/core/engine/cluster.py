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
import ipaddress
import os
import queue
import tempfile
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from digitpad.core.data.mnist import MnistData
from digitpad.core.engine.backend import BackendError
from digitpad.core.engine.events import BackendMessage, WorkerLost, WorkerProgress, WorkerResult
from digitpad.core.engine.recording import describe_error
from digitpad.core.engine.worker import (
    ProgressBundler,
    RunOrder,
    train_order,
)
from digitpad.core.machine.errors import first_line
from digitpad.core.machine.keras_setup import start_tensorflow
from digitpad.core.nets.results import MODEL_FILES, Progress

CONNECT_TIMEOUT_S = 10
CHECK_S = 0.25  # a remote run reads stop and skip at most this often (one round trip)
PROGRESS_S = 0.2  # and sends its progress in bundles at most this often (epochs at once)
SLOTS_REFRESH_S = 1.0
RESULT_TIMEOUT_S = 300  # to fetch a finished run's result and model from its worker
NO_WORKERS_S = 5.0  # a scheduler without workers this long: the job says so and ends
STOPPED_QUEUED = "stopped before a Dask worker took it"


class RunClaimedBefore(RuntimeError):
    """Raised by a task that Dask started again after its worker died (see the module)."""


class ClusterUnavailable(BackendError):
    """The scheduler cannot be reached, or Dask is not installed."""


def _discard(client) -> None:
    """Close a client that never connected, at once and quietly."""
    with contextlib.suppress(Exception):
        client.close(timeout=0.5)
    client.status = "closed"  # its __del__ must not try again
    with contextlib.suppress(Exception):
        client._loop_runner.stop()


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
        self.warning = open_address_warning(address)
        # Made in two steps so that a client which fails to connect can still be closed:
        # left to the garbage collector, its __del__ waited 20 s on a dead loop, then
        # printed a TimeoutError after the command's own message.
        client = Client.__new__(Client)
        try:
            client.__init__(address, timeout=timeout, set_as_default=False)
            self.client = client
        except (OSError, TimeoutError, ValueError, TypeError) as exc:  # TypeError: TLS unset
            _discard(client)
            if address.startswith("tls://"):
                raise ClusterUnavailable(
                    f"cannot open a TLS connection to the Dask scheduler at {address} "
                    f"({first_line(exc)}); give this computer the cluster's certificates "
                    "through Dask's configuration (distributed.comm.tls.ca-file, "
                    "client.cert and client.key; see docs/cluster.md)"
                ) from exc
            raise ClusterUnavailable(
                f"cannot reach the Dask scheduler at {address} ({first_line(exc)}); start "
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
        self._no_workers_since: float | None = None
        self._stopped: set[int] = set()  # runs cancelled by stop before a worker took them
        self._waiting: list[tuple[RunOrder, MnistData]] = []  # for a first worker to join
        self.client.subscribe_topic(self._topic, self._on_progress)

    def _names(self, what: str, run_id: int | None = None) -> str:
        suffix = "" if run_id is None else f"-{run_id}"
        return f"digitpad-{self._token}-{self._job}-{what}{suffix}"

    def slots(self) -> int:
        """One run per worker process: tasks in one worker wait for each other (see
        ``train_on_dask_worker``)."""
        return max(1, self._workers_now())

    def _workers_now(self) -> int:
        """Worker processes connected to the scheduler (0: none, or it went away, which
        the runs' futures will say), asked at most every ``SLOTS_REFRESH_S``."""
        checked, count = self._slots
        if time.monotonic() - checked > SLOTS_REFRESH_S:
            try:
                count = len(self.client.nthreads())
            except Exception:
                count = 0
            self._slots = (time.monotonic(), count)
        return count

    def start_job(self, runs: int) -> None:
        self._job += 1  # fresh stop and skip events for every job

    def submit(self, order: RunOrder, data: MnistData) -> None:
        """Hand ``order`` to the cluster; it waits here while the scheduler has no
        worker (``poll`` says so after ``NO_WORKERS_S``; ``stop`` ends it)."""
        self._waiting.append((order, data))
        self._send_waiting()

    def _send_waiting(self) -> None:
        while self._waiting and self._workers_now() > 0:
            self._send(*self._waiting.pop(0))

    def _send(self, order: RunOrder, data: MnistData) -> None:
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
                key=self._key(order.run_id),
                pure=False,
            )
        except Exception as exc:
            raise ClusterUnavailable(
                f"the Dask cluster at {self.address} did not take the run ({first_line(exc)})"
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
        except BaseException as exc:
            message = self._why_not(run_id, future, exc)
        self._messages.put(message)

    def _why_not(self, run_id: int, future, exc: BaseException) -> BackendMessage:
        """A run's task that returned no result: failed with the worker's own error when
        the task raised one (an ImportError on a worker, a spec it cannot read), else
        interrupted (a lost worker, a cancelled task, a vanished cluster)."""
        if run_id in self._stopped:
            return WorkerLost(run_id, STOPPED_QUEUED)
        from distributed.scheduler import KilledWorker

        raised = getattr(future, "status", "") == "error"
        if raised and not isinstance(exc, RunClaimedBefore | KilledWorker):
            return WorkerResult(run_id, error=f"on the cluster: {describe_error(_root(exc))}")
        return WorkerLost(run_id, f"its Dask worker was lost ({first_line(exc)}); the job went on")

    def poll(self, timeout: float) -> list[BackendMessage]:
        out = []
        try:
            out.append(self._messages.get(timeout=timeout))
            while True:
                out.append(self._messages.get_nowait())
        except queue.Empty:
            pass
        if not out:
            self._check_workers()
        return out

    def _check_workers(self) -> None:
        """Send the runs that waited for a worker once one is there; ``BackendError`` once
        runs have waited ``NO_WORKERS_S`` on a scheduler with none (else: for ever)."""
        self._send_waiting()
        if not (self._futures or self._waiting) or self._workers_now() > 0:
            self._no_workers_since = None
            return
        now = time.monotonic()
        self._no_workers_since = self._no_workers_since or now
        if now - self._no_workers_since >= NO_WORKERS_S:
            self._no_workers_since = None
            self._waiting.clear()
            self._cancel(list(self._futures))
            raise ClusterUnavailable(
                f"the Dask scheduler at {self.address} has no workers; start them with "
                f"'dask worker {self.address}' on the computers that should train, or "
                "train on this computer"
            )

    def skip(self, run_id: int) -> None:
        self._set(self._names("skip", run_id))
        self._end_queued([run_id])

    def stop(self) -> None:
        self._set(self._names("stop"))
        self._end_queued([order.run_id for order, _ in self._waiting] + list(self._futures))

    def _end_queued(self, run_ids: list[int]) -> None:
        """End the runs no worker has taken yet: a stop must not wait for a worker to
        free up (or, with none, for ever) only to be told to stop at once."""
        for order, data in list(self._waiting):
            if order.run_id in run_ids:
                self._waiting.remove((order, data))
                self._messages.put(WorkerLost(order.run_id, STOPPED_QUEUED))
        try:
            processing = {key for keys in self.client.processing().values() for key in keys}
        except Exception:
            return
        queued = [i for i in run_ids if i in self._futures and self._key(i) not in processing]
        self._stopped.update(queued)
        self._cancel(queued)

    def _cancel(self, run_ids: list[int]) -> None:
        futures = [self._futures[i] for i in run_ids if i in self._futures]
        with contextlib.suppress(Exception):
            self.client.cancel(futures)

    def pids(self) -> dict[int, int]:
        """Which worker process has taken which run: {run id: pid}."""
        out: dict[int, int] = {}
        for address, keys in self.client.processing().items():
            taken = [i for i in list(self._futures) if self._key(i) in keys]
            if taken:
                pid = self.client.run(os.getpid, workers=[address])[address]
                out.update(dict.fromkeys(taken, pid))
        return out

    def _key(self, run_id: int) -> str:
        return f"digitpad-run-{self._token}-{run_id}"

    def _set(self, name: str) -> None:
        from distributed import Event

        # A cluster that is gone cannot be told; its runs come back as lost anyway.
        with contextlib.suppress(Exception):
            Event(name, self.client).set()

    def close(self) -> None:
        """Stop this client's runs on the cluster (the window or the command ending) and
        disconnect: the workers are free for the next job, whoever sends it."""
        self._waiting.clear()
        if self._futures:
            self._set(self._names("stop"))  # a running task stops at its next check
            self._cancel(list(self._futures))
        with contextlib.suppress(Exception):
            self.client.unsubscribe_topic(self._topic)
        self.client.close()


def open_address_warning(address: str) -> str | None:
    """A one-line warning for a scheduler reached without TLS from another computer: Dask
    runs whatever its clients send, so anyone who can reach it can run code on its
    workers. None for ``tls://`` and for this computer's own (loopback) addresses."""
    scheme, _, rest = address.partition("://")
    if not rest:
        scheme, rest = "tcp", address  # Dask's default
    if scheme != "tcp":
        return None
    host = urlsplit(f"//{rest}").hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return None
    return (
        f"{address} is plain, unauthenticated TCP: anyone who can reach the scheduler can "
        "run code on its workers; use tls:// with certificates (docs/cluster.md) outside a "
        "trusted network"
    )


def _root(exc: BaseException) -> BaseException:
    """The error that started it ("No module named ...", not Dask's "Error during
    deserialization" around it)."""
    seen = {id(exc)}
    while (inner := exc.__cause__ or exc.__context__) is not None and id(inner) not in seen:
        seen.add(id(inner))
        exc = inner
    return exc


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
        raise RunClaimedBefore("its worker died while training it")
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
        start_tensorflow(worker.state.nthreads)
        from digitpad.core.nets.training import release_memory

        with tempfile.TemporaryDirectory(prefix="digitpad-run-") as folder:
            outcome = train_order(order, data, on_progress, should_stop, save_dir=folder)
            on_progress.flush()
            files = {
                path.name: path.read_bytes()
                for path in Path(folder).iterdir()
                if path.name in MODEL_FILES
            }
        release_memory()
    return WorkerResult(outcome.run_id, outcome.result, outcome.error, files=files)
