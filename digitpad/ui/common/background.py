"""The one way widgets run slow core calls off the GUI thread: loading a network,
predicting 10,000 images, driving a training job.

A call runs in a ``WorkerThreads`` pool (a shared one, or a pool of the caller's with one
thread when calls must run one at a time, in order). What it returns, raises or reports
along the way comes back as queued signals, so the callbacks run on the GUI thread.

The threads are Python's, not Qt's. A ``QThreadPool`` thread has no Python thread state of
its own: PySide makes one for each call and frees it when the call returns, while pybind11
(LiteRT's and TensorFlow's bindings) keeps a pointer to the thread state it first saw in a
thread. A loader thread that opened a LiteRT network in one call and built a Keras network
in the next crashed the window in TensorFlow (a trained run chosen for the canvas after the
shipped ``best``). A Python thread keeps one thread state for its whole life.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal


class WorkerThreads:
    """A pool of Python threads that run calls in the background (``threads=1``: one at a
    time, in the order given); ``wait_for_done`` waits for every call handed to it."""

    def __init__(self, threads: int):
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="digitpad-background")
        self._pending: set[Future] = set()
        self._lock = threading.Lock()

    def start(self, fn: Callable[[], None]) -> None:
        future = self._executor.submit(fn)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def wait_for_done(self, timeout_ms: int = -1) -> bool:
        """True once every call has returned; False if ``timeout_ms`` (>= 0) ran out first."""
        with self._lock:
            pending = list(self._pending)
        timeout = None if timeout_ms < 0 else timeout_ms / 1000
        return not wait_futures(pending, timeout).not_done

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)


class _Signals(QObject):
    item = Signal(object)
    finished = Signal(object)
    failed = Signal(str)


class _Task:
    """One call for the pool. A plain object handed over as ``run``, not a QRunnable: each
    QRunnable's Python wrapper outlived its run (with its call and signals), one more per
    stroke of the canvas."""

    def __init__(self, fn: Callable[..., Any], signals: _Signals, streams: bool):
        self.fn = fn
        self.signals = signals
        self.streams = streams

    def run(self) -> None:
        try:
            result = self.fn(self._tell_item) if self.streams else self.fn()
        except Exception as exc:  # reported to the caller, who says it in the window
            self._tell(self.signals.failed, str(exc).strip() or type(exc).__name__)
        else:
            self._tell(self.signals.finished, result)

    def _tell_item(self, item: Any) -> None:
        self._tell(self.signals.item, item)

    @staticmethod
    def _tell(signal, value: Any) -> None:
        # The receiver (and its signals object) may be gone: then there is nobody to tell.
        with contextlib.suppress(RuntimeError):
            signal.emit(value)


def run_in_background(
    fn: Callable[..., Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[str], None],
    receiver: QObject,
    on_item: Callable[[Any], None] | None = None,
    pool: WorkerThreads | None = None,
) -> None:
    """Call ``fn()`` in ``pool`` (default: the shared pool); ``on_done(result)`` or
    ``on_error(message)`` then runs on ``receiver``'s (GUI) thread. With ``on_item``, ``fn``
    is called as ``fn(report)`` and each ``report(x)`` reaches ``on_item(x)`` there, in
    order, before ``on_done``. Nothing is called once ``receiver`` is gone."""
    signals = _Signals()
    signals.moveToThread(receiver.thread())
    if on_item is not None:
        signals.item.connect(_while_alive(receiver, on_item))
    signals.finished.connect(_while_alive(receiver, on_done))
    signals.failed.connect(_while_alive(receiver, on_error))
    # Kept here until its task has reported. Not a child of the receiver: deleting it with
    # the receiver's children released its callbacks' objects (a LiteRT interpreter) in the
    # middle of Qt's destructor, which deadlocked on Qt's own lock.
    _KEEP.add(signals)

    def release(*_args) -> None:
        # Deleted once it has reported (after the callbacks above, connected first): its
        # connections hold these closures, which hold it, a cycle only Qt can break. Kept,
        # two per stroke piled up (Look inside and the network table each run a task per
        # stroke), and Python's full collections slowed to 0.16 s.
        _KEEP.discard(signals)
        signals.deleteLater()

    signals.finished.connect(release)
    signals.failed.connect(release)
    (pool or _shared_pool()).start(_Task(fn, signals, on_item is not None).run)


_KEEP: set[_Signals] = set()


@functools.cache
def _shared_pool() -> WorkerThreads:
    """The pool for calls that need no order of their own (made on first use)."""
    return WorkerThreads(max(2, os.cpu_count() or 1))


def _while_alive(receiver: QObject, callback: Callable[[Any], None]) -> Callable[[Any], None]:
    def call(value: Any) -> None:
        if shiboken6.isValid(receiver):  # a window closed meanwhile: nothing to show it in
            callback(value)

    return call


def serial_pool() -> WorkerThreads:
    """A pool of one thread: its calls run one at a time, in the order given."""
    return WorkerThreads(1)


def wait_for_background(timeout_ms: int = 60_000) -> bool:
    """Wait until every task in the shared pool has finished (window closing, tests)."""
    return _shared_pool().wait_for_done(timeout_ms)


class NewestOnly:
    """Calls that serve the newest request only (a view following the drawing): one runs
    at a time, in a pool of one thread, and a request made meanwhile replaces any that is
    waiting, so a burst of strokes costs at most two calls.

    ``submit(prepare, on_done, on_error)``: when its turn comes, ``prepare()`` runs on the
    GUI thread (so it sees what earlier calls left, such as a network already loaded) and
    returns the function to run in the background; ``on_done``/``on_error`` follow there.
    ``newer_waiting`` tells a callback whether its answer is already out of date.
    """

    def __init__(self, receiver: QObject):
        self._receiver = receiver
        self._pool = serial_pool()
        self._next: tuple[Callable[[], Callable[[], Any]], Callable, Callable] | None = None
        self.busy = False

    @property
    def newer_waiting(self) -> bool:
        return self._next is not None

    def submit(
        self,
        prepare: Callable[[], Callable[[], Any]],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
    ) -> None:
        self._next = (prepare, on_done, on_error)
        if not self.busy:
            self._run_next()

    def cancel(self) -> None:
        """Drop the waiting request (the one running still reports)."""
        self._next = None

    def shutdown(self) -> None:
        self._next = None
        self._pool.wait_for_done()

    def _run_next(self) -> None:
        prepare, on_done, on_error = self._next
        self._next = None
        try:
            work = prepare()
        except Exception as exc:  # said like a failed call; the next request still runs
            on_error(str(exc).strip() or type(exc).__name__)
            return
        self.busy = True
        run_in_background(
            work,
            lambda result: self._finished(on_done, result),
            lambda message: self._finished(on_error, message),
            self._receiver,
            pool=self._pool,
        )

    def _finished(self, callback: Callable[[Any], None], value: Any) -> None:
        self.busy = False
        callback(value)
        if self._next is not None and not self.busy:
            self._run_next()
