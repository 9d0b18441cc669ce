"""Journeys across the window's tabs, as a student takes them: a network trained here, used
on the canvas, in Look inside and in My digits, one after another in one window.

Two small runs (an MLP and a CNN, a few thousand images, one epoch) are trained once per
test session into a data folder that each test copies as its own (paths inside are
relative, so a copied folder works as the original does).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QTableView, QWidget

from conftest import draw_seven, hold_lock, made_once, record_run, release, share
from digitpad.core.data.preprocess import mnist_stages
from digitpad.core.inference.predictor import Predictor, run_source
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.runs import RunStore
from digitpad.ui import MainWindow
from digitpad.ui.inside.inside_view import InsideView, MosaicLabel
from digitpad.ui.tab_names import TAB_NAMES


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory, mnist):
    """A data folder holding a small MLP run and a small CNN run; their records."""

    def make(folder: Path) -> list[int]:
        store = RunStore(folder)
        mlp = record_run(RunSpec(model="mlp", epochs=1, train_limit=3000, seed=1), mnist, store)
        cnn = record_run(RunSpec(model="cnn", epochs=1, train_limit=3000, seed=1), mnist, store)
        return [mlp.id, cnn.id]

    folder, (mlp_id, cnn_id) = made_once(tmp_path_factory, "trained-home", make)
    return folder, mlp_id, cnn_id


@pytest.fixture
def journey(trained_home, digitpad_home, qtbot, mnist):
    """The window, opened on a copy of the trained data folder; (window, mlp id, cnn id)."""
    folder, mlp_id, cnn_id = trained_home
    shutil.copytree(folder, digitpad_home)
    share(mnist)
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.draw_tab.predictor is not None, timeout=60_000)
    yield win, mlp_id, cnn_id
    win.close()


def reading_of(source, window) -> np.ndarray:
    """What ``source``'s network says of the canvas' drawing, computed here, apart from the
    window (a Predictor of our own on the 28x28 image the preprocessing makes)."""
    x = mnist_stages(window.draw_tab.canvas.ink_array()).final
    return Predictor(source, engine="keras").predict(x)


def shows(qtbot, window, expected: np.ndarray, atol: float = 1e-5) -> None:
    """Wait until the Draw tab's bars show ``expected`` (a reading waits, and is tried
    again, while another view holds the Keras backend)."""

    def check() -> None:
        shown = window.draw_tab.bars.probabilities
        assert shown is not None
        np.testing.assert_allclose(shown, expected, atol=atol)

    qtbot.waitUntil(check, timeout=30_000)


def choose(window, qtbot, name: str) -> None:
    """Pick the network called ``name`` in the Draw tab's selector and wait for it."""
    draw = window.draw_tab
    index = next(
        i
        for i in range(draw.model_selector.count())
        if draw.model_selector.itemData(i).name == name
    )
    draw.model_selector.setCurrentIndex(index)
    qtbot.waitUntil(lambda: draw.settled() and draw.predictor.name == name, timeout=60_000)


def select_run(window, run_id: int) -> None:
    """Results → select run ``run_id`` in the table."""
    window.select_tab("results")
    results = window.results_tab
    results.reload()
    row = next(
        r
        for r in range(results.table.model().rowCount())
        if results.table.model().index(r, 0).data() == str(run_id)
    )
    results.table.selectRow(row)


def use_on_canvas(window, qtbot, run_id: int) -> None:
    """Results → select run ``run_id`` → *Use on canvas*, and wait for its network."""
    select_run(window, run_id)
    qtbot.mouseClick(window.findChild(QPushButton, "useOnCanvasButton"), Qt.MouseButton.LeftButton)
    assert window.tabs.currentIndex() == TAB_NAMES.index("draw")
    draw = window.draw_tab
    qtbot.waitUntil(
        lambda: draw.settled() and draw.predictor.name == f"run {run_id}", timeout=60_000
    )


def look_inside_shows(window, qtbot, source) -> None:
    """Open Look inside (if closed) and wait until it shows ``source``'s own layers."""
    if not window.draw_tab.look_button.isChecked():
        qtbot.mouseClick(
            window.findChild(QPushButton, "lookInsideButton"), Qt.MouseButton.LeftButton
        )
    view = window.findChild(InsideView, "insideView")
    qtbot.waitUntil(lambda: view.settled() and view.source == source, timeout=60_000)
    shown = {m.objectName() for m in view.findChildren(MosaicLabel)}
    assert shown & {f"layer:{layer.name}" for layer in view.look.layers}


