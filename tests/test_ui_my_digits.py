"""My digits through the real window: collect, correct, gallery, files, every network."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListView, QPushButton, QTableView, QToolButton, QWidget

from conftest import record_run
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.my_digits import CORRECTED
from digitpad.ui.draw.sample_digits import styled_set


@pytest.fixture
def window(drawing_window):
    return drawing_window


def draw_digit(canvas, digit: int, seed: int = 0) -> None:
    """A stroke-drawn ``digit`` in the slanted, thick style of the tests' personal set."""
    drawings, labels, pens = styled_set(per_digit=1, seed=seed)
    canvas.clear()
    for stroke in drawings[labels.index(digit)]:
        canvas.add_stroke(stroke, pens[labels.index(digit)])


def menu_action(button: QToolButton, text: str):
    return next(a for a in button.menu().actions() if a.text() == text)


def test_collect_twenty_drawings_through_collect_mode(window, qtbot):
    draw = window.draw_tab
    canvas = window.findChild(QWidget, "canvas")
    qtbot.mouseClick(window.findChild(QPushButton, "collectButton"), Qt.MouseButton.LeftButton)
    bar = draw.collect_bar
    assert bar.isVisible() and f"Draw a <b>{bar.wanted}</b>" in bar.prompt.text()
    save = window.findChild(QPushButton, "collectSaveButton")
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)  # nothing drawn yet: refused
    assert len(draw.my_digits) == 0
    asked = []
    for i in range(20):
        asked.append(bar.wanted)
        draw_digit(canvas, bar.wanted, seed=i)
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
        assert canvas.is_empty()  # cleared for the next one
    # Each round asks for every digit once, in a shuffled order.
    assert sorted(asked[:10]) == list(range(10)) and sorted(asked[10:]) == list(range(10))
    drawings = draw.my_digits.drawings()
    assert sorted(d.label for d in drawings) == sorted(asked)
    assert all(d.strokes and d.source == "collect" for d in drawings)
    qtbot.mouseClick(window.findChild(QPushButton, "collectDoneButton"), Qt.MouseButton.LeftButton)
    assert not bar.isVisible() and not draw.collect_button.isChecked()
    window.select_tab("mydigits")  # the tab is built when first shown
    gallery = window.findChild(QListView, "myDigitsGallery")
    assert gallery.model().rowCount() == 20


def test_wrong_keeps_the_drawing_with_the_right_label(window, qtbot):
    draw = window.draw_tab
    wrong = window.findChild(QToolButton, "wrongButton")
    menu_action(wrong, "4").trigger()  # an empty pad: nothing to keep
    assert len(draw.my_digits) == 0
    draw_digit(draw.canvas, 1)
    qtbot.waitUntil(lambda: draw.prediction_label.text() != "", timeout=5_000)
    with qtbot.waitSignal(draw.myDigitsChanged, timeout=5_000):
        menu_action(wrong, "7").trigger()
    (kept,) = draw.my_digits.drawings()
    assert kept.label == 7 and kept.source == CORRECTED and kept.strokes
    assert window.my_digits_tab.gallery_model.rowCount() == 1


def test_gallery_relabel_delete_and_files_round_trip(window, qtbot, tmp_path, styled_digits):
    mine = window.my_digits
    images, labels = styled_digits
    tab = window.my_digits_tab
    window.select_tab("mydigits")
    for image, label in zip(images[::12], labels[::12], strict=True):  # one of each digit
        mine.add(int(label), image)
    tab.refresh()
    gallery = window.findChild(QListView, "myDigitsGallery")
    assert gallery.model().rowCount() == 10
    assert "10</b> drawing(s)" in tab.counts_label.text()

    gallery.selectionModel().select(
        gallery.model().index(3, 0), gallery.selectionModel().SelectionFlag.Select
    )
    menu_action(window.findChild(QToolButton, "relabelButton"), "8").trigger()
    assert mine.counts()[3] == 0 and mine.counts()[8] == 2
    gallery.selectionModel().select(
        gallery.model().index(0, 0), gallery.selectionModel().SelectionFlag.Select
    )
    qtbot.mouseClick(window.findChild(QPushButton, "deleteDigitButton"), Qt.MouseButton.LeftButton)
    assert len(mine) == 9 and gallery.model().rowCount() == 9

    before = {(d.label, d.image.tobytes()) for d in mine.drawings()}
    tab.export_to(str(tmp_path / "folder"))
    tab.export_to(str(tmp_path / "mine.npz"))
    (tmp_path / "folder" / "5" / "broken.png").write_text("not a picture")
    for drawing in mine.drawings():
        mine.delete(drawing.id)
    with qtbot.waitSignal(tab.message) as said:
        tab.import_from(str(tmp_path / "folder"))
    assert "Imported 9" in said.args[0] and "broken.png (not a readable image" in said.args[0]
    assert {(d.label, d.image.tobytes()) for d in mine.drawings()} == before
    tab.import_from(str(tmp_path / "mine.npz"))
    assert len(mine) == 18 and gallery.model().rowCount() == 18


