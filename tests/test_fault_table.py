"""The fault table of docs/troubleshooting.md, row by row: each damaged file a user may
end up with, fed to each entry point (runs, report, mydigits, explain, train and the
window's start). Each answers in one line that names the file and the fix, with the exit
code the table documents, leaves the file in place, and loses nothing else.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QMainWindow

from conftest import fake_result, store_sweep
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.my_digits import PENDING_FOLDER
from digitpad.core.store.runs import RunStore

ASSETS = Path(__file__).resolve().parent.parent / "assets"

# Every command that reads the data folder, as the table's columns. Each must give the
# exit code below when the folder is usable (the fault only noted).
COMMANDS = {
    "runs": (["runs"], 0),
    "report": (["report", "--out", "{tmp}/report.html"], 0),
    "mydigits": (["mydigits", "export", "{tmp}/mine.npz"], 0),
    "explain": (["explain", str(ASSETS / "digit-3.png"), "--out", "{tmp}/inside"], 0),
}


def run(argv: list[str], tmp_path: Path, capsys=None) -> tuple[int, str, str]:
    """One command as a user runs it (a process of its own, the test's data folder): its
    exit code, standard output and error."""
    argv = [part.replace("{tmp}", str(tmp_path)) for part in argv]
    done = subprocess.run(
        [sys.executable, "-m", "digitpad", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def lab_home(digitpad_home):
    """A data folder with one made-up sweep (the report has something to write)."""
    store = RunStore(digitpad_home)
    store_sweep(store, "ex1", "20261201-090000", [0.92, 0.94, 0.95, 0.96, 0.97])
    return digitpad_home


# --- row: kept-aside drawings that cannot be read -------------------------------------------

GOOD_DRAWING = {"label": 3, "image": [0] * 783 + [255], "source": "collect", "created": 1.0}
BAD_DRAWINGS = {
    "keys-missing.json": {"label": 3},
    "source-null.json": {**GOOD_DRAWING, "source": None},
    "created-yesterday.json": {**GOOD_DRAWING, "created": "yesterday"},
    "pixel-300.json": {**GOOD_DRAWING, "image": [300] * 784},
    "label-true.json": {**GOOD_DRAWING, "label": True},
    "a-list.json": [1, 2, 3],
}


def keep_bad_drawings(home: Path) -> Path:
    folder = home / PENDING_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in BAD_DRAWINGS.items():
        (folder / name).write_text(json.dumps(content))
    (folder / "not-json.json").write_text("{")
    (folder / "good.json").write_text(json.dumps(GOOD_DRAWING))
    return folder


@pytest.mark.parametrize("command", list(COMMANDS))
def test_unreadable_kept_drawings_are_named_and_left_in_place(command, lab_home, tmp_path, capsys):
    folder = keep_bad_drawings(lab_home)
    argv, expected = COMMANDS[command]
    code, _out, err = run(argv, tmp_path, capsys)
    assert code == expected, err
    assert "Traceback" not in err
    notice = next(line for line in err.splitlines() if line.startswith("Left in place"))
    for name in [*BAD_DRAWINGS, "not-json.json"]:
        assert (folder / name).exists() and name in notice
    assert "source None is not a text" in notice and "'yesterday' is not a time" in notice
    assert not (folder / "good.json").exists()  # the readable one joined My digits
    assert len(RunStore(lab_home).my_digits()) == 1


def test_unreadable_kept_drawings_are_named_when_the_window_opens(lab_home, qtbot):
    folder = keep_bad_drawings(lab_home)
    window = open_window(qtbot)
    shown = window.statusBar().currentMessage()
    assert "Left in place" in shown and "pixel-300.json" in shown
    assert all((folder / name).exists() for name in BAD_DRAWINGS)
    assert len(window.my_digits) == 1


def open_window(qtbot) -> QMainWindow:
    from digitpad.ui import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    return window


# --- row: the data folder is a file ---------------------------------------------------------


@pytest.mark.parametrize("command", [*COMMANDS, "train"])
def test_a_data_folder_that_is_a_file_is_one_line_and_exit_2(
    command, tmp_path, capsys, monkeypatch
):
    home = tmp_path / "home"
    home.write_text("a file, not a folder")
    monkeypatch.setenv("DIGITPAD_HOME", str(home))
    argv = ["train", "--epochs", "1"] if command == "train" else COMMANDS[command][0]
    code, _out, err = run(argv, tmp_path, capsys)
    assert code == 2
    assert err.count("\n") == 1 and "is a file, not a folder" in err and "DIGITPAD_HOME" in err
    assert home.read_text() == "a file, not a folder"


def test_the_window_says_so_when_the_data_folder_is_a_file(tmp_path, monkeypatch, qapp):
    from digitpad.core.machine.paths import DataFolderError
    from digitpad.ui import MainWindow

    home = tmp_path / "home"
    home.write_text("a file, not a folder")
    monkeypatch.setenv("DIGITPAD_HOME", str(home))
    with pytest.raises(DataFolderError, match="is a file, not a folder"):
        MainWindow()
    assert home.read_text() == "a file, not a folder"


# --- row: settings.ini edited by hand -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ignored"),
    [
        ("[window]\ntab=abc\n", "[window] tab=abc"),
        ("[draw]\npen=fat\n", "[draw] pen=fat"),
        ("[draw]\npen=99999999999999\n", "[draw] pen=99999999999999"),
        ("[draw]\ninside=maybe\n", "[draw] inside=maybe"),
    ],
)
def test_hand_edited_settings_are_ignored_and_named(digitpad_home, qtbot, text, ignored):
    digitpad_home.mkdir(parents=True, exist_ok=True)
    (digitpad_home / "settings.ini").write_text(text)
    window = open_window(qtbot)
    shown = window.statusBar().currentMessage()
    assert "settings.ini" in shown and ignored in shown
    assert window.tabs.currentIndex() == 0 and 4 <= window.draw_tab.pen_slider.value() <= 40


def test_a_hand_edited_train_form_keeps_the_defaults_and_says_so(digitpad_home, qtbot):
    digitpad_home.mkdir(parents=True, exist_ok=True)
    (digitpad_home / "settings.ini").write_text('[train]\nform="[1, 2]"\n')
    window = open_window(qtbot)
    window.select_tab("train")
    assert "[train] form" in window.statusBar().currentMessage()
    assert window.train_tab.form.spec() == RunSpec.for_model("mlp")


def test_settings_of_an_older_version_still_open_their_tab(digitpad_home, qtbot):
    digitpad_home.mkdir(parents=True, exist_ok=True)
    (digitpad_home / "settings.ini").write_text("[window]\ntab=2\n")  # saved as an index
    window = open_window(qtbot)
    assert window.tabs.currentIndex() == 2
    assert "ignored" not in window.statusBar().currentMessage()


# --- row: a run written by a newer version --------------------------------------------------


def store_a_newer_run(home: Path) -> int:
    store = RunStore(home)
    spec = RunSpec(epochs=1)
    run_id = store.start_run(spec)
    store.finish_run(run_id, fake_result(spec, 0.93))
    db = sqlite3.connect(home / "runs.db")
    with db:
        spec_json, result_json = db.execute(
            "SELECT spec_json, result_json FROM runs WHERE id=?", (run_id,)
        ).fetchone()
        newer_spec = {**json.loads(spec_json), "warmup_epochs": 2}
        newer_result = {**json.loads(result_json), "energy_joules": 12.5}
        newer_result["spec"] = newer_spec
        db.execute(
            "UPDATE runs SET spec_json=?, result_json=? WHERE id=?",
            (json.dumps(newer_spec), json.dumps(newer_result), run_id),
        )
    db.close()
    return run_id


def test_a_run_with_fields_of_a_newer_version_still_reads_everywhere(
    lab_home, tmp_path, capsys, qtbot
):
    run_id = store_a_newer_run(lab_home)
    code, out, _err = run(["runs", "--csv"], tmp_path, capsys)
    assert code == 0 and f"\n{run_id}," in out and "0.93" in out
    record = RunStore(lab_home).get(run_id)
    assert record.result.test_accuracy == 0.93 and record.spec.epochs == 1
    window = open_window(qtbot)
    window.select_tab("results")
    assert window.results_tab.model.row_of(run_id) is not None


# --- row: a bad MNIST path, a run number beyond any -----------------------------------------


@pytest.mark.parametrize("data", ["/dev/null", "empty", "text"])
def test_a_bad_data_path_is_one_line_and_exit_2(data, tmp_path, capsys):
    path = {"/dev/null": "/dev/null", "empty": tmp_path / "empty.npz", "text": tmp_path / "t.npz"}
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "t.npz").write_text("not an archive")
    code, _out, err = run(["--data", str(path[data]), "train", "--epochs", "1"], tmp_path, capsys)
    assert code == 2 and err.count("\n") == 1 and "Cannot read MNIST from" in err


@pytest.mark.parametrize("command", ["explain", "mydigits"])
def test_a_run_number_beyond_any_is_one_line_and_exit_2(command, digitpad_home, tmp_path, capsys):
    huge = "run:99999999999999999999"
    argv = {
        "explain": ["explain", str(ASSETS / "digit-3.png"), "--model", huge, "--out", "{tmp}/x"],
        "mydigits": ["mydigits", "--eval", huge],
    }[command]
    code, _out, err = run(argv, tmp_path, capsys)
    assert code == 2 and err.count("\n") == 1 and "is not a run" in err
    assert err.startswith(f"digitpad {command}: ")


def test_a_report_of_an_exercise_that_does_not_exist_is_refused(lab_home, tmp_path, capsys):
    code, _out, err = run(
        ["report", "--out", "{tmp}/r.html", "--sweep", "ex99=x"], tmp_path, capsys
    )
    assert code == 2 and "'ex99' is no exercise with sweeps" in err
    assert not (tmp_path / "r.html").exists()


def test_an_npz_of_text_imports_nothing_and_is_one_line(digitpad_home, tmp_path, capsys):
    np.savez(tmp_path / "odd.npz", x=np.full((3, 28, 28), "7"), y=np.array([1, 2, 3]))
    code, _out, err = run(["mydigits", "import", "{tmp}/odd.npz"], tmp_path, capsys)
    assert code == 2 and err.count("\n") == 1 and "not pixel numbers" in err
    assert len(RunStore(digitpad_home).my_digits()) == 0


def test_a_picture_too_large_for_qt_is_called_too_large(tmp_path, capsys):
    """A PNG whose header says 40,000 x 40,000 pixels (6.4 GB decoded): refused from its
    header, in words that say why, not "not a readable image"."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 40_000, 40_000, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
    png += chunk(b"IEND", b"")
    (tmp_path / "huge.png").write_bytes(png)
    code, _out, err = run(["explain", "{tmp}/huge.png", "--out", "{tmp}/inside"], tmp_path)
    assert code == 2 and err.count("\n") == 1
    assert "huge.png is too large to read (40000×40000 pixels" in err


def test_ctrl_c_during_report_is_one_line_and_the_earlier_report_stays(
    lab_home, tmp_path, capsys, monkeypatch
):
    from digitpad.cli import main

    out = tmp_path / "report.html"
    out.write_text("the earlier report")

    def pressed_ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("digitpad.render.report_files.render_png", pressed_ctrl_c)
    assert main(["report", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("digitpad report: interrupted (Ctrl+C)") and "\n" not in err
    assert out.read_text() == "the earlier report"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


@pytest.mark.parametrize("command", ["runs", "report"])
def test_a_data_folder_that_cannot_be_written_is_still_read(
    command, lab_home, tmp_path, capsys, monkeypatch
):
    """runs and report only read: a database that cannot be written (a read-only folder,
    a backup mounted read-only) is read as it is, with one line saying so."""
    from conftest import read_only_connections
    from digitpad.cli import main

    read_only_connections(monkeypatch, lab_home)
    before = (lab_home / "runs.db").read_bytes()
    argv = ["runs", "--csv"] if command == "runs" else ["report", "--out", str(tmp_path / "r.md")]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "cannot be written: reading it as it is" in captured.err
    if command == "runs":
        assert captured.out.count("\n") == 6  # the header and the sweep's five runs
    else:
        assert "0.9700" in (tmp_path / "r.md").read_text()
    assert (lab_home / "runs.db").read_bytes() == before


@pytest.mark.parametrize(
    "argv", [["explain", "--help"], ["mydigits", "--help"], ["finetune", "--help"]]
)
def test_help_names_only_networks_the_command_takes(argv, tmp_path):
    """The help lists the shipped networks by the names the commands accept (``cnn`` is
    the lab's application-2 CNN, which they refuse as a network name)."""
    from digitpad.core.inference.weights import FALLBACK_ORDER

    code, out, _err = run(argv, tmp_path)
    assert code == 0
    text = " ".join(out.split())
    assert ", ".join(FALLBACK_ORDER) in text
    assert "cnn," not in text.replace("cnn_deep,", "") and "cnn or" not in text