def test_results_use_on_canvas_then_the_run_reads_the_drawing(journey, qtbot):
    window, _mlp_id, cnn_id = journey
    use_on_canvas(window, qtbot, cnn_id)
    draw = window.draw_tab
    draw_seven(qtbot, window.findChild(QWidget, "canvas"))
    expected = reading_of(run_source(window.store.get(cnn_id)), window)
    shows(qtbot, window, expected)
    assert draw.prediction_label.text().rstrip("?") == str(int(np.argmax(expected)))


def test_results_export_a_run_as_code_and_as_a_checked_network_then_reproduce_it(
    journey, qtbot, tmp_path
):
    import nbformat

    window, _mlp_id, cnn_id = journey
    results = window.results_tab
    said: list[str] = []
    results.message.connect(said.append)
    select_run(window, cnn_id)
    assert results.export_as_button.isEnabled() and results.reproduce_button.isEnabled()
    with qtbot.waitSignal(results.exported, timeout=120_000) as written:
        results.export_as("notebook", str(tmp_path / "cnn"))
    assert written.args == [str(tmp_path / "cnn.ipynb")]
    notebook = nbformat.read(Path(written.args[0]), as_version=4)
    assert any(f"# run {cnn_id}" in cell.source for cell in notebook.cells)
    with qtbot.waitSignal(results.exported, timeout=120_000) as written:
        results.export_as("tflite", str(tmp_path / "cnn"))  # ONNX: tests/test_code_export.py
    assert written.args == [str(tmp_path / "cnn.tflite")]
    assert "10,000 images: the same digit for" in said[-1] and "tolerance 0.0001" in said[-1]

    with qtbot.waitSignal(results.reproduced, timeout=300_000) as done:
        qtbot.mouseClick(results.reproduce_button, Qt.MouseButton.LeftButton)
    run_id, comparison = done.args
    assert run_id == cnn_id and comparison.verdict == "same", comparison.lines()
    assert said[-1] == f"Run {cnn_id} trained again: same"
    # The window still works on the run afterwards: it reads a drawing on the canvas.
    use_on_canvas(window, qtbot, cnn_id)
    draw_seven(qtbot, window.findChild(QWidget, "canvas"))
    shows(qtbot, window, reading_of(run_source(window.store.get(cnn_id)), window))


def test_every_kind_of_network_on_canvas_and_in_look_inside_switching_in_a_row(journey, qtbot):
    window, mlp_id, cnn_id = journey
    draw = window.draw_tab
    draw_seven(qtbot, window.findChild(QWidget, "canvas"))
    qtbot.mouseClick(window.findChild(QPushButton, "lookInsideButton"), Qt.MouseButton.LeftButton)
    view = window.findChild(InsideView, "insideView")
    # Shipped (LiteRT) and trained (Keras) networks in turn, each more than once: the
    # order that crashed the window was the shipped `best`, then a run.
    order = ["best", f"run {cnn_id}", f"run {mlp_id}", "mlp", f"run {cnn_id}", "best"]
    order += [f"run {mlp_id}", "cnn_deep", f"run {cnn_id}"]
    for name in order:
        choose(window, qtbot, name)
        source = draw.predictor.source
        qtbot.waitUntil(lambda s=source: view.settled() and view.source == s, timeout=60_000)
        expected = reading_of(source, window)
        # The shipped networks read through LiteRT, a run through Keras: the same numbers
        # up to float rounding.
        shows(qtbot, window, expected, atol=1e-4)
        assert view.look.softmax.predicted == int(np.argmax(expected)), name
        shown = {m.objectName() for m in view.findChildren(MosaicLabel)}
        layers = {f"layer:{layer.name}" for layer in view.look.layers}
        assert shown & layers, f"{name}: no layer of its own shown in Look inside"