def test_every_network_reads_the_drawing_and_a_pinned_run_joins(window, qtbot, mnist):
    draw = window.draw_tab
    table = window.findChild(QTableView, "networksTable")
    model = table.model()
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == [
        "best",
        "cnn_deep",
        "mlp",
    ]
    draw_digit(draw.canvas, 3)
    qtbot.waitUntil(lambda: model.index(2, 1).data() not in ("", None), timeout=10_000)
    reads = [model.index(r, 1).data() for r in range(model.rowCount())]
    assert reads[0] == "3" and all(r.isdigit() for r in reads)
    assert model.index(0, 2).data().endswith("%")

    record = record_run(RunSpec(epochs=1, train_limit=2000, seed=1), mnist, window.store)
    window.results_tab.reload()
    window.pin_to_draw(record)
    assert model.rowCount() == 4 and model.index(3, 0).data() == f"run {record.id} (pinned)"
    qtbot.waitUntil(lambda: model.index(3, 1).data() not in ("", None), timeout=20_000)
    # Pins are kept for the next start.
    assert window.settings.value("draw/pinned") == str(record.id)
    table.selectRow(3)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Delete)  # unpins, and leaves the drawing alone
    assert model.rowCount() == 3
    assert not draw.canvas.is_empty()


def test_results_show_each_runs_score_on_my_digits(window, qtbot, mnist, styled_digits):
    images, labels = styled_digits
    record = record_run(RunSpec(epochs=1, train_limit=2000, seed=1), mnist, window.store)
    window.my_digits.add_many(labels, images)
    window.results_tab.reload()
    with qtbot.waitSignal(window.my_digits_tab.scorer.finished, timeout=60_000):
        window.my_digits_tab.refresh()
    from digitpad.core.inference.predictor import Predictor, run_source
    from digitpad.ui.results.results_model import COLUMN_INDEX

    probs = Predictor(run_source(record)).predict_batch(images / 255.0)
    expected = float(np.mean(probs.argmax(1) == labels))
    model = window.results_tab.model
    row = model.row_of(record.id)
    assert model.index(row, COLUMN_INDEX["My digits"]).data() == f"{expected:.1%}"
    # The columns people compare come first.
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(6)]
    assert headers == ["ID", "Model", "Status", "Accuracy", "My digits", "Time (s)"]
    scores = window.findChild(QTableView, "myScoresTable").model()
    names = [scores.index(r, 0).data() for r in range(scores.rowCount())]
    assert {"best", "cnn_deep", "mlp", f"run {record.id}"} <= set(names)


def test_teach_from_the_window_fills_the_forgetting_meter(window, qtbot, styled_digits):
    tab = window.my_digits_tab
    window.select_tab("mydigits")
    qtbot.mouseClick(window.findChild(QPushButton, "teachButton"), Qt.MouseButton.LeftButton)
    assert "My digits is empty" in tab.teach_status.text()  # one line, no traceback
    images, labels = styled_digits
    window.my_digits.add_many(labels, images)
    tab.refresh()
    tab.base_combo.setCurrentIndex(tab.base_combo.findText("mlp"))
    tab.epochs_spin.setValue(2)
    assert window.findChild(type(tab.replay_check), "replayCheck").isChecked()
    with qtbot.waitSignal(window.train_tab.runFinished, timeout=120_000) as finished:
        qtbot.mouseClick(window.findChild(QPushButton, "teachButton"), Qt.MouseButton.LeftButton)
    record = finished.args[0]
    figures = record.result.finetune
    assert figures.base == "mlp" and figures.replay and figures.mine_test == 30
    meter = tab.meter_model
    assert meter.item(0, 0).text() == f"{figures.mnist_before:.2%}"
    assert meter.item(1, 1).text() == f"{figures.mine_after:.2%}"
    assert "in Results" in tab.teach_status.text()
    # The new network is offered on the canvas and as a starting point.
    assert (
        window.draw_tab.model_selector.findText(f"run {record.id}", Qt.MatchFlag.MatchStartsWith)
        >= 0
    )
    assert tab.base_combo.findText(f"run {record.id}", Qt.MatchFlag.MatchStartsWith) >= 0
