"""My digits never loses a drawing: a locked or read-only database keeps it aside (a file
beside the database, or memory), says so in one message, and adds it at the next save or
start; the window never waits on another program's lock."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QToolButton, QWidget
from test_ui_my_digits import draw_digit, menu_action

from conftest import hold_lock, read_only_connections, release
from digitpad.core.store.my_digits import PENDING_FOLDER, MyDigitsUnavailable
from digitpad.core.store.runs import RunStore


def a_drawing(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (28, 28), dtype=np.uint8)


def test_a_drawing_made_while_the_database_is_locked_is_kept_and_added_later(tmp_path):
    mine = RunStore(tmp_path).my_digits(timeout=0.2)
    locker = hold_lock(tmp_path / "runs.db")
    try:
        with pytest.raises(MyDigitsUnavailable) as error:
            mine.add(3, a_drawing(0), [{"width": 0.05, "points": [[0.1, 0.2]]}])
    finally:
        release(locker)
    message = str(error.value)
    assert "locked by another program" in message and PENDING_FOLDER in message
    assert mine.pending_count() == 1
    mine.add(5, a_drawing(1))  # the next save takes the kept one along
    drawings = mine.drawings()
    assert [d.label for d in drawings] == [3, 5]
    assert np.array_equal(drawings[0].image, a_drawing(0)) and drawings[0].strokes
    assert mine.pending_count() == 0


def test_a_damaged_kept_drawing_is_left_for_a_person_and_blocks_nothing(tmp_path):
    mine = RunStore(tmp_path).my_digits()
    mine.pending_folder.mkdir()
    (mine.pending_folder / "1.json").write_text('{"label": 12, "image": [0]}')
    assert mine.add(4, a_drawing(5)) > 0
    assert [d.label for d in mine.drawings()] == [4]
    assert (mine.pending_folder / "1.json").exists()


def test_a_drawing_made_on_a_read_only_database_joins_the_set_at_the_next_start(
    tmp_path, monkeypatch
):
    mine = RunStore(tmp_path).my_digits(timeout=0.2)  # opened while it could be written
    with monkeypatch.context() as patch:
        read_only_connections(patch, tmp_path / "runs.db")
        with pytest.raises(MyDigitsUnavailable, match="is read-only"):
            mine.add(8, a_drawing(2))
    reopened = RunStore(tmp_path)
    assert reopened.recovered_drawings == 1
    (kept,) = reopened.my_digits().drawings()
    assert kept.label == 8 and np.array_equal(kept.image, a_drawing(2))


def test_with_nowhere_to_write_a_drawing_is_kept_in_memory_until_the_next_save(tmp_path):
    mine = RunStore(tmp_path).my_digits(timeout=0.2)
    (tmp_path / PENDING_FOLDER).write_text("a file where the folder would go")
    locker = hold_lock(tmp_path / "runs.db")
    try:
        with pytest.raises(MyDigitsUnavailable, match="kept in memory"):
            mine.add(1, a_drawing(3))
    finally:
        release(locker)
    mine.add(2, a_drawing(4))
    assert sorted(d.label for d in mine.drawings()) == [1, 2]


def test_the_window_collects_and_corrects_through_a_locked_database(
    drawing_window, qtbot, digitpad_home
):
    window, draw = drawing_window, drawing_window.draw_tab
    canvas = window.findChild(QWidget, "canvas")
    qtbot.mouseClick(window.findChild(QPushButton, "collectButton"), Qt.MouseButton.LeftButton)
    bar = draw.collect_bar
    save = window.findChild(QPushButton, "collectSaveButton")
    locker = hold_lock(digitpad_home / "runs.db")
    try:
        wanted = bar.wanted
        draw_digit(canvas, wanted)
        qtbot.mouseClick(
            window.findChild(QPushButton, "collectSaveButton"), Qt.MouseButton.LeftButton
        )
        assert "locked by another program" in window.statusBar().currentMessage()
        assert canvas.is_empty() and bar.count == 1  # on to the next digit: it was kept
        draw_digit(canvas, 4)
        menu_action(window.findChild(QToolButton, "wrongButton"), "4").trigger()
        assert "kept in" in window.statusBar().currentMessage()
    finally:
        release(locker)
    third = bar.wanted
    draw_digit(canvas, third, seed=1)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    labels = sorted(d.label for d in draw.my_digits.drawings())
    assert labels == sorted([wanted, 4, third])  # the two kept aside came along


def bad_files(folder) -> dict[str, object]:
    """Files named .npz that are not one: a .npy renamed, a damaged zip, a cut-off one."""
    images = np.zeros((3, 28, 28), np.uint8)
    np.save(folder / "array.npy", images)
    (folder / "array.npy").rename(folder / "renamed.npz")
    (folder / "damaged.npz").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    np.savez(folder / "whole.npz", x=images, y=np.zeros(3, np.int64))
    whole = (folder / "whole.npz").read_bytes()
    (folder / "cut.npz").write_bytes(whole[: len(whole) // 2])
    return {name: folder / f"{name}.npz" for name in ("renamed", "damaged", "cut")}


@pytest.mark.parametrize("kind", ["renamed", "damaged", "cut"])
def test_a_bad_npz_is_one_line_naming_it_exit_2_and_nothing_imported(
    kind, tmp_path, capsys, digitpad_home
):
    from digitpad.cli import main

    path = bad_files(tmp_path)[kind]
    with pytest.raises(SystemExit) as exit_code:
        main(["mydigits", "import", str(path)])
    assert exit_code.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err
    assert "Traceback" not in err
    assert len(RunStore(digitpad_home).my_digits()) == 0


def test_the_window_names_a_bad_npz_and_goes_on(drawing_window, qtbot, tmp_path):
    window = drawing_window
    window.select_tab("mydigits")
    for path in bad_files(tmp_path).values():
        window.my_digits_tab.import_from(str(path))
        assert str(path) in window.statusBar().currentMessage()
    assert window.my_digits_tab.gallery_model.rowCount() == 0