def test_trained_runs_score_on_my_digits_and_join_the_networks_table(journey, qtbot, styled_digits):
    window, mlp_id, cnn_id = journey
    images, labels = styled_digits
    window.my_digits.add_many(labels, images)
    window.select_tab("mydigits")
    with qtbot.waitSignal(window.my_digits_tab.scorer.finished, timeout=120_000):
        window.my_digits_tab.refresh()
    scores = window.findChild(QTableView, "myScoresTable").model()
    shown = {scores.index(r, 0).data(): r for r in range(scores.rowCount())}
    for run_id in (mlp_id, cnn_id):
        source = run_source(window.store.get(run_id))
        probs = Predictor(source, engine="keras").predict_batch(images / 255.0)
        expected = float(np.mean(probs.argmax(1) == labels))
        row = shown[f"run {run_id}"]
        texts = [scores.index(row, c).data() for c in range(scores.columnCount())]
        assert f"{expected:.1%}" in texts, (run_id, texts)
    # Pinned to Draw, the CNN run reads the drawing beside the shipped networks.
    window.pin_to_draw(window.store.get(cnn_id))
    window.select_tab("draw")
    draw_seven(qtbot, window.findChild(QWidget, "canvas"))
    table = window.findChild(QTableView, "networksTable").model()
    last = table.rowCount() - 1
    assert table.index(last, 0).data() == f"run {cnn_id} (pinned)"
    qtbot.waitUntil(lambda: table.index(last, 1).data() not in ("", None), timeout=30_000)
    expected = reading_of(run_source(window.store.get(cnn_id)), window)
    assert table.index(last, 1).data() == str(int(np.argmax(expected)))


def test_a_taught_network_goes_on_the_canvas_and_reads(journey, qtbot, styled_digits):
    window, _mlp_id, cnn_id = journey
    tab = window.my_digits_tab
    images, labels = styled_digits
    window.my_digits.add_many(labels, images)
    window.select_tab("mydigits")
    tab.refresh()
    tab.base_combo.setCurrentIndex(
        tab.base_combo.findText(f"run {cnn_id}", Qt.MatchFlag.MatchStartsWith)
    )
    tab.epochs_spin.setValue(1)
    with qtbot.waitSignal(window.train_tab.runFinished, timeout=180_000) as finished:
        qtbot.mouseClick(window.findChild(QPushButton, "teachButton"), Qt.MouseButton.LeftButton)
    taught = finished.args[0]
    assert taught.result.finetune.base == f"run {cnn_id}"
    window.select_tab("draw")
    choose(window, qtbot, f"run {taught.id}")
    draw_seven(qtbot, window.findChild(QWidget, "canvas"))
    expected = reading_of(run_source(window.store.get(taught.id)), window)
    shows(qtbot, window, expected)
    # And back to a shipped network, then the taught one again: no crash, same reading.
    choose(window, qtbot, "best")
    choose(window, qtbot, f"run {taught.id}")
    shows(qtbot, window, expected)


def test_a_fresh_window_switches_between_shipped_and_trained_networks(trained_home, tmp_path):
    """Five switches and more in a window of its own process (offscreen), where the loader
    thread opens LiteRT's `best` first and a run's Keras network next: the order that
    killed the window with a segmentation fault."""
    folder, mlp_id, cnn_id = trained_home
    home = tmp_path / "home"
    shutil.copytree(folder, home)
    order = [f"run {cnn_id}", f"run {mlp_id}", "best", f"run {cnn_id}", "mlp", f"run {mlp_id}"]
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("switch_networks.py")), *order],
        env={**os.environ, "DIGITPAD_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    lines = done.stdout.split("\n")
    read = [line.split() for line in lines if line.startswith(("run ", "best ", "mlp "))]
    assert [" ".join(r[:-2]) for r in read] == order
    engines = {" ".join(r[:-2]): r[-2] for r in read}
    assert engines[f"run {cnn_id}"] == "keras" and engines["best"] == "litert"
    assert lines[len(order)] == "done"


def test_every_journey_with_the_database_locked_at_start_and_its_work_joining_later(
    trained_home, digitpad_home, qtbot, mnist, styled_digits
):
    """A window opened while another program holds runs.db says so for as long as it works
    aside. There, the journeys: runs trained aside on the canvas and in Look inside with
    the shipped networks, Results → Use on canvas, their scores on My digits, teach it and
    the taught network on the canvas, a drawing kept with "Wrong?" and a report answer.
    Once the lock goes, all of it joins the database, the runs with networks that read."""
    folder, _mlp_id, cnn_id = trained_home
    shutil.copytree(folder, digitpad_home)
    locker = hold_lock(digitpad_home / "runs.db")
    try:
        share(mnist)
        window = MainWindow()
        qtbot.addWidget(window)
        window.show()
        assert window.findChild(QLabel, "workingAside").isVisible()
        assert "is locked" in window.statusBar().currentMessage()
        assert window.store.folder.parent == digitpad_home  # beside it, not in /tmp
        qtbot.waitUntil(lambda: window.draw_tab.predictor is not None, timeout=60_000)
        mlp = record_run(RunSpec(epochs=1, train_limit=2000, seed=4), mnist, window.store)
        cnn = record_run(
            RunSpec(model="cnn", epochs=1, train_limit=2000, seed=4), mnist, window.store
        )
        x = mnist.x_test[:200] / 255.0
        expected = Predictor(run_source(cnn), engine="keras").predict_batch(x)

        use_on_canvas(window, qtbot, cnn.id)
        window.draw_tab.use_run(mlp)  # as Results → Use on canvas does
        draw_seven(qtbot, window.findChild(QWidget, "canvas"))
        for name in [f"run {cnn.id}", "best", f"run {mlp.id}", "mlp", f"run {cnn.id}"]:
            choose(window, qtbot, name)
            source = window.draw_tab.predictor.source
            shows(qtbot, window, reading_of(source, window), atol=1e-4)
            look_inside_shows(window, qtbot, source)

        images, labels = styled_digits
        window.my_digits.add_many(labels, images)
        tab = window.my_digits_tab
        window.select_tab("mydigits")
        with qtbot.waitSignal(tab.scorer.finished, timeout=120_000):
            tab.refresh()
        scores = window.findChild(QTableView, "myScoresTable").model()
        names = [scores.index(r, 0).data() for r in range(scores.rowCount())]
        assert {f"run {mlp.id}", f"run {cnn.id}"} <= set(names)
        tab.base_combo.setCurrentIndex(
            tab.base_combo.findText(f"run {cnn.id}", Qt.MatchFlag.MatchStartsWith)
        )
        tab.epochs_spin.setValue(1)
        with qtbot.waitSignal(window.train_tab.runFinished, timeout=180_000) as finished:
            qtbot.mouseClick(
                window.findChild(QPushButton, "teachButton"), Qt.MouseButton.LeftButton
            )
        taught = finished.args[0]
        assert taught.status == "done" and taught.result.finetune.base == f"run {cnn.id}"
        window.select_tab("draw")
        choose(window, qtbot, f"run {taught.id}")
        shows(qtbot, window, reading_of(run_source(taught), window))

        window.draw_tab.draw_sample(4)
        window.draw_tab.correct(9)  # "Wrong?": it is a 9
        window.select_tab("report")
        qtbot.keyClicks(window.report_tab.sections["ex1"].answer, "More neurons, fewer errors.")
        window.close()
        # Still locked when the window closed: the work waits beside the database.
        assert any(p.name.startswith("session-") for p in digitpad_home.iterdir())
    finally:
        release(locker)

    # The next DigitPad to open the database (here a command, in a process of its own).
    opened = subprocess.run(
        [sys.executable, "-m", "digitpad", "runs"], capture_output=True, text=True, timeout=120
    )
    assert opened.returncode == 0, opened.stderr
    drawings = len(labels) + 1
    assert f"3 run(s), {drawings} drawing(s) of My digits and 1 report answer(s)" in (opened.stderr)
    store = RunStore(digitpad_home)
    assert not any(p.name.startswith("session-") for p in digitpad_home.iterdir())
    assert len(store.my_digits()) == drawings and 9 in {
        d.label for d in store.my_digits().drawings()
    }
    assert store.answers().all()["ex1"] == "More neurons, fewer errors."
    joined = [r for r in store.list_runs() if r.id > cnn_id]
    assert len(joined) == 3
    merged_cnn = next(r for r in joined if r.spec.model == "cnn" and r.result.finetune is None)
    got = Predictor(run_source(store.get(merged_cnn.id)), engine="keras").predict_batch(x)
    np.testing.assert_allclose(got, expected, atol=1e-6)
